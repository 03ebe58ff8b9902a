/** MongoDB adapter of the storage port: the durable job queue (intake, fan-out, deliveries) with leases. */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Collection, Filter } from 'mongodb';
import type { Job, JobOutcome, JobQueue, NewJob, QueueName, QueueStats } from '../store.ts';
import {
  QUEUED_FIELDS,
  type JobDoc,
  type JobTransitionDoc,
  type PackChange,
  type PackDoc,
} from './documents.mongodb.ts';
import { InsertBatch } from './insert-batch.mongodb.ts';
import { MongoJobPacks } from './job-packs.mongodb.ts';
import { JOB_CHANGES, JobTransitions, type Step } from './job-transitions.mongodb.ts';
import {
  byRunAtThenId,
  byRunAtThenIdOfJobs,
  changeOf,
  toJob,
  type ChangeOf,
  type Held,
} from './job-docs.mongodb.ts';
import { forgetPurgedJobIds, purgeFinishedJobs } from './job-purges.mongodb.ts';

/** Claim rounds when other claimers took some candidates first. */
const MAX_CLAIM_ROUNDS = 4;
/** Attempts of an owner operation that keeps losing against concurrent transitions. */
const MAX_OWNER_ATTEMPTS = 3;
/** How far back releaseLeases looks for claims a gone holder took and never wrote (longer than any lease). */
const UNWRITTEN_CLAIMS_MS = 15 * 60_000;
/** Jobs whose state this queue remembers from its own claims and changes; beyond this, the oldest are forgotten. */
const MAX_HELD = 100_000;

const QUEUES: readonly QueueName[] = ['intake', 'fanout', 'deliver'];

/**
 * The durable job queue in the `jobs` collection. Works without transactions on MongoDB and FerretDB: see
 * job-transitions.mongodb.ts for how a job is never leased to two owners.
 *
 * Round trips: a claim of any number of jobs is three commands (find, insert the transitions, one bulk write); a
 * batch of outcomes ({@link finish}) two; enqueues made together share one insert. Jobs this queue claimed are
 * remembered with the state it left them in, so that changing them needs no read first: a change made from a
 * remembered state that is no longer current loses its transition and falls back to reading the job.
 */
export class MongoJobQueue implements JobQueue {
  readonly #jobs: Collection<JobDoc>;
  readonly #transitions: JobTransitions;
  readonly #inserts: InsertBatch<JobDoc>;
  /** Jobs held by owners of this queue, by id, in the state this queue last wrote. */
  readonly #held = new Map<string, Held>();

  /** Jobs enqueued in packs (job-packs.mongodb.ts). */
  readonly #packs: MongoJobPacks;

  /** `clock` is the wall clock used only to age transitions (callers pass their own `now` everywhere else). */

  constructor(
    jobs: Collection<JobDoc>,
    transitions: Collection<JobTransitionDoc>,
    packs: Collection<PackDoc>,
    donePacks: Collection<PackDoc>,
    clock: () => number = Date.now,
  ) {
    this.#jobs = jobs;
    this.#transitions = new JobTransitions(jobs, transitions, clock, JOB_CHANGES);
    this.#inserts = new InsertBatch(jobs);
    this.#packs = new MongoJobPacks(
      packs,
      donePacks,
      transitions as unknown as Collection<JobTransitionDoc<PackChange>>,
      clock,
    );
  }

  /** Jobs that name a pack are stored as packs, one document per pack; the others as jobs. */
  async enqueue(jobs: NewJob[], now: number): Promise<number> {
    const packs = new Map<string, { id: string; queue: QueueName; jobs: NewJob[] }>();
    const single: NewJob[] = [];
    for (const job of jobs) {
      if (job.pack === undefined) {
        single.push(job);
        continue;
      }
      const pack = packs.get(job.pack) ?? { id: job.pack, queue: job.queue, jobs: [] };
      pack.jobs.push(job);
      packs.set(job.pack, pack);
    }
    const [packed, alone] = await Promise.all([
      this.#packs.insert([...packs.values()], now),
      single.length > 0 ? this.#enqueueJobs(single, now) : 0,
    ]);
    return packed + alone;
  }

  async #enqueueJobs(jobs: NewJob[], now: number): Promise<number> {
    const docs: JobDoc[] = jobs.map((job) => ({
      _id: job.id,
      queue: job.queue,
      key: job.key,
      payload: JSON.stringify(job.payload),
      ...QUEUED_FIELDS,
      runAt: job.runAt,
      createdAt: now,
      updatedAt: now,
      rev: randomUUID(),
      seq: 0,
    }));
    return (await this.#inserts.insert(docs)).size;
  }

  /** Jobs first, then entries of packs up to the limit (see claimJobs and MongoJobPacks.claim). */
  async claim(
    queue: QueueName,
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    excludeKeys: string[] = [],
  ): Promise<Job[]> {
    const jobs = await this.#claimJobs(queue, owner, now, leaseMs, limit, excludeKeys);
    if (jobs.length >= limit) return jobs;
    const entries = await this.#packs.claim(queue, owner, now, leaseMs, limit - jobs.length, excludeKeys);
    return entries.length === 0 ? jobs : [...jobs, ...entries].sort(byRunAtThenIdOfJobs);
  }

  async #claimJobs(
    queue: QueueName,
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    excludeKeys: string[],
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
      const byId = new Map(candidates.map((doc) => [doc._id, doc]));
      const result = await this.#transitions.advance(
        candidates.map((ref) => ({ ref, change: { ...change, seq: ref.seq + 1 } })),
      );
      for (const { ref, change: applied } of result.won) {
        const doc = byId.get(ref._id);
        if (!doc) continue;
        const leased = { ...doc, ...applied };
        claimed.push(leased);
        this.#remember({
          _id: leased._id,
          rev: leased.rev,
          seq: leased.seq,
          owner,
          attempts: leased.attempts,
        });
      }
      if (result.lost.length === 0) break;
      lost.push(...result.lost.map((step) => step.ref._id));
      await this.#transitions.afterLost(result.lost.map((step) => step.ref));
    }
    return claimed.sort(byRunAtThenId).map(toJob);
  }

  async complete(id: string, owner: string, now: number): Promise<boolean> {
    return (await this.finish([{ kind: 'done', id, owner, now }]))[0] ?? false;
  }

  async retry(id: string, owner: string, runAt: number, error: string, now: number): Promise<boolean> {
    return (await this.finish([{ kind: 'retry', id, owner, runAt, error, now }]))[0] ?? false;
  }

  async fail(id: string, owner: string, error: string, now: number): Promise<boolean> {
    return (await this.finish([{ kind: 'fail', id, owner, error, now }]))[0] ?? false;
  }

  /** Outcomes of entries of packs go to the packs, the others to the jobs; results in order. */
  async finish(outcomes: JobOutcome[]): Promise<boolean[]> {
    const packed = outcomes.filter((o) => this.#packs.holds(o.id));
    const alone = outcomes.filter((o) => !this.#packs.holds(o.id));
    const [packResults, jobResults] = await Promise.all([
      packed.length > 0 ? this.#packs.finish(packed) : [],
      this.#finishJobs(alone),
    ]);
    const byOutcome = new Map<JobOutcome, boolean>();
    packed.forEach((o, i) => byOutcome.set(o, packResults[i] ?? false));
    alone.forEach((o, i) => byOutcome.set(o, jobResults[i] ?? false));
    // Entries of packs claimed through another connection are not known here: looked up in the packs.
    const elsewhere = alone.filter((o) => byOutcome.get(o) !== true);
    if (elsewhere.length > 0) {
      const found = await this.#packs.finish(elsewhere);
      elsewhere.forEach((o, i) => byOutcome.set(o, found[i] ?? false));
    }
    return outcomes.map((o) => byOutcome.get(o) ?? false);
  }

  async #finishJobs(outcomes: JobOutcome[]): Promise<boolean[]> {
    if (outcomes.length === 0) return [];
    const results = outcomes.map(() => false);
    // Jobs remembered as held by their owner change in one batch; the others (and the losers) one by one.
    const fast: { index: number; step: Step }[] = [];
    const slow: number[] = [];
    outcomes.forEach((outcome, index) => {
      const held = this.#held.get(outcome.id);
      if (held === undefined || held.owner !== outcome.owner) {
        slow.push(index);
        return;
      }
      const change = { ...changeOf(outcome)(held), seq: held.seq + 1 };
      fast.push({ index, step: { ref: held, change } });
    });
    const { won, lost } = await this.#transitions.advance(fast.map((f) => f.step));
    const wonSteps = new Set(won);
    for (const { index, step } of fast) {
      if (wonSteps.has(step)) {
        results[index] = true;
        // Every outcome ends the lease: the job is no longer this owner's.
        this.#held.delete(step.ref._id);
      } else {
        slow.push(index);
      }
    }
    if (lost.length > 0) await this.#transitions.afterLost(lost.map((step) => step.ref));
    await Promise.all(
      slow.map(async (index) => {
        const outcome = outcomes[index];
        if (outcome === undefined) return;
        this.#held.delete(outcome.id);
        results[index] = await this.#changeReading(outcome.id, outcome.owner, changeOf(outcome));
      }),
    );
    return results;
  }

  async updatePayload(
    id: string,
    owner: string,
    payload: Record<string, unknown>,
    now: number,
  ): Promise<boolean> {
    if (this.#packs.holds(id)) return this.#packs.updatePayload(id, owner, payload, now);
    const text = JSON.stringify(payload);
    return (
      (await this.#changeHeld(id, owner, () => ({ payload: text, updatedAt: now }))) ||
      this.#packs.updatePayload(id, owner, payload, now)
    );
  }

  async extendLease(id: string, owner: string, leaseUntil: number): Promise<boolean> {
    if (this.#packs.holds(id)) return this.#packs.extendLease(id, owner, leaseUntil);
    return (
      (await this.#changeHeld(id, owner, () => ({ leaseUntil }))) ||
      this.#packs.extendLease(id, owner, leaseUntil)
    );
  }

  async getJob(id: string): Promise<Job | null> {
    const doc = await this.#jobs.findOne({ _id: id });
    if (doc) return doc.state !== 'purged' ? toJob(doc) : null;
    return this.#packs.getJob(id);
  }

  async stats(queue: QueueName, now: number): Promise<QueueStats> {
    const [queued, leased, failed, oldest, packed] = await Promise.all([
      this.#jobs.countDocuments({ queue, state: 'queued', leaseUntil: { $lte: now } }),
      this.#jobs.countDocuments({ queue, state: 'queued', leaseUntil: { $gt: now } }),
      this.#jobs.countDocuments({ queue, state: 'failed' }),
      this.#jobs.findOne(
        { queue, state: 'queued' },
        { sort: { createdAt: 1 }, projection: { _id: 0, createdAt: 1 } },
      ),
      this.#packs.stats(queue, now),
    ]);
    const createdAt = oldest?.['createdAt'];
    const oldestCreatedAt = typeof createdAt === 'number' ? createdAt : null;
    return {
      queued: queued + packed.queued,
      leased: leased + packed.leased,
      failed: failed + packed.failed,
      oldestCreatedAt:
        oldestCreatedAt === null || packed.oldestCreatedAt === null
          ? (oldestCreatedAt ?? packed.oldestCreatedAt)
          : Math.min(oldestCreatedAt, packed.oldestCreatedAt),
    };
  }

  async purgeFinished(
    queue: QueueName,
    o: { doneBefore: number; failedBefore: number; keepIds: boolean },
    limit: number,
  ): Promise<number> {
    const purged = await purgeFinishedJobs(this.#jobs, this.#transitions, queue, o, limit);
    return purged < limit ? purged + (await this.#packs.purgeFinished(queue, o, limit - purged)) : purged;
  }

  async forgetPurgedIds(queue: QueueName, createdBefore: number, limit: number): Promise<number> {
    const forgotten = await forgetPurgedJobIds(this.#jobs, queue, createdBefore, limit);
    return forgotten < limit
      ? forgotten + (await this.#packs.forgetPurgedIds(queue, createdBefore, limit - forgotten))
      : forgotten;
  }

  /** One query per queue, each served by the (queue, state, runAt) index; one for the open packs. */
  async listLeaseOwners(now: number, limit: number): Promise<string[]> {
    const owners = await this.#packs.leaseOwners(now);
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
        const result = await this.#transitions.advance(
          held.map((ref) => ({ ref, change: { ...change, seq: ref.seq + 1 } })),
        );
        for (const step of result.won) this.#held.delete(step.ref._id);
        released += result.won.length;
        if (result.lost.length === 0) break;
        await this.#transitions.applyUnapplied(result.lost.map((s) => s.ref));
      }
    }
    // Claims it took and never wrote: the jobs are free again at once, rather than after HELP_AFTER_MS.
    released += await this.#transitions.applyUnwrittenClaimsOf(owner, UNWRITTEN_CLAIMS_MS);
    return released + (await this.#packs.releaseLeases(owner, now, UNWRITTEN_CLAIMS_MS));
  }

  /** Remembers a job held by `held.owner` at `held.seq`. */
  #remember(held: Held): void {
    if (this.#held.size >= MAX_HELD && !this.#held.has(held._id)) {
      const oldest = this.#held.keys().next();
      if (!oldest.done) this.#held.delete(oldest.value);
    }
    this.#held.set(held._id, held);
  }

  /**
   * Applies a change to a job that stays leased to `owner` (payload, lease): from the remembered state when this
   * queue holds it, else (or when that state is no longer current) by reading it first.
   */
  async #changeHeld(id: string, owner: string, makeChange: ChangeOf): Promise<boolean> {
    const held = this.#held.get(id);
    if (held !== undefined && held.owner === owner) {
      const step = { ref: held, change: { ...makeChange(held), seq: held.seq + 1 } };
      const { won, lost } = await this.#transitions.advance([step]);
      if (won.length === 1) {
        this.#remember({ ...held, seq: step.change.seq });
        return true;
      }
      this.#held.delete(id);
      await this.#transitions.afterLost(lost.map((s) => s.ref));
    }
    const doc = await this.#changeReadingDoc(id, owner, makeChange);
    if (doc === null) return false;
    this.#remember({ _id: doc._id, rev: doc.rev, seq: doc.seq, owner, attempts: doc.attempts });
    return true;
  }

  /** Applies a change to a job still queued and leased to `owner`, reading it first. */
  async #changeReading(id: string, owner: string, makeChange: ChangeOf): Promise<boolean> {
    return (await this.#changeReadingDoc(id, owner, makeChange)) !== null;
  }

  /**
   * Reads the job and, when it is still queued and leased to `owner`, applies the change; reads and tries again
   * when a concurrent transition got there first (it may have been a new claim after the lease expired). Returns
   * the job as changed, or null when the owner does not hold it.
   */
  async #changeReadingDoc(
    id: string,
    owner: string,
    makeChange: ChangeOf,
  ): Promise<Pick<JobDoc, '_id' | 'rev' | 'seq' | 'attempts'> | null> {
    for (let attempt = 1; attempt <= MAX_OWNER_ATTEMPTS; attempt++) {
      const doc = await this.#jobs.findOne({ _id: id }, { projection: { payload: 0 } });
      if (!doc || doc.state !== 'queued' || doc.leaseOwner !== owner) return null;
      const step = { ref: doc, change: { ...makeChange(doc), seq: doc.seq + 1 } };
      const { won, lost } = await this.#transitions.advance([step]);
      if (won.length === 1) return { ...doc, ...step.change };
      await this.#transitions.afterLost(lost.map((s) => s.ref));
      await delay(5 * attempt);
    }
    return null;
  }
}
