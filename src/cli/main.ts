/** The admin command line. Works on the configured store; running servers pick up queued work. */
import { ConfigError, loadConfig } from '../config/config.ts';
import { createLogger } from '../log.ts';
import { compose } from '../app/compose.ts';
import type { Store } from '../storage/store.ts';
import type { Urls } from '../activitypub/urls.ts';
import type { GroupService } from '../groups/group.service.ts';
import type { SettingsService } from '../groups/settings.service.ts';
import type { MembershipService } from '../groups/membership.service.ts';
import type { ModerationService } from '../groups/moderation.service.ts';
import type { InstanceService } from '../groups/instance.service.ts';
import type { MoveService } from '../groups/move.service.ts';
import type { GroupFollowService } from '../groups/group-follow.service.ts';
import type { PeeringService } from '../groups/peering.service.ts';
import { peerCommand, PEER_USAGE } from './links.command.ts';
import { parseArgs, type ParsedArgs } from './args.ts';
import { groupCommand, GROUP_USAGE } from './group.command.ts';
import { SWITCHES } from './cli-support.ts';
import {
  banCommand,
  bansCommand,
  modCommand,
  MODERATION_USAGE,
  postActionCommand,
  removePostCommand,
  unbanCommand,
} from './moderation.command.ts';
import { domainCommand, DOMAIN_USAGE } from './domain.command.ts';
import { hostsCommand, HOSTS_USAGE } from './hosts.command.ts';
import { auditCommand, heldCommand, reportCommand, reportsCommand, REVIEW_USAGE } from './review.command.ts';
import { terminalSafe } from './terminal-text.ts';
import { backupCommand, BACKUP_USAGE } from './backup.command.ts';
import { ownerCommand, OWNER_USAGE, requestsCommand } from './owner.command.ts';
import type { OwnershipService } from '../groups/ownership.service.ts';
import type { GroupCreationService } from '../groups/group-creation.service.ts';

export const USAGE = `Usage: guild <command>

Groups:
${GROUP_USAGE}

Owners and requests to create groups:
${OWNER_USAGE}

Moderation (as the admin; members' servers are told):
${MODERATION_USAGE}
${REVIEW_USAGE}

Domains (the whole instance):
${DOMAIN_USAGE}

Peers (one directory across instances):
${PEER_USAGE}

Delivery:
${HOSTS_USAGE}

Backup (SQLite store):
${BACKUP_USAGE}

ACTOR is an actor id (https://...) or a handle (@user@host, looked up with WebFinger).
Configuration comes from config/default.json and GUILD_* environment variables (see README).
Uploaded icons and banners are kept in media/ next to the SQLite file and served at /media/.`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Turns an account handle (`@user@host`) into an actor id, or null when it cannot be found. */
export interface HandleResolver {
  /** The actor id behind the handle (WebFinger), or null. */
  resolveHandle(handle: string): Promise<string | null>;
}

/** The services the commands use. */
export interface CliCore {
  store: Store;
  urls: Urls;
  groups: GroupService;
  settings: SettingsService;
  membership: MembershipService;
  moderation: ModerationService;
  instance: InstanceService;
  moves: MoveService;
  groupFollows: GroupFollowService;
  peering: PeeringService;
  ownership: OwnershipService;
  creation: GroupCreationService;
  handles: HandleResolver;
}

type Command = (args: ParsedArgs, core: CliCore, io: CliIo) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  mod: modCommand,
  ban: banCommand,
  unban: unbanCommand,
  bans: bansCommand,
  'remove-post': removePostCommand,
  'restore-post': postActionCommand,
  pin: postActionCommand,
  unpin: postActionCommand,
  lock: postActionCommand,
  unlock: postActionCommand,
  'approve-post': postActionCommand,
  'reject-post': postActionCommand,
  domain: domainCommand,
  reports: reportsCommand,
  report: reportCommand,
  held: heldCommand,
  audit: auditCommand,
  hosts: hostsCommand,
  peer: peerCommand,
  owner: ownerCommand,
  requests: requestsCommand,
};

export async function runCli(
  argv: string[],
  terminal: CliIo,
  env: Record<string, string | undefined>,
): Promise<number> {
  // Much of what is printed came from other servers: no control character reaches the terminal.
  const io: CliIo = {
    out: (line) => terminal.out(terminalSafe(line)),
    err: (line) => terminal.err(terminalSafe(line)),
  };
  const args: ParsedArgs = parseArgs(argv, SWITCHES);
  if (args.positional.length === 0 || args.positional[0] === 'help' || args.flags.help !== undefined) {
    io.out(USAGE);
    return args.positional.length === 0 ? 2 : 0;
  }
  const name = args.positional[0] ?? '';
  const command = name === 'group' || name === 'backup' || name === 'restore' ? null : COMMANDS[name];
  if (command === undefined) {
    io.err(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
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
  // Backup and restore work on the database file: no service is built, nothing is written to the store.
  if (name === 'backup' || name === 'restore') return backupCommand(args, config, io);
  const log = createLogger(config.logLevel === 'debug' ? 'debug' : 'warn', { service: 'guild-cli' });
  let built;
  try {
    built = await compose(config, { log });
  } catch (e) {
    io.err(`guild: cannot open the ${config.store} store: ${(e as Error).message}`);
    return 1;
  }
  const core: CliCore = {
    store: built.store,
    urls: built.urls,
    groups: built.groups,
    settings: built.settings,
    membership: built.membership,
    moderation: built.moderation,
    instance: built.instance,
    moves: built.moves,
    groupFollows: built.groupFollows,
    peering: built.peering,
    ownership: built.ownership,
    creation: built.creation,
    handles: built.resolver,
  };
  try {
    return command === null ? await groupCommand(args, core, config, io) : await command(args, core, io);
  } finally {
    await built.close();
  }
}
