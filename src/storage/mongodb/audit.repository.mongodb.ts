/** MongoDB adapter of the storage port: the moderation audit log. */
import type { Collection, Filter } from 'mongodb';
import type { AuditEntry, AuditRepository, AuditScope } from '../moderation.store.ts';
import { isDuplicateKeyError } from './errors.mongodb.ts';
import type { AuditDoc } from './moderation-documents.mongodb.ts';

function toEntry(doc: AuditDoc): AuditEntry {
  return {
    id: doc._id,
    groupName: doc.groupName ?? null,
    actorId: doc.actorId,
    action: doc.action,
    target: doc.target,
    reason: doc.reason,
    at: doc.at,
  };
}

/** The moderation audit log in the `audit_log` collection, `_id` = entry id. */
export class MongoAuditRepository implements AuditRepository {
  readonly #audit: Collection<AuditDoc>;

  constructor(audit: Collection<AuditDoc>) {
    this.#audit = audit;
  }

  async appendAudit(e: AuditEntry): Promise<boolean> {
    try {
      await this.#audit.insertOne({
        _id: e.id,
        groupName: e.groupName,
        actorId: e.actorId,
        action: e.action,
        target: e.target,
        reason: e.reason,
        at: e.at,
      });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async getAudit(id: string): Promise<AuditEntry | null> {
    const doc = await this.#audit.findOne({ _id: id });
    return doc ? toEntry(doc) : null;
  }

  async listAudit(
    scope: AuditScope,
    before: { at: number; id: string } | null,
    limit: number,
  ): Promise<AuditEntry[]> {
    if (limit <= 0) return [];
    const filter: Filter<AuditDoc> =
      'group' in scope ? { groupName: scope.group } : 'instance' in scope ? { groupName: null } : {};
    if (before !== null) {
      filter.$or = [{ at: { $lt: before.at } }, { at: before.at, _id: { $lt: before.id } }];
    }
    const docs = await this.#audit.find(filter).sort({ at: -1, _id: -1 }).limit(limit).toArray();
    return docs.map(toEntry);
  }
}
