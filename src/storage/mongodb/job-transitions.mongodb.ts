import type { AnyBulkWriteOperation, Collection, Filter, UpdateFilter } from 'mongodb';
import type { JobChange, JobDoc, JobTransitionDoc } from './documents.mongodb.ts';
import { insertManyIgnoringDuplicates } from './errors.mongodb.ts';

/*
 * Why transitions are claimed in a second collection.
 *
 * MongoDB applies the filter of an update atomically with the write, but FerretDB 1.x does not: it reads the
 * matching documents, then writes each one back whole. Two `updateMany` calls that re-check "lease absent or
 * expired" can therefore both lease the same job there. The one write FerretDB does check atomically is an
 * insert against a unique key.
 *
 * So every change of a job (claim, complete, retry, fail, payload, lease extension) first inserts a
 * `job_transitions` document whose `_id` is `rev:seq` of the state it starts from; only one writer can insert
 * it. The winner then writes the job with `seq + 1`. A writer that knows a stale `seq` loses the insert.
 * `rev` is random per job incarnation, so a job purged and enqueued again under the same id starts afresh.
 *
 * If a winner dies between the two writes, the job would stay at the old `seq` for ever; the transition document
 * holds the full change, so whoever keeps losing against it for HELP_AFTER_MS applies it on the winner's behalf
 * (a claim, which gave the job to nobody, is applied without its lease), and a release of a gone holder's jobs
 * applies the holder's unwritten changes at once.
 *
 * Round trips: the transitions of any number of jobs are taken with one insert, and the won ones applied with
 * one bulk write, whatever the number of jobs.
 *
 * Packs of jobs (job-packs.mongodb.ts) change the same way: a pack is one document with a `rev` and a `seq`.
 */

/** How long a transition must have been seen unapplied before a loser applies it. */
export const HELP_AFTER_MS = 10_000;
/** Transitions remembered as lost; beyond this the memory starts afresh (helping only comes later then). */
const MAX_REMEMBERED_LOSSES = 10_000;

/** What a writer must know of a job (or a pack) to change it. */
export type JobRef = Pick<JobDoc, '_id' | 'rev' | 'seq'>;

/** A document changed through transitions: a job or a pack. */
type Versioned = JobRef;

/** One change of one job, from the state `ref` names. `change.seq` is `ref.seq + 1`. */
export interface Step<C extends { seq: number } = JobChange> {
  ref: JobRef;
  change: C;
}

/** How the changes of one kind of document are written. */
export interface ChangeRules<C extends { seq: number }> {
  /** The fields a change sets in the document. */
  fields(change: C): Record<string, unknown>;
  /** A claim never written, applied on its taker's behalf: the same change, leasing nothing. */
  unclaimed(change: C): C;
  /** The filter of the changes that lease something to `owner`, on the `change` field of a transition. */
  leasingTo(owner: string): Record<string, unknown>;
}

/** Jobs: a change sets its fields; an unwritten claim is written free. */
export const JOB_CHANGES: ChangeRules<JobChange> = {
  fields: (change) => change,
  unclaimed: (change) =>
    typeof change.leaseOwner === 'string' ? { ...change, leaseOwner: null, leaseUntil: 0 } : change,
  leasingTo: (owner) => ({ 'change.leaseOwner': owner }),
};

export function transitionId(ref: Pick<JobDoc, 'rev' | 'seq'>): string {
  return `${ref.rev}:${ref.seq}`;
}

/** Takes and applies transitions of jobs in batches (see the comment at the top of this file). */
export class JobTransitions<D extends Versioned = JobDoc, C extends { seq: number } = JobChange> {
  readonly #jobs: Collection<D>;
  readonly #transitions: Collection<JobTransitionDoc<C>>;
  readonly #clock: () => number;
  readonly #rules: ChangeRules<C>;
  /** Transition id -> when this writer first lost against it. */
  readonly #lostSince = new Map<string, number>();

  constructor(
    jobs: Collection<D>,
    transitions: Collection<JobTransitionDoc<C>>,
    clock: () => number,
    rules: ChangeRules<C>,
  ) {
    this.#jobs = jobs;
    this.#transitions = transitions;
    this.#clock = clock;
    this.#rules = rules;
  }

  /**
   * Takes each step's transition (one insert), then writes the jobs of the won ones (one bulk write). Winning
   * the transition from `seq` means the job was still at `seq` (any other change would have taken it first) and
   * is now as it was plus the change. Returns the won and the lost steps.
   */
  async advance(steps: Step<C>[]): Promise<{ won: Step<C>[]; lost: Step<C>[] }> {
    if (steps.length === 0) return { won: [], lost: [] };
    const at = this.#clock();
    const inserted = await insertManyIgnoringDuplicates(
      this.#transitions,
      steps.map(
        ({ ref, change }) => ({ _id: transitionId(ref), rev: ref.rev, jobId: ref._id, at, change }) as never,
      ),
    );
    const won = steps.filter((_, index) => inserted.has(index));
    const lost = steps.filter((_, index) => !inserted.has(index));
    await this.#apply(won);
    return { won, lost };
  }

  /**
   * Writes the jobs of won transitions in one bulk write, one statement per job: winning makes this the only
   * writer of each job's next state, so `_id` alone identifies it. Statements are `updateMany` on one `_id`: an
   * `updateOne` statement holds one of FerretDB 1.24's connections until the whole command ends, so a bulk of
   * more statements than its pool has connections never ends; and an `_id` equality is the one filter FerretDB
   * hands to its backend, where `$in` makes it read the whole collection.
   */
  async #apply(won: Step<C>[]): Promise<void> {
    if (won.length === 0) return;
    const operations = won.map(({ ref, change }) => ({
      updateMany: {
        filter: { _id: ref._id } as Filter<D>,
        update: { $set: this.#rules.fields(change) } as UpdateFilter<D>,
      },
    })) as AnyBulkWriteOperation<D>[];
    await this.#jobs.bulkWrite(operations, { ordered: false });
  }

  /**
   * After losing `refs`: remembers when each was first lost, and applies on the winner's behalf the transitions
   * lost against for HELP_AFTER_MS that are still unapplied (reading them only then, so that the losses of
   * concurrent claimers cost no round trip).
   */
  async afterLost(refs: JobRef[]): Promise<void> {
    const now = this.#clock();
    if (this.#lostSince.size > MAX_REMEMBERED_LOSSES) this.#lostSince.clear();
    const overdue: string[] = [];
    for (const ref of refs) {
      const id = transitionId(ref);
      const since = this.#lostSince.get(id);
      if (since === undefined) this.#lostSince.set(id, now);
      else if (now - since >= HELP_AFTER_MS) overdue.push(id);
    }
    if (overdue.length === 0) return;
    const stale = (await this.#transitions
      .find({ _id: { $in: overdue }, at: { $lt: now - HELP_AFTER_MS } } as Filter<JobTransitionDoc<C>>)
      .toArray()) as JobTransitionDoc<C>[];
    for (const t of stale) {
      await this.#applyOnBehalf(t);
      this.#lostSince.delete(t._id);
    }
  }

  /**
   * Applies at once, on their taker's behalf, the transitions of `refs` that were taken and never written: used
   * when the taker is known to be gone (its leases are being released), so there is no need to wait.
   */
  async applyUnapplied(refs: JobRef[]): Promise<void> {
    if (refs.length === 0) return;
    const taken = (await this.#transitions
      .find({ _id: { $in: refs.map(transitionId) } } as Filter<JobTransitionDoc<C>>)
      .toArray()) as JobTransitionDoc<C>[];
    for (const t of taken) await this.#applyOnBehalf(t);
  }

  /**
   * Writes free at once, on their taker's behalf, the claims `owner` took in the last `withinMs` (by the clock of
   * the transitions) and never wrote (it died
   * between the two writes of a claim): those jobs are not leased to it, so releasing its leases does not find
   * them, and a claimer would otherwise wait HELP_AFTER_MS for them. Returns how many were written.
   */
  async applyUnwrittenClaimsOf(owner: string, withinMs: number): Promise<number> {
    const since = this.#clock() - withinMs;
    const taken = await this.#transitions
      .find({ ...this.#rules.leasingTo(owner), at: { $gte: since } } as Filter<JobTransitionDoc<C>>, {
        projection: { _id: 1, jobId: 1, rev: 1, change: 1, at: 1 },
      })
      .toArray();
    if (taken.length === 0) return 0;
    const jobs = await this.#jobs
      .find({ _id: { $in: [...new Set(taken.map((t) => t.jobId))] } } as Filter<D>, {
        projection: { _id: 1, rev: 1, seq: 1 },
      })
      .toArray();
    const current = new Map(jobs.map((job) => [job._id as string, job]));
    let applied = 0;
    for (const t of taken) {
      const job = current.get(t.jobId);
      if (job === undefined || job.rev !== t.rev || job.seq !== t.change.seq - 1) continue;
      await this.#applyOnBehalf(t);
      applied++;
    }
    return applied;
  }

  /**
   * Writes a transition's change to its job, when the job is still at the state the transition starts from (a
   * no-op when the job has moved past it). A claim never written gave the job to nobody (a claim returns a job
   * only once it is written): the job is written free instead, for the next claim, rather than leased to a
   * claimer that does not run it.
   */
  async #applyOnBehalf(t: JobTransitionDoc<C>): Promise<void> {
    const change = this.#rules.unclaimed(t.change);
    await this.#jobs.updateOne(
      { _id: t.jobId, rev: t.rev, seq: t.change.seq - 1 } as Filter<D>,
      {
        $set: this.#rules.fields(change),
      } as UpdateFilter<D>,
    );
  }

  /** Deletes every transition of the job incarnations `revs` (purged jobs). */
  async purge(revs: string[]): Promise<void> {
    if (revs.length > 0)
      await this.#transitions.deleteMany({ rev: { $in: revs } } as Filter<JobTransitionDoc<C>>);
  }
}
