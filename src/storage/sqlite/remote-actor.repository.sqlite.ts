/** SQLite adapter of the storage port: the cache of remote actors and their keys. */
import type { Database, Statement } from 'better-sqlite3';
import type { RemoteActor, RemoteActorRepository } from '../store.ts';

interface RemoteActorRow {
  id: string;
  type: string;
  inbox: string;
  shared_inbox: string | null;
  preferred_username: string | null;
  name: string | null;
  url: string | null;
  key_id: string | null;
  public_key_pem: string | null;
  fetched_at: number;
}

const COLUMNS =
  'id, type, inbox, shared_inbox, preferred_username, name, url, key_id, public_key_pem, fetched_at';

function toActor(row: RemoteActorRow): RemoteActor {
  return {
    id: row.id,
    type: row.type,
    inbox: row.inbox,
    sharedInbox: row.shared_inbox,
    preferredUsername: row.preferred_username,
    name: row.name,
    url: row.url,
    keyId: row.key_id,
    publicKeyPem: row.public_key_pem,
    fetchedAt: row.fetched_at,
  };
}

/** The cache of fetched remote actors in the `remote_actors` table. */
export class SqliteRemoteActorRepository implements RemoteActorRepository {
  readonly #put: Statement<[RemoteActorRow]>;
  readonly #get: Statement<[string], RemoteActorRow>;
  readonly #getByKeyId: Statement<[string], RemoteActorRow>;
  readonly #purgeStale: Statement<[number, number]>;

  constructor(db: Database) {
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO remote_actors (${COLUMNS})
       VALUES (@id, @type, @inbox, @shared_inbox, @preferred_username, @name, @url, @key_id, @public_key_pem,
               @fetched_at)`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM remote_actors WHERE id = ?`);
    // Two actors may claim one key id; the most recently fetched wins (the caller checks the key's owner).
    this.#getByKeyId = db.prepare(
      `SELECT ${COLUMNS} FROM remote_actors WHERE key_id = ? ORDER BY fetched_at DESC LIMIT 1`,
    );
    this.#purgeStale = db.prepare(
      `DELETE FROM remote_actors WHERE id IN (
         SELECT a.id FROM remote_actors a
         WHERE a.fetched_at < ?
           AND NOT EXISTS (SELECT 1 FROM members m WHERE m.actor_id = a.id)
           AND NOT EXISTS (SELECT 1 FROM moderators d WHERE d.actor_id = a.id)
         LIMIT ?)`,
    );
  }

  async putRemoteActor(actor: RemoteActor): Promise<void> {
    this.#put.run({
      id: actor.id,
      type: actor.type,
      inbox: actor.inbox,
      shared_inbox: actor.sharedInbox,
      preferred_username: actor.preferredUsername,
      name: actor.name,
      url: actor.url,
      key_id: actor.keyId,
      public_key_pem: actor.publicKeyPem,
      fetched_at: actor.fetchedAt,
    });
  }

  async getRemoteActor(id: string): Promise<RemoteActor | null> {
    const row = this.#get.get(id);
    return row ? toActor(row) : null;
  }

  async getRemoteActorByKeyId(keyId: string): Promise<RemoteActor | null> {
    const row = this.#getByKeyId.get(keyId);
    return row ? toActor(row) : null;
  }

  async purgeStale(fetchedBefore: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    return this.#purgeStale.run(fetchedBefore, limit).changes;
  }
}
