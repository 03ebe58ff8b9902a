/** `guild group ...` */
import type { Config } from '../config/config.ts';
import type { GroupService } from '../groups/group.service.ts';
import type { Urls } from '../groups/urls.ts';
import type { Store } from '../storage/store.ts';
import type { ParsedArgs } from './args.ts';
import type { CliIo } from './main.ts';

export async function groupCommand(
  args: ParsedArgs,
  core: { groups: GroupService; urls: Urls; store: Store },
  config: Config,
  io: CliIo,
): Promise<number> {
  const [, sub, name] = args.positional;
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
          io.out(`${g.name}\t${members} members\t${g.settings.membershipPolicy}\t${g.title}`);
          count++;
        }
        after = page[page.length - 1]?.name ?? null;
      }
      if (count === 0) io.out('no groups yet: guild group create NAME');
      return 0;
    }
    case 'delete': {
      if (!name) return usage(io, 'guild group delete NAME');
      const r = await core.groups.delete(name);
      if (!r.ok) {
        io.err(r.error.type === 'not-found' ? `guild: no group named "${name}"` : `guild: "${name}" is already deleted`);
        return 1;
      }
      io.out(`deleted ${name}; members are being told`);
      return 0;
    }
    default:
      return usage(io, 'guild group create|list|delete ...');
  }
}

function usage(io: CliIo, text: string): number {
  io.err(`usage: ${text}`);
  return 2;
}
