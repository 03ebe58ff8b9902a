/** SQLite adapter of the storage port: group members and their delivery inboxes. */
import type { Database, Statement } from 'better-sqlite3';
import type { Member, MemberRepository, MemberState } from '../store.ts';

interface MemberRow {
  group_name: string;
  actor_id: string;
  inbox: string;
  shared_inbox: string | null;
  delivery_inbox: string;
  state: MemberState;
  follow_id: string | null;
  created_at: number;
  updated_at: number;
}

const COLUMNS =
  'group_name, actor_id, inbox, shared_inbox, delivery_inbox, state, follow_id, created_at, updated_at';

/** The most group names listGroupsOfActor returns (the port's bound). */
const GROUPS_OF_ACTOR_LIMIT = 100;

function toMember(row: MemberRow): Member {
  return {
    groupName: row.group_name,
    actorId: row.actor_id,
    inbox: row.inbox,
    sharedInbox: row.shared_inbox,
    deliveryInbox: row.delivery_inbox,
    state: row.state,
    followId: row.follow_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Members and pending join requests in the `members` table, keyed by (group_name, actor_id). */
export class SqliteMemberRepository implements MemberRepository {
  readonly #upsert: Statement<[MemberRow]>;
  readonly #get: Statement<[string, string], MemberRow>;
  readonly #remove: Statement<[string, string]>;
  readonly #count: Statement<[string, MemberState], { n: number }>;
  readonly #listFirst: Statement<[string, MemberState, number], MemberRow>;
  readonly #listAfter: Statement<[string, MemberState, string, number], MemberRow>;
  readonly #inboxesFirst: Statement<[string, number], { delivery_inbox: string }>;
  readonly #inboxesAfter: Statement<[string, string, number], { delivery_inbox: string }>;
  readonly #groupsOf: Statement<[string], { group_name: string }>;
  readonly #actorsFirst: Statement<[number], { actor_id: string }>;
  readonly #actorsAfter: Statement<[string, number], { actor_id: string }>;

  constructor(db: Database) {
    this.#upsert = db.prepare(
      `INSERT INTO members (${COLUMNS})
       VALUES (@group_name, @actor_id, @inbox, @shared_inbox, @delivery_inbox, @state, @follow_id,
               @created_at, @updated_at)
       ON CONFLICT (group_name, actor_id) DO UPDATE SET
         inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,
         delivery_inbox = excluded.delivery_inbox, state = excluded.state, follow_id = excluded.follow_id,
         created_at = excluded.created_at, updated_at = excluded.updated_at`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM members WHERE group_name = ? AND actor_id = ?`);
    this.#remove = db.prepare('DELETE FROM members WHERE group_name = ? AND actor_id = ?');
    this.#count = db.prepare('SELECT count(*) AS n FROM members WHERE group_name = ? AND state = ?');
    this.#listFirst = db.prepare(
      `SELECT ${COLUMNS} FROM members WHERE group_name = ? AND state = ? ORDER BY actor_id LIMIT ?`,
    );
    this.#listAfter = db.prepare(
      `SELECT ${COLUMNS} FROM members WHERE group_name = ? AND state = ? AND actor_id > ?
       ORDER BY actor_id LIMIT ?`,
    );
    this.#inboxesFirst = db.prepare(
      `SELECT DISTINCT delivery_inbox FROM members WHERE group_name = ? AND state = 'accepted'
       ORDER BY delivery_inbox LIMIT ?`,
    );
    this.#inboxesAfter = db.prepare(
      `SELECT DISTINCT delivery_inbox FROM members WHERE group_name = ? AND state = 'accepted'
       AND delivery_inbox > ? ORDER BY delivery_inbox LIMIT ?`,
    );
    this.#actorsFirst = db.prepare('SELECT DISTINCT actor_id FROM members ORDER BY actor_id LIMIT ?');
    this.#actorsAfter = db.prepare(
      'SELECT DISTINCT actor_id FROM members WHERE actor_id > ? ORDER BY actor_id LIMIT ?',
    );
    this.#groupsOf = db.prepare(
      `SELECT group_name FROM members WHERE actor_id = ? ORDER BY group_name LIMIT ${GROUPS_OF_ACTOR_LIMIT}`,
    );
  }

  async upsertMember(member: Member): Promise<void> {
    this.#upsert.run({
      group_name: member.groupName,
      actor_id: member.actorId,
      inbox: member.inbox,
      shared_inbox: member.sharedInbox,
      delivery_inbox: member.deliveryInbox,
      state: member.state,
      follow_id: member.followId,
      created_at: member.createdAt,
      updated_at: member.updatedAt,
    });
  }

  async getMember(groupName: string, actorId: string): Promise<Member | null> {
    const row = this.#get.get(groupName, actorId);
    return row ? toMember(row) : null;
  }

  async removeMember(groupName: string, actorId: string): Promise<boolean> {
    return this.#remove.run(groupName, actorId).changes === 1;
  }

  async countMembers(groupName: string, state: MemberState): Promise<number> {
    return this.#count.get(groupName, state)?.n ?? 0;
  }

  async listMembers(
    groupName: string,
    state: MemberState,
    after: string | null,
    limit: number,
  ): Promise<Member[]> {
    if (limit <= 0) return [];
    const rows =
      after === null
        ? this.#listFirst.all(groupName, state, limit)
        : this.#listAfter.all(groupName, state, after, limit);
    return rows.map(toMember);
  }

  async listDeliveryInboxes(groupName: string, after: string | null, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const rows =
      after === null
        ? this.#inboxesFirst.all(groupName, limit)
        : this.#inboxesAfter.all(groupName, after, limit);
    return rows.map((row) => row.delivery_inbox);
  }

  async listMemberActors(after: string | null, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const rows = after === null ? this.#actorsFirst.all(limit) : this.#actorsAfter.all(after, limit);
    return rows.map((row) => row.actor_id);
  }

  async listGroupsOfActor(actorId: string): Promise<string[]> {
    return this.#groupsOf.all(actorId).map((row) => row.group_name);
  }
}
