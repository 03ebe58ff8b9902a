/** The MongoDB store: opens the database, builds every repository of the storage port on it, closes it. */
import { MongoClient, type Db } from 'mongodb';
import type { Store } from '../store.ts';
import { MongoActivityRepository } from './activity.repository.mongodb.ts';
import { MongoAuditRepository } from './audit.repository.mongodb.ts';
import { MongoBanRepository } from './ban.repository.mongodb.ts';
import {
  MongoClaimRepository,
  MongoRateLimitRepository,
  MongoVoteRepository,
} from './brakes.repository.mongodb.ts';
import { collectionsOf, ensureIndexes } from './documents.mongodb.ts';
import { listDeliveryInboxesOnce } from './delivery-inboxes.mongodb.ts';
import { MongoDomainPolicyRepository } from './domain-policy.repository.mongodb.ts';
import { MongoGroupRepository } from './group.repository.mongodb.ts';
import { MongoHeldPostRepository } from './held-post.repository.mongodb.ts';
import { MongoHostRepository } from './host.repository.mongodb.ts';
import { MongoJobQueue } from './job-queue.mongodb.ts';
import { MongoKeyRepository } from './key.repository.mongodb.ts';
import { MongoMemberRepository } from './member.repository.mongodb.ts';
import { MongoModeratorRepository } from './moderator.repository.mongodb.ts';
import { MongoPeerSoftwareRepository } from './peer-software.repository.mongodb.ts';
import { MongoPostFlagsRepository } from './post-flags.repository.mongodb.ts';
import { MongoPostRepository } from './post.repository.mongodb.ts';
import { MongoRemoteActorRepository } from './remote-actor.repository.mongodb.ts';
import { MongoReportRepository } from './report.repository.mongodb.ts';
import { MongoGroupFollowRepository, MongoGroupMoveRepository } from './moves.repository.mongodb.ts';
import { MongoDirectoryRepository, MongoPeerRepository } from './peers.repository.mongodb.ts';
import {
  ensureSelfServiceIndexes,
  MongoCodeRepository,
  MongoGroupRequestRepository,
  MongoOwnerRepository,
  MongoSessionRepository,
  selfServiceCollectionsOf,
} from './self-service.repository.mongodb.ts';

/** Used when neither `dbName` nor the URL names a database. */
export const DEFAULT_MONGODB_DB_NAME = 'guild';
/** An unreachable server fails start-up (and later operations) after about this long. */
const TIMEOUT_MS = 5000;

/** The whole storage port on one MongoDB (or FerretDB) database. */
export class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  readonly groups: MongoGroupRepository;
  readonly keys: MongoKeyRepository;
  readonly members: MongoMemberRepository;
  readonly remoteActors: MongoRemoteActorRepository;
  readonly activities: MongoActivityRepository;
  readonly posts: MongoPostRepository;
  readonly jobs: MongoJobQueue;
  readonly moderators: MongoModeratorRepository;
  readonly bans: MongoBanRepository;
  readonly domains: MongoDomainPolicyRepository;
  readonly reports: MongoReportRepository;
  readonly held: MongoHeldPostRepository;
  readonly audit: MongoAuditRepository;
  readonly postFlags: MongoPostFlagsRepository;
  readonly hosts: MongoHostRepository;
  readonly votes: MongoVoteRepository;
  readonly rateLimits: MongoRateLimitRepository;
  readonly claims: MongoClaimRepository;
  readonly moves: MongoGroupMoveRepository;
  readonly groupFollows: MongoGroupFollowRepository;
  readonly peerings: MongoPeerRepository;
  readonly directory: MongoDirectoryRepository;
  readonly peers: MongoPeerSoftwareRepository;
  readonly owners: MongoOwnerRepository;
  readonly groupRequests: MongoGroupRequestRepository;
  readonly codes: MongoCodeRepository;
  readonly sessions: MongoSessionRepository;
  readonly #client: MongoClient;
  readonly #db: Db;

  /** Wraps a connected client. Use {@link openMongoStore} instead. */
  constructor(client: MongoClient, db: Db) {
    this.#client = client;
    this.#db = db;
    const collections = collectionsOf(db);
    this.groups = new MongoGroupRepository(collections.groups);
    this.keys = new MongoKeyRepository(collections.keyPairs);
    this.members = new MongoMemberRepository(collections.members, collections.deliveryInboxes);
    this.remoteActors = new MongoRemoteActorRepository(
      collections.remoteActors,
      collections.members,
      collections.moderators,
    );
    this.activities = new MongoActivityRepository(collections.activities);
    this.posts = new MongoPostRepository(collections.posts, collections.activities);
    this.jobs = new MongoJobQueue(
      collections.jobs,
      collections.jobTransitions,
      collections.jobPacks,
      collections.jobPacksDone,
    );
    this.moderators = new MongoModeratorRepository(collections.moderators);
    this.bans = new MongoBanRepository(collections.bans);
    this.domains = new MongoDomainPolicyRepository(collections.domainPolicies);
    this.reports = new MongoReportRepository(collections.reports, collections.reportResolutions);
    this.held = new MongoHeldPostRepository(collections.heldPosts);
    this.audit = new MongoAuditRepository(collections.audit);
    this.postFlags = new MongoPostFlagsRepository(collections.posts);
    this.hosts = new MongoHostRepository(collections.hosts);
    this.votes = new MongoVoteRepository(collections.votes);
    this.rateLimits = new MongoRateLimitRepository(collections.rateHits);
    this.claims = new MongoClaimRepository(collections.claims);
    this.moves = new MongoGroupMoveRepository(collections.groupMoves, collections.priorMembers);
    this.groupFollows = new MongoGroupFollowRepository(
      collections.groupFollows,
      collections.knownMembers,
      collections.members,
    );
    this.peerings = new MongoPeerRepository(collections.peerings);
    this.directory = new MongoDirectoryRepository(collections.directoryEntries);
    this.peers = new MongoPeerSoftwareRepository(collections.peers);
    const selfService = selfServiceCollectionsOf(db);
    this.owners = new MongoOwnerRepository(selfService.owners);
    this.groupRequests = new MongoGroupRequestRepository(
      selfService.groupRequests,
      selfService.requestDecisions,
    );
    this.codes = new MongoCodeRepository(selfService.codes, selfService.codeUses);
    this.sessions = new MongoSessionRepository(selfService.sessions);
  }

  async ping(): Promise<void> {
    await this.#db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.members.close();
    await this.#client.close();
  }
}

/** The URL with any password replaced, for messages and logs. */
export function redactMongoUrl(url: string): string {
  return url.replace(/^(mongodb(?:\+srv)?:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}

/** The database named in the URL path (`mongodb://host/NAME?...`), or null. */
function dbNameInUrl(url: string): string | null {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]+)/.exec(url);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface MongoStoreOptions {
  /**
   * Called with the name of every command the driver sends (`find`, `insert`, `update`, `getMore`...), from the
   * driver's command monitoring: each is one round trip to the server. Connection handshakes and the driver's
   * server monitoring are not commands.
   */
  onCommand?: (command: string) => void;
}

/**
 * Connects to `url` with the official driver, creates the indexes and returns the store. The database is
 * `dbName`, else the one named in the URL, else {@link DEFAULT_MONGODB_DB_NAME}. Throws a clear error when the
 * URL cannot be parsed or the server cannot be reached within a few seconds. Uses no transactions, change
 * streams or aggregation, so it runs on FerretDB as well as on MongoDB.
 */
export async function openMongoStore(
  url: string,
  dbName?: string,
  options: MongoStoreOptions = {},
): Promise<Store> {
  let client: MongoClient;
  try {
    client = new MongoClient(url, {
      serverSelectionTimeoutMS: TIMEOUT_MS,
      connectTimeoutMS: TIMEOUT_MS,
      appName: 'guild',
      ...(options.onCommand ? { monitorCommands: true } : {}),
    });
  } catch (error) {
    throw new Error(`GUILD_MONGODB_URL is not a valid MongoDB connection string: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const onCommand = options.onCommand;
  if (onCommand) client.on('commandStarted', (event) => onCommand(event.commandName));
  try {
    await client.connect();
    const db = client.db(dbName ?? dbNameInUrl(url) ?? DEFAULT_MONGODB_DB_NAME);
    await db.command({ ping: 1 });
    const store = new MongoStore(client, db);
    const collections = collectionsOf(db);
    // Before the list's index exists: its absence says the list may need to be built.
    await listDeliveryInboxesOnce(collections.deliveryInboxes, collections.members);
    await ensureIndexes(collections);
    await ensureSelfServiceIndexes(selfServiceCollectionsOf(db), db);
    return store;
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new Error(`GUILD_MONGODB_URL: cannot use MongoDB at ${redactMongoUrl(url)}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}
