/** Opens the store an option names: the SQLite file or the MongoDB database. */
import type { Store } from './store.ts';

/**
 * Where the data lives: an SQLite file (the embedded default) or a MongoDB-wire database. `onCommand` is told the
 * name of every command sent to MongoDB (each one a round trip), to count them.
 */
export type StoreOptions =
  | { kind: 'sqlite'; path: string }
  | { kind: 'mongodb'; url: string; dbName?: string; onCommand?: (command: string) => void };

/**
 * Opens the configured store, ready to use (schema migrated or indexes created). Each adapter is loaded only
 * when it is used: a process (or thread) on SQLite never loads the MongoDB driver, and the reverse.
 */
export async function openStore(opts: StoreOptions): Promise<Store> {
  switch (opts.kind) {
    case 'sqlite':
      return (await import('./sqlite/store.sqlite.ts')).openSqliteStore(opts.path);
    case 'mongodb':
      return (await import('./mongodb/store.mongodb.ts')).openMongoStore(opts.url, opts.dbName, {
        ...(opts.onCommand ? { onCommand: opts.onCommand } : {}),
      });
    default: {
      const unknownKind: never = opts;
      throw new Error(`unknown store kind: ${JSON.stringify(unknownKind)}`);
    }
  }
}
