/** MongoDB adapter of the storage port: bans of actors from groups. */
import type { Collection, Filter } from 'mongodb';
import type { Ban, BanRepository } from '../moderation.store.ts';
import { retryOnDuplicateKey } from './errors.mongodb.ts';
import type { BanDoc } from './moderation-documents.mongodb.ts';

const BAN_FIELDS = {
  _id: 0,
  groupName: 1,
  actorId: 1,
  reason: 1,
  by: 1,
  createdAt: 1,
  expiresAt: 1,
} as const;

function toBan(doc: BanDoc): Ban {
  return {
    groupName: doc.groupName,
    actorId: doc.actorId,
    reason: doc.reason,
    by: doc.by,
    createdAt: doc.createdAt,
    expiresAt: doc.expiresAt ?? null,
  };
}

/** Bans in the `bans` collection, unique on (groupName, actorId); expired bans stay until removed. */
export class MongoBanRepository implements BanRepository {
  readonly #bans: Collection<BanDoc>;

  constructor(bans: Collection<BanDoc>) {
    this.#bans = bans;
  }

  async putBan(ban: Ban): Promise<void> {
    const doc: BanDoc = {
      groupName: ban.groupName,
      actorId: ban.actorId,
      reason: ban.reason,
      by: ban.by,
      createdAt: ban.createdAt,
      expiresAt: ban.expiresAt,
    };
    await retryOnDuplicateKey(() =>
      this.#bans.replaceOne({ groupName: ban.groupName, actorId: ban.actorId }, doc, { upsert: true }),
    );
  }

  async removeBan(groupName: string, actorId: string): Promise<boolean> {
    const result = await this.#bans.deleteOne({ groupName, actorId });
    return result.deletedCount === 1;
  }

  /** A ban whose expiresAt equals `now` has ended. */
  async getActiveBan(groupName: string, actorId: string, now: number): Promise<Ban | null> {
    const doc = await this.#bans.findOne(
      { groupName, actorId, $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] },
      { projection: BAN_FIELDS },
    );
    return doc ? toBan(doc) : null;
  }

  async listBans(groupName: string, after: string | null, limit: number): Promise<Ban[]> {
    if (limit <= 0) return [];
    const filter: Filter<BanDoc> = after === null ? { groupName } : { groupName, actorId: { $gt: after } };
    const docs = await this.#bans
      .find(filter, { projection: BAN_FIELDS })
      .sort({ actorId: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toBan);
  }

  async hasActiveBan(actorId: string, now: number): Promise<boolean> {
    const doc = await this.#bans.findOne(
      { actorId, $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] },
      { projection: { _id: 1 } },
    );
    return doc !== null;
  }

  /** `$lt` on a number never matches a permanent ban's null. */
  async purgeExpired(before: number): Promise<number> {
    return (await this.#bans.deleteMany({ expiresAt: { $lt: before } })).deletedCount;
  }
}
