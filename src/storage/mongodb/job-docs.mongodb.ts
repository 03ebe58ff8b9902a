/** MongoDB adapter of the storage port: jobs as read from their documents, and the changes outcomes make. */
import type { Job, JobOutcome } from '../store.ts';
import type { JobChange, JobDoc } from './documents.mongodb.ts';
import type { JobRef } from './job-transitions.mongodb.ts';

/** What this queue knows of a job it holds: enough to change it without reading it first. */
export interface Held extends JobRef {
  owner: string;
  attempts: number;
}

export type ChangeOf = (job: Pick<JobDoc, 'attempts'>) => Omit<JobChange, 'seq'>;

export function toJob(doc: JobDoc): Job {
  const payload: unknown = JSON.parse(doc.payload);
  return {
    id: doc._id,
    queue: doc.queue,
    key: doc.key,
    payload: typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? { ...payload } : {},
    // Purged stubs are never returned (getJob and claim leave them out); typed as what they were.
    state: doc.state === 'purged' ? 'done' : doc.state,
    runAt: doc.runAt,
    attempts: doc.attempts,
    leaseOwner: doc.leaseOwner ?? null,
    leaseUntil: doc.leaseUntil,
    lastError: doc.lastError ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

/** Orders like the server does: runAt, then id by UTF-8 bytes. */
export function byRunAtThenId(a: JobDoc, b: JobDoc): number {
  return a.runAt - b.runAt || Buffer.compare(Buffer.from(a._id), Buffer.from(b._id));
}

export function byRunAtThenIdOfJobs(a: Job, b: Job): number {
  return a.runAt - b.runAt || Buffer.compare(Buffer.from(a.id), Buffer.from(b.id));
}

/** The change an outcome makes to a leased job. */
export function changeOf(outcome: JobOutcome): ChangeOf {
  switch (outcome.kind) {
    case 'done':
      return () => ({ state: 'done', leaseOwner: null, leaseUntil: 0, updatedAt: outcome.now });
    case 'retry':
      return (job) => ({
        runAt: outcome.runAt,
        attempts: job.attempts + 1,
        lastError: outcome.error,
        leaseOwner: null,
        leaseUntil: 0,
        updatedAt: outcome.now,
      });
    case 'fail':
      return (job) => ({
        state: 'failed',
        attempts: job.attempts + 1,
        lastError: outcome.error,
        leaseOwner: null,
        leaseUntil: 0,
        updatedAt: outcome.now,
      });
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown job outcome ${JSON.stringify(unknown)}`);
    }
  }
}
