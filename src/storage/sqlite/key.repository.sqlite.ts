/** SQLite adapter of the storage port: key pairs of the application actor and the groups. */
import type { Database, Statement } from 'better-sqlite3';
import type { KeyPair, KeyRepository } from '../store.ts';

interface KeyPairRow {
  owner: string;
  public_key_pem: string;
  private_key_pem: string;
}

/** Key pairs in the `key_pairs` table. Only {@link getPrivateKey} selects the private key column. */
export class SqliteKeyRepository implements KeyRepository {
  readonly #insert: Statement<[KeyPairRow]>;
  readonly #getPair: Statement<[string], KeyPairRow>;
  readonly #getPublic: Statement<[string], { public_key_pem: string }>;
  readonly #getPrivate: Statement<[string], { private_key_pem: string }>;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO key_pairs (owner, public_key_pem, private_key_pem)
       VALUES (@owner, @public_key_pem, @private_key_pem)
       ON CONFLICT (owner) DO NOTHING`,
    );
    this.#getPair = db.prepare(
      'SELECT owner, public_key_pem, private_key_pem FROM key_pairs WHERE owner = ?',
    );
    this.#getPublic = db.prepare('SELECT public_key_pem FROM key_pairs WHERE owner = ?');
    this.#getPrivate = db.prepare('SELECT private_key_pem FROM key_pairs WHERE owner = ?');
  }

  async putKeyPairIfAbsent(pair: KeyPair): Promise<KeyPair> {
    this.#insert.run({
      owner: pair.owner,
      public_key_pem: pair.publicKeyPem,
      private_key_pem: pair.privateKeyPem,
    });
    const row = this.#getPair.get(pair.owner);
    if (!row) throw new Error(`key pair of ${pair.owner} vanished right after it was stored`);
    return { owner: row.owner, publicKeyPem: row.public_key_pem, privateKeyPem: row.private_key_pem };
  }

  async getPublicKey(owner: string): Promise<string | null> {
    return this.#getPublic.get(owner)?.public_key_pem ?? null;
  }

  async getPrivateKey(owner: string): Promise<string | null> {
    return this.#getPrivate.get(owner)?.private_key_pem ?? null;
  }
}
