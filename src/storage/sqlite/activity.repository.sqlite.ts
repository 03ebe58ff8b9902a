/** SQLite adapter of the storage port: activities groups published, kept so that their ids dereference. */
import type { Database, Statement } from 'better-sqlite3';
import type { ActivityRepository, NewActivity, OutboxCursor, StoredActivity } from '../store.ts';
import { toFlag } from './codec.sqlite.ts';

interface ActivityRow {
  id: string;
  group_name: string;
  type: string;
  object_id: string | null;
  json: string;
  published: number;
  in_outbox: 0 | 1;
  withdrawn_at: number | null;
}

const COLUMNS = 'id, group_name, type, object_id, json, published, in_outbox, withdrawn_at';

function toActivity(row: ActivityRow): StoredActivity {
  return {
    id: row.id,
    groupName: row.group_name,
    type: row.type,
    objectId: row.object_id,
    json: row.json,
    published: row.published,
    inOutbox: row.in_outbox === 1,
    withdrawnAt: row.withdrawn_at,
  };
}

/**
 * Emitted and announced documents in the `activities` table; the outbox is the rows with in_outbox = 1 that are
 * not withdrawn (posts.repository.sqlite.ts withdraws them when their post is deleted).
 */
export class SqliteActivityRepository implements ActivityRepository {
  readonly #insert: Statement<[Omit<ActivityRow, 'withdrawn_at'>]>;
  readonly #get: Statement<[string], ActivityRow>;
  readonly #outboxFirst: Statement<[string, number], ActivityRow>;
  readonly #outboxBefore: Statement<[string, number, string, number], ActivityRow>;
  readonly #count: Statement<[string], { n: number }>;
  readonly #aboutFirst: Statement<[string, string, number], ActivityRow>;
  readonly #aboutAfter: Statement<[string, string, number, string, number], ActivityRow>;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO activities (${COLUMNS})
       VALUES (@id, @group_name, @type, @object_id, @json, @published, @in_outbox, NULL)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM activities WHERE id = ?`);
    this.#outboxFirst = db.prepare(
      `SELECT ${COLUMNS} FROM activities WHERE group_name = ? AND in_outbox = 1 AND withdrawn_at IS NULL
       ORDER BY published DESC, id DESC LIMIT ?`,
    );
    this.#outboxBefore = db.prepare(
      `SELECT ${COLUMNS} FROM activities
       WHERE group_name = ? AND in_outbox = 1 AND withdrawn_at IS NULL AND (published, id) < (?, ?)
       ORDER BY published DESC, id DESC LIMIT ?`,
    );
    this.#count = db.prepare(
      'SELECT count(*) AS n FROM activities WHERE group_name = ? AND in_outbox = 1 AND withdrawn_at IS NULL',
    );
    this.#aboutFirst = db.prepare(
      `SELECT ${COLUMNS} FROM activities WHERE group_name = ? AND object_id = ?
       ORDER BY published, id LIMIT ?`,
    );
    this.#aboutAfter = db.prepare(
      `SELECT ${COLUMNS} FROM activities WHERE group_name = ? AND object_id = ? AND (published, id) > (?, ?)
       ORDER BY published, id LIMIT ?`,
    );
  }

  async putActivity(activity: NewActivity): Promise<boolean> {
    const result = this.#insert.run({
      id: activity.id,
      group_name: activity.groupName,
      type: activity.type,
      object_id: activity.objectId,
      json: activity.json,
      published: activity.published,
      in_outbox: toFlag(activity.inOutbox),
    });
    return result.changes === 1;
  }

  async getActivity(id: string): Promise<StoredActivity | null> {
    const row = this.#get.get(id);
    return row ? toActivity(row) : null;
  }

  async listOutbox(groupName: string, before: OutboxCursor | null, limit: number): Promise<StoredActivity[]> {
    if (limit <= 0) return [];
    const rows =
      before === null
        ? this.#outboxFirst.all(groupName, limit)
        : this.#outboxBefore.all(groupName, before.published, before.id, limit);
    return rows.map(toActivity);
  }

  async countOutbox(groupName: string): Promise<number> {
    return this.#count.get(groupName)?.n ?? 0;
  }

  async listActivitiesAbout(
    groupName: string,
    objectId: string,
    after: OutboxCursor | null,
    limit: number,
  ): Promise<StoredActivity[]> {
    if (limit <= 0) return [];
    const rows =
      after === null
        ? this.#aboutFirst.all(groupName, objectId, limit)
        : this.#aboutAfter.all(groupName, objectId, after.published, after.id, limit);
    return rows.map(toActivity);
  }
}
