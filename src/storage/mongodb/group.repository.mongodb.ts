/** MongoDB adapter of the storage port: groups and their settings. */
import type { Collection, Filter } from 'mongodb';
import { DEFAULT_GROUP_SETTINGS, type Group, type GroupRepository } from '../store.ts';
import type { GroupDoc } from './documents.mongodb.ts';
import { isDuplicateKeyError } from './errors.mongodb.ts';

function toGroup(doc: GroupDoc): Group {
  return {
    name: doc._id,
    title: doc.title,
    summary: doc.summary,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    deletedAt: doc.deletedAt ?? null,
    // Settings added after a document was written take their default.
    settings: { ...DEFAULT_GROUP_SETTINGS, ...doc.settings },
  };
}

/** Groups in the `groups` collection, `_id` = name. */
export class MongoGroupRepository implements GroupRepository {
  readonly #groups: Collection<GroupDoc>;

  constructor(groups: Collection<GroupDoc>) {
    this.#groups = groups;
  }

  async createGroup(group: Group): Promise<boolean> {
    try {
      await this.#groups.insertOne({
        _id: group.name,
        title: group.title,
        summary: group.summary,
        createdAt: group.createdAt,
        updatedAt: group.updatedAt,
        deletedAt: group.deletedAt,
        settings: group.settings,
      });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async getGroup(name: string): Promise<Group | null> {
    const doc = await this.#groups.findOne({ _id: name });
    return doc ? toGroup(doc) : null;
  }

  async updateGroup(group: Group): Promise<boolean> {
    const result = await this.#groups.updateOne(
      { _id: group.name },
      {
        $set: {
          title: group.title,
          summary: group.summary,
          settings: group.settings,
          updatedAt: group.updatedAt,
        },
      },
    );
    return result.matchedCount === 1;
  }

  async markGroupDeleted(name: string, at: number): Promise<boolean> {
    const result = await this.#groups.updateOne({ _id: name, deletedAt: null }, { $set: { deletedAt: at } });
    return result.modifiedCount === 1;
  }

  async listGroups(after: string | null, limit: number): Promise<Group[]> {
    if (limit <= 0) return [];
    const filter: Filter<GroupDoc> =
      after === null ? { deletedAt: null } : { deletedAt: null, _id: { $gt: after } };
    const docs = await this.#groups.find(filter).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map(toGroup);
  }

  async countGroups(): Promise<number> {
    return this.#groups.countDocuments({ deletedAt: null });
  }
}
