/** `guild group export|import|move ...`: moving a group to another Guild. */
import { readFile, writeFile } from 'node:fs/promises';
import type { Config } from '../config/config.ts';
import { decodeGroupExport } from '../groups/group-export.ts';
import { moveErrorText } from '../groups/moved.ts';
import type { ParsedArgs } from './args.ts';
import { checkArgs, fail } from './cli-support.ts';
import type { CliCore, CliIo } from './main.ts';

export const MOVE_SUBCOMMANDS = new Set(['export', 'import', 'move']);

export const MOVE_USAGE = `  group export NAME FILE                        write a group's profile, settings, moderators, bans, pins
                                                and members to FILE (JSON), to import it on another Guild
  group import FILE [--name NAME]               create the group of an export here (it lists the old one
                                                in alsoKnownAs; its old members join without approval)
  group move NAME --to @name@host               move a group to its imported copy: members are sent Move,
                                                the group points to the new one from then on`;

export async function moveCommand(
  sub: string,
  args: ParsedArgs,
  core: CliCore,
  config: Config,
  io: CliIo,
): Promise<number> {
  switch (sub) {
    case 'export': {
      const bad = checkArgs(args, io, { words: 4, options: [] }, 'guild group export NAME FILE');
      if (bad !== null) return bad;
      const [, , name = '', file = ''] = args.positional;
      const r = await core.moves.exportGroup(name);
      if (!r.ok) return fail(io, `no group named "${name}"`);
      await writeFile(file, `${JSON.stringify(r.value, null, 2)}\n`, { mode: 0o600 });
      const v = r.value;
      io.out(
        `exported ${name} to ${file}: ${v.members.length} members, ${v.moderators.length} moderators, ` +
          `${v.bans.length} bans, ${v.pinned.length} pinned posts`,
      );
      return 0;
    }
    case 'import': {
      const bad = checkArgs(
        args,
        io,
        { words: 3, options: ['name'] },
        'guild group import FILE [--name NAME]',
      );
      if (bad !== null) return bad;
      const file = args.positional[2] ?? '';
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        return fail(io, `cannot read ${file}: ${(e as Error).message}`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        return fail(io, `${file} is not JSON: ${(e as Error).message}`);
      }
      const decoded = decodeGroupExport(parsed);
      if (!decoded.ok) {
        io.err(`guild: ${file} cannot be imported; nothing was changed:`);
        for (const p of decoded.error) io.err(`  ${p.path || '(file)'}: ${p.detail}`);
        return 1;
      }
      const r = await core.moves.importGroup(decoded.value, args.flags.name ? { name: args.flags.name } : {});
      if (!r.ok) {
        const e = r.error;
        return fail(
          io,
          e.type === 'name-taken'
            ? `the name "${args.flags.name ?? decoded.value.group.name}" is taken; choose another with --name`
            : e.detail,
        );
      }
      const g = r.value.group;
      io.out(
        `${r.value.resumed ? 'completed the import of' : 'imported'} @${g.name}@${config.domain}  ` +
          `${core.urls.group(g.name)}  (alsoKnownAs ${decoded.value.source.actor}; ` +
          `${r.value.priorMembers} former members may join without approval)`,
      );
      io.out(
        `now, on the old server: guild group move ${decoded.value.group.name} --to @${g.name}@${config.domain}`,
      );
      return 0;
    }
    case 'move': {
      const bad = checkArgs(args, io, { words: 3, options: ['to'] }, 'guild group move NAME --to @name@host');
      if (bad !== null) return bad;
      const name = args.positional[2] ?? '';
      const to = args.flags.to;
      if (!to) return fail(io, 'say where to: --to @name@host (or the new group actor id)');
      const r = await core.moves.move(name, to, 'admin');
      if (!r.ok) return fail(io, moveErrorText(r.error, name));
      io.out(`moved ${name} to ${r.value.target}; its members are being sent Move`);
      return 0;
    }
    default:
      return fail(io, `unknown command group ${sub}`);
  }
}
