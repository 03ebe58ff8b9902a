/**
 * Who holds a job's lease: `HOST:PID:START:PART`, the host name, the process id, the start time of that process
 * (as the kernel counts it on Linux) and the part of the process (main thread or background thread N, with a
 * random suffix). From such a name, a process on the same host can tell that the holder is gone (a previous
 * incarnation of itself, or any process that no longer runs) and take its jobs back at once, instead of waiting
 * for the leases to end. A holder on another host, or one still running, is always left alone.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** This process as lease names record it. */
export interface ProcessIdentity {
  host: string;
  pid: number;
  /** When the process started: the kernel's start time on Linux (ticks since boot), else epoch seconds. */
  started: string;
}

/** What a lease owner name says about its holder, or null for a name in another form. */
export type LeaseHolder = ProcessIdentity;

/** Reads what /proc says of a process: its start time, or null when no such process runs. */
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

/** A lease owner name for one part of a process (`main`, `t0`...), unique to this start of it. */
export function leaseOwnerName(me: ProcessIdentity, part: string): string {
  return `${me.host}:${me.pid}:${me.started}:${part}-${randomUUID().slice(0, 8)}`;
}

/** The holder a lease owner name describes, or null when the name is not of this form. */
export function parseLeaseOwner(owner: string): LeaseHolder | null {
  const parts = owner.split(':');
  if (parts.length < 4) return null;
  const [pid, started] = parts.slice(-3, -1);
  const host = parts.slice(0, -3).join(':');
  if (host === '' || !pid || !/^\d+$/.test(pid) || !started || !/^\d+$/.test(started)) return null;
  return { host, pid: Number(pid), started };
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

/**
 * True when the holder of `owner` is known to be gone: on this host, and either an earlier start of this very
 * process id (this process has it now), or a process id that no longer runs or runs another process now.
 */
export function isGoneHolder(
  owner: string,
  me: ProcessIdentity,
  probe: ProcessProbe = probeProcess,
): boolean {
  const holder = parseLeaseOwner(owner);
  if (!holder || holder.host !== me.host) return false;
  if (holder.pid === me.pid) return holder.started !== me.started;
  const running = probe(holder.pid);
  if (running === null) return true;
  return running.started !== null && running.started !== holder.started;
}
