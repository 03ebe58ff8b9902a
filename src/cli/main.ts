/** The admin command line. Works on the configured store; running servers pick up queued work. */
import { ConfigError, loadConfig } from '../config/config.ts';
import { createLogger } from '../log.ts';
import { buildCore } from '../server.ts';
import { parseArgs, type ParsedArgs } from './args.ts';
import { groupCommand } from './group.command.ts';

export const USAGE = `Usage: guild <command>

  group create NAME [--title T] [--summary S]   create a group
  group list                                    list groups
  group delete NAME                             delete a group (members are told; the name stays reserved)

Configuration comes from config/default.json and GUILD_* environment variables (see README).`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function runCli(argv: string[], io: CliIo, env: Record<string, string | undefined> = process.env): Promise<number> {
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
  let core;
  try {
    core = await buildCore(config, { log });
  } catch (e) {
    io.err(`guild: cannot open the ${config.store} store: ${(e as Error).message}`);
    return 1;
  }
  try {
    switch (args.positional[0]) {
      case 'group':
        return await groupCommand(args, core, config, io);
      default:
        io.err(`unknown command "${args.positional[0]}"\n\n${USAGE}`);
        return 2;
    }
  } finally {
    await core.store.close();
  }
}
