/** SQLite adapter of the storage port: peered instances and the groups they list. */
import type { Database, Statement } from 'better-sqlite3';
import type {
  DirectoryEntry,
  DirectoryRepository,
  Peer,
  PeerChanges,
  PeerRepository,
} from '../links.store.ts';
import { toFlag } from './codec.sqlite.ts';

interface PeerRow {
  host: string;
  actor_id: string;
  inbox: string;
  added: number;
  follow_id: string | null;
  following: number;
  their_follow_id: string | null;
  followed_by: number;
  added_at: number;
  last_seen_at: number;
}

const PEER_COLUMNS =
  'host, actor_id, inbox, added, follow_id, following, their_follow_id, followed_by, added_at, last_seen_at';

function toPeer(row: PeerRow): Peer {
  return {
    host: row.host,
    actorId: row.actor_id,
    inbox: row.inbox,
    added: row.added === 1,
    followId: row.follow_id,
    following: row.following === 1,
    theirFollowId: row.their_follow_id,
    followedBy: row.followed_by === 1,
    addedAt: row.added_at,
    lastSeenAt: row.last_seen_at,
  };
}

/** Peers in the `peers` table, keyed by host. */
export class SqlitePeerRepository implements PeerRepository {
  readonly #put: Statement<[PeerRow]>;
  readonly #get: Statement<[string], PeerRow>;
  readonly #remove: Statement<[string]>;
  readonly #list: Statement<[string, number], PeerRow>;
  readonly #seen: Statement<[number, string, number]>;
  readonly #exists: Statement<[string], { one: number }>;
  readonly #update: Statement<
    [
      {
        host: string;
        following: number | null;
        their: string | null;
        theirSet: number;
        followedBy: number | null;
      },
    ]
  >;

  constructor(db: Database) {
    // Each field is changed only when given (a null flag keeps the stored value).
    this.#update = db.prepare(
      `UPDATE peerings SET following = coalesce(@following, following),
         their_follow_id = CASE WHEN @theirSet = 1 THEN @their ELSE their_follow_id END,
         followed_by = coalesce(@followedBy, followed_by)
       WHERE host = @host`,
    );
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO peerings (${PEER_COLUMNS}) VALUES (@host, @actor_id, @inbox, @added, @follow_id,
         @following, @their_follow_id, @followed_by, @added_at, @last_seen_at)`,
    );
    this.#get = db.prepare(`SELECT ${PEER_COLUMNS} FROM peerings WHERE host = ?`);
    this.#remove = db.prepare('DELETE FROM peerings WHERE host = ?');
    this.#list = db.prepare(`SELECT ${PEER_COLUMNS} FROM peerings WHERE host > ? ORDER BY host LIMIT ?`);
    this.#seen = db.prepare('UPDATE peerings SET last_seen_at = ? WHERE host = ? AND last_seen_at < ?');
    this.#exists = db.prepare('SELECT 1 AS one FROM peerings WHERE host = ?');
  }

  async putPeer(p: Peer): Promise<void> {
    this.#put.run({
      host: p.host,
      actor_id: p.actorId,
      inbox: p.inbox,
      added: toFlag(p.added),
      follow_id: p.followId,
      following: toFlag(p.following),
      their_follow_id: p.theirFollowId,
      followed_by: toFlag(p.followedBy),
      added_at: p.addedAt,
      last_seen_at: p.lastSeenAt,
    });
  }

  async getPeer(host: string): Promise<Peer | null> {
    const row = this.#get.get(host);
    return row ? toPeer(row) : null;
  }

  async removePeer(host: string): Promise<boolean> {
    return this.#remove.run(host).changes === 1;
  }

  async listPeers(after: string | null, limit: number): Promise<Peer[]> {
    if (limit <= 0) return [];
    return this.#list.all(after ?? '', limit).map(toPeer);
  }

  async updatePeer(host: string, c: PeerChanges): Promise<boolean> {
    const flag = (v: boolean | undefined) => (v === undefined ? null : toFlag(v));
    return (
      this.#update.run({
        host,
        following: flag(c.following),
        their: c.theirFollowId ?? null,
        theirSet: c.theirFollowId === undefined ? 0 : 1,
        followedBy: flag(c.followedBy),
      }).changes === 1
    );
  }

  async markPeerSeen(host: string, at: number): Promise<boolean> {
    this.#seen.run(at, host, at);
    return this.#exists.get(host) !== undefined;
  }
}

interface EntryRow {
  actor_id: string;
  host: string;
  name: string;
  title: string;
  summary: string;
  tags: string;
  icon_url: string | null;
  membership_policy: string;
  updated_at: number;
}

const ENTRY_COLUMNS = 'actor_id, host, name, title, summary, tags, icon_url, membership_policy, updated_at';

function toEntry(row: EntryRow): DirectoryEntry {
  const tags: unknown = JSON.parse(row.tags);
  return {
    actorId: row.actor_id,
    host: row.host,
    name: row.name,
    title: row.title,
    summary: row.summary,
    tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
    iconUrl: row.icon_url,
    membershipPolicy: row.membership_policy === 'approval' ? 'approval' : 'open',
    updatedAt: row.updated_at,
  };
}

/** Peers' groups in the `directory_entries` table, keyed by actor id. */
export class SqliteDirectoryRepository implements DirectoryRepository {
  readonly #put: Statement<[EntryRow]>;
  readonly #get: Statement<[string], EntryRow>;
  readonly #remove: Statement<[string]>;
  readonly #removeOfHost: Statement<[string]>;
  readonly #list: Statement<[string, number], EntryRow>;

  constructor(db: Database) {
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO directory_entries (${ENTRY_COLUMNS}) VALUES (@actor_id, @host, @name, @title,
         @summary, @tags, @icon_url, @membership_policy, @updated_at)`,
    );
    this.#get = db.prepare(`SELECT ${ENTRY_COLUMNS} FROM directory_entries WHERE actor_id = ?`);
    this.#remove = db.prepare('DELETE FROM directory_entries WHERE actor_id = ?');
    this.#removeOfHost = db.prepare('DELETE FROM directory_entries WHERE host = ?');
    this.#list = db.prepare(
      `SELECT ${ENTRY_COLUMNS} FROM directory_entries WHERE actor_id > ? ORDER BY actor_id LIMIT ?`,
    );
  }

  async putEntry(e: DirectoryEntry): Promise<void> {
    this.#put.run({
      actor_id: e.actorId,
      host: e.host,
      name: e.name,
      title: e.title,
      summary: e.summary,
      tags: JSON.stringify(e.tags),
      icon_url: e.iconUrl,
      membership_policy: e.membershipPolicy,
      updated_at: e.updatedAt,
    });
  }

  async getEntry(actorId: string): Promise<DirectoryEntry | null> {
    const row = this.#get.get(actorId);
    return row ? toEntry(row) : null;
  }

  async removeEntry(actorId: string): Promise<boolean> {
    return this.#remove.run(actorId).changes === 1;
  }

  async removeEntriesOfHost(host: string): Promise<number> {
    return this.#removeOfHost.run(host).changes;
  }

  async listEntries(after: string | null, limit: number): Promise<DirectoryEntry[]> {
    if (limit <= 0) return [];
    return this.#list.all(after ?? '', limit).map(toEntry);
  }
}
