/** SQLite adapter of the storage port: vote state, rate-limit hits and claims. */
import type { Database, Statement, Transaction } from 'better-sqlite3';
import type {
  ClaimRepository,
  RateHit,
  RateLimitRepository,
  Vote,
  VoteRepository,
  VoteState,
} from '../brakes.store.ts';

interface VoteRow {
  group_name: string;
  actor_id: string;
  object_id: string;
  state: VoteState;
  activity_id: string;
  at: number;
}

const VOTE_COLUMNS = 'group_name, actor_id, object_id, state, activity_id, at';

function toVote(row: VoteRow): Vote {
  return {
    groupName: row.group_name,
    actorId: row.actor_id,
    objectId: row.object_id,
    state: row.state,
    activityId: row.activity_id,
    at: row.at,
  };
}

/** Votes in the `votes` table, keyed by (group_name, actor_id, object_id). */
export class SqliteVoteRepository implements VoteRepository {
  readonly #get: Statement<[string, string, string], VoteRow>;
  readonly #put: Statement<[VoteRow]>;

  constructor(db: Database) {
    this.#get = db.prepare(
      `SELECT ${VOTE_COLUMNS} FROM votes WHERE group_name = ? AND actor_id = ? AND object_id = ?`,
    );
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO votes (${VOTE_COLUMNS})
       VALUES (@group_name, @actor_id, @object_id, @state, @activity_id, @at)`,
    );
  }

  async getVote(groupName: string, actorId: string, objectId: string): Promise<Vote | null> {
    const row = this.#get.get(groupName, actorId, objectId);
    return row ? toVote(row) : null;
  }

  async putVote(v: Vote): Promise<void> {
    this.#put.run({
      group_name: v.groupName,
      actor_id: v.actorId,
      object_id: v.objectId,
      state: v.state,
      activity_id: v.activityId,
      at: v.at,
    });
  }
}

/** Hits in the `rate_hits` table, keyed by (bucket, hit_id); the count and the insert share one transaction. */
export class SqliteRateLimitRepository implements RateLimitRepository {
  readonly #tryHit: Transaction<
    (bucket: string, hitId: string, at: number, since: number, limit: number) => boolean
  >;
  readonly #list: Statement<[string, number, number], { bucket: string; hit_id: string; at: number }>;
  readonly #purge: Statement<[number, number]>;

  constructor(db: Database) {
    const known = db.prepare<[string, string], { n: number }>(
      'SELECT 1 AS n FROM rate_hits WHERE bucket = ? AND hit_id = ?',
    );
    const count = db.prepare<[string, number], { n: number }>(
      'SELECT count(*) AS n FROM rate_hits WHERE bucket = ? AND at > ?',
    );
    const insert = db.prepare<[string, string, number]>(
      'INSERT INTO rate_hits (bucket, hit_id, at) VALUES (?, ?, ?)',
    );
    this.#tryHit = db.transaction(
      (bucket: string, hitId: string, at: number, since: number, limit: number) => {
        if (known.get(bucket, hitId)) return true;
        if ((count.get(bucket, since)?.n ?? 0) >= limit) return false;
        insert.run(bucket, hitId, at);
        return true;
      },
    );
    this.#list = db.prepare(
      'SELECT bucket, hit_id, at FROM rate_hits WHERE bucket = ? AND at > ? ORDER BY at, hit_id LIMIT ?',
    );
    this.#purge = db.prepare(
      `DELETE FROM rate_hits WHERE rowid IN (SELECT rowid FROM rate_hits WHERE at < ? LIMIT ?)`,
    );
  }

  async tryHit(bucket: string, hitId: string, at: number, windowMs: number, limit: number): Promise<boolean> {
    if (limit <= 0) return false;
    return this.#tryHit.immediate(bucket, hitId, at, at - windowMs, limit);
  }

  async listHits(bucket: string, since: number, limit: number): Promise<RateHit[]> {
    if (limit <= 0) return [];
    return this.#list.all(bucket, since, limit).map((r) => ({ bucket: r.bucket, hitId: r.hit_id, at: r.at }));
  }

  async purgeHits(before: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    return this.#purge.run(before, limit).changes;
  }
}

/** Claims in the `claims` table, keyed by `key`; a claim is taken in one transaction. */
export class SqliteClaimRepository implements ClaimRepository {
  readonly #claim: Transaction<(key: string, owner: string, at: number, expiresAt: number | null) => string>;
  readonly #release: Statement<[string, string]>;
  readonly #purge: Statement<[number, number]>;

  constructor(db: Database) {
    const get = db.prepare<[string], { owner: string; expires_at: number | null }>(
      'SELECT owner, expires_at FROM claims WHERE key = ?',
    );
    const put = db.prepare<[string, string, number, number | null]>(
      'INSERT OR REPLACE INTO claims (key, owner, at, expires_at) VALUES (?, ?, ?, ?)',
    );
    this.#claim = db.transaction((key: string, owner: string, at: number, expiresAt: number | null) => {
      const held = get.get(key);
      if (held && (held.expires_at === null || held.expires_at > at)) return held.owner;
      put.run(key, owner, at, expiresAt);
      return owner;
    });
    this.#release = db.prepare('DELETE FROM claims WHERE key = ? AND owner = ?');
    this.#purge = db.prepare(
      `DELETE FROM claims WHERE key IN (
         SELECT key FROM claims WHERE expires_at IS NOT NULL AND expires_at < ? LIMIT ?)`,
    );
  }

  async claim(key: string, owner: string, at: number, expiresAt: number | null): Promise<string> {
    return this.#claim.immediate(key, owner, at, expiresAt);
  }

  async release(key: string, owner: string): Promise<boolean> {
    return this.#release.run(key, owner).changes === 1;
  }

  async purgeExpiredClaims(before: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    return this.#purge.run(before, limit).changes;
  }
}
