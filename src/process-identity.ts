/**
 * This process as other processes can recognise it later: host name, process id and the start time of the process
 * (the kernel's, on Linux). Lease owners (federation/lease-owner.ts) and the registry of servers running on an
 * SQLite file (storage/sqlite/running-servers.sqlite.ts) record it, so that a gone process is told from a running one.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** A process, as recorded by others. */
export interface ProcessIdentity {
  host: string;
  pid: number;
  /** When the process started: the kernel's start time on Linux (ticks since boot), else epoch seconds. */
  started: string;
}

/** Whether a process runs: its start time (when known), or null when no such process runs. */
export type ProcessProbe = (pid: number) => { started: string | null } | null;

/**
 * The start time of process `pid` on Linux (field 22 of /proc/PID/stat), or null elsewhere, when absent, or when
 * it has exited and waits to be reaped (a zombie runs nothing).
 */
function linuxStartTime(pid: number | 'self'): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** This process. */
export function thisProcess(): ProcessIdentity {
  const started = linuxStartTime('self') ?? String(Math.round((Date.now() - process.uptime() * 1000) / 1000));
  return { host: hostname(), pid: process.pid, started };
}

/** The running process `pid` (with its start time on Linux), or null when none runs. */
export const probeProcess: ProcessProbe = (pid) => {
  if (process.platform === 'linux') {
    const started = linuxStartTime(pid);
    return started === null ? null : { started };
  }
  try {
    process.kill(pid, 0);
    return { started: null };
  } catch (e) {
    return (e as { code?: unknown }).code === 'ESRCH' ? null : { started: null };
  }
};

/** True when the process `p` recorded earlier no longer runs (judged on its own host only; elsewhere: false). */
export function isGone(p: ProcessIdentity, me: ProcessIdentity, probe: ProcessProbe = probeProcess): boolean {
  if (p.host !== me.host) return false;
  if (p.pid === me.pid) return p.started !== me.started;
  const running = probe(p.pid);
  if (running === null) return true;
  return running.started !== null && running.started !== p.started;
}
