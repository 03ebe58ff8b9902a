/** `guild group pending|members|approve|reject|remove ...`: join requests and members. */
import type { Member, MemberState } from '../storage/store.ts';
import type { MemberDecisionError } from '../groups/moderation.service.ts';
import { MAX_PAGE } from '../groups/membership.service.ts';
import type { ParsedArgs } from './args.ts';
import type { CliCore, CliIo } from './main.ts';
import { field } from './terminal-text.ts';

export const MEMBERSHIP_SUBCOMMANDS = new Set(['pending', 'members', 'approve', 'reject', 'remove']);

export const MEMBERSHIP_USAGE = `  group pending NAME [--after ACTOR_ID] [--limit N]   list join requests (approval groups)
  group members NAME [--after ACTOR_ID] [--limit N]   list members
  group approve NAME ACTOR                      accept a join request (ACTOR: actor id, or @user@host)
  group reject NAME ACTOR                       refuse a join request
  group remove NAME ACTOR                       remove a member (its server is told with Reject)`;

const DEFAULT_LIMIT = 50;

export async function membershipCommand(
  sub: string,
  args: ParsedArgs,
  core: CliCore,
  io: CliIo,
): Promise<number> {
  const [, , name, actorArg] = args.positional;
  if (sub === 'pending' || sub === 'members') {
    if (!name) return usage(io, `guild group ${sub} NAME [--after ACTOR_ID] [--limit N]`);
    return list(sub === 'pending' ? 'pending' : 'accepted', name, args, core, io);
  }
  if (!name || !actorArg) return usage(io, `guild group ${sub} NAME ACTOR_ID_OR_HANDLE`);
  const actorId = await resolveActor(name, actorArg, sub === 'remove' ? 'accepted' : 'pending', core, io);
  if (actorId === null) return 1;
  const o = { by: 'admin' as const };
  const r =
    sub === 'approve'
      ? await core.moderation.approveMember(name, actorId, o)
      : sub === 'reject'
        ? await core.moderation.rejectMember(name, actorId, o)
        : await core.moderation.removeMember(name, actorId, o);
  if (!r.ok) {
    io.err(`guild: ${describe(r.error, name, actorId, sub)}`);
    return 1;
  }
  const done = { approve: 'approved', reject: 'refused', remove: 'removed' }[sub] ?? sub;
  const told = sub === 'approve' ? 'Accept' : 'Reject';
  io.out(`${done} ${actorId} in ${name}; their server is being sent ${told}`);
  return 0;
}

async function list(
  state: MemberState,
  name: string,
  args: ParsedArgs,
  core: CliCore,
  io: CliIo,
): Promise<number> {
  const limitText = args.flags.limit ?? String(DEFAULT_LIMIT);
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_PAGE) {
    io.err(`guild: --limit must be a whole number from 1 to ${MAX_PAGE} (got "${limitText}")`);
    return 1;
  }
  const after = args.flags.after ?? null;
  const r =
    state === 'pending'
      ? await core.membership.listPending(name, after, limit)
      : await core.membership.listMembers(name, after, limit);
  if (!r.ok) {
    io.err(`guild: no group named "${name}"`);
    return 1;
  }
  const total = await core.store.members.countMembers(name, state);
  if (r.value.length === 0) {
    io.out(
      after !== null
        ? 'no more'
        : state === 'pending'
          ? `${name}: no pending join requests`
          : `${name}: no members yet`,
    );
    return 0;
  }
  if (after === null) io.out(`${name}: ${total} ${state === 'pending' ? 'pending' : 'members'}`);
  for (const m of r.value) io.out(await line(m, core));
  const last = r.value[r.value.length - 1];
  if (r.value.length === limit && last) {
    const cmd = state === 'pending' ? 'pending' : 'members';
    io.out(`more: guild group ${cmd} ${name} --after ${last.actorId}`);
  }
  return 0;
}

async function line(m: Member, core: CliCore): Promise<string> {
  const actor = await core.store.remoteActors.getRemoteActor(m.actorId);
  let handle = '';
  if (actor?.preferredUsername) {
    try {
      handle = `@${actor.preferredUsername}@${new URL(m.actorId).host}`;
    } catch {
      handle = '';
    }
  }
  const since = new Date(m.state === 'pending' ? m.createdAt : m.updatedAt).toISOString().slice(0, 16);
  const what = m.state === 'pending' ? 'requested' : 'since';
  return `${field(m.actorId)}\t${field(handle)}\t${what} ${since.replace('T', ' ')} UTC`;
}

/** An actor id as given, or the one a handle names among the stored members/requests of the group. */
async function resolveActor(
  group: string,
  given: string,
  state: MemberState,
  core: CliCore,
  io: CliIo,
): Promise<string | null> {
  if (/^https?:\/\//i.test(given)) return given;
  if (!given.includes('@')) {
    io.err(`guild: "${given}" is neither an actor id (https://...) nor a handle (@user@host)`);
    return null;
  }
  const r = await core.membership.resolveHandle(group, given, state);
  if (r.ok) return r.value;
  const listCmd = state === 'pending' ? 'pending' : 'members';
  switch (r.error.type) {
    case 'group-not-found':
      io.err(`guild: no group named "${group}"`);
      return null;
    case 'invalid-handle':
      io.err(`guild: "${given}" is not a handle of the form @user@host`);
      return null;
    case 'unknown-handle':
      io.err(
        `guild: no ${state === 'pending' ? 'join request' : 'member'} of ${group} is known as ${given}; ` +
          `give the actor id instead (see: guild group ${listCmd} ${group})`,
      );
      return null;
    case 'ambiguous-handle':
      io.err(`guild: ${given} matches several actors; give one of these actor ids:`);
      for (const c of r.error.candidates) io.err(`  ${field(c)}`);
      return null;
    default: {
      const never: never = r.error;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}

function describe(e: MemberDecisionError, group: string, actorId: string, sub: string): string {
  switch (e.type) {
    case 'group-not-found':
      return `no group named "${group}"`;
    case 'not-allowed':
      return `not allowed to moderate ${group}`;
    case 'post-not-found':
    case 'not-found':
      return `nothing found for ${actorId} in ${group}`;
    case 'invalid':
      return e.detail;
    case 'no-such-request':
      return e.isMember
        ? `${actorId} is already a member of ${group}` +
            (sub === 'reject' ? ` (to end the membership: guild group remove ${group} ${actorId})` : '')
        : `${actorId} has no pending join request in ${group} (see: guild group pending ${group})`;
    case 'not-a-member':
      return `${actorId} is neither a member of ${group} nor waiting to join it`;
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}

function usage(io: CliIo, text: string): number {
  io.err(`usage: ${text}`);
  return 2;
}
