/** SQLite adapter of the storage port: flags on posts (pinned, locked, removed). */
import type { Database, Statement } from 'better-sqlite3';
import type { PostFlagsRepository } from '../moderation.store.ts';

/**
 * Pins, locks and per-author counts, on the `posts` table (columns pinned_at and locked_at, null when unset).
 * Counts and lists take every stored post of the author, deleted ones included.
 */
export class SqlitePostFlagsRepository implements PostFlagsRepository {
  readonly #setPinned: Statement<[number | null, string, string]>;
  readonly #listPinned: Statement<[string, number], { object_id: string }>;
  readonly #setLocked: Statement<[number | null, string, string]>;
  readonly #isLocked: Statement<[string, string], { locked: 0 | 1 }>;
  readonly #countSince: Statement<[string, string, number], { n: number }>;
  readonly #count: Statement<[string, string], { n: number }>;
  readonly #listFirst: Statement<[string, string, number], { object_id: string }>;
  readonly #listAfter: Statement<[string, string, string, number], { object_id: string }>;

  constructor(db: Database) {
    this.#setPinned = db.prepare('UPDATE posts SET pinned_at = ? WHERE group_name = ? AND object_id = ?');
    this.#listPinned = db.prepare(
      `SELECT object_id FROM posts WHERE group_name = ? AND pinned_at IS NOT NULL
       ORDER BY pinned_at DESC, object_id DESC LIMIT ?`,
    );
    this.#setLocked = db.prepare('UPDATE posts SET locked_at = ? WHERE group_name = ? AND object_id = ?');
    this.#isLocked = db.prepare(
      'SELECT locked_at IS NOT NULL AS locked FROM posts WHERE group_name = ? AND object_id = ?',
    );
    this.#countSince = db.prepare(
      'SELECT count(*) AS n FROM posts WHERE group_name = ? AND author_id = ? AND created_at >= ?',
    );
    this.#count = db.prepare('SELECT count(*) AS n FROM posts WHERE group_name = ? AND author_id = ?');
    this.#listFirst = db.prepare(
      'SELECT object_id FROM posts WHERE group_name = ? AND author_id = ? ORDER BY object_id LIMIT ?',
    );
    this.#listAfter = db.prepare(
      `SELECT object_id FROM posts WHERE group_name = ? AND author_id = ? AND object_id > ?
       ORDER BY object_id LIMIT ?`,
    );
  }

  async setPinned(groupName: string, objectId: string, pinnedAt: number | null): Promise<boolean> {
    return this.#setPinned.run(pinnedAt, groupName, objectId).changes === 1;
  }

  /** Ties on the pin time: greater objectId first (the index order, read backwards). */
  async listPinned(groupName: string, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    return this.#listPinned.all(groupName, limit).map((row) => row.object_id);
  }

  async setLocked(groupName: string, threadRoot: string, lockedAt: number | null): Promise<boolean> {
    return this.#setLocked.run(lockedAt, groupName, threadRoot).changes === 1;
  }

  async isLocked(groupName: string, threadRoot: string): Promise<boolean> {
    return this.#isLocked.get(groupName, threadRoot)?.locked === 1;
  }

  async countPostsByAuthorSince(groupName: string, authorId: string, since: number): Promise<number> {
    return this.#countSince.get(groupName, authorId, since)?.n ?? 0;
  }

  async countPostsByAuthor(groupName: string, authorId: string): Promise<number> {
    return this.#count.get(groupName, authorId)?.n ?? 0;
  }

  async listPostsByAuthor(
    groupName: string,
    authorId: string,
    after: string | null,
    limit: number,
  ): Promise<string[]> {
    if (limit <= 0) return [];
    const rows =
      after === null
        ? this.#listFirst.all(groupName, authorId, limit)
        : this.#listAfter.all(groupName, authorId, after, limit);
    return rows.map((row) => row.object_id);
  }
}
