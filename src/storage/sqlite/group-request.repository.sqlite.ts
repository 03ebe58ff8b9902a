/** SQLite adapter of the storage port: owners of groups and requests to create groups. */
import type { Database, Statement } from 'better-sqlite3';
import type {
  GroupOwner,
  GroupRequest,
  GroupRequestRepository,
  GroupRequestState,
  OwnerRepository,
} from '../self-service.store.ts';

interface OwnerRow {
  group_name: string;
  actor_id: string;
  since: number;
}

/** Owners in the `group_owners` table, one row per group. */
export class SqliteOwnerRepository implements OwnerRepository {
  readonly #set: Statement<[OwnerRow]>;
  readonly #get: Statement<[string], OwnerRow>;
  readonly #clear: Statement<[string]>;

  constructor(db: Database) {
    this.#set = db.prepare(
      `INSERT INTO group_owners (group_name, actor_id, since) VALUES (@group_name, @actor_id, @since)
       ON CONFLICT (group_name) DO UPDATE SET actor_id = excluded.actor_id, since = excluded.since`,
    );
    this.#get = db.prepare('SELECT group_name, actor_id, since FROM group_owners WHERE group_name = ?');
    this.#clear = db.prepare('DELETE FROM group_owners WHERE group_name = ?');
  }

  async setOwner(o: GroupOwner): Promise<void> {
    this.#set.run({ group_name: o.groupName, actor_id: o.actorId, since: o.since });
  }

  async getOwner(groupName: string): Promise<GroupOwner | null> {
    const row = this.#get.get(groupName);
    return row ? { groupName: row.group_name, actorId: row.actor_id, since: row.since } : null;
  }

  async clearOwner(groupName: string): Promise<boolean> {
    return this.#clear.run(groupName).changes === 1;
  }
}

interface RequestRow {
  id: string;
  name: string;
  title: string;
  requester_id: string;
  requester_host: string;
  state: GroupRequestState;
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
  reason: string;
}

const COLUMNS =
  'id, name, title, requester_id, requester_host, state, created_at, decided_at, decided_by, reason';

function toRequest(r: RequestRow): GroupRequest {
  return {
    id: r.id,
    name: r.name,
    title: r.title,
    requesterId: r.requester_id,
    requesterHost: r.requester_host,
    state: r.state,
    createdAt: r.created_at,
    decidedAt: r.decided_at,
    decidedBy: r.decided_by,
    reason: r.reason,
  };
}

/** Requests in the `group_requests` table. */
export class SqliteGroupRequestRepository implements GroupRequestRepository {
  readonly #insert: Statement<[RequestRow]>;
  readonly #get: Statement<[string], RequestRow>;
  readonly #pendingByName: Statement<[string], RequestRow>;
  readonly #listFirst: Statement<[string, number], RequestRow>;
  readonly #listAfter: Statement<[string, number, string, number], RequestRow>;
  readonly #decide: Statement<[string, number, string, string, string]>;
  readonly #countByRequester: Statement<[string, number], { n: number }>;
  readonly #countByHost: Statement<[string, number], { n: number }>;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO group_requests (${COLUMNS}) VALUES (@id, @name, @title, @requester_id, @requester_host,
       @state, @created_at, @decided_at, @decided_by, @reason) ON CONFLICT (id) DO NOTHING`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM group_requests WHERE id = ?`);
    this.#pendingByName = db.prepare(
      `SELECT ${COLUMNS} FROM group_requests WHERE name = ? AND state = 'pending'
       ORDER BY created_at, id LIMIT 1`,
    );
    this.#listFirst = db.prepare(
      `SELECT ${COLUMNS} FROM group_requests WHERE state = ? ORDER BY created_at, id LIMIT ?`,
    );
    this.#listAfter = db.prepare(
      `SELECT ${COLUMNS} FROM group_requests WHERE state = ? AND (created_at, id) > (?, ?)
       ORDER BY created_at, id LIMIT ?`,
    );
    this.#decide = db.prepare(
      `UPDATE group_requests SET state = ?, decided_at = ?, decided_by = ?, reason = ?
       WHERE id = ? AND state = 'pending'`,
    );
    this.#countByRequester = db.prepare(
      'SELECT count(*) AS n FROM group_requests WHERE requester_id = ? AND created_at >= ?',
    );
    this.#countByHost = db.prepare(
      'SELECT count(*) AS n FROM group_requests WHERE requester_host = ? AND created_at >= ?',
    );
  }

  async putGroupRequest(r: GroupRequest): Promise<boolean> {
    const row: RequestRow = {
      id: r.id,
      name: r.name,
      title: r.title,
      requester_id: r.requesterId,
      requester_host: r.requesterHost,
      state: r.state,
      created_at: r.createdAt,
      decided_at: r.decidedAt,
      decided_by: r.decidedBy,
      reason: r.reason,
    };
    return this.#insert.run(row).changes === 1;
  }

  async getGroupRequest(id: string): Promise<GroupRequest | null> {
    const row = this.#get.get(id);
    return row ? toRequest(row) : null;
  }

  async getPendingByName(name: string): Promise<GroupRequest | null> {
    const row = this.#pendingByName.get(name);
    return row ? toRequest(row) : null;
  }

  async listGroupRequests(
    state: GroupRequestState,
    after: { createdAt: number; id: string } | null,
    limit: number,
  ): Promise<GroupRequest[]> {
    if (limit <= 0) return [];
    const rows =
      after === null
        ? this.#listFirst.all(state, limit)
        : this.#listAfter.all(state, after.createdAt, after.id, limit);
    return rows.map(toRequest);
  }

  async decideGroupRequest(
    id: string,
    d: { state: 'approved' | 'rejected'; by: string; at: number; reason: string },
  ): Promise<boolean> {
    return this.#decide.run(d.state, d.at, d.by, d.reason, id).changes === 1;
  }

  async countGroupRequestsSince(
    by: { requesterId: string } | { requesterHost: string },
    since: number,
  ): Promise<number> {
    const row =
      'requesterId' in by
        ? this.#countByRequester.get(by.requesterId, since)
        : this.#countByHost.get(by.requesterHost, since);
    return row?.n ?? 0;
  }
}
