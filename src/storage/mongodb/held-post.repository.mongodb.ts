/** MongoDB adapter of the storage port: posts held for a moderator's approval. */
import type { Collection, Filter } from 'mongodb';
import type { HeldPost, HeldPostRepository } from '../moderation.store.ts';
import { isDuplicateKeyError } from './errors.mongodb.ts';
import type { HeldPostDoc } from './moderation-documents.mongodb.ts';

function toHeldPost(doc: HeldPostDoc): HeldPost {
  return {
    groupName: doc.groupName,
    objectId: doc.objectId,
    authorId: doc.authorId,
    activityJson: doc.activityJson,
    reason: doc.reason,
    createdAt: doc.createdAt,
  };
}

/** Posts awaiting approval in the `held_posts` collection, unique on (groupName, objectId). */
export class MongoHeldPostRepository implements HeldPostRepository {
  readonly #held: Collection<HeldPostDoc>;

  constructor(held: Collection<HeldPostDoc>) {
    this.#held = held;
  }

  async holdPost(p: HeldPost): Promise<boolean> {
    try {
      await this.#held.insertOne({
        groupName: p.groupName,
        objectId: p.objectId,
        authorId: p.authorId,
        activityJson: p.activityJson,
        reason: p.reason,
        createdAt: p.createdAt,
      });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async getHeldPost(groupName: string, objectId: string): Promise<HeldPost | null> {
    const doc = await this.#held.findOne({ groupName, objectId });
    return doc ? toHeldPost(doc) : null;
  }

  /**
   * Reads, then deletes by `_id`; only the caller whose delete removed the document gets it, so of two
   * concurrent takes one gets the post and the other null. A delete's count is exact on FerretDB too (unlike an
   * update's filter, which it does not re-check when writing).
   */
  async takeHeldPost(groupName: string, objectId: string): Promise<HeldPost | null> {
    const doc = await this.#held.findOne({ groupName, objectId });
    if (!doc) return null;
    const result = await this.#held.deleteOne({ _id: doc._id });
    return result.deletedCount === 1 ? toHeldPost(doc) : null;
  }

  /** Oldest first (createdAt, then objectId), strictly after the cursor. */
  async listHeldPosts(
    groupName: string,
    after: { createdAt: number; objectId: string } | null,
    limit: number,
  ): Promise<HeldPost[]> {
    if (limit <= 0) return [];
    const filter: Filter<HeldPostDoc> = { groupName };
    if (after !== null) {
      filter.$or = [
        { createdAt: { $gt: after.createdAt } },
        { createdAt: after.createdAt, objectId: { $gt: after.objectId } },
      ];
    }
    const docs = await this.#held.find(filter).sort({ createdAt: 1, objectId: 1 }).limit(limit).toArray();
    return docs.map(toHeldPost);
  }
}
