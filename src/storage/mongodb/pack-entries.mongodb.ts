/**
 * MongoDB adapter of the storage port: the entries of a pack of jobs (job-packs.mongodb.ts) and what they come to:
 * their summary, the change a claim or an outcome makes, and the jobs they are read as.
 */
import { randomUUID } from 'node:crypto';
import type { Job, JobOutcome, NewJob, QueueName } from '../store.ts';
import {
  QUEUED_FIELDS,
  type PackChange,
  type PackDoc,
  type PackEntry,
  type PackSummary,
} from './documents.mongodb.ts';
import type { ChangeRules } from './job-transitions.mongodb.ts';

/** The document of a new pack `id` of `jobs`, queued at `now`. */
export function newPack(id: string, queue: QueueName, jobs: NewJob[], now: number): PackDoc {
  const { base, own } = splitPayloads(jobs.map((job) => job.payload));
  const entries = jobs.map((job, index): PackEntry => ({
    id: job.id,
    key: job.key,
    payload: own[index] ?? '{}',
    ...QUEUED_FIELDS,
    runAt: job.runAt,
    updatedAt: now,
  }));
  return {
    _id: id,
    queue,
    base,
    size: entries.length,
    ...summaryOf(entries),
    ids: entries.map((e) => e.id),
    entries: JSON.stringify(entries),
    createdAt: now,
    updatedAt: now,
    rev: randomUUID(),
    seq: 0,
  };
}

export const PACK_CHANGES: ChangeRules<PackChange> = {
  fields: ({ claimed: _claimed, ...fields }) => fields,
  unclaimed: (change) => {
    const claimed = new Set(change.claimed ?? []);
    if (claimed.size === 0 || change.entries === undefined) return change;
    const entries = entriesOf(change.entries).map((e) =>
      claimed.has(e.id) ? { ...e, leaseOwner: null, leaseUntil: 0 } : e,
    );
    return { ...change, ...summaryOf(entries), entries: JSON.stringify(entries) };
  },
  leasingTo: (owner) => ({ 'change.owners': owner }),
};

/** A pack as read, with its entries decoded. */
export type Pack = Omit<PackDoc, 'entries'> & { entries: PackEntry[] };

export function entriesOf(text: string): PackEntry[] {
  return JSON.parse(text) as PackEntry[];
}

export function decoded(doc: PackDoc): Pack {
  return { ...doc, entries: entriesOf(doc.entries) };
}

/** When the next entry of `entries` can be claimed: its runAt, or the end of its lease when later. */
export function nextAtOf(entries: PackEntry[]): number {
  let next = Number.POSITIVE_INFINITY;
  for (const e of entries) if (e.state === 'queued') next = Math.min(next, Math.max(e.runAt, e.leaseUntil));
  return Number.isFinite(next) ? next : 0;
}

/** What `entries` come to. */
export function summaryOf(entries: PackEntry[]): PackSummary {
  let open = 0;
  let failed = 0;
  const leases = new Map<string, number>();
  const leaseEnds: number[] = [];
  for (const e of entries) {
    if (e.state === 'failed') failed++;
    if (e.state !== 'queued') continue;
    open++;
    if (e.leaseOwner === null) continue;
    leases.set(e.leaseOwner, Math.max(leases.get(e.leaseOwner) ?? 0, e.leaseUntil));
    leaseEnds.push(e.leaseUntil);
  }
  return {
    state: open > 0 ? 'open' : 'closed',
    nextAt: nextAtOf(entries),
    open,
    failed,
    hasFailed: failed > 0,
    owners: [...leases.keys()],
    leases: [...leases].map(([owner, until]) => ({ owner, until })),
    leaseEnds,
  };
}

/**
 * The pack's summary, entries and updatedAt after `entries` changed at `now`. A pack whose entries are all
 * finished keeps only the failed ones (PackDoc says why).
 */
export function packChange(entries: PackEntry[], seq: number, now: number): PackChange {
  const summary = summaryOf(entries);
  if (summary.state === 'open') return { ...summary, entries: JSON.stringify(entries), updatedAt: now, seq };
  const kept = entries.filter((e) => e.state === 'failed');
  return { ...summary, entries: JSON.stringify(kept), ids: kept.map((e) => e.id), updatedAt: now, seq };
}

/** The object a JSON text holds, or an empty one. */
export function objectOf(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? { ...(value as Record<string, unknown>) }
    : {};
}

/** The keys whose values are the same in every payload, and each payload without them. */
export function splitPayloads(payloads: Record<string, unknown>[]): { base: string; own: string[] } {
  const [first, ...rest] = payloads;
  const shared: Record<string, unknown> = {};
  if (first !== undefined && rest.length > 0) {
    for (const [k, v] of Object.entries(first)) {
      const text = JSON.stringify(v);
      if (rest.every((p) => Object.hasOwn(p, k) && JSON.stringify(p[k]) === text)) shared[k] = v;
    }
  }
  const own = payloads.map((p) =>
    JSON.stringify(Object.fromEntries(Object.entries(p).filter(([k]) => !Object.hasOwn(shared, k)))),
  );
  return { base: JSON.stringify(shared), own };
}

export function toJob(pack: Pick<PackDoc, 'queue' | 'createdAt' | 'base'>, e: PackEntry): Job {
  return {
    id: e.id,
    queue: pack.queue,
    key: e.key,
    payload: e.whole ? objectOf(e.payload) : { ...objectOf(pack.base), ...objectOf(e.payload) },
    state: e.state,
    runAt: e.runAt,
    attempts: e.attempts,
    leaseOwner: e.leaseOwner,
    leaseUntil: e.leaseUntil,
    lastError: e.lastError,
    createdAt: pack.createdAt,
    updatedAt: e.updatedAt,
  };
}

/** The change an outcome makes to a leased entry. */
export function outcomeChange(outcome: JobOutcome, e: PackEntry): PackEntry {
  const free = { leaseOwner: null, leaseUntil: 0, updatedAt: outcome.now };
  switch (outcome.kind) {
    case 'done':
      return { ...e, ...free, state: 'done' };
    case 'retry':
      return { ...e, ...free, runAt: outcome.runAt, attempts: e.attempts + 1, lastError: outcome.error };
    case 'fail':
      return { ...e, ...free, state: 'failed', attempts: e.attempts + 1, lastError: outcome.error };
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown job outcome ${JSON.stringify(unknown)}`);
    }
  }
}

/** The copy kept of a pack closed by `change`, with all its `entries`. */
export function closedCopy(pack: Pack, change: PackChange, entries: PackEntry[]): PackDoc {
  const { claimed: _claimed, ...fields } = change;
  return { ...pack, ...fields, entries: JSON.stringify(entries), ids: entries.map((e) => e.id) };
}
