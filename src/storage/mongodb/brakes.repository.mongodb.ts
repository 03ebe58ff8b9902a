/** MongoDB adapter of the storage port: vote state, rate-limit hits and claims. */
import type { Collection } from 'mongodb';
import type { ClaimRepository, RateHit, RateLimitRepository, Vote, VoteRepository } from '../brakes.store.ts';
import { isDuplicateKeyError, retryOnDuplicateKey } from './errors.mongodb.ts';
import type { ClaimDoc, RateHitDoc, VoteDoc } from './brakes-documents.mongodb.ts';

const VOTE_FIELDS = {
  _id: 0,
  groupName: 1,
  actorId: 1,
  objectId: 1,
  state: 1,
  activityId: 1,
  at: 1,
} as const;

/** Votes in the `votes` collection, unique on (groupName, actorId, objectId). */
export class MongoVoteRepository implements VoteRepository {
  readonly #votes: Collection<VoteDoc>;

  constructor(votes: Collection<VoteDoc>) {
    this.#votes = votes;
  }

  async getVote(groupName: string, actorId: string, objectId: string): Promise<Vote | null> {
    const doc = await this.#votes.findOne({ groupName, actorId, objectId }, { projection: VOTE_FIELDS });
    return doc
      ? {
          groupName: doc.groupName,
          actorId: doc.actorId,
          objectId: doc.objectId,
          state: doc.state,
          activityId: doc.activityId,
          at: doc.at,
        }
      : null;
  }

  async putVote(v: Vote): Promise<void> {
    const doc: VoteDoc = {
      groupName: v.groupName,
      actorId: v.actorId,
      objectId: v.objectId,
      state: v.state,
      activityId: v.activityId,
      at: v.at,
    };
    await retryOnDuplicateKey(() =>
      this.#votes.replaceOne({ groupName: v.groupName, actorId: v.actorId, objectId: v.objectId }, doc, {
        upsert: true,
      }),
    );
  }
}

/** `_id` of the slot `slot` of a bucket: a bucket of limit L holds at most L hits, one per slot. */
const slotKey = (bucket: string, slot: number): string => `${bucket}\n#${slot}`;

/**
 * Hits in the `rate_hits` collection, one document per slot of a bucket (`_id` = bucket and slot number): a
 * bucket whose limit is L has slots 0 to L-1, and a hit takes a slot that is free (never used, or whose hit is
 * out of the window) by inserting it, which the unique `_id` lets exactly one writer win. So callers racing on
 * one bucket never pass its limit, on FerretDB too (whose updates do not apply their filter atomically).
 */
export class MongoRateLimitRepository implements RateLimitRepository {
  readonly #hits: Collection<RateHitDoc>;

  constructor(hits: Collection<RateHitDoc>) {
    this.#hits = hits;
  }

  async tryHit(bucket: string, hitId: string, at: number, windowMs: number, limit: number): Promise<boolean> {
    if (limit <= 0) return false;
    if (await this.#hits.findOne({ bucket, hitId }, { projection: { _id: 1 } })) return true;
    const since = at - windowMs;
    const slots = await this.#hits.find({ bucket }).toArray();
    if (slots.filter((d) => d.at > since).length >= limit) return false;
    const taken = new Map(slots.map((d) => [d.slot, d]));
    for (let slot = 0; slot < limit; slot++) {
      const held = taken.get(slot);
      if (held && held.at > since) continue;
      if (held) await this.#hits.deleteOne({ _id: held._id, hitId: held.hitId });
      try {
        await this.#hits.insertOne({ _id: slotKey(bucket, slot), bucket, slot, hitId, at });
        return true;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    return false;
  }

  async listHits(bucket: string, since: number, limit: number): Promise<RateHit[]> {
    if (limit <= 0) return [];
    const docs = await this.#hits
      .find({ bucket, at: { $gt: since } })
      .sort({ at: 1, hitId: 1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => ({ bucket: d.bucket, hitId: d.hitId, at: d.at }));
  }

  async purgeHits(before: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const ids = await this.#hits
      .find({ at: { $lt: before } }, { projection: { _id: 1 } })
      .limit(limit)
      .toArray();
    if (ids.length === 0) return 0;
    return (await this.#hits.deleteMany({ _id: { $in: ids.map((d) => d._id) } })).deletedCount;
  }
}

/**
 * Claims in the `claims` collection, `_id` = key. A claim is an insert, which the unique `_id` lets exactly one
 * writer win (FerretDB 1.x does not apply an update's filter atomically with its write, so no claim is an
 * update); an expired claim is deleted first, and of the writers that find it expired, one insert wins.
 */
export class MongoClaimRepository implements ClaimRepository {
  readonly #claims: Collection<ClaimDoc>;

  constructor(claims: Collection<ClaimDoc>) {
    this.#claims = claims;
  }

  async claim(key: string, owner: string, at: number, expiresAt: number | null): Promise<string> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const held = await this.#claims.findOne({ _id: key });
      if (held) {
        if (held.expiresAt === null || held.expiresAt > at) return held.owner;
        await this.#claims.deleteOne({ _id: key, owner: held.owner, at: held.at });
      }
      try {
        await this.#claims.insertOne({ _id: key, owner, at, expiresAt });
        return owner;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    const winner = await this.#claims.findOne({ _id: key });
    if (!winner) throw new Error(`claim of ${key} keeps changing hands`);
    return winner.owner;
  }

  async release(key: string, owner: string): Promise<boolean> {
    return (await this.#claims.deleteOne({ _id: key, owner })).deletedCount === 1;
  }

  async purgeExpiredClaims(before: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const ids = await this.#claims
      .find({ expiresAt: { $lt: before } }, { projection: { _id: 1 } })
      .limit(limit)
      .toArray();
    if (ids.length === 0) return 0;
    return (await this.#claims.deleteMany({ _id: { $in: ids.map((d) => d._id) } })).deletedCount;
  }
}
