/** SQLite adapter of the storage port: group moderators. */
import type { Database, Statement } from 'better-sqlite3';
import type { Moderator, ModeratorRepository } from '../moderation.store.ts';

interface ModeratorRow {
  group_name: string;
  actor_id: string;
  added_by: string;
  added_at: number;
}

const COLUMNS = 'group_name, actor_id, added_by, added_at';

function toModerator(row: ModeratorRow): Moderator {
  return { groupName: row.group_name, actorId: row.actor_id, addedBy: row.added_by, addedAt: row.added_at };
}

/** Moderators of groups in the `moderators` table, keyed by (group_name, actor_id). */
export class SqliteModeratorRepository implements ModeratorRepository {
  readonly #insert: Statement<[ModeratorRow]>;
  readonly #remove: Statement<[string, string]>;
  readonly #exists: Statement<[string, string], { one: number }>;
  readonly #listFirst: Statement<[string, number], ModeratorRow>;
  readonly #listAfter: Statement<[string, number, string, number], ModeratorRow>;
  readonly #count: Statement<[string], { n: number }>;
  readonly #groupsOf: Statement<[string, string, number], { group_name: string }>;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO moderators (${COLUMNS}) VALUES (@group_name, @actor_id, @added_by, @added_at)
       ON CONFLICT (group_name, actor_id) DO NOTHING`,
    );
    this.#remove = db.prepare('DELETE FROM moderators WHERE group_name = ? AND actor_id = ?');
    this.#exists = db.prepare('SELECT 1 AS one FROM moderators WHERE group_name = ? AND actor_id = ?');
    this.#listFirst = db.prepare(
      `SELECT ${COLUMNS} FROM moderators WHERE group_name = ? ORDER BY added_at, actor_id LIMIT ?`,
    );
    this.#listAfter = db.prepare(
      `SELECT ${COLUMNS} FROM moderators WHERE group_name = ? AND (added_at, actor_id) > (?, ?)
       ORDER BY added_at, actor_id LIMIT ?`,
    );
    this.#count = db.prepare('SELECT count(*) AS n FROM moderators WHERE group_name = ?');
    this.#groupsOf = db.prepare(
      `SELECT group_name FROM moderators WHERE actor_id = ? AND group_name > ? ORDER BY group_name LIMIT ?`,
    );
  }

  async addModerator(m: Moderator): Promise<boolean> {
    const row = { group_name: m.groupName, actor_id: m.actorId, added_by: m.addedBy, added_at: m.addedAt };
    return this.#insert.run(row).changes === 1;
  }

  async removeModerator(groupName: string, actorId: string): Promise<boolean> {
    return this.#remove.run(groupName, actorId).changes === 1;
  }

  async isModerator(groupName: string, actorId: string): Promise<boolean> {
    return this.#exists.get(groupName, actorId) !== undefined;
  }

  async listModerators(
    groupName: string,
    after: { addedAt: number; actorId: string } | null,
    limit: number,
  ): Promise<Moderator[]> {
    if (limit <= 0) return [];
    const rows =
      after === null
        ? this.#listFirst.all(groupName, limit)
        : this.#listAfter.all(groupName, after.addedAt, after.actorId, limit);
    return rows.map(toModerator);
  }

  async countModerators(groupName: string): Promise<number> {
    return this.#count.get(groupName)?.n ?? 0;
  }

  async listGroupsOfModerator(actorId: string, after: string | null, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    return this.#groupsOf.all(actorId, after ?? '', limit).map((r) => r.group_name);
  }
}
