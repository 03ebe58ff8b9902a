/** `guild group ...`: create, list, show, set, delete, and the membership commands. */
import type { Config } from '../config/config.ts';
import type { ParsedArgs } from './args.ts';
import type { CliCore, CliIo } from './main.ts';
import { setCommand, SET_USAGE } from './group-settings.command.ts';
import { membershipCommand, MEMBERSHIP_SUBCOMMANDS, MEMBERSHIP_USAGE } from './group-members.command.ts';
import { field } from './terminal-text.ts';
import { moveCommand, MOVE_SUBCOMMANDS, MOVE_USAGE } from './group-move.command.ts';
import { followCommand, FOLLOW_SUBCOMMANDS, FOLLOW_USAGE } from './links.command.ts';

export const GROUP_USAGE = `  group create NAME [--title T] [--summary S]   create a group
  group list                                    list groups
  group show NAME                               show a group's profile and settings
${SET_USAGE}
${MEMBERSHIP_USAGE}
${MOVE_USAGE}
${FOLLOW_USAGE}
  group delete NAME                             delete a group (members are told; the name stays reserved)`;

export async function groupCommand(
  args: ParsedArgs,
  core: CliCore,
  config: Config,
  io: CliIo,
): Promise<number> {
  const [, sub, name] = args.positional;
  if (sub !== undefined && MEMBERSHIP_SUBCOMMANDS.has(sub)) return membershipCommand(sub, args, core, io);
  if (sub !== undefined && MOVE_SUBCOMMANDS.has(sub)) return moveCommand(sub, args, core, config, io);
  if (sub !== undefined && FOLLOW_SUBCOMMANDS.has(sub)) return followCommand(sub, args, core, io);
  switch (sub) {
    case 'create': {
      if (!name) return usage(io, 'guild group create NAME [--title T] [--summary S]');
      const fields: { title?: string; summary?: string } = {};
      if (args.flags.title !== undefined) fields.title = args.flags.title;
      if (args.flags.summary !== undefined) fields.summary = args.flags.summary;
      const r = await core.groups.create(name, fields);
      if (!r.ok) {
        switch (r.error.type) {
          case 'invalid-name':
          case 'invalid-field':
            io.err(`guild: ${r.error.detail}`);
            return 1;
          case 'name-taken':
            io.err(`guild: the name "${name}" is taken (names of deleted groups are never reused)`);
            return 1;
          default: {
            const never: never = r.error;
            throw new Error(`unhandled ${JSON.stringify(never)}`);
          }
        }
      }
      io.out(`created @${r.value.name}@${config.domain}  ${core.urls.group(r.value.name)}`);
      return 0;
    }
    case 'list': {
      let after: string | null = null;
      let count = 0;
      for (;;) {
        const page = await core.groups.list(after, 200);
        if (page.length === 0) break;
        for (const g of page) {
          const members = await core.store.members.countMembers(g.name, 'accepted');
          io.out(`${g.name}\t${members} members\t${g.settings.membershipPolicy}\t${field(g.title)}`);
          count++;
        }
        after = page[page.length - 1]?.name ?? null;
      }
      if (count === 0) io.out('no groups yet: guild group create NAME');
      return 0;
    }
    case 'show': {
      if (!name) return usage(io, 'guild group show NAME');
      const g = await core.groups.get(name);
      if (!g) {
        io.err(`guild: no group named "${name}"`);
        return 1;
      }
      const s = g.settings;
      const [accepted, pending] = await Promise.all([
        core.store.members.countMembers(g.name, 'accepted'),
        core.store.members.countMembers(g.name, 'pending'),
      ]);
      const rows: Array<[string, string]> = [
        ['handle', `@${g.name}@${config.domain}`],
        ['actor', core.urls.group(g.name)],
        ['title', g.title],
        ['summary', g.summary],
        ['rules', s.rules],
        ['icon', s.iconUrl ?? ''],
        ['banner', s.bannerUrl ?? ''],
        ['language', s.language ?? ''],
        ['tags', s.tags.join(',')],
        ['sensitive', String(s.sensitive)],
        ['discoverable', String(s.discoverable)],
        ['membership', s.membershipPolicy],
        ['posting', s.postingPolicy],
        ['max-group-mentions', String(s.maxGroupMentions)],
        ['max-posts-per-hour', String(s.maxPostsPerHour)],
        ['max-activities-per-hour', String(s.maxActivitiesPerHour)],
        ['max-edits-per-post-per-hour', String(s.maxEditsPerPostPerHour)],
        ['premoderate-first-posts', String(s.premoderateFirstPosts)],
        ['list-followers', String(s.listFollowers)],
        ['group-followers', s.acceptGroupFollowers ? 'accept' : 'refuse'],
        ['members', String(accepted)],
        ['pending', String(pending)],
        ['owner', (await core.store.owners.getOwner(g.name))?.actorId ?? '(none)'],
      ];
      for (const [k, v] of rows) io.out(`${k}:\t${v.replace(/\n/g, '\n\t')}`);
      return 0;
    }
    case 'set':
      if (!name) return usage(io, 'guild group set NAME --field value ...');
      return setCommand(name, args, core, io);
    case 'delete': {
      if (!name) return usage(io, 'guild group delete NAME');
      const r = await core.groups.delete(name);
      if (!r.ok) {
        io.err(
          r.error.type === 'not-found'
            ? `guild: no group named "${name}"`
            : `guild: "${name}" is already deleted`,
        );
        return 1;
      }
      io.out(`deleted ${name}; members are being told`);
      return 0;
    }
    default:
      io.err(`usage:\n${GROUP_USAGE}`);
      return 2;
  }
}

export function usage(io: CliIo, text: string): number {
  io.err(`usage: ${text}`);
  return 2;
}
