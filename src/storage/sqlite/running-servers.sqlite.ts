/**
 * Which Guild servers run on an SQLite file: each server process writes a small file, named by its process id,
 * in `FILE.servers/` next to the database, and removes it when it stops. An entry whose process is gone (a crash)
 * is ignored and cleaned up. `guild restore` refuses while a live entry exists.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isGone, thisProcess, type ProcessIdentity } from '../../process-identity.ts';

/** The folder of the entries of the servers running on `dbPath`. */
export function serversDirOf(dbPath: string): string {
  return `${dbPath}.servers`;
}

/** Records this process as a server running on `dbPath`; returns the function that removes the record. */
export function registerRunningServer(dbPath: string, me: ProcessIdentity = thisProcess()): () => void {
  const dir = serversDirOf(dbPath);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${me.pid}.json`);
  writeFileSync(file, JSON.stringify(me));
  return () => rmSync(file, { force: true });
}

/** The servers running on `dbPath` now (those on other hosts are counted as running: they cannot be checked). */
export function runningServers(dbPath: string, me: ProcessIdentity = thisProcess()): ProcessIdentity[] {
  const dir = serversDirOf(dbPath);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const running: ProcessIdentity[] = [];
  for (const name of names) {
    const file = join(dir, name);
    let entry: ProcessIdentity | null = null;
    try {
      const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
      const o = v as Partial<ProcessIdentity> | null;
      if (o && typeof o.host === 'string' && typeof o.pid === 'number' && typeof o.started === 'string')
        entry = { host: o.host, pid: o.pid, started: o.started };
    } catch {
      entry = null;
    }
    if (entry && (entry.pid === me.pid && entry.started === me.started ? false : !isGone(entry, me))) {
      running.push(entry);
      continue;
    }
    // A crashed server's entry, or an unreadable one: nothing runs there.
    rmSync(file, { force: true });
  }
  return running;
}
