/** `guild hosts`: destination hosts whose deliveries keep failing. */
import type { ParsedArgs } from './args.ts';
import { checkArgs } from './cli-support.ts';
import type { CliCore, CliIo } from './main.ts';
import { UNREACHABLE_AFTER_DAYS } from '../federation/job-handlers.ts';
import { field } from './terminal-text.ts';

export const HOSTS_USAGE = `  hosts [--days N] [--after HOST] [--limit N]
                                                hosts whose deliveries failed on N distinct days or more
                                                (default 1); from ${UNREACHABLE_AFTER_DAYS} days on a host is unreachable and retried rarely`;

export async function hostsCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const text = 'guild hosts [--days N] [--after HOST] [--limit N]';
  const bad = checkArgs(args, io, { words: 1, options: ['days', 'after', 'limit'] }, text);
  if (bad !== null) return bad;
  const days = Number(args.flags.days ?? '1');
  const limit = Number(args.flags.limit ?? '100');
  if (!Number.isInteger(days) || days < 1 || days > 14) {
    io.err('guild: --days must be a whole number from 1 to 14');
    return 2;
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    io.err('guild: --limit must be a whole number from 1 to 1000');
    return 2;
  }
  const hosts = await core.store.hosts.listFailingHosts(days, args.flags.after ?? null, limit);
  if (hosts.length === 0) {
    io.out('no failing hosts');
    return 0;
  }
  for (const h of hosts) {
    const state = h.failureDays.length >= UNREACHABLE_AFTER_DAYS ? 'unreachable' : 'failing';
    io.out(
      `${field(h.host)}\t${state}\t${h.failureDays.length} days\t${h.consecutiveFailures} failures in a row\tsince ${new Date(h.firstFailureAt).toISOString()}\tlast ${new Date(h.lastFailureAt).toISOString()}`,
    );
  }
  const last = hosts[hosts.length - 1];
  if (hosts.length === limit && last) io.out(`more: guild hosts --days ${days} --after ${last.host}`);
  return 0;
}
