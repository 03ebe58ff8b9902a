/**
 * `guild owner ...` (the owner of a group) and `guild requests ...` (the queue of requests to create groups,
 * with GUILD_GROUP_CREATION=approval or from limited domains). The requester of a decided request is told by
 * direct message from the Service actor.
 */
import type { ParsedArgs } from './args.ts';
import { actorArg, checkArgs, fail, usage } from './cli-support.ts';
import type { CliCore, CliIo } from './main.ts';
import type { GroupRequestState } from '../storage/self-service.store.ts';
import { field } from './terminal-text.ts';

export const OWNER_USAGE = `  owner show NAME                               the owner of a group (none for groups the admin created)
  owner set NAME ACTOR [--reason R]             make ACTOR the owner (a moderator first if needed)
  owner clear NAME                              leave the group without an owner
  requests [--state pending|created|approved|rejected] [--limit N]
                                                requests to create groups (default: those waiting)
  requests approve ID [--reason R]              create the group, owned by the requester (who is told)
  requests reject ID [--reason R]               refuse it (the requester is told, with the reason)`;

const STATES: readonly GroupRequestState[] = ['pending', 'created', 'approved', 'rejected'];

export async function ownerCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const [, sub, name, actor] = args.positional;
  switch (sub) {
    case 'show': {
      const bad = checkArgs(args, io, { words: 3, options: [] }, 'guild owner show NAME');
      if (bad !== null) return bad;
      if (!(await core.groups.get(name ?? ''))) return fail(io, `no group named "${name}"`);
      const owner = await core.store.owners.getOwner(name ?? '');
      io.out(owner ? `${field(owner.actorId)}\tsince ${new Date(owner.since).toISOString()}` : 'no owner');
      return 0;
    }
    case 'set': {
      const bad = checkArgs(
        args,
        io,
        { words: 4, options: ['reason'] },
        'guild owner set NAME ACTOR [--reason R]',
      );
      if (bad !== null) return bad;
      const who = await actorArg(actor ?? '', core, io);
      if (who === null) return 1;
      const r = await core.ownership.transfer(name ?? '', who, {
        by: 'admin',
        reason: args.flags.reason ?? '',
      });
      if (!r.ok)
        return fail(
          io,
          r.error.type === 'invalid'
            ? r.error.detail
            : r.error.type === 'group-not-found'
              ? `no group named "${name}"`
              : r.error.type,
        );
      io.out(r.value ? `${field(who)} now owns ${name}` : `${field(who)} already owns ${name}`);
      return 0;
    }
    case 'clear': {
      const bad = checkArgs(args, io, { words: 3, options: ['reason'] }, 'guild owner clear NAME');
      if (bad !== null) return bad;
      const r = await core.ownership.clearOwner(name ?? '', { by: 'admin', reason: args.flags.reason ?? '' });
      if (!r.ok) return fail(io, `no group named "${name}"`);
      io.out(r.value ? `${name} has no owner now` : `${name} had no owner`);
      return 0;
    }
    default:
      return usage(io, OWNER_USAGE.trim());
  }
}

export async function requestsCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const [, sub, id] = args.positional;
  if (sub === 'approve' || sub === 'reject') {
    const bad = checkArgs(
      args,
      io,
      { words: 3, options: ['reason'] },
      `guild requests ${sub} ID [--reason R]`,
    );
    if (bad !== null) return bad;
    const reason = args.flags.reason ?? '';
    const r =
      sub === 'approve'
        ? await core.creation.approve(id ?? '', reason)
        : await core.creation.reject(id ?? '', reason);
    if (!r.ok)
      return fail(
        io,
        r.error.type === 'not-found'
          ? `no request ${id}`
          : r.error.type === 'not-pending'
            ? `request ${id} was already decided`
            : 'the name was taken meanwhile; reject the request',
      );
    io.out(
      sub === 'approve'
        ? `approved ${id}: the group is created and its owner told`
        : `rejected ${id}; the requester is told`,
    );
    return 0;
  }
  const bad = checkArgs(
    args,
    io,
    { words: 1, options: ['state', 'limit'] },
    'guild requests [--state S] [--limit N]',
  );
  if (bad !== null) return bad;
  const state = STATES.find((s) => s === (args.flags.state ?? 'pending'));
  if (!state) return fail(io, `--state must be one of ${STATES.join(', ')}`);
  const limit = Number(args.flags.limit ?? '100');
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    return fail(io, '--limit must be a whole number from 1 to 1000');
  const list = await core.creation.list(state, null, limit);
  io.out(`group creation: ${core.creation.mode}`);
  if (list.length === 0) io.out(`no ${state} requests`);
  for (const r of list)
    io.out(
      `${r.id}\t${r.name}\t${field(r.requesterId)}\t${new Date(r.createdAt).toISOString()}\t${field(r.title)}${r.reason ? `\t${field(r.reason)}` : ''}`,
    );
  return 0;
}
