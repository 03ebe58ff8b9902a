/**
 * Everything a store holds, read under the storage port straight from the database (every SQLite table, every
 * MongoDB collection), so that two end states can be compared row for row. What differs between two runs by
 * nature and not by effect is left out: the rows of the jobs being run (attempts, leases), MongoDB's per-job
 * incarnation id (`rev`) and transition records, generated ObjectIds, and when each schema migration ran.
 */
import BetterSqlite3 from 'better-sqlite3';
import { MongoClient, ObjectId } from 'mongodb';
import type { StoreOptions } from '../../src/storage/open-store.ts';

/** Table (or collection) name -> its rows as canonical JSON (keys sorted), sorted. */
export type StoreDump = Record<string, string[]>;

/** JSON with object keys sorted, so that equal rows read equal whatever their field order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
    );
  });
}

export class StoreDumper {
  private readonly clients = new Map<string, MongoClient>();

  /** Every row of the store at `options`, but for the jobs whose ids are in `skipJobs`. */
  async dump(options: StoreOptions, skipJobs: string[] = []): Promise<StoreDump> {
    const skip = new Set(skipJobs);
    return options.kind === 'sqlite' ? this.sqlite(options.path, skip) : this.mongo(options, skip);
  }

  /**
   * Deletes every row of the store at `options` (the schema stays), through a connection of its own: a store
   * open on it finds it empty, as a new one would be, without the cost of creating a database each time.
   */
  async clear(options: StoreOptions): Promise<void> {
    if (options.kind === 'sqlite') {
      const db = new BetterSqlite3(options.path, { fileMustExist: true });
      try {
        db.pragma('busy_timeout = 5000');
        const tables = db
          .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
          .all() as Array<{ name: string }>;
        db.transaction(() => {
          for (const { name } of tables) if (name !== 'schema_migrations') db.exec(`DELETE FROM "${name}"`);
        })();
      } finally {
        db.close();
      }
      return;
    }
    const db = (await this.client(options.url)).db(options.dbName);
    for (const c of await db.listCollections({}, { nameOnly: true }).toArray())
      await db.collection(c.name).deleteMany({});
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) await client.close();
    this.clients.clear();
  }

  private async client(url: string): Promise<MongoClient> {
    let client = this.clients.get(url);
    if (!client) {
      client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
      await client.connect();
      this.clients.set(url, client);
    }
    return client;
  }

  private sqlite(path: string, skip: Set<string>): StoreDump {
    const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
    try {
      const tables = db
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
        )
        .all() as Array<{ name: string }>;
      const out: StoreDump = {};
      for (const { name } of tables) {
        // When each migration was applied: the schema's history, not an effect.
        if (name === 'schema_migrations') continue;
        const rows = db.prepare(`SELECT * FROM "${name}"`).all() as Array<Record<string, unknown>>;
        out[name] = rows
          .filter((row) => !(name === 'jobs' && skip.has(String(row['id']))))
          .map(canonicalJson)
          .sort();
      }
      return out;
    } finally {
      db.close();
    }
  }

  private async mongo(options: { url: string; dbName?: string }, skip: Set<string>): Promise<StoreDump> {
    const db = (await this.client(options.url)).db(options.dbName);
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
    const out: StoreDump = {};
    for (const name of names) {
      // Records of the transitions of the jobs being run, not effects.
      if (name === 'job_transitions') continue;
      const docs = await db.collection(name).find({}).toArray();
      out[name] = docs
        .filter((doc) => !(name === 'jobs' && skip.has(String(doc['_id']))))
        .map((doc) => {
          const row: Record<string, unknown> = { ...doc };
          if (row['_id'] instanceof ObjectId) delete row['_id'];
          if (name === 'jobs') delete row['rev'];
          return canonicalJson(row);
        })
        .sort();
    }
    return out;
  }
}
