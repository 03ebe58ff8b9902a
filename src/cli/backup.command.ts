/**
 * `guild backup FILE` and `guild restore FILE`: a consistent copy of the SQLite store, taken while servers run,
 * and putting one back while none runs. They work on the database file itself, before any service is built.
 * With MongoDB, mongodump and mongorestore do this (see README).
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import { backupSqlite, restoreSqlite, type BackupError } from '../storage/sqlite/backup.sqlite.ts';
import type { ParsedArgs } from './args.ts';
import { checkArgs } from './cli-support.ts';
import type { CliIo } from './main.ts';

export const BACKUP_USAGE = `  backup FILE                                   write a consistent copy of the SQLite store to the new FILE
                                                (servers may keep running)
  restore FILE                                  replace the SQLite store with the backup FILE (no server may run)`;

const MONGODB_HINT =
  'the store is MongoDB: use mongodump --uri=GUILD_MONGODB_URL --archive=FILE and ' +
  'mongorestore --uri=GUILD_MONGODB_URL --drop --archive=FILE (see README)';

/** Refusals (a missing or unusable file, a running server) exit 1 like failures; the message says which. */
function exitCodeOf(e: BackupError): number {
  switch (e.type) {
    case 'no-database':
    case 'target-exists':
    case 'not-a-guild-database':
    case 'server-running':
    case 'failed':
      return 1;
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}

export async function backupCommand(args: ParsedArgs, config: Config, io: CliIo): Promise<number> {
  const name = args.positional[0] === 'restore' ? 'restore' : 'backup';
  const bad = checkArgs(args, io, { words: 2, options: [] }, `guild ${name} FILE`);
  if (bad !== null) return bad;
  if (config.store !== 'sqlite') {
    io.err(`guild: ${MONGODB_HINT}`);
    return 2;
  }
  const file = resolve(args.positional[1] ?? '');
  if (name === 'backup') {
    const r = await backupSqlite(config.sqlitePath, file);
    if (!r.ok) {
      io.err(`guild: backup failed: ${r.error.detail}`);
      return exitCodeOf(r.error);
    }
    io.out(`backed up ${config.sqlitePath} to ${file} (${r.value.pages} pages)`);
    return 0;
  }
  await mkdir(dirname(config.sqlitePath), { recursive: true });
  const r = await restoreSqlite(file, config.sqlitePath);
  if (!r.ok) {
    io.err(`guild: restore refused: ${r.error.detail}`);
    return exitCodeOf(r.error);
  }
  io.out(`restored ${file} to ${config.sqlitePath} (${r.value.pages} pages); start Guild to use it`);
  return 0;
}
