/** SQLite adapter of the storage port: one-time codes and sign-in sessions. */
import type { Database, Statement } from 'better-sqlite3';
import type {
  CodePurpose,
  OneTimeCode,
  OneTimeCodeRepository,
  Session,
  SessionRepository,
} from '../self-service.store.ts';

interface CodeRow {
  hash: string;
  purpose: CodePurpose;
  actor_id: string;
  subject: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

const CODE_COLUMNS = 'hash, purpose, actor_id, subject, created_at, expires_at, used_at';

/** Codes in the `one_time_codes` table, keyed by their hash. */
export class SqliteCodeRepository implements OneTimeCodeRepository {
  readonly #insert: Statement<[CodeRow]>;
  readonly #use: Statement<[number, string, number], CodeRow>;
  readonly #purge: Statement<[number, number]>;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO one_time_codes (${CODE_COLUMNS}) VALUES (@hash, @purpose, @actor_id, @subject, @created_at,
       @expires_at, @used_at) ON CONFLICT (hash) DO NOTHING`,
    );
    // One statement: of two concurrent uses, only one finds the code unused.
    this.#use = db.prepare(
      `UPDATE one_time_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?
       RETURNING ${CODE_COLUMNS}`,
    );
    this.#purge = db.prepare(
      `DELETE FROM one_time_codes WHERE hash IN
       (SELECT hash FROM one_time_codes WHERE expires_at < ? ORDER BY expires_at LIMIT ?)`,
    );
  }

  async putCode(c: OneTimeCode): Promise<boolean> {
    const row: CodeRow = {
      hash: c.hash,
      purpose: c.purpose,
      actor_id: c.actorId,
      subject: c.subject,
      created_at: c.createdAt,
      expires_at: c.expiresAt,
      used_at: c.usedAt,
    };
    return this.#insert.run(row).changes === 1;
  }

  async useCode(hash: string, now: number): Promise<OneTimeCode | null> {
    const row = this.#use.get(now, hash, now);
    if (!row) return null;
    return {
      hash: row.hash,
      purpose: row.purpose,
      actorId: row.actor_id,
      subject: row.subject,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      usedAt: row.used_at,
    };
  }

  async purgeCodes(before: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    return this.#purge.run(before, limit).changes;
  }
}

interface SessionRow {
  hash: string;
  actor_id: string;
  created_at: number;
  expires_at: number;
}

/** Sessions in the `sessions` table, keyed by the hash of their token. */
export class SqliteSessionRepository implements SessionRepository {
  readonly #insert: Statement<[SessionRow]>;
  readonly #get: Statement<[string, number], SessionRow>;
  readonly #delete: Statement<[string]>;
  readonly #deleteOf: Statement<[string]>;
  readonly #purge: Statement<[number, number]>;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO sessions (hash, actor_id, created_at, expires_at)
       VALUES (@hash, @actor_id, @created_at, @expires_at)
       ON CONFLICT (hash) DO UPDATE SET actor_id = excluded.actor_id, created_at = excluded.created_at,
       expires_at = excluded.expires_at`,
    );
    this.#get = db.prepare(
      'SELECT hash, actor_id, created_at, expires_at FROM sessions WHERE hash = ? AND expires_at > ?',
    );
    this.#delete = db.prepare('DELETE FROM sessions WHERE hash = ?');
    this.#deleteOf = db.prepare('DELETE FROM sessions WHERE actor_id = ?');
    this.#purge = db.prepare(
      `DELETE FROM sessions WHERE hash IN
       (SELECT hash FROM sessions WHERE expires_at < ? ORDER BY expires_at LIMIT ?)`,
    );
  }

  async putSession(s: Session): Promise<void> {
    this.#insert.run({
      hash: s.hash,
      actor_id: s.actorId,
      created_at: s.createdAt,
      expires_at: s.expiresAt,
    });
  }

  async getSession(hash: string, now: number): Promise<Session | null> {
    const row = this.#get.get(hash, now);
    return row
      ? { hash: row.hash, actorId: row.actor_id, createdAt: row.created_at, expiresAt: row.expires_at }
      : null;
  }

  async deleteSession(hash: string): Promise<boolean> {
    return this.#delete.run(hash).changes === 1;
  }

  async deleteSessionsOf(actorId: string): Promise<number> {
    return this.#deleteOf.run(actorId).changes;
  }

  async purgeSessions(before: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    return this.#purge.run(before, limit).changes;
  }
}
