/** The admin command line. Works on the configured store; running servers pick up queued work. */
import { ConfigError, loadConfig } from '../config/config.ts';
import { createLogger } from '../log.ts';
import { buildCore } from '../server.ts';
import type { Store } from '../storage/store.ts';
import type { Urls } from '../groups/urls.ts';
import type { GroupService } from '../groups/group.service.ts';
import { SettingsService } from '../groups/settings.service.ts';
import { MembershipService } from '../groups/membership.service.ts';
import { FileMediaStore, mediaDirFor } from '../web/media.store.ts';
import { parseArgs, type ParsedArgs } from './args.ts';
import { groupCommand, GROUP_USAGE } from './group.command.ts';

export const USAGE = `Usage: guild <command>

${GROUP_USAGE}

Configuration comes from config/default.json and GUILD_* environment variables (see README).
Uploaded icons and banners are kept in media/ next to the SQLite file and served at /media/.`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** The services the commands use. */
export interface CliCore {
  store: Store;
  urls: Urls;
  groups: GroupService;
  settings: SettingsService;
  membership: MembershipService;
}

export async function runCli(
  argv: string[],
  io: CliIo,
  env: Record<string, string | undefined>,
): Promise<number> {
  const args: ParsedArgs = parseArgs(argv);
  if (args.positional.length === 0 || args.positional[0] === 'help' || args.flags.help !== undefined) {
    io.out(USAGE);
    return args.positional.length === 0 ? 2 : 0;
  }
  let config;
  try {
    config = loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(e.message);
      return 2;
    }
    throw e;
  }
  const log = createLogger(config.logLevel === 'debug' ? 'debug' : 'warn', { service: 'guild-cli' });
  let built;
  try {
    built = await buildCore(config, { log });
  } catch (e) {
    io.err(`guild: cannot open the ${config.store} store: ${(e as Error).message}`);
    return 1;
  }
  const { store, urls, publisher, groups } = built;
  const membership = new MembershipService({ store, urls, publisher });
  const core: CliCore = {
    store,
    urls,
    groups,
    settings: new SettingsService({
      store,
      urls,
      publisher,
      domain: config.domain,
      media: new FileMediaStore(mediaDirFor(config), config.origin),
      membership,
    }),
    membership,
  };
  try {
    switch (args.positional[0]) {
      case 'group':
        return await groupCommand(args, core, config, io);
      default:
        io.err(`unknown command "${args.positional[0]}"\n\n${USAGE}`);
        return 2;
    }
  } finally {
    await store.close();
  }
}
