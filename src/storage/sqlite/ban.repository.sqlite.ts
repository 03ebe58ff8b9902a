/** SQLite adapter of the storage port: bans of actors from groups. */
import type { Database, Statement } from 'better-sqlite3';
import type { Ban, BanRepository } from '../moderation.store.ts';

interface BanRow {
  group_name: string;
  actor_id: string;
  reason: string;
  banned_by: string;
  created_at: number;
  expires_at: number | null;
}

const COLUMNS = 'group_name, actor_id, reason, banned_by, created_at, expires_at';

function toBan(row: BanRow): Ban {
  return {
    groupName: row.group_name,
    actorId: row.actor_id,
    reason: row.reason,
    by: row.banned_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** Bans in the `bans` table, keyed by (group_name, actor_id); expired bans stay until removed. */
export class SqliteBanRepository implements BanRepository {
  readonly #put: Statement<[BanRow]>;
  readonly #remove: Statement<[string, string]>;
  readonly #getActive: Statement<[string, string, number], BanRow>;
  readonly #listFirst: Statement<[string, number], BanRow>;
  readonly #listAfter: Statement<[string, string, number], BanRow>;
  readonly #purgeExpired: Statement<[number]>;
  readonly #anyActive: Statement<[string, number], { found: number }>;

  constructor(db: Database) {
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO bans (${COLUMNS})
       VALUES (@group_name, @actor_id, @reason, @banned_by, @created_at, @expires_at)`,
    );
    this.#remove = db.prepare('DELETE FROM bans WHERE group_name = ? AND actor_id = ?');
    this.#getActive = db.prepare(
      `SELECT ${COLUMNS} FROM bans WHERE group_name = ? AND actor_id = ?
       AND (expires_at IS NULL OR expires_at > ?)`,
    );
    this.#listFirst = db.prepare(
      `SELECT ${COLUMNS} FROM bans WHERE group_name = ? ORDER BY actor_id LIMIT ?`,
    );
    this.#listAfter = db.prepare(
      `SELECT ${COLUMNS} FROM bans WHERE group_name = ? AND actor_id > ? ORDER BY actor_id LIMIT ?`,
    );
    this.#anyActive = db.prepare(
      'SELECT 1 AS found FROM bans WHERE actor_id = ? AND (expires_at IS NULL OR expires_at > ?) LIMIT 1',
    );
    this.#purgeExpired = db.prepare('DELETE FROM bans WHERE expires_at IS NOT NULL AND expires_at < ?');
  }

  async putBan(ban: Ban): Promise<void> {
    this.#put.run({
      group_name: ban.groupName,
      actor_id: ban.actorId,
      reason: ban.reason,
      banned_by: ban.by,
      created_at: ban.createdAt,
      expires_at: ban.expiresAt,
    });
  }

  async removeBan(groupName: string, actorId: string): Promise<boolean> {
    return this.#remove.run(groupName, actorId).changes === 1;
  }

  /** A ban whose expiresAt equals `now` has ended. */
  async getActiveBan(groupName: string, actorId: string, now: number): Promise<Ban | null> {
    const row = this.#getActive.get(groupName, actorId, now);
    return row ? toBan(row) : null;
  }

  async listBans(groupName: string, after: string | null, limit: number): Promise<Ban[]> {
    if (limit <= 0) return [];
    const rows =
      after === null ? this.#listFirst.all(groupName, limit) : this.#listAfter.all(groupName, after, limit);
    return rows.map(toBan);
  }

  async hasActiveBan(actorId: string, now: number): Promise<boolean> {
    return this.#anyActive.get(actorId, now) !== undefined;
  }

  async purgeExpired(before: number): Promise<number> {
    return this.#purgeExpired.run(before).changes;
  }
}
