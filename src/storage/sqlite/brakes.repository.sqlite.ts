/** SQLite adapter of the storage port: vote state and rate-limit hits. */
import type { Database, Statement, Transaction } from 'better-sqlite3';
import type { RateHit, RateLimitRepository, Vote, VoteRepository, VoteType } from '../brakes.store.ts';

interface VoteRow {
  group_name: string;
  actor_id: string;
  object_id: string;
  type: VoteType;
  activity_id: string;
  at: number;
}

const VOTE_COLUMNS = 'group_name, actor_id, object_id, type, activity_id, at';

function toVote(row: VoteRow): Vote {
  return {
    groupName: row.group_name,
    actorId: row.actor_id,
    objectId: row.object_id,
    type: row.type,
    activityId: row.activity_id,
    at: row.at,
  };
}

/** Votes in the `votes` table, keyed by (group_name, actor_id, object_id). */
export class SqliteVoteRepository implements VoteRepository {
  readonly #get: Statement<[string, string, string], VoteRow>;
  readonly #put: Statement<[VoteRow]>;
  readonly #remove: Statement<[string, string, string]>;

  constructor(db: Database) {
    this.#get = db.prepare(
      `SELECT ${VOTE_COLUMNS} FROM votes WHERE group_name = ? AND actor_id = ? AND object_id = ?`,
    );
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO votes (${VOTE_COLUMNS})
       VALUES (@group_name, @actor_id, @object_id, @type, @activity_id, @at)`,
    );
    this.#remove = db.prepare('DELETE FROM votes WHERE group_name = ? AND actor_id = ? AND object_id = ?');
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
      type: v.type,
      activity_id: v.activityId,
      at: v.at,
    });
  }

  async removeVote(groupName: string, actorId: string, objectId: string): Promise<boolean> {
    return this.#remove.run(groupName, actorId, objectId).changes === 1;
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
