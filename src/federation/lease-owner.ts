/**
 * Who holds a job's lease: `HOST:PID:START:PART`, the host name, the process id, the start time of that process
 * (as the kernel counts it on Linux) and the part of the process (main thread or background thread N, with a
 * random suffix). From such a name, a process on the same host can tell that the holder is gone (a previous
 * incarnation of itself, or any process that no longer runs) and take its jobs back at once, instead of waiting
 * for the leases to end. A holder on another host, or one still running, is always left alone.
 */
import { randomUUID } from 'node:crypto';
import { isGone, type ProcessIdentity, type ProcessProbe } from '../process-identity.ts';

export { probeProcess, thisProcess, type ProcessIdentity, type ProcessProbe } from '../process-identity.ts';

/** A lease owner name for one part of a process (`main`, `t0`...), unique to this start of it. */
export function leaseOwnerName(me: ProcessIdentity, part: string): string {
  return `${me.host}:${me.pid}:${me.started}:${part}-${randomUUID().slice(0, 8)}`;
}

/** The holder a lease owner name describes, or null when the name is not of this form. */
export function parseLeaseOwner(owner: string): ProcessIdentity | null {
  const parts = owner.split(':');
  if (parts.length < 4) return null;
  const [pid, started] = parts.slice(-3, -1);
  const host = parts.slice(0, -3).join(':');
  if (host === '' || !pid || !/^\d+$/.test(pid) || !started || !/^\d+$/.test(started)) return null;
  return { host, pid: Number(pid), started };
}

/**
 * True when the holder of `owner` is known to be gone: on this host, and either an earlier start of this very
 * process id (this process has it now), or a process id that no longer runs or runs another process now.
 */
export function isGoneHolder(owner: string, me: ProcessIdentity, probe?: ProcessProbe): boolean {
  const holder = parseLeaseOwner(owner);
  return holder !== null && isGone(holder, me, probe);
}
