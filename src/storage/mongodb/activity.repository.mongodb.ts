/** MongoDB adapter of the storage port: activities groups published, kept so that their ids dereference. */
import type { Collection, Filter } from 'mongodb';
import type { ActivityRepository, NewActivity, OutboxCursor, StoredActivity } from '../store.ts';
import type { ActivityDoc } from './documents.mongodb.ts';
import { isDuplicateKeyError } from './errors.mongodb.ts';

function toActivity(doc: ActivityDoc): StoredActivity {
  return {
    id: doc._id,
    groupName: doc.groupName,
    type: doc.type,
    objectId: doc.objectId ?? null,
    json: doc.json,
    published: doc.published,
    inOutbox: doc.inOutbox,
    withdrawnAt: doc.withdrawnAt ?? null,
  };
}

/**
 * Emitted and announced documents in the `activities` collection, `_id` = activity id. The outbox is the
 * documents with `inOutbox` that are not withdrawn (post.repository.mongodb.ts withdraws them).
 */
export class MongoActivityRepository implements ActivityRepository {
  readonly #activities: Collection<ActivityDoc>;

  constructor(activities: Collection<ActivityDoc>) {
    this.#activities = activities;
  }

  async putActivity(activity: NewActivity): Promise<boolean> {
    try {
      await this.#activities.insertOne({
        _id: activity.id,
        groupName: activity.groupName,
        type: activity.type,
        objectId: activity.objectId,
        json: activity.json,
        published: activity.published,
        inOutbox: activity.inOutbox,
        withdrawnAt: null,
      });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async getActivity(id: string): Promise<StoredActivity | null> {
    const doc = await this.#activities.findOne({ _id: id });
    return doc ? toActivity(doc) : null;
  }

  async listOutbox(groupName: string, before: OutboxCursor | null, limit: number): Promise<StoredActivity[]> {
    if (limit <= 0) return [];
    const filter: Filter<ActivityDoc> = { groupName, inOutbox: true, withdrawnAt: null };
    if (before !== null) {
      filter.$or = [
        { published: { $lt: before.published } },
        { published: before.published, _id: { $lt: before.id } },
      ];
    }
    const docs = await this.#activities.find(filter).sort({ published: -1, _id: -1 }).limit(limit).toArray();
    return docs.map(toActivity);
  }

  async listActivitiesAbout(
    groupName: string,
    objectId: string,
    after: OutboxCursor | null,
    limit: number,
  ): Promise<StoredActivity[]> {
    if (limit <= 0) return [];
    const filter: Filter<ActivityDoc> = { groupName, objectId };
    if (after !== null) {
      filter.$or = [
        { published: { $gt: after.published } },
        { published: after.published, _id: { $gt: after.id } },
      ];
    }
    const docs = await this.#activities.find(filter).sort({ published: 1, _id: 1 }).limit(limit).toArray();
    return docs.map(toActivity);
  }

  async countOutbox(groupName: string): Promise<number> {
    return this.#activities.countDocuments({ groupName, inOutbox: true, withdrawnAt: null });
  }
}
