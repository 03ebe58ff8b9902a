/**
 * Backup and restore of an SQLite store. A backup is taken with SQLite's online backup API in one step, inside
 * one read transaction: it is a consistent copy of the database as it was at one moment, taken while servers keep
 * writing (in WAL mode readers and writers do not block each other). A restore puts such a copy in place of the
 * database, refused while a server runs on it.
 */
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from './migrations.sqlite.ts';
import { runningServers } from './running-servers.sqlite.ts';

export type BackupError =
  | { type: 'no-database'; detail: string }
  | { type: 'target-exists'; detail: string }
  | { type: 'not-a-guild-database'; detail: string }
  | { type: 'server-running'; detail: string }
  | { type: 'failed'; detail: string };

export type BackupResult<T> = { ok: true; value: T } | { ok: false; error: BackupError };

const fail = (type: BackupError['type'], detail: string): BackupResult<never> => ({
  ok: false,
  error: { type, detail },
});

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Copies `from` into the new file `to` with the backup API in one step; a self-contained file (no WAL). */
async function copyDatabase(from: Database, to: string): Promise<number> {
  // One step for all pages: the copy is made in one read transaction and never restarts because of writers.
  const progress = await from.backup(to, { progress: () => 0x7fffffff });
  const copy = new BetterSqlite3(to);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  return progress.totalPages;
}

/** Schema versions of a database, or why it is not a Guild database this version can use. */
function checkGuildDatabase(db: Database): string | null {
  const ok: unknown = db.pragma('quick_check', { simple: true });
  if (ok !== 'ok') return `it is damaged (quick_check: ${String(ok)})`;
  const table = db
    .prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'schema_migrations'")
    .get();
  if (!table || table.n === 0) return 'it has no Guild schema';
  const known = new Set(SQLITE_MIGRATIONS.map((m) => m.version));
  const versions = db.prepare<[], { version: number }>('SELECT version FROM schema_migrations').all();
  const unknown = versions.map((v) => v.version).filter((v) => !known.has(v));
  if (unknown.length > 0) return `it was written by a newer Guild (schema versions ${unknown.join(', ')})`;
  return null;
}

/** Writes a consistent copy of the database at `dbPath` to the new file `target`. */
export async function backupSqlite(dbPath: string, target: string): Promise<BackupResult<{ pages: number }>> {
  if (!existsSync(dbPath)) return fail('no-database', `there is no database at ${dbPath}`);
  if (existsSync(target)) return fail('target-exists', `${target} exists; give a new file name`);
  if (!existsSync(dirname(resolve(target)))) return fail('failed', `the folder of ${target} does not exist`);
  const partial = `${target}.partial-${process.pid}`;
  let db: Database | undefined;
  try {
    db = new BetterSqlite3(dbPath, { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const pages = await copyDatabase(db, partial);
    await rename(partial, target);
    return { ok: true, value: { pages } };
  } catch (e) {
    await rm(partial, { force: true });
    return fail('failed', messageOf(e));
  } finally {
    db?.close();
  }
}

/**
 * Puts the backup `source` in place of the database at `dbPath` (its write-ahead log included), after checking
 * that `source` is a sound Guild database this version knows and that no server runs on `dbPath`.
 */
export async function restoreSqlite(
  source: string,
  dbPath: string,
): Promise<BackupResult<{ pages: number }>> {
  if (!existsSync(source)) return fail('no-database', `there is no file ${source}`);
  const running = runningServers(dbPath);
  if (running.length > 0) {
    const who = running.map((r) => `process ${r.pid} on ${r.host}`).join(', ');
    return fail('server-running', `a Guild server runs on ${dbPath} (${who}); stop it first`);
  }
  let src: Database | undefined;
  const partial = `${dbPath}.restoring-${process.pid}`;
  try {
    try {
      src = new BetterSqlite3(source, { readonly: true, fileMustExist: true });
      const problem = checkGuildDatabase(src);
      if (problem !== null) return fail('not-a-guild-database', `${source} cannot be restored: ${problem}`);
    } catch (e) {
      return fail('not-a-guild-database', `${source} cannot be restored: ${messageOf(e)}`);
    }
    await rm(partial, { force: true });
    const pages = await copyDatabase(src, partial);
    // The old database's log and shared memory belong to it: they go before the copy takes its place.
    await rm(`${dbPath}-wal`, { force: true });
    await rm(`${dbPath}-shm`, { force: true });
    await rename(partial, dbPath);
    return { ok: true, value: { pages } };
  } catch (e) {
    await rm(partial, { force: true });
    return fail('failed', messageOf(e));
  } finally {
    src?.close();
  }
}
