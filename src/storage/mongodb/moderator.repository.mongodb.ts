/** MongoDB adapter of the storage port: group moderators. */
import type { Collection, Filter } from 'mongodb';
import type { Moderator, ModeratorRepository } from '../moderation.store.ts';
import { isDuplicateKeyError } from './errors.mongodb.ts';
import type { ModeratorDoc } from './moderation-documents.mongodb.ts';

const MODERATOR_FIELDS = { _id: 0, groupName: 1, actorId: 1, addedBy: 1, addedAt: 1 } as const;

function toModerator(doc: ModeratorDoc): Moderator {
  return { groupName: doc.groupName, actorId: doc.actorId, addedBy: doc.addedBy, addedAt: doc.addedAt };
}

/** Moderators in the `moderators` collection, unique on (groupName, actorId). */
export class MongoModeratorRepository implements ModeratorRepository {
  readonly #moderators: Collection<ModeratorDoc>;

  constructor(moderators: Collection<ModeratorDoc>) {
    this.#moderators = moderators;
  }

  /** The unique index decides, so of two concurrent adds exactly one returns true. */
  async addModerator(m: Moderator): Promise<boolean> {
    try {
      await this.#moderators.insertOne({
        groupName: m.groupName,
        actorId: m.actorId,
        addedBy: m.addedBy,
        addedAt: m.addedAt,
      });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async removeModerator(groupName: string, actorId: string): Promise<boolean> {
    const result = await this.#moderators.deleteOne({ groupName, actorId });
    return result.deletedCount === 1;
  }

  async isModerator(groupName: string, actorId: string): Promise<boolean> {
    const doc = await this.#moderators.findOne({ groupName, actorId }, { projection: { _id: 1 } });
    return doc !== null;
  }

  async listModerators(
    groupName: string,
    after: { addedAt: number; actorId: string } | null,
    limit: number,
  ): Promise<Moderator[]> {
    if (limit <= 0) return [];
    const filter: Filter<ModeratorDoc> = { groupName };
    if (after !== null) {
      filter.$or = [
        { addedAt: { $gt: after.addedAt } },
        { addedAt: after.addedAt, actorId: { $gt: after.actorId } },
      ];
    }
    const docs = await this.#moderators
      .find(filter, { projection: MODERATOR_FIELDS })
      .sort({ addedAt: 1, actorId: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toModerator);
  }

  async countModerators(groupName: string): Promise<number> {
    return this.#moderators.countDocuments({ groupName });
  }

  async listGroupsOfModerator(actorId: string, after: string | null, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const filter: Filter<ModeratorDoc> = { actorId };
    if (after !== null) filter.groupName = { $gt: after };
    const docs = await this.#moderators
      .find(filter, { projection: { _id: 0, groupName: 1 } })
      .sort({ groupName: 1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => d.groupName);
  }
}
