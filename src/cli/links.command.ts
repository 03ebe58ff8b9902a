/** `guild group follow|unfollow|following ...` (groups following groups) and `guild peer ...` (peered instances). */
import { followErrorText } from '../groups/group-follow.service.ts';
import { peerErrorText } from '../groups/peering.service.ts';
import type { ParsedArgs } from './args.ts';
import { checkArgs, fail } from './cli-support.ts';
import type { CliCore, CliIo } from './main.ts';
import { field } from './terminal-text.ts';

export const FOLLOW_SUBCOMMANDS = new Set(['follow', 'unfollow', 'following']);

export const FOLLOW_USAGE = `  group follow NAME @group@host                 make a group follow another group (FEP-d36d): what that
                                                group announces is re-shared to this group's members
  group unfollow NAME @group@host               stop following it
  group following NAME                          list the groups a group follows`;

export const PEER_USAGE = `  peer add HOST                                 peer with another instance: the two directories list
                                                each other's discoverable groups (once both added)
  peer remove HOST                              end a peering; its groups leave the directory
  peer list                                     list peers and their state`;

export async function followCommand(
  sub: string,
  args: ParsedArgs,
  core: CliCore,
  io: CliIo,
): Promise<number> {
  if (sub === 'following') {
    const bad = checkArgs(args, io, { words: 3, options: [] }, 'guild group following NAME');
    if (bad !== null) return bad;
    const name = args.positional[2] ?? '';
    if (!(await core.groups.get(name))) return fail(io, `no group named "${name}"`);
    let count = 0;
    for (let after: string | null = null; ;) {
      const page = await core.groupFollows.list(name, after, 200);
      if (page.length === 0) break;
      for (const f of page) io.out(`${f.targetId}\t${f.state}\tsince ${new Date(f.createdAt).toISOString()}`);
      count += page.length;
      after = page[page.length - 1]?.targetId ?? null;
    }
    if (count === 0) io.out(`${name} follows no group: guild group follow ${name} @group@host`);
    return 0;
  }
  const text = `guild group ${sub} NAME @group@host`;
  const bad = checkArgs(args, io, { words: 4, options: [] }, text);
  if (bad !== null) return bad;
  const [, , name = '', target = ''] = args.positional;
  const r =
    sub === 'follow'
      ? await core.groupFollows.follow(name, target, 'admin')
      : await core.groupFollows.unfollow(name, target, 'admin');
  if (!r.ok) return fail(io, followErrorText(r.error, name, target));
  io.out(
    sub === 'follow'
      ? `${name} ${r.value.state === 'accepted' ? 'follows' : 'asked to follow'} ${r.value.targetId}`
      : `${name} no longer follows ${r.value.targetId}; it is being sent Undo{Follow}`,
  );
  return 0;
}

export async function peerCommand(args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const sub = args.positional[1];
  if (sub === 'list') {
    const bad = checkArgs(args, io, { words: 2, options: [] }, 'guild peer list');
    if (bad !== null) return bad;
    let count = 0;
    for (let after: string | null = null; ;) {
      const page = await core.peering.list(after, 100);
      if (page.length === 0) break;
      for (const p of page) {
        const state = !p.added
          ? 'asks to peer (not added here)'
          : `${p.following ? 'its groups listed here' : 'waiting for its answer'}; ${p.followedBy ? 'ours listed there' : 'ours not listed there yet'}`;
        io.out(`${p.host}\t${field(p.actorId)}\t${state}\tlast seen ${new Date(p.lastSeenAt).toISOString()}`);
      }
      count += page.length;
      after = page[page.length - 1]?.host ?? null;
    }
    if (count === 0) io.out('no peers: guild peer add HOST');
    return 0;
  }
  if (sub !== 'add' && sub !== 'remove') {
    io.err(`usage:\n${PEER_USAGE}`);
    return 2;
  }
  const bad = checkArgs(args, io, { words: 3, options: [] }, `guild peer ${sub} HOST`);
  if (bad !== null) return bad;
  const host = args.positional[2] ?? '';
  const r = sub === 'add' ? await core.peering.add(host) : await core.peering.remove(host);
  if (!r.ok) return fail(io, peerErrorText(r.error, host));
  io.out(
    sub === 'add'
      ? `peered with ${r.value.host} (${r.value.actorId}); its groups appear here once it adds this instance too`
      : `removed ${r.value.host}; its groups left the directory`,
  );
  return 0;
}
