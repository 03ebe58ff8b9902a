/** The SQLite store: opens the database, builds every repository of the storage port on it, closes it. */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import type { Store } from '../store.ts';
import { SqliteActivityRepository } from './activity.repository.sqlite.ts';
import { SqliteAuditRepository } from './audit.repository.sqlite.ts';
import { SqliteBanRepository } from './ban.repository.sqlite.ts';
import {
  SqliteClaimRepository,
  SqliteRateLimitRepository,
  SqliteVoteRepository,
} from './brakes.repository.sqlite.ts';
import { SqliteDomainPolicyRepository } from './domain-policy.repository.sqlite.ts';
import { SqliteGroupRepository } from './group.repository.sqlite.ts';
import { SqliteHeldPostRepository } from './held-post.repository.sqlite.ts';
import { SqliteHostRepository } from './host.repository.sqlite.ts';
import { SqliteJobQueue } from './job-queue.sqlite.ts';
import { SqliteKeyRepository } from './key.repository.sqlite.ts';
import { SqliteMemberRepository } from './member.repository.sqlite.ts';
import { migrateSqlite } from './migrations.sqlite.ts';
import { SqliteModeratorRepository } from './moderator.repository.sqlite.ts';
import { SqlitePeerSoftwareRepository } from './peer-software.repository.sqlite.ts';
import { SqlitePostFlagsRepository } from './post-flags.repository.sqlite.ts';
import { SqlitePostRepository } from './post.repository.sqlite.ts';
import { SqliteRemoteActorRepository } from './remote-actor.repository.sqlite.ts';
import { SqliteReportRepository } from './report.repository.sqlite.ts';
import { SqliteGroupFollowRepository, SqliteGroupMoveRepository } from './moves.repository.sqlite.ts';
import { SqliteDirectoryRepository, SqlitePeerRepository } from './peers.repository.sqlite.ts';
import { SqliteGroupRequestRepository, SqliteOwnerRepository } from './group-request.repository.sqlite.ts';
import { SqliteCodeRepository, SqliteSessionRepository } from './session.repository.sqlite.ts';

/** How long a connection waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** The whole storage port on one SQLite file (one connection, write-ahead log). */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly groups: SqliteGroupRepository;
  readonly keys: SqliteKeyRepository;
  readonly members: SqliteMemberRepository;
  readonly remoteActors: SqliteRemoteActorRepository;
  readonly activities: SqliteActivityRepository;
  readonly posts: SqlitePostRepository;
  readonly jobs: SqliteJobQueue;
  readonly moderators: SqliteModeratorRepository;
  readonly bans: SqliteBanRepository;
  readonly domains: SqliteDomainPolicyRepository;
  readonly reports: SqliteReportRepository;
  readonly held: SqliteHeldPostRepository;
  readonly audit: SqliteAuditRepository;
  readonly postFlags: SqlitePostFlagsRepository;
  readonly hosts: SqliteHostRepository;
  readonly votes: SqliteVoteRepository;
  readonly rateLimits: SqliteRateLimitRepository;
  readonly claims: SqliteClaimRepository;
  readonly moves: SqliteGroupMoveRepository;
  readonly groupFollows: SqliteGroupFollowRepository;
  readonly peerings: SqlitePeerRepository;
  readonly directory: SqliteDirectoryRepository;
  readonly peers: SqlitePeerSoftwareRepository;
  readonly owners: SqliteOwnerRepository;
  readonly groupRequests: SqliteGroupRequestRepository;
  readonly codes: SqliteCodeRepository;
  readonly sessions: SqliteSessionRepository;
  readonly #db: Database;
  readonly #ping: Statement<[], { ok: number }>;

  /** Wraps an open, migrated database. Use {@link openSqliteStore} instead. */
  constructor(db: Database) {
    this.#db = db;
    this.groups = new SqliteGroupRepository(db);
    this.keys = new SqliteKeyRepository(db);
    this.members = new SqliteMemberRepository(db);
    this.remoteActors = new SqliteRemoteActorRepository(db);
    this.activities = new SqliteActivityRepository(db);
    this.posts = new SqlitePostRepository(db);
    this.jobs = new SqliteJobQueue(db);
    this.moderators = new SqliteModeratorRepository(db);
    this.bans = new SqliteBanRepository(db);
    this.domains = new SqliteDomainPolicyRepository(db);
    this.reports = new SqliteReportRepository(db);
    this.held = new SqliteHeldPostRepository(db);
    this.audit = new SqliteAuditRepository(db);
    this.postFlags = new SqlitePostFlagsRepository(db);
    this.hosts = new SqliteHostRepository(db);
    this.votes = new SqliteVoteRepository(db);
    this.rateLimits = new SqliteRateLimitRepository(db);
    this.claims = new SqliteClaimRepository(db);
    this.moves = new SqliteGroupMoveRepository(db);
    this.groupFollows = new SqliteGroupFollowRepository(db);
    this.peerings = new SqlitePeerRepository(db);
    this.directory = new SqliteDirectoryRepository(db);
    this.peers = new SqlitePeerSoftwareRepository(db);
    this.owners = new SqliteOwnerRepository(db);
    this.groupRequests = new SqliteGroupRequestRepository(db);
    this.codes = new SqliteCodeRepository(db);
    this.sessions = new SqliteSessionRepository(db);
    this.#ping = db.prepare<[], { ok: number }>('SELECT 1 AS ok');
  }

  /**
   * Fails when the database is closed, or when its last writes failed (busy beyond busy_timeout, read-only,
   * full) and it still cannot take the write lock: then the inbox answers 503, and so does /readyz.
   */
  async ping(): Promise<void> {
    if (!this.#db.open) throw new Error('SQLite store is closed');
    this.#ping.get();
    const failure = this.jobs.batch.writeFailure();
    if (failure === null || this.#db.inTransaction) return;
    try {
      this.#db.pragma('busy_timeout = 0');
      this.#db.exec('BEGIN IMMEDIATE');
      this.#db.exec('ROLLBACK');
    } catch {
      throw new Error(`SQLite store cannot write: ${failure.error}`);
    } finally {
      this.#db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    this.jobs.batch.clearWriteFailure();
  }

  async close(): Promise<void> {
    this.jobs.flush();
    if (this.#db.open) this.#db.close();
  }
}

/**
 * Opens (creating it and its directory on first start) the SQLite file at `path` and brings its schema up to
 * date. Several processes may open the same file at once.
 */
export async function openSqliteStore(path: string): Promise<Store> {
  let db: Database | undefined;
  try {
    await mkdir(dirname(path), { recursive: true });
    db = new BetterSqlite3(path);
    // The busy handler comes first: switching to WAL needs a lock another process may hold.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrateSqlite(db);
    return new SqliteStore(db);
  } catch (error) {
    db?.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot open SQLite database ${path}: ${reason}`, { cause: error });
  }
}
