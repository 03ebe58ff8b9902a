/** `guild reports|report|held|audit ...`: the moderation queues and the audit log. */
import { GROUP_NAME_RE } from '../activitypub/urls.ts';
import type { ParsedArgs } from './args.ts';
import type { CliCore, CliIo } from './main.ts';
import {
  checkArgs,
  decodeCursor,
  describeModerationError,
  encodeCursor,
  fail,
  parseLimit,
  switchOn,
  usage,
  when,
} from './cli-support.ts';
import { field } from './terminal-text.ts';

export const REVIEW_USAGE = `  reports GROUP [--resolved] [--after CURSOR] [--limit N]
                                                list open (or resolved) reports, newest first
  report resolve GROUP ID                       mark a report handled (a Flag's sender is told)
  held GROUP [--after CURSOR] [--limit N]       list posts waiting for approval
  audit [GROUP] [--after CURSOR] [--limit N]    the moderation log, newest first (all groups and the
                                                instance without GROUP)`;

export async function reportsCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const text = 'guild reports GROUP [--resolved] [--after CURSOR] [--limit N]';
  const bad = checkArgs(args, io, { words: 2, options: ['after', 'limit'], switches: ['resolved'] }, text);
  const [, group] = args.positional;
  if (bad !== null || !group) return bad ?? 2;
  const page = pageArgs(args, io);
  if (page === null) return 1;
  if (!(await core.groups.get(group))) return fail(io, `no group named "${group}"`);
  const state = switchOn(args, 'resolved') ? 'resolved' : 'open';
  const before = page.cursor ? { createdAt: page.cursor.n, id: page.cursor.text } : null;
  const reports = await core.store.reports.listReports(group, state, before, page.limit);
  if (reports.length === 0) {
    io.out(before !== null ? 'no more' : `${group}: no ${state} reports`);
    return 0;
  }
  for (const r of reports) {
    const target = [r.targetActorId, ...r.objectIds].filter(Boolean).join(' ');
    const resolved =
      r.resolvedAt !== null ? `\tresolved by ${field(r.resolvedBy ?? '?')} ${when(r.resolvedAt)}` : '';
    io.out(
      `${r.id}\t${when(r.createdAt)}\tfrom ${field(r.reporterId)}\t${field(target)}\t${field(r.reason)}${resolved}`,
    );
  }
  const last = reports[reports.length - 1];
  if (reports.length === page.limit && last) {
    const flag = state === 'resolved' ? ' --resolved' : '';
    io.out(`more: guild reports ${group}${flag} --after ${encodeCursor(last.createdAt, last.id)}`);
  }
  return 0;
}

export async function reportCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const text = 'guild report resolve GROUP ID';
  const bad = checkArgs(args, io, { words: 4, options: ['reason'] }, text);
  const [, sub, group, id] = args.positional;
  if (bad !== null || !group || !id) return bad ?? 2;
  if (sub !== 'resolve') return usage(io, text);
  const reason = (args.flags.reason ?? '').trim();
  const r = await core.moderation.resolveReport(group, id, { by: 'admin', reason });
  if (!r.ok) return fail(io, describeModerationError(r.error, group, id));
  io.out(r.value ? `resolved report ${id} in ${group}` : `report ${id} was already resolved`);
  return 0;
}

export async function heldCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const text = 'guild held GROUP [--after CURSOR] [--limit N]';
  const bad = checkArgs(args, io, { words: 2, options: ['after', 'limit'] }, text);
  const [, group] = args.positional;
  if (bad !== null || !group) return bad ?? 2;
  const page = pageArgs(args, io);
  if (page === null) return 1;
  if (!(await core.groups.get(group))) return fail(io, `no group named "${group}"`);
  const after = page.cursor ? { createdAt: page.cursor.n, objectId: page.cursor.text } : null;
  const held = await core.store.held.listHeldPosts(group, after, page.limit);
  if (held.length === 0) {
    io.out(after !== null ? 'no more' : `${group}: no posts are waiting for approval`);
    return 0;
  }
  for (const h of held)
    io.out(`${field(h.objectId)}\tby ${field(h.authorId)}\t${when(h.createdAt)}\t${field(h.reason)}`);
  const last = held[held.length - 1];
  if (held.length === page.limit && last)
    io.out(`more: guild held ${group} --after ${encodeCursor(last.createdAt, last.objectId)}`);
  return 0;
}

export async function auditCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const text = 'guild audit [GROUP] [--after CURSOR] [--limit N]';
  const bad = checkArgs(args, io, { words: 1, optional: 1, options: ['after', 'limit'] }, text);
  if (bad !== null) return bad;
  const group = args.positional[1] ?? null;
  const page = pageArgs(args, io);
  if (page === null) return 1;
  // A deleted group's log stays readable; a name that never existed is a typo.
  if (group !== null && (!GROUP_NAME_RE.test(group) || (await core.store.groups.getGroup(group)) === null))
    return fail(io, `no group named "${group}"`);
  const before = page.cursor ? { at: page.cursor.n, id: page.cursor.text } : null;
  const entries = await core.store.audit.listAudit(
    group === null ? { all: true } : { group },
    before,
    page.limit,
  );
  if (entries.length === 0) {
    io.out(
      before !== null ? 'no more' : group === null ? 'the audit log is empty' : `${group}: nothing recorded`,
    );
    return 0;
  }
  for (const e of entries) {
    const where = group === null ? `${e.groupName ?? '(instance)'}\t` : '';
    io.out(`${when(e.at)}\t${where}${field(e.actorId)}\t${e.action}\t${field(e.target)}\t${field(e.reason)}`);
  }
  const last = entries[entries.length - 1];
  if (entries.length === page.limit && last)
    io.out(`more: guild audit${group ? ` ${group}` : ''} --after ${encodeCursor(last.at, last.id)}`);
  return 0;
}

/** `--limit` and `--after CURSOR`, or null after printing the problem. */
function pageArgs(
  args: ParsedArgs,
  io: CliIo,
): { limit: number; cursor: { n: number; text: string } | null } | null {
  const limit = parseLimit(args);
  if (typeof limit === 'string') {
    io.err(`guild: ${limit}`);
    return null;
  }
  const after = args.flags.after;
  if (after === undefined) return { limit, cursor: null };
  const cursor = decodeCursor(after);
  if (cursor === null) {
    io.err(`guild: --after takes the cursor printed after "more:" (got "${after}")`);
    return null;
  }
  return { limit, cursor };
}
