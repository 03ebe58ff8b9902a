/**
 * MongoDB adapter of the storage port: packs of jobs. The jobs of one enqueue call that name the same pack (the
 * deliveries of a fan-out page) are stored as one document, so that a claim, an outcome or a lease extension
 * writes one document per pack rather than one per job (docs/adr/0010-delivery-packs.md). Each entry keeps its
 * own state, attempts, run time and lease: a claim leases some entries of a pack, and others may lease the rest.
 *
 * Every write of a pack goes through a transition, as a job's does (job-transitions.mongodb.ts): a writer that
 * knows the pack at `seq` takes `rev:seq` and then writes the whole pack at `seq + 1`; one that loses reads the
 * pack again and retries. Packs are identified by the caller: a pack whose id is stored is not enqueued again.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Collection, Filter } from 'mongodb';
import type { Job, JobOutcome, NewJob, QueueName, QueueStats } from '../store.ts';
import type { JobTransitionDoc, PackChange, PackDoc, PackEntry } from './documents.mongodb.ts';
import { insertManyIgnoringDuplicates } from './errors.mongodb.ts';
import { JobTransitions, type Step } from './job-transitions.mongodb.ts';
import {
  PACK_CHANGES,
  decoded,
  entriesOf,
  closedCopy,
  newPack,
  outcomeChange,
  packChange,
  toJob,
  type Pack,
} from './pack-entries.mongodb.ts';
import { forgetPurgedPacks, packLeaseOwners, packStats } from './pack-summaries.mongodb.ts';

/** Packs read per claim round, at most. */
const PACKS_PER_ROUND = 20;
/** Claim rounds lost in part to other claimers, at most. */
const MAX_CLAIM_ROUNDS = 4;
/** Rounds of a release of a gone owner's leases that keeps losing against concurrent transitions. */
const MAX_OWNER_ROUNDS = 5;
/**
 * Rounds of a change of entries this queue holds that keeps losing against other writers of their pack. Each
 * lost round means another writer changed the pack, so the change goes on while the entries are still held: an
 * outcome given up would leave its entry leased until the lease ends, and the delivery made again.
 */
const MAX_HELD_ROUNDS = 200;
/** Longest wait between two such rounds. */
const MAX_HELD_WAIT_MS = 50;
/** Packs this queue remembers as it last wrote them; beyond this, the oldest are forgotten. */
const MAX_HELD_PACKS = 10_000;
/** Packs deleted per round trip by purgeFinished. */
const PURGE_BATCH = 100;
/** Entries remembered as claimed here; beyond this the memory starts afresh (changes then look packs up). */
const MAX_CLAIMED_ENTRIES = 200_000;

/** A change of one entry held by `owner`: returns the entry as changed. */
type EntryChange = { id: string; owner: string; change: (e: PackEntry) => PackEntry };

/** The packs of the job queue (see the comment at the top of this file). */
export class MongoJobPacks {
  readonly #packs: Collection<PackDoc>;
  /** Closed packs with all their entries, for getJob until they are purged (PackDoc). */
  readonly #done: Collection<PackDoc>;
  readonly #transitions: JobTransitions<PackDoc, PackChange>;
  /** Packs as this queue last wrote or read them, by id. */
  readonly #known = new Map<string, Pack>();
  /** Entry id -> pack id, for the entries this queue claimed. */
  readonly #packOf = new Map<string, string>();
  /** Changes of entries run one after the other here, so that they do not race each other for a pack. */
  #changes: Promise<unknown> = Promise.resolve();

  constructor(
    packs: Collection<PackDoc>,
    done: Collection<PackDoc>,
    transitions: Collection<JobTransitionDoc<PackChange>>,
    clock: () => number = Date.now,
  ) {
    this.#packs = packs;
    this.#done = done;
    this.#transitions = new JobTransitions(packs, transitions, clock, PACK_CHANGES);
  }

  /** Inserts the packs whose id is new. Returns how many jobs they hold. */
  async insert(packs: { id: string; queue: QueueName; jobs: NewJob[] }[], now: number): Promise<number> {
    if (packs.length === 0) return 0;
    const docs = packs.map(({ id, queue, jobs }) => newPack(id, queue, jobs, now));
    const inserted = await insertManyIgnoringDuplicates(this.#packs, docs);
    let count = 0;
    docs.forEach((doc, index) => {
      if (inserted.has(index)) count += doc.size;
    });
    return count;
  }

  /** Whether `id` is an entry this queue claimed from a pack. */
  holds(id: string): boolean {
    return this.#packOf.has(id);
  }

  /**
   * Leases up to `limit` due entries of `queue` whose key is not excluded, from the packs whose next entry is
   * due first; one transition per pack.
   */
  async claim(
    queue: QueueName,
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    excludeKeys: string[],
  ): Promise<Job[]> {
    const excluded = new Set(excludeKeys);
    const claimed: Job[] = [];
    // Packs read already: taken, lost to another claimer, or with nothing left to claim.
    const read: string[] = [];
    for (let lostRounds = 0; lostRounds < MAX_CLAIM_ROUNDS && claimed.length < limit;) {
      const filter: Filter<PackDoc> = { queue, state: 'open', nextAt: { $lte: now } };
      if (read.length > 0) filter._id = { $nin: read };
      const packs = await this.#packs
        .find(filter)
        .sort({ nextAt: 1, _id: 1 })
        .limit(PACKS_PER_ROUND)
        .toArray()
        .then((docs) => docs.map(decoded));
      if (packs.length === 0) break;
      const steps: Step<PackChange>[] = [];
      const taken = new Map<Step<PackChange>, { pack: Pack; ids: string[] }>();
      let room = limit - claimed.length;
      for (const pack of packs) {
        if (room <= 0) break;
        const ids: string[] = [];
        const entries = pack.entries.map((e) => {
          const due = e.state === 'queued' && e.runAt <= now && e.leaseUntil <= now && !excluded.has(e.key);
          if (!due || ids.length >= room) return e;
          ids.push(e.id);
          return { ...e, leaseOwner: owner, leaseUntil: now + leaseMs, updatedAt: now };
        });
        if (ids.length === 0) continue;
        room -= ids.length;
        const step = { ref: pack, change: { ...packChange(entries, pack.seq + 1, now), claimed: ids } };
        steps.push(step);
        taken.set(step, { pack, ids });
      }
      if (steps.length === 0) {
        if (packs.length < PACKS_PER_ROUND) break;
        read.push(...packs.map((pack) => pack._id));
        continue;
      }
      const result = await this.#transitions.advance(steps);
      for (const step of result.won) {
        const t = taken.get(step);
        if (!t) continue;
        const written = this.#written(t.pack, step.change);
        const ids = new Set(t.ids);
        if (this.#packOf.size > MAX_CLAIMED_ENTRIES) this.#packOf.clear();
        for (const e of written.entries) {
          if (!ids.has(e.id)) continue;
          this.#packOf.set(e.id, written._id);
          claimed.push(toJob(written, e));
        }
      }
      read.push(...packs.map((pack) => pack._id));
      if (result.lost.length > 0) {
        lostRounds++;
        await this.#transitions.afterLost(result.lost.map((step) => step.ref));
      } else if (packs.length < PACKS_PER_ROUND) {
        break;
      }
    }
    return claimed.sort((a, b) => a.runAt - b.runAt || Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)));
  }

  /** Records outcomes of entries leased from packs (see JobQueue.finish): one transition per pack. */
  async finish(outcomes: JobOutcome[]): Promise<boolean[]> {
    return this.#change(
      outcomes.map((outcome) => ({
        id: outcome.id,
        owner: outcome.owner,
        change: (e) => outcomeChange(outcome, e),
      })),
      true,
    );
  }

  /** Replaces the payload of an entry leased by `owner`. */
  async updatePayload(
    id: string,
    owner: string,
    payload: Record<string, unknown>,
    now: number,
  ): Promise<boolean> {
    const text = JSON.stringify(payload);
    const [done] = await this.#change(
      [{ id, owner, change: (e) => ({ ...e, payload: text, whole: true, updatedAt: now }) }],
      false,
    );
    return done ?? false;
  }

  /** Extends the lease of an entry still leased by `owner`. */
  async extendLease(id: string, owner: string, leaseUntil: number): Promise<boolean> {
    const [done] = await this.#change([{ id, owner, change: (e) => ({ ...e, leaseUntil }) }], false);
    return done ?? false;
  }

  /** From the packs in force, then from the copies of closed ones (a done entry). */
  async getJob(id: string): Promise<Job | null> {
    for (const packs of [this.#packs, this.#done]) {
      const doc = await packs.findOne({ ids: id, state: { $ne: 'purged' } });
      const pack = doc === null ? null : decoded(doc);
      const entry = pack?.entries.find((e) => e.id === id);
      if (pack && entry) return toJob(pack, entry);
    }
    return null;
  }

  /** Counts the entries of the packs of `queue` from the packs' summaries. */
  stats(queue: QueueName, now: number): Promise<QueueStats> {
    return packStats(this.#packs, queue, now);
  }

  /**
   * Deletes, up to about `limit` entries, the packs of `queue` whose entries are all finished, last changed
   * before `doneBefore` (and before `failedBefore` when one failed). With `keepIds`, the pack stays as a stub
   * without entries, so that it is not enqueued again until {@link forgetPurgedIds}. Returns how many entries.
   */
  async purgeFinished(
    queue: QueueName,
    o: { doneBefore: number; failedBefore: number; keepIds: boolean },
    limit: number,
  ): Promise<number> {
    let purged = 0;
    let skip: string[] = [];
    while (purged < limit) {
      const filter: Filter<PackDoc> = { queue, state: 'closed', updatedAt: { $lt: o.doneBefore } };
      if (skip.length > 0) filter._id = { $nin: skip };
      const batch = await this.#packs.find(filter).limit(PURGE_BATCH).toArray();
      if (batch.length === 0) break;
      const due = batch.filter((p) => p.updatedAt < o.failedBefore || !p.hasFailed);
      skip = [...skip, ...batch.filter((p) => !due.includes(p)).map((p) => p._id)];
      const chosen: typeof due = [];
      for (const p of due) {
        if (chosen.length > 0 && purged + p.size > limit) break;
        chosen.push(p);
        purged += p.size;
      }
      if (chosen.length > 0) {
        // A closed pack never changes again: nothing but this purge writes it.
        const ids = { _id: { $in: chosen.map((p) => p._id) }, state: 'closed' } as Filter<PackDoc>;
        if (o.keepIds)
          await this.#packs.updateMany(ids, { $set: { state: 'purged', entries: '[]', ids: [] } });
        else await this.#packs.deleteMany(ids);
        await this.#done.deleteMany({ _id: { $in: chosen.map((p) => p._id) } });
        for (const p of chosen) this.#known.delete(p._id);
        await this.#transitions.purge(chosen.map((p) => p.rev));
      }
      if (chosen.length < due.length || batch.length < PURGE_BATCH) break;
    }
    return purged;
  }

  /** Forgets up to `limit` packs kept as stubs by purgeFinished, created before `createdBefore`. */
  forgetPurgedIds(queue: QueueName, createdBefore: number, limit: number): Promise<number> {
    return forgetPurgedPacks(this.#packs, queue, createdBefore, limit);
  }

  /** Owners of entries leased until after `now`, from the packs' summaries. */
  leaseOwners(now: number): Promise<Set<string>> {
    return packLeaseOwners(this.#packs, now);
  }

  /**
   * Releases every queued entry leased by `owner` (gone): claimable at once, no attempt counted. Claims of packs
   * it took in the last `unwrittenWithinMs` and never wrote are written free first.
   */
  async releaseLeases(owner: string, now: number, unwrittenWithinMs: number): Promise<number> {
    let released = await this.#transitions.applyUnwrittenClaimsOf(owner, unwrittenWithinMs);
    for (let round = 0; round < MAX_OWNER_ROUNDS; round++) {
      const packs = (await this.#packs.find({ state: 'open', owners: owner }).toArray()).map(decoded);
      if (packs.length === 0) break;
      const counts = new Map<string, number>();
      const steps = packs.map((pack) => {
        let count = 0;
        const entries = pack.entries.map((e) => {
          if (e.state !== 'queued' || e.leaseOwner !== owner) return e;
          count++;
          this.#packOf.delete(e.id);
          return { ...e, leaseOwner: null, leaseUntil: 0, updatedAt: now };
        });
        counts.set(pack._id, count);
        return { ref: pack, change: packChange(entries, pack.seq + 1, now) };
      });
      const result = await this.#transitions.advance(steps);
      for (const step of result.won) {
        released += counts.get(step.ref._id) ?? 0;
        this.#known.delete(step.ref._id);
      }
      if (result.lost.length === 0) break;
      // A gone holder's taken but unwritten change is written now, then its leases are released again.
      await this.#transitions.applyUnapplied(result.lost.map((s) => s.ref));
    }
    return released;
  }

  /** The pack as written by a won `change`, remembered. */
  #written(pack: Pack, change: PackChange): Pack {
    const { claimed: _claimed, entries, ...fields } = change;
    const written: Pack = {
      ...pack,
      ...fields,
      entries: entries === undefined ? pack.entries : entriesOf(entries),
    };
    if (this.#known.size >= MAX_HELD_PACKS && !this.#known.has(written._id)) {
      const oldest = this.#known.keys().next();
      if (!oldest.done) this.#known.delete(oldest.value);
    }
    this.#known.set(written._id, written);
    return written;
  }

  /**
   * Applies changes to entries leased by their owners: grouped by pack, one transition per pack, from the pack
   * as this queue last wrote it; packs whose transition was lost (someone else changed them) are read again and
   * the changes applied to what they hold now. `ends` says the changes end the lease (outcomes): the entry is
   * then forgotten here. Returns, in order, whether each change was made.
   */
  #change(changes: EntryChange[], ends: boolean): Promise<boolean[]> {
    const run = this.#changes.then(() => this.#changeNow(changes, ends));
    this.#changes = run.catch(() => undefined);
    return run;
  }

  async #changeNow(changes: EntryChange[], ends: boolean): Promise<boolean[]> {
    const results = changes.map(() => false);
    let pending = changes.map((c, index) => ({ ...c, index }));
    // Entries not claimed here (another process of this owner, or forgotten): their packs are looked up.
    const unknown = pending.filter((c) => !this.#packOf.has(c.id)).map((c) => c.id);
    if (unknown.length > 0) {
      const found = await this.#packs.find({ ids: { $in: unknown }, state: 'open' }).toArray();
      const wanted = new Set(unknown);
      for (const pack of found) {
        this.#known.set(pack._id, decoded(pack));
        for (const id of pack.ids) if (wanted.has(id)) this.#packOf.set(id, pack._id);
      }
    }
    for (let round = 0; round < MAX_HELD_ROUNDS && pending.length > 0; round++) {
      const byPack = new Map<string, typeof pending>();
      for (const c of pending) {
        const packId = this.#packOf.get(c.id);
        if (packId === undefined) continue;
        byPack.set(packId, [...(byPack.get(packId) ?? []), c]);
      }
      // Packs not known as written last are read first.
      const unread = [...byPack.keys()].filter((id) => !this.#known.has(id));
      if (unread.length > 0) {
        for (const pack of await this.#packs.find({ _id: { $in: unread } }).toArray())
          this.#known.set(pack._id, decoded(pack));
      }
      const steps: Step<PackChange>[] = [];
      const applied = new Map<Step<PackChange>, { pack: Pack; entries: PackEntry[]; indexes: number[] }>();
      for (const [packId, list] of byPack) {
        const pack = this.#known.get(packId);
        if (pack === undefined) continue;
        const indexes: number[] = [];
        const byId = new Map(list.map((c) => [c.id, c]));
        const entries = pack.entries.map((e) => {
          const c = byId.get(e.id);
          if (c === undefined || e.state !== 'queued' || e.leaseOwner !== c.owner) return e;
          indexes.push(c.index);
          return c.change(e);
        });
        if (indexes.length === 0) continue;
        const now = Math.max(...entries.map((e) => e.updatedAt), pack.updatedAt);
        const step = { ref: pack, change: packChange(entries, pack.seq + 1, now) };
        steps.push(step);
        applied.set(step, { pack, entries, indexes });
      }
      if (steps.length === 0) break;
      const result = await this.#transitions.advance(steps);
      const done = new Set<number>();
      const closed: PackDoc[] = [];
      for (const step of result.won) {
        const a = applied.get(step);
        if (!a) continue;
        this.#written(a.pack, step.change);
        if (step.change.state === 'closed') closed.push(closedCopy(a.pack, step.change, a.entries));
        for (const index of a.indexes) {
          results[index] = true;
          done.add(index);
        }
      }
      // The copy of a pack closed here; a process killed before it leaves the pack's done entries unlisted.
      if (closed.length > 0) await insertManyIgnoringDuplicates(this.#done, closed);
      for (const step of result.lost) this.#known.delete(step.ref._id);
      if (result.lost.length > 0) await this.#transitions.afterLost(result.lost.map((s) => s.ref));
      // What was won is done; what was lost is tried again on the pack as read anew; the rest was not held.
      const lostPacks = new Set(result.lost.map((s) => s.ref._id));
      pending = pending.filter((c) => !done.has(c.index) && lostPacks.has(this.#packOf.get(c.id) ?? ''));
      if (pending.length > 0) await delay(Math.min(MAX_HELD_WAIT_MS, 5 * (round + 1)));
    }
    if (ends) changes.forEach((c, index) => results[index] && this.#packOf.delete(c.id));
    return results;
  }
}
