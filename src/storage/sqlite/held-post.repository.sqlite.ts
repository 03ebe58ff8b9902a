/** SQLite adapter of the storage port: posts held for a moderator's approval. */
import type { Database, Statement } from 'better-sqlite3';
import type { HeldPost, HeldPostRepository } from '../moderation.store.ts';

interface HeldPostRow {
  group_name: string;
  object_id: string;
  author_id: string;
  activity_json: string;
  reason: string;
  created_at: number;
}

const COLUMNS = 'group_name, object_id, author_id, activity_json, reason, created_at';

function toHeldPost(row: HeldPostRow): HeldPost {
  return {
    groupName: row.group_name,
    objectId: row.object_id,
    authorId: row.author_id,
    activityJson: row.activity_json,
    reason: row.reason,
    createdAt: row.created_at,
  };
}

/** Posts awaiting approval in the `held_posts` table, keyed by (group_name, object_id). */
export class SqliteHeldPostRepository implements HeldPostRepository {
  readonly #insert: Statement<[HeldPostRow]>;
  readonly #get: Statement<[string, string], HeldPostRow>;
  readonly #take: Statement<[string, string], HeldPostRow>;
  readonly #listFirst: Statement<[string, number], HeldPostRow>;
  readonly #listAfter: Statement<[string, number, string, number], HeldPostRow>;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO held_posts (${COLUMNS})
       VALUES (@group_name, @object_id, @author_id, @activity_json, @reason, @created_at)
       ON CONFLICT (group_name, object_id) DO NOTHING`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM held_posts WHERE group_name = ? AND object_id = ?`);
    // One statement: of two concurrent takes, only one gets the row.
    this.#take = db.prepare(
      `DELETE FROM held_posts WHERE group_name = ? AND object_id = ? RETURNING ${COLUMNS}`,
    );
    this.#listFirst = db.prepare(
      `SELECT ${COLUMNS} FROM held_posts WHERE group_name = ? ORDER BY created_at, object_id LIMIT ?`,
    );
    this.#listAfter = db.prepare(
      `SELECT ${COLUMNS} FROM held_posts WHERE group_name = ? AND (created_at, object_id) > (?, ?)
       ORDER BY created_at, object_id LIMIT ?`,
    );
  }

  async holdPost(p: HeldPost): Promise<boolean> {
    const result = this.#insert.run({
      group_name: p.groupName,
      object_id: p.objectId,
      author_id: p.authorId,
      activity_json: p.activityJson,
      reason: p.reason,
      created_at: p.createdAt,
    });
    return result.changes === 1;
  }

  async getHeldPost(groupName: string, objectId: string): Promise<HeldPost | null> {
    const row = this.#get.get(groupName, objectId);
    return row ? toHeldPost(row) : null;
  }

  async takeHeldPost(groupName: string, objectId: string): Promise<HeldPost | null> {
    const row = this.#take.get(groupName, objectId);
    return row ? toHeldPost(row) : null;
  }

  /** Oldest first (createdAt, then objectId), strictly after the cursor. */
  async listHeldPosts(
    groupName: string,
    after: { createdAt: number; objectId: string } | null,
    limit: number,
  ): Promise<HeldPost[]> {
    if (limit <= 0) return [];
    const rows =
      after === null
        ? this.#listFirst.all(groupName, limit)
        : this.#listAfter.all(groupName, after.createdAt, after.objectId, limit);
    return rows.map(toHeldPost);
  }
}
