import { openMongoStore } from './mongodb/store.mongodb.ts';
import { openSqliteStore } from './sqlite/store.sqlite.ts';
import type { Store } from './store.ts';

/** Where the data lives: an SQLite file (the embedded default) or a MongoDB-wire database. */
export type StoreOptions =
  { kind: 'sqlite'; path: string } | { kind: 'mongodb'; url: string; dbName?: string };

/** Opens the configured store, ready to use (schema migrated or indexes created). */
export async function openStore(opts: StoreOptions): Promise<Store> {
  switch (opts.kind) {
    case 'sqlite':
      return openSqliteStore(opts.path);
    case 'mongodb':
      return openMongoStore(opts.url, opts.dbName);
    default: {
      const unknownKind: never = opts;
      throw new Error(`unknown store kind: ${JSON.stringify(unknownKind)}`);
    }
  }
}
