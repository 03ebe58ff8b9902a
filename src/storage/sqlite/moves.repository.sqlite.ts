/** SQLite adapter of the storage port: moves (former ids, new id, prior members) and groups following groups. */
import type { Database, Statement } from 'better-sqlite3';
import type {
  GroupFollow,
  GroupFollowRepository,
  GroupMoveRepository,
  GroupMoveState,
  InboxPage,
  MemberExclusion,
} from '../links.store.ts';

interface MoveRow {
  also_known_as: string;
  moved_to: string | null;
  moved_at: number | null;
}

function aliasesOf(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
}

/** Move state in `group_moves` (one row per group that has one), prior members in `prior_members`. */
export class SqliteGroupMoveRepository implements GroupMoveRepository {
  readonly #db: Database;
  readonly #get: Statement<[string], MoveRow>;
  readonly #putAliases: Statement<[string, string]>;
  readonly #putMoved: Statement<[{ group: string; target: string; at: number }]>;
  readonly #addPrior: Statement<[string, string]>;
  readonly #isPrior: Statement<[string, string], { one: number }>;
  readonly #countPrior: Statement<[string], { n: number }>;

  constructor(db: Database) {
    this.#db = db;
    this.#get = db.prepare('SELECT also_known_as, moved_to, moved_at FROM group_moves WHERE group_name = ?');
    this.#putAliases = db.prepare(
      `INSERT INTO group_moves (group_name, also_known_as) VALUES (?, ?)
       ON CONFLICT (group_name) DO UPDATE SET also_known_as = excluded.also_known_as`,
    );
    this.#putMoved = db.prepare(
      `INSERT INTO group_moves (group_name, also_known_as, moved_to, moved_at) VALUES (@group, '[]', @target, @at)
       ON CONFLICT (group_name) DO UPDATE SET moved_to = @target, moved_at = @at
       WHERE moved_to IS NULL OR moved_to <> @target`,
    );
    this.#addPrior = db.prepare(
      'INSERT INTO prior_members (group_name, actor_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
    );
    this.#isPrior = db.prepare('SELECT 1 AS one FROM prior_members WHERE group_name = ? AND actor_id = ?');
    this.#countPrior = db.prepare('SELECT count(*) AS n FROM prior_members WHERE group_name = ?');
  }

  async getMoveState(groupName: string): Promise<GroupMoveState> {
    const row = this.#get.get(groupName);
    return {
      groupName,
      alsoKnownAs: row ? aliasesOf(row.also_known_as) : [],
      movedTo: row?.moved_to ?? null,
      movedAt: row?.moved_at ?? null,
    };
  }

  async addAlsoKnownAs(groupName: string, actorId: string): Promise<void> {
    this.#db.transaction(() => {
      const row = this.#get.get(groupName);
      const aliases = row ? aliasesOf(row.also_known_as) : [];
      if (aliases.includes(actorId)) return;
      this.#putAliases.run(groupName, JSON.stringify([...aliases, actorId]));
    })();
  }

  async setMovedTo(groupName: string, target: string, at: number): Promise<void> {
    this.#putMoved.run({ group: groupName, target, at });
  }

  async addPriorMembers(groupName: string, actorIds: string[]): Promise<number> {
    return this.#db.transaction(() => {
      let added = 0;
      for (const id of actorIds) added += this.#addPrior.run(groupName, id).changes;
      return added;
    })();
  }

  async isPriorMember(groupName: string, actorId: string): Promise<boolean> {
    return this.#isPrior.get(groupName, actorId) !== undefined;
  }

  async countPriorMembers(groupName: string): Promise<number> {
    return this.#countPrior.get(groupName)?.n ?? 0;
  }
}

interface FollowRow {
  group_name: string;
  target_id: string;
  target_inbox: string;
  follow_id: string;
  state: 'pending' | 'accepted';
  created_at: number;
  updated_at: number;
}

const FOLLOW_COLUMNS = 'group_name, target_id, target_inbox, follow_id, state, created_at, updated_at';

function toFollow(row: FollowRow): GroupFollow {
  return {
    groupName: row.group_name,
    targetId: row.target_id,
    targetInbox: row.target_inbox,
    followId: row.follow_id,
    state: row.state,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** One delivery inbox, and whether every member behind it is also in the exclusion. */
interface InboxRow {
  inbox: string;
  covered: number;
}

interface ExceptParams {
  except: string;
  group: string;
  after: string;
  limit: number;
}

/** Follows in `group_follows`, remote groups' known members in `known_members`. */
export class SqliteGroupFollowRepository implements GroupFollowRepository {
  readonly #db: Database;
  readonly #put: Statement<[FollowRow]>;
  readonly #get: Statement<[string, string], FollowRow>;
  readonly #remove: Statement<[string, string]>;
  readonly #list: Statement<[string, string, number], FollowRow>;
  readonly #listOf: Statement<[string, string, number], FollowRow>;
  readonly #clearKnown: Statement<[string]>;
  readonly #addKnown: Statement<[string, string]>;
  readonly #countKnown: Statement<[string], { n: number }>;
  readonly #exceptLocal: Statement<[ExceptParams], InboxRow>;
  readonly #exceptRemote: Statement<[ExceptParams], InboxRow>;

  constructor(db: Database) {
    this.#db = db;
    this.#put = db.prepare(
      `INSERT INTO group_follows (${FOLLOW_COLUMNS})
       VALUES (@group_name, @target_id, @target_inbox, @follow_id, @state, @created_at, @updated_at)
       ON CONFLICT (group_name, target_id) DO UPDATE SET target_inbox = excluded.target_inbox,
         follow_id = excluded.follow_id, state = excluded.state, created_at = excluded.created_at,
         updated_at = excluded.updated_at`,
    );
    this.#get = db.prepare(
      `SELECT ${FOLLOW_COLUMNS} FROM group_follows WHERE group_name = ? AND target_id = ?`,
    );
    this.#remove = db.prepare('DELETE FROM group_follows WHERE group_name = ? AND target_id = ?');
    this.#list = db.prepare(
      `SELECT ${FOLLOW_COLUMNS} FROM group_follows WHERE group_name = ? AND target_id > ?
       ORDER BY target_id LIMIT ?`,
    );
    this.#listOf = db.prepare(
      `SELECT ${FOLLOW_COLUMNS} FROM group_follows WHERE target_id = ? AND group_name > ?
       ORDER BY group_name LIMIT ?`,
    );
    this.#clearKnown = db.prepare('DELETE FROM known_members WHERE group_id = ?');
    this.#addKnown = db.prepare(
      'INSERT INTO known_members (group_id, actor_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
    );
    this.#countKnown = db.prepare('SELECT count(*) AS n FROM known_members WHERE group_id = ?');
    const except = (covered: string) =>
      db.prepare<[ExceptParams], InboxRow>(
        `SELECT m.delivery_inbox AS inbox, min(${covered}) AS covered FROM members m
         WHERE m.group_name = @group AND m.state = 'accepted' AND m.delivery_inbox > @after
         GROUP BY m.delivery_inbox ORDER BY m.delivery_inbox LIMIT @limit`,
      );
    this.#exceptLocal = except(
      `EXISTS (SELECT 1 FROM members o WHERE o.group_name = @except AND o.actor_id = m.actor_id
         AND o.state = 'accepted')`,
    );
    this.#exceptRemote = except(
      'EXISTS (SELECT 1 FROM known_members k WHERE k.group_id = @except AND k.actor_id = m.actor_id)',
    );
  }

  async putGroupFollow(f: GroupFollow): Promise<void> {
    this.#put.run({
      group_name: f.groupName,
      target_id: f.targetId,
      target_inbox: f.targetInbox,
      follow_id: f.followId,
      state: f.state,
      created_at: f.createdAt,
      updated_at: f.updatedAt,
    });
  }

  async getGroupFollow(groupName: string, targetId: string): Promise<GroupFollow | null> {
    const row = this.#get.get(groupName, targetId);
    return row ? toFollow(row) : null;
  }

  async removeGroupFollow(groupName: string, targetId: string): Promise<boolean> {
    return this.#remove.run(groupName, targetId).changes === 1;
  }

  async listGroupFollows(groupName: string, after: string | null, limit: number): Promise<GroupFollow[]> {
    if (limit <= 0) return [];
    return this.#list.all(groupName, after ?? '', limit).map(toFollow);
  }

  async listFollowsOf(targetId: string, after: string | null, limit: number): Promise<GroupFollow[]> {
    if (limit <= 0) return [];
    return this.#listOf.all(targetId, after ?? '', limit).map(toFollow);
  }

  async replaceKnownMembers(groupId: string, actorIds: string[]): Promise<void> {
    this.#db.transaction(() => {
      this.#clearKnown.run(groupId);
      for (const id of actorIds) this.#addKnown.run(groupId, id);
    })();
  }

  async countKnownMembers(groupId: string): Promise<number> {
    return this.#countKnown.get(groupId)?.n ?? 0;
  }

  async listDeliveryInboxesExcept(
    groupName: string,
    except: MemberExclusion,
    after: string | null,
    limit: number,
  ): Promise<InboxPage> {
    if (limit <= 0) return { inboxes: [], next: after };
    const params = { group: groupName, after: after ?? '', limit };
    const rows =
      'localGroup' in except
        ? this.#exceptLocal.all({ ...params, except: except.localGroup })
        : this.#exceptRemote.all({ ...params, except: except.remoteGroup });
    const last = rows[rows.length - 1];
    return {
      inboxes: rows.filter((r) => r.covered === 0).map((r) => r.inbox),
      next: rows.length === limit && last ? last.inbox : null,
    };
  }
}
