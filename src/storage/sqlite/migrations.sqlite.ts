/** The numbered schema migrations of the SQLite store and how they are applied. */
import type { Database } from 'better-sqlite3';
import { EARLY_STEPS } from './schema-early.sqlite.ts';
import { LATER_STEPS } from './schema-later.sqlite.ts';

/** One step of the schema. Steps are applied in version order and never edited once released. */
export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, as numbered steps (schema-early.sqlite.ts, schema-later.sqlite.ts). Every index matches a query of a
 * repository in this folder; the comment above each index names it.
 */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [...EARLY_STEPS, ...LATER_STEPS];

/**
 * Brings the schema of `db` up to date. Runs in one IMMEDIATE transaction, so that several processes opening
 * the same file at once apply each step exactly once (the others wait on the write lock, then find nothing left
 * to do). Throws when the file was written by a newer version that knows steps this one does not.
 */
export function migrateSqlite(
  db: Database,
  migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS,
): number[] {
  const run = db.transaction((): number[] => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const rows = db.prepare<[], { version: number }>('SELECT version FROM schema_migrations').all();
    const applied = new Set(rows.map((row) => row.version));
    const known = new Set(migrations.map((m) => m.version));
    const unknown = [...applied].filter((version) => !known.has(version));
    if (unknown.length > 0) {
      throw new Error(
        `SQLite database has schema version(s) ${unknown.join(', ')} unknown to this version of Guild; ` +
          'upgrade Guild or use another database file',
      );
    }
    const insert = db.prepare<[number, string, number]>(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    const done: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      insert.run(migration.version, migration.name, Date.now());
      done.push(migration.version);
    }
    return done;
  });
  return run.immediate();
}
