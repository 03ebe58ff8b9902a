/**
 * `guild mod|ban|unban|bans|remove-post|restore-post|pin|unpin|lock|unlock|approve-post|reject-post ...`: a
 * group's moderators, bans, posts and held posts, acting as the admin through the moderation service.
 */
import { parseDuration } from '../groups/commands.service.ts';
import type { Ban } from '../storage/moderation.store.ts';
import type { ParsedArgs } from './args.ts';
import type { CliCore, CliIo } from './main.ts';
import {
  actorArg,
  checkArgs,
  describeModerationError,
  fail,
  handleOf,
  httpUrl,
  parseLimit,
  switchOn,
  usage,
  when,
} from './cli-support.ts';
import { field } from './terminal-text.ts';

export const MODERATION_USAGE = `  mod add GROUP ACTOR                           make ACTOR (actor id, or @user@host) a moderator
  mod remove GROUP ACTOR                        remove a moderator
  mod list GROUP                                list the moderators
  ban GROUP ACTOR [--duration 7d] [--reason R] [--remove-posts]
                                                ban from the group (durations: 30m, 12h, 7d, 2w);
                                                --remove-posts also removes their earlier posts
  unban GROUP ACTOR                             lift a ban
  bans GROUP [--after CURSOR] [--limit N]       list bans
  remove-post GROUP POST_URL [--reason R]       remove a post from the group (members are told)
  restore-post GROUP POST_URL [--reason R]      make a removed post live again (members are told)
  pin|unpin GROUP POST_URL                      pin a post to the group's profile, or unpin it
  lock|unlock GROUP POST_URL                    lock a post's thread (only moderators reply), or unlock it
  approve-post GROUP POST_URL                   share a post held for approval (see: guild held GROUP)
  reject-post GROUP POST_URL [--reason R]       discard a post held for approval`;

const MOD_USAGE = 'guild mod add|remove GROUP ACTOR_ID_OR_HANDLE  |  guild mod list GROUP';
const BAN_USAGE = 'guild ban GROUP ACTOR_ID_OR_HANDLE [--duration 7d] [--reason R] [--remove-posts]';
const MAX_REASON = 1000;

export async function modCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const [, sub, group, actor] = args.positional;
  if (sub === 'list') {
    const bad = checkArgs(args, io, { words: 3, options: [] }, 'guild mod list GROUP');
    if (bad !== null || !group) return bad ?? 2;
    return listModerators(group, core, io);
  }
  if (sub !== 'add' && sub !== 'remove') return usage(io, MOD_USAGE);
  const bad = checkArgs(args, io, { words: 4, options: ['reason'] }, MOD_USAGE);
  if (bad !== null || !group || !actor) return bad ?? 2;
  const reason = reasonOf(args, io);
  if (reason === null) return 1;
  const actorId = await actorArg(actor, core, io);
  if (actorId === null) return 1;
  const o = { by: 'admin' as const, reason };
  const r =
    sub === 'add'
      ? await core.moderation.addModerator(group, actorId, o)
      : await core.moderation.removeModerator(group, actorId, o);
  if (!r.ok) return fail(io, describeModerationError(r.error, group, actorId));
  if (sub === 'add')
    io.out(
      r.value ? `${actorId} is now a moderator of ${group}` : `${actorId} is already a moderator of ${group}`,
    );
  else
    io.out(
      r.value
        ? `${actorId} is no longer a moderator of ${group}`
        : `${actorId} is not a moderator of ${group}`,
    );
  return 0;
}

async function listModerators(group: string, core: CliCore, io: CliIo): Promise<number> {
  if (!(await core.groups.get(group))) return fail(io, `no group named "${group}"`);
  let after: { addedAt: number; actorId: string } | null = null;
  let count = 0;
  for (;;) {
    const page = await core.store.moderators.listModerators(group, after, 200);
    if (page.length === 0) break;
    for (const m of page) {
      const handle = await handleOf(m.actorId, core);
      io.out(`${field(m.actorId)}\t${field(handle)}\tadded by ${field(m.addedBy)} ${when(m.addedAt)}`);
      count++;
    }
    const last = page[page.length - 1];
    after = last ? { addedAt: last.addedAt, actorId: last.actorId } : null;
  }
  if (count === 0) io.out(`${group}: no moderators (the admin moderates every group)`);
  return 0;
}

export async function banCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const bad = checkArgs(
    args,
    io,
    { words: 3, options: ['duration', 'reason'], switches: ['remove-posts'] },
    BAN_USAGE,
  );
  const [, group, actor] = args.positional;
  if (bad !== null || !group || !actor) return bad ?? 2;
  let expiresAt: number | null = null;
  if (args.flags.duration !== undefined) {
    const ms = parseDuration(args.flags.duration);
    if (ms === null || ms === 0)
      return fail(
        io,
        `--duration must be a number and a unit such as 30m, 12h, 7d or 2w (got "${args.flags.duration}")`,
      );
    expiresAt = Date.now() + ms;
  }
  const reason = reasonOf(args, io);
  if (reason === null) return 1;
  const actorId = await actorArg(actor, core, io);
  if (actorId === null) return 1;
  const removePosts = switchOn(args, 'remove-posts');
  const r = await core.moderation.ban(group, actorId, { by: 'admin', reason, expiresAt, removePosts });
  if (!r.ok) return fail(io, describeModerationError(r.error, group, actorId));
  if (!r.value) {
    io.out(`${actorId} is already banned from ${group} (nothing changed)`);
    return 0;
  }
  const until = expiresAt === null ? 'for good' : `until ${when(expiresAt)}`;
  io.out(`banned ${actorId} from ${group} ${until}${removePosts ? '; their posts are being removed' : ''}`);
  return 0;
}

export async function unbanCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const bad = checkArgs(args, io, { words: 3, options: ['reason'] }, 'guild unban GROUP ACTOR_ID_OR_HANDLE');
  const [, group, actor] = args.positional;
  if (bad !== null || !group || !actor) return bad ?? 2;
  const reason = reasonOf(args, io);
  if (reason === null) return 1;
  const actorId = await actorArg(actor, core, io);
  if (actorId === null) return 1;
  const r = await core.moderation.unban(group, actorId, { by: 'admin', reason });
  if (!r.ok) return fail(io, describeModerationError(r.error, group, actorId));
  io.out(r.value ? `lifted the ban of ${actorId} in ${group}` : `${actorId} is not banned from ${group}`);
  return 0;
}

export async function bansCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const bad = checkArgs(args, io, { words: 2, options: ['after', 'limit'] }, 'guild bans GROUP [--limit N]');
  const [, group] = args.positional;
  if (bad !== null || !group) return bad ?? 2;
  const limit = parseLimit(args);
  if (typeof limit === 'string') return fail(io, limit);
  if (!(await core.groups.get(group))) return fail(io, `no group named "${group}"`);
  const after = args.flags.after ?? null;
  const page: Ban[] = await core.store.bans.listBans(group, after, limit);
  if (page.length === 0) {
    io.out(after === null ? `${group}: nobody is banned` : 'no more');
    return 0;
  }
  const now = Date.now();
  for (const b of page) {
    const until =
      b.expiresAt === null ? 'for good' : b.expiresAt <= now ? 'expired' : `until ${when(b.expiresAt)}`;
    io.out(`${field(b.actorId)}\t${until}\tby ${field(b.by)} ${when(b.createdAt)}\t${field(b.reason)}`);
  }
  const last = page[page.length - 1];
  if (page.length === limit && last) io.out(`more: guild bans ${group} --after ${last.actorId}`);
  return 0;
}

export async function removePostCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const text = 'guild remove-post GROUP POST_URL [--reason R]';
  const bad = checkArgs(args, io, { words: 3, options: ['reason'] }, text);
  const [, group, post] = args.positional;
  if (bad !== null || !group || !post) return bad ?? 2;
  const objectId = httpUrl(post);
  if (objectId === null) return fail(io, `"${post}" is not the URL (id) of a post`);
  const reason = reasonOf(args, io);
  if (reason === null) return 1;
  const r = await core.moderation.removePost(group, objectId, { by: 'admin', reason });
  if (!r.ok) return fail(io, describeModerationError(r.error, group, objectId));
  io.out(
    r.value ? `removed ${objectId} from ${group}; members are being told` : `${objectId} was already removed`,
  );
  return 0;
}

const POST_ACTIONS = {
  'restore-post': { done: 'restored', nothing: 'is not removed' },
  pin: { done: 'pinned', nothing: 'is already pinned' },
  unpin: { done: 'unpinned', nothing: 'is not pinned' },
  lock: { done: 'locked the thread of', nothing: 'is already locked' },
  unlock: { done: 'unlocked the thread of', nothing: 'is not locked' },
  'approve-post': { done: 'approved; sharing', nothing: '' },
  'reject-post': { done: 'discarded', nothing: '' },
} as const;

/** `guild restore-post|pin|unpin|lock|unlock|approve-post|reject-post GROUP POST_URL [--reason R]`. */
export async function postActionCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const name = args.positional[0] as keyof typeof POST_ACTIONS;
  const text = `guild ${name} GROUP POST_URL [--reason R]`;
  const bad = checkArgs(args, io, { words: 3, options: ['reason'] }, text);
  const [, group, post] = args.positional;
  if (bad !== null || !group || !post) return bad ?? 2;
  const objectId = httpUrl(post);
  if (objectId === null) return fail(io, `"${post}" is not the URL (id) of a post`);
  const reason = reasonOf(args, io);
  if (reason === null) return 1;
  const o = { by: 'admin' as const, reason };
  const m = core.moderation;
  const r = await {
    'restore-post': () => m.restorePost(group, objectId, o),
    pin: () => m.setPinned(group, objectId, true, o),
    unpin: () => m.setPinned(group, objectId, false, o),
    lock: () => m.setLocked(group, objectId, true, o),
    unlock: () => m.setLocked(group, objectId, false, o),
    'approve-post': () => m.approvePost(group, objectId, o),
    'reject-post': () => m.rejectPost(group, objectId, o),
  }[name]();
  if (!r.ok) {
    if (r.error.type === 'not-found')
      return fail(io, `no post ${objectId} is held in ${group} (see: guild held ${group})`);
    return fail(io, describeModerationError(r.error, group, objectId));
  }
  const said = POST_ACTIONS[name];
  io.out(
    r.value ? `${said.done} ${objectId} in ${group}; members are being told` : `${objectId} ${said.nothing}`,
  );
  return 0;
}

/** The `--reason` text (trimmed), or null after printing why it is refused. */
export function reasonOf(args: ParsedArgs, io: CliIo): string | null {
  const reason = (args.flags.reason ?? '').trim();
  if (reason.length > MAX_REASON) {
    io.err(`guild: --reason must be at most ${MAX_REASON} characters`);
    return null;
  }
  return reason;
}
