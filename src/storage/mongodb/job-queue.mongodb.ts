/** MongoDB adapter of the storage port: the durable job queue (intake, fan-out, deliveries) with leases. */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Collection, Filter } from 'mongodb';
import type { Job, JobQueue, NewJob, QueueName, QueueStats } from '../store.ts';
import type { JobChange, JobDoc, JobTransitionDoc } from './documents.mongodb.ts';
import { insertManyIgnoringDuplicates } from './errors.mongodb.ts';

/*
 * Why transitions are claimed in a second collection.
 *
 * MongoDB applies the filter of an update atomically with the write, but FerretDB 1.x (SQLite backend) does not:
 * it reads the matching documents, then writes each one back whole. Two `updateMany` calls that re-check
 * "lease absent or expired" can therefore both lease the same job there. The one write FerretDB does check
 * atomically is an insert against a unique key.
 *
 * So every change of a job (claim, complete, retry, fail, payload, lease extension) first inserts a
 * `job_transitions` document whose `_id` is `rev:seq` of the state it starts from; only one writer can insert
 * it. The winner then writes the job with `seq + 1`. A writer that reads a stale `seq` loses the insert.
 * `rev` is random per job incarnation, so a job purged and enqueued again under the same id starts afresh.
 *
 * If a winner dies between the two writes, the job would stay at the old `seq` for ever; the transition document
 * holds the full change, so whoever loses against it after HELP_AFTER_MS applies it on the winner's behalf (a
 * claim, which gave the job to nobody, is applied without its lease), and a release of a gone holder's jobs
 * applies the holder's unwritten changes at once.
 */

/** How old an unapplied transition must be before another writer applies it. */
const HELP_AFTER_MS = 10_000;
/** Claim rounds when other claimers took some candidates first. */
const MAX_CLAIM_ROUNDS = 4;
/** Attempts of an owner operation that keeps losing against concurrent transitions. */
const MAX_OWNER_ATTEMPTS = 3;
/** Finished jobs deleted per round trip by purgeFinished. */
const PURGE_BATCH = 1000;

/** What a writer must know of a job to change it. */
type JobRef = Pick<JobDoc, '_id' | 'rev' | 'seq'>;

interface Step {
  ref: JobRef;
  change: JobChange;
}

function transitionId(ref: JobRef): string {
  return `${ref.rev}:${ref.seq}`;
}

const QUEUES: readonly QueueName[] = ['intake', 'fanout', 'deliver'];

function toJob(doc: JobDoc): Job {
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
function byRunAtThenId(a: JobDoc, b: JobDoc): number {
  return a.runAt - b.runAt || Buffer.compare(Buffer.from(a._id), Buffer.from(b._id));
}

/**
 * The durable job queue in the `jobs` collection. Works without transactions on MongoDB and FerretDB: see the
 * comment at the top of this file for how a job is never leased to two owners.
 */
export class MongoJobQueue implements JobQueue {
  readonly #jobs: Collection<JobDoc>;
  readonly #transitions: Collection<JobTransitionDoc>;
  readonly #clock: () => number;

  /** `clock` is the wall clock used only to age transitions (callers pass their own `now` everywhere else). */
  constructor(
    jobs: Collection<JobDoc>,
    transitions: Collection<JobTransitionDoc>,
    clock: () => number = Date.now,
  ) {
    this.#jobs = jobs;
    this.#transitions = transitions;
    this.#clock = clock;
  }

  async enqueue(jobs: NewJob[], now: number): Promise<number> {
    const docs: JobDoc[] = jobs.map((job) => ({
      _id: job.id,
      queue: job.queue,
      key: job.key,
      payload: JSON.stringify(job.payload),
      state: 'queued',
      runAt: job.runAt,
      attempts: 0,
      leaseOwner: null,
      leaseUntil: 0,
      lastError: null,
      createdAt: now,
      updatedAt: now,
      rev: randomUUID(),
      seq: 0,
    }));
    return (await insertManyIgnoringDuplicates(this.#jobs, docs)).size;
  }

  async claim(
    queue: QueueName,
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    excludeKeys: string[] = [],
  ): Promise<Job[]> {
    const change = { leaseOwner: owner, leaseUntil: now + leaseMs, updatedAt: now };
    const claimed: JobDoc[] = [];
    const lost: string[] = [];
    for (let round = 0; round < MAX_CLAIM_ROUNDS && claimed.length < limit; round++) {
      const filter: Filter<JobDoc> = {
        queue,
        state: 'queued',
        runAt: { $lte: now },
        leaseUntil: { $lte: now },
      };
      if (excludeKeys.length > 0) filter.key = { $nin: excludeKeys };
      if (lost.length > 0) filter._id = { $nin: lost };
      const candidates = await this.#jobs
        .find(filter)
        .sort({ runAt: 1, _id: 1 })
        .limit(limit - claimed.length)
        .toArray();
      if (candidates.length === 0) break;
      const steps = candidates.map((ref) => ({ ref, change: { ...change, seq: ref.seq + 1 } }));
      const result = await this.#advance(steps);
      // Winning the transition from `seq` means the job was still as read (any other change would have taken
      // that transition first) and is now as read plus this change: no need to read it again.
      const won = new Set(result.won);
      candidates.forEach((doc, index) => {
        const step = steps[index];
        if (step && won.has(step.ref)) claimed.push({ ...doc, ...step.change });
      });
      if (result.lost.length === 0) break;
      lost.push(...result.lost.map((ref) => ref._id));
      await this.#helpStale(result.lost);
    }
    return claimed.sort(byRunAtThenId).map(toJob);
  }

  async complete(id: string, owner: string, now: number): Promise<boolean> {
    return this.#changeHeld(id, owner, () => ({
      state: 'done',
      leaseOwner: null,
      leaseUntil: 0,
      updatedAt: now,
    }));
  }

  async retry(id: string, owner: string, runAt: number, error: string, now: number): Promise<boolean> {
    return this.#changeHeld(id, owner, (doc) => ({
      runAt,
      attempts: doc.attempts + 1,
      lastError: error,
      leaseOwner: null,
      leaseUntil: 0,
      updatedAt: now,
    }));
  }

  async fail(id: string, owner: string, error: string, now: number): Promise<boolean> {
    return this.#changeHeld(id, owner, (doc) => ({
      state: 'failed',
      attempts: doc.attempts + 1,
      lastError: error,
      leaseOwner: null,
      leaseUntil: 0,
      updatedAt: now,
    }));
  }

  async updatePayload(
    id: string,
    owner: string,
    payload: Record<string, unknown>,
    now: number,
  ): Promise<boolean> {
    const text = JSON.stringify(payload);
    return this.#changeHeld(id, owner, () => ({ payload: text, updatedAt: now }));
  }

  async extendLease(id: string, owner: string, leaseUntil: number): Promise<boolean> {
    return this.#changeHeld(id, owner, () => ({ leaseUntil }));
  }

  async getJob(id: string): Promise<Job | null> {
    const doc = await this.#jobs.findOne({ _id: id });
    return doc && doc.state !== 'purged' ? toJob(doc) : null;
  }

  async stats(queue: QueueName, now: number): Promise<QueueStats> {
    const [queued, leased, failed, oldest] = await Promise.all([
      this.#jobs.countDocuments({ queue, state: 'queued', leaseUntil: { $lte: now } }),
      this.#jobs.countDocuments({ queue, state: 'queued', leaseUntil: { $gt: now } }),
      this.#jobs.countDocuments({ queue, state: 'failed' }),
      this.#jobs.findOne(
        { queue, state: 'queued' },
        { sort: { createdAt: 1 }, projection: { _id: 0, createdAt: 1 } },
      ),
    ]);
    const oldestCreatedAt = oldest?.['createdAt'];
    return {
      queued,
      leased,
      failed,
      oldestCreatedAt: typeof oldestCreatedAt === 'number' ? oldestCreatedAt : null,
    };
  }

  /**
   * A purged job whose id is kept stays as a stub (`state: 'purged'`, empty payload): its `_id` still makes
   * an enqueue of the same id a duplicate, at no extra round trip on the enqueue.
   */
  async purgeFinished(
    queue: QueueName,
    o: { doneBefore: number; failedBefore: number; keepIds: boolean },
    limit: number,
  ): Promise<number> {
    let purged = 0;
    for (const [state, before] of [
      ['done', o.doneBefore],
      ['failed', o.failedBefore],
    ] as const) {
      while (purged < limit) {
        const batch = await this.#jobs
          .find({ queue, state, updatedAt: { $lt: before } }, { projection: { _id: 1, rev: 1 } })
          .limit(Math.min(PURGE_BATCH, limit - purged))
          .toArray();
        if (batch.length === 0) break;
        // Done and failed are final: nothing changes such a job, so the ids read above are still in `state`.
        const filter = { _id: { $in: batch.map((doc) => doc._id) }, state };
        const count = o.keepIds
          ? (
              await this.#jobs.updateMany(filter, {
                $set: { state: 'purged', payload: '{}', lastError: null, leaseOwner: null, leaseUntil: 0 },
              })
            ).modifiedCount
          : (await this.#jobs.deleteMany(filter)).deletedCount;
        purged += count;
        await this.#transitions.deleteMany({ rev: { $in: batch.map((doc) => doc.rev) } });
        if (batch.length < PURGE_BATCH) break;
      }
    }
    return purged;
  }

  async forgetPurgedIds(queue: QueueName, createdBefore: number, limit: number): Promise<number> {
    let forgotten = 0;
    while (forgotten < limit) {
      const batch = await this.#jobs
        .find({ queue, state: 'purged', createdAt: { $lt: createdBefore } }, { projection: { _id: 1 } })
        .limit(Math.min(PURGE_BATCH, limit - forgotten))
        .toArray();
      if (batch.length === 0) break;
      const result = await this.#jobs.deleteMany({
        _id: { $in: batch.map((doc) => doc._id) },
        state: 'purged',
      });
      forgotten += result.deletedCount;
      if (batch.length < PURGE_BATCH) break;
    }
    return forgotten;
  }

  /** One query per queue, each served by the (queue, state, runAt) index. */
  async listLeaseOwners(now: number, limit: number): Promise<string[]> {
    const owners = new Set<string>();
    for (const queue of QUEUES) {
      const found = await this.#jobs.distinct('leaseOwner', {
        queue,
        state: 'queued',
        leaseUntil: { $gt: now },
      });
      for (const owner of found) if (typeof owner === 'string') owners.add(owner);
    }
    return [...owners].sort().slice(0, Math.max(0, limit));
  }

  async releaseLeases(owner: string, now: number): Promise<number> {
    let released = 0;
    for (const queue of QUEUES) {
      for (let round = 0; round < MAX_OWNER_ATTEMPTS; round++) {
        const held = await this.#jobs
          .find({ queue, state: 'queued', leaseOwner: owner }, { projection: { _id: 1, rev: 1, seq: 1 } })
          .toArray();
        if (held.length === 0) break;
        // Through transitions like every change of a job; one lost means someone else changed that job
        // meanwhile, or that the gone holder took a change it never wrote (it died between the two writes: a
        // completion after its delivery was sent, most often). Such a change is written now on its behalf,
        // rather than once HELP_AFTER_MS have passed and a claimer comes by, which only happens when the
        // lease has ended: the job is then done, or released in the next round.
        const change = { leaseOwner: null, leaseUntil: 0, updatedAt: now };
        const result = await this.#advance(
          held.map((ref) => ({ ref, change: { ...change, seq: ref.seq + 1 } })),
        );
        released += result.won.length;
        if (result.lost.length === 0) break;
        await this.#helpStale(result.lost, 0);
      }
    }
    return released;
  }

  /**
   * Applies a change to a job still queued and leased to `owner`. Re-reads and tries again when a concurrent
   * transition got there first (it may have been this owner's own, or a new claim after the lease expired).
   */
  async #changeHeld(
    id: string,
    owner: string,
    makeChange: (doc: JobDoc) => Omit<JobChange, 'seq'>,
  ): Promise<boolean> {
    for (let attempt = 1; attempt <= MAX_OWNER_ATTEMPTS; attempt++) {
      const doc = await this.#jobs.findOne({ _id: id }, { projection: { payload: 0 } });
      if (!doc || doc.state !== 'queued' || doc.leaseOwner !== owner) return false;
      const result = await this.#advance([{ ref: doc, change: { ...makeChange(doc), seq: doc.seq + 1 } }]);
      if (result.won.length === 1) return true;
      await this.#helpStale(result.lost);
      await delay(5 * attempt);
    }
    return false;
  }

  /** Takes each step's transition; applies the ones won. Returns which were won and which lost. */
  async #advance(steps: Step[]): Promise<{ won: JobRef[]; lost: JobRef[] }> {
    const at = this.#clock();
    const inserted = await insertManyIgnoringDuplicates(
      this.#transitions,
      steps.map(({ ref, change }) => ({ _id: transitionId(ref), rev: ref.rev, jobId: ref._id, at, change })),
    );
    const won = steps.filter((_, index) => inserted.has(index));
    const lost = steps.filter((_, index) => !inserted.has(index)).map((step) => step.ref);
    await this.#applyWon(won);
    return { won: won.map((step) => step.ref), lost };
  }

  /**
   * Writes the jobs of won transitions. Winning makes this the only writer of each job's next state, so `_id`
   * alone identifies it. Steps that set the same fields (the jobs of one claim that were at the same `seq`)
   * share one `updateMany`: FerretDB 1.24 holds a connection per statement of an update command until the
   * command ends, so a bulk of ~100 statements exhausts its pool and hangs.
   */
  async #applyWon(won: Step[]): Promise<void> {
    const groups = new Map<string, { change: JobChange; ids: string[] }>();
    for (const { ref, change } of won) {
      const key = JSON.stringify(change);
      const group = groups.get(key) ?? { change, ids: [] };
      group.ids.push(ref._id);
      groups.set(key, group);
    }
    for (const { change, ids } of groups.values()) {
      const [only] = ids;
      if (ids.length === 1 && only !== undefined) await this.#jobs.updateOne({ _id: only }, { $set: change });
      else await this.#jobs.updateMany({ _id: { $in: ids } }, { $set: change });
    }
  }

  /**
   * Applies the transitions of `refs` that were taken more than `olderThanMs` ago (by default long enough that
   * their writer is presumably gone) and apparently never applied.
   */
  async #helpStale(refs: JobRef[], olderThanMs = HELP_AFTER_MS): Promise<void> {
    if (refs.length === 0) return;
    const stale = await this.#transitions
      .find({ _id: { $in: refs.map(transitionId) }, at: { $lte: this.#clock() - olderThanMs } })
      .toArray();
    for (const t of stale) {
      // A claim never written gave the job to nobody (claim returns a job only once it is written): the job is
      // written free instead, for the next claim, rather than leased to a claimer that does not run it.
      const change =
        typeof t.change.leaseOwner === 'string' ? { ...t.change, leaseOwner: null, leaseUntil: 0 } : t.change;
      // A no-op when the job has moved past the transition in the meantime.
      await this.#jobs.updateOne({ _id: t.jobId, rev: t.rev, seq: t.change.seq - 1 }, { $set: change });
    }
  }
}
