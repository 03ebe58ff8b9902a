/** SQLite adapter of the storage port: the moderation audit log. */
import type { Database, Statement } from 'better-sqlite3';
import type { AuditEntry, AuditRepository, AuditScope } from '../moderation.store.ts';

interface AuditRow {
  id: string;
  group_name: string | null;
  actor_id: string;
  action: string;
  target: string;
  reason: string;
  at: number;
}

const COLUMNS = 'id, group_name, actor_id, action, target, reason, at';
const NEWEST_FIRST = 'ORDER BY at DESC, id DESC LIMIT @limit';
const BEFORE = '(at, id) < (@at, @id)';

type ListParams = { group_name?: string; at?: number; id?: string; limit: number };

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    groupName: row.group_name,
    actorId: row.actor_id,
    action: row.action,
    target: row.target,
    reason: row.reason,
    at: row.at,
  };
}

/** The moderation audit log in the `audit_log` table, keyed by id; instance-level entries have no group. */
export class SqliteAuditRepository implements AuditRepository {
  readonly #insert: Statement<[AuditRow]>;
  readonly #get: Statement<[string], AuditRow>;
  /** [first page, page before a cursor] for one group, for the instance, and for everything. */
  readonly #ofGroup: [Statement<[ListParams], AuditRow>, Statement<[ListParams], AuditRow>];
  readonly #ofInstance: [Statement<[ListParams], AuditRow>, Statement<[ListParams], AuditRow>];
  readonly #ofAll: [Statement<[ListParams], AuditRow>, Statement<[ListParams], AuditRow>];

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO audit_log (${COLUMNS}) VALUES (@id, @group_name, @actor_id, @action, @target, @reason, @at)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE id = ?`);
    const pair = (where: string): [Statement<[ListParams], AuditRow>, Statement<[ListParams], AuditRow>] => [
      db.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE ${where} ${NEWEST_FIRST}`),
      db.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE ${where} AND ${BEFORE} ${NEWEST_FIRST}`),
    ];
    this.#ofGroup = pair('group_name = @group_name');
    this.#ofInstance = pair('group_name IS NULL');
    this.#ofAll = pair('1 = 1');
  }

  async appendAudit(e: AuditEntry): Promise<boolean> {
    const result = this.#insert.run({
      id: e.id,
      group_name: e.groupName,
      actor_id: e.actorId,
      action: e.action,
      target: e.target,
      reason: e.reason,
      at: e.at,
    });
    return result.changes === 1;
  }

  async getAudit(id: string): Promise<AuditEntry | null> {
    const row = this.#get.get(id);
    return row ? toEntry(row) : null;
  }

  async listAudit(
    scope: AuditScope,
    before: { at: number; id: string } | null,
    limit: number,
  ): Promise<AuditEntry[]> {
    if (limit <= 0) return [];
    const [first, older] =
      'group' in scope ? this.#ofGroup : 'instance' in scope ? this.#ofInstance : this.#ofAll;
    const params: ListParams = 'group' in scope ? { group_name: scope.group, limit } : { limit };
    const rows = before === null ? first.all(params) : older.all({ ...params, at: before.at, id: before.id });
    return rows.map(toEntry);
  }
}
