/** MongoDB adapter of the storage port: posts announced by groups and their threads. */
import type { Collection, Filter } from 'mongodb';
import type { OutboxCursor, Post, PostRepository } from '../store.ts';
import type { ActivityDoc, PostDoc } from './documents.mongodb.ts';
import { isDuplicateKeyError } from './errors.mongodb.ts';

const POST_FIELDS = {
  _id: 0,
  groupName: 1,
  objectId: 1,
  authorId: 1,
  inReplyTo: 1,
  threadRoot: 1,
  createId: 1,
  boostId: 1,
  createdAt: 1,
  deletedAt: 1,
  removedBy: 1,
} as const;

/** The most group names listGroupsOfPost returns (the port's bound). */
const GROUPS_OF_POST_LIMIT = 100;

function toPost(doc: PostDoc): Post {
  return {
    objectId: doc.objectId,
    groupName: doc.groupName,
    authorId: doc.authorId,
    inReplyTo: doc.inReplyTo ?? null,
    threadRoot: doc.threadRoot,
    createId: doc.createId,
    boostId: doc.boostId ?? null,
    createdAt: doc.createdAt,
    deletedAt: doc.deletedAt ?? null,
    removedBy: doc.removedBy ?? null,
  };
}

/**
 * Posts accepted into groups, in the `posts` collection, unique on (groupName, objectId). Deleting a post
 * withdraws the documents of `activities` about it.
 */
export class MongoPostRepository implements PostRepository {
  readonly #posts: Collection<PostDoc>;
  readonly #activities: Collection<ActivityDoc>;

  constructor(posts: Collection<PostDoc>, activities: Collection<ActivityDoc>) {
    this.#posts = posts;
    this.#activities = activities;
  }

  async putPost(post: Post): Promise<boolean> {
    try {
      await this.#posts.insertOne({
        groupName: post.groupName,
        objectId: post.objectId,
        authorId: post.authorId,
        inReplyTo: post.inReplyTo,
        threadRoot: post.threadRoot,
        createId: post.createId,
        boostId: post.boostId,
        createdAt: post.createdAt,
        deletedAt: post.deletedAt,
        removedBy: post.removedBy,
      });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async listGroupsOfPost(objectId: string): Promise<string[]> {
    const docs = await this.#posts
      .find({ objectId }, { projection: { _id: 0, groupName: 1 } })
      .sort({ groupName: 1 })
      .limit(GROUPS_OF_POST_LIMIT)
      .toArray();
    return docs.map((doc) => doc.groupName);
  }

  async getPost(groupName: string, objectId: string): Promise<Post | null> {
    const doc = await this.#posts.findOne({ groupName, objectId }, { projection: POST_FIELDS });
    return doc ? toPost(doc) : null;
  }

  async markPostDeleted(
    groupName: string,
    objectId: string,
    at: number,
    removedBy: string | null,
  ): Promise<boolean> {
    // The activities first, the post last: if this stops part way, the post is still live and a second call
    // finds the activities to withdraw (a deleted post's activities are never left in the outbox).
    const live = await this.#posts.findOne(
      { groupName, objectId, deletedAt: null },
      { projection: { _id: 1 } },
    );
    if (!live) return false;
    await this.#activities.updateMany(
      { groupName, objectId, withdrawnAt: null },
      { $set: { withdrawnAt: at } },
    );
    const result = await this.#posts.updateOne(
      { groupName, objectId, deletedAt: null },
      { $set: { deletedAt: at, removedBy } },
    );
    return result.modifiedCount === 1;
  }

  async restorePost(groupName: string, objectId: string, boostId: string | null): Promise<boolean> {
    // The activities first, the post last: if this stops part way, the post is still deleted and a second call
    // brings back what is left.
    const deleted = await this.#posts.findOne(
      { groupName, objectId, deletedAt: { $ne: null } },
      { projection: { _id: 1 } },
    );
    if (!deleted) return false;
    await this.#activities.updateMany(
      { groupName, objectId, withdrawnAt: { $ne: null } },
      { $set: { withdrawnAt: null } },
    );
    const result = await this.#posts.updateOne(
      { groupName, objectId, deletedAt: { $ne: null } },
      { $set: { deletedAt: null, removedBy: null, boostId } },
    );
    return result.modifiedCount === 1;
  }

  async listThread(
    groupName: string,
    threadRoot: string,
    after: OutboxCursor | null,
    limit: number,
  ): Promise<Post[]> {
    if (limit <= 0) return [];
    const filter: Filter<PostDoc> = { groupName, threadRoot };
    if (after !== null) {
      filter.$or = [
        { createdAt: { $gt: after.published } },
        { createdAt: after.published, objectId: { $gt: after.id } },
      ];
    }
    const docs = await this.#posts
      .find(filter, { projection: POST_FIELDS })
      .sort({ createdAt: 1, objectId: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toPost);
  }
}
