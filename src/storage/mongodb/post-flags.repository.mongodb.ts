/** MongoDB adapter of the storage port: flags on posts (pinned, locked, removed). */
import type { Collection, Filter } from 'mongodb';
import type { PostFlagsRepository } from '../moderation.store.ts';
import type { PostDoc } from './documents.mongodb.ts';

/**
 * Pins, locks and per-author counts, on the `posts` collection (fields pinnedAt and lockedAt; absent or null when
 * unset). Counts and lists take every stored post of the author, deleted ones included.
 */
export class MongoPostFlagsRepository implements PostFlagsRepository {
  readonly #posts: Collection<PostDoc>;

  constructor(posts: Collection<PostDoc>) {
    this.#posts = posts;
  }

  async setPinned(groupName: string, objectId: string, pinnedAt: number | null): Promise<boolean> {
    const result = await this.#posts.updateOne({ groupName, objectId }, { $set: { pinnedAt } });
    return result.matchedCount === 1;
  }

  /** Ties on the pin time: greater objectId first (the index order). */
  async listPinned(groupName: string, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const docs = await this.#posts
      .find({ groupName, pinnedAt: { $ne: null } }, { projection: { _id: 0, objectId: 1 } })
      .sort({ pinnedAt: -1, objectId: -1 })
      .limit(limit)
      .toArray();
    return objectIdsOf(docs);
  }

  async setLocked(groupName: string, threadRoot: string, lockedAt: number | null): Promise<boolean> {
    const result = await this.#posts.updateOne({ groupName, objectId: threadRoot }, { $set: { lockedAt } });
    return result.matchedCount === 1;
  }

  async isLocked(groupName: string, threadRoot: string): Promise<boolean> {
    const doc = await this.#posts.findOne(
      { groupName, objectId: threadRoot },
      { projection: { _id: 0, lockedAt: 1 } },
    );
    return typeof doc?.['lockedAt'] === 'number';
  }

  async countPostsByAuthorSince(groupName: string, authorId: string, since: number): Promise<number> {
    return this.#posts.countDocuments({ groupName, authorId, createdAt: { $gte: since } });
  }

  async countPostsByAuthor(groupName: string, authorId: string): Promise<number> {
    return this.#posts.countDocuments({ groupName, authorId });
  }

  async listPostsByAuthor(
    groupName: string,
    authorId: string,
    after: string | null,
    limit: number,
  ): Promise<string[]> {
    if (limit <= 0) return [];
    const filter: Filter<PostDoc> =
      after === null ? { groupName, authorId } : { groupName, authorId, objectId: { $gt: after } };
    const docs = await this.#posts
      .find(filter, { projection: { _id: 0, objectId: 1 } })
      .sort({ objectId: 1 })
      .limit(limit)
      .toArray();
    return objectIdsOf(docs);
  }
}

function objectIdsOf(docs: { [key: string]: unknown }[]): string[] {
  const ids: string[] = [];
  for (const doc of docs) {
    const id = doc['objectId'];
    if (typeof id === 'string') ids.push(id);
  }
  return ids;
}
