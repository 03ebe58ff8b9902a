/**
 * The maintenance loop of the worker role: what only grows is purged, so that the store stays bounded however
 * long an instance runs, and the leases of processes that are gone are released at once.
 *
 * Each pass:
 * - releases the jobs leased by gone processes on this host (a crashed previous start of this process, or a
 *   sibling that died): they run again now, not when their leases end;
 * - deletes done jobs `doneRetentionMs` after they finished and failed ones after {@link FAILED_RETENTION_MS};
 *   the ids of intake jobs are kept (the de-duplication of received activities) until `replayWindowMs` after
 *   the activity was first received, so that a replayed activity is never taken in twice while its signature
 *   could still be valid;
 * - deletes bans that ended {@link ENDED_BANS_RETENTION_MS} ago, and copies of remote actors not fetched for
 *   {@link REMOTE_ACTOR_MAX_AGE_MS} that are neither members nor moderators (fetched again when needed);
 * - deletes the hits of rate limits older than the longest window ({@link MAX_RATE_WINDOW_MS}) and the claims
 *   that expired;
 * - sends the digests of new reports that are due (the moderators of a group get one at most per interval, so
 *   the reports that came in after the last one wait for this pass).
 * - looks at the peers that said nothing for a while, and takes the groups of those silent for too long out of
 *   the directory.
 * - reads again the software of the member servers whose time has come (`refreshPeers`).
 */
import type { MaintenanceConfig } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { JobQueue, QueueName, Store } from '../storage/store.ts';
import { MAX_RATE_WINDOW_MS } from '../storage/brakes.store.ts';
import { isGoneHolder, type ProcessIdentity, type ProcessProbe } from './lease-owner.ts';
import { SIGNATURE_CLOCK_SKEW_MS, SIGNATURE_MAX_LIFETIME_MS } from './http-signature.ts';

/** Failed jobs are kept this long for inspection (their last error says why). */
export const FAILED_RETENTION_MS = 7 * 86_400_000;
/** Ended bans stay listed this long. */
export const ENDED_BANS_RETENTION_MS = 7 * 86_400_000;
/** Copies of remote actors that are neither members nor moderators are dropped when not fetched for this long. */
export const REMOTE_ACTOR_MAX_AGE_MS = 30 * 86_400_000;
/**
 * The shortest replay window that closes replays: a signature created up to one clock skew in the future of its
 * first receipt stays valid for its longest lifetime plus one more clock skew.
 */
export const MIN_SAFE_REPLAY_WINDOW_MS = SIGNATURE_MAX_LIFETIME_MS + 2 * SIGNATURE_CLOCK_SKEW_MS;
/** Rows deleted per store call; a pass goes on until a call deletes fewer. */
const BATCH = 1000;
/** A pass stops after this many batches of one kind, and goes on at the next pass. */
const MAX_BATCHES = 100;

const QUEUES: readonly QueueName[] = ['intake', 'fanout', 'deliver'];

/** What one pass did. */
export interface MaintenanceReport {
  releasedLeases: number;
  purgedJobs: number;
  forgottenIds: number;
  purgedBans: number;
  purgedActors: number;
  purgedRateHits: number;
  purgedClaims: number;
  sentReportDigests: number;
  /** Directory entries of peers that stopped answering. */
  purgedPeerEntries: number;
  refreshedPeers: number;
  /** Expired one-time codes (sign-in links, deletion codes) and sessions. */
  purgedCodes: number;
  purgedSessions: number;
}

/** Port: the digests of new reports owed to the moderators of the groups (the domain's ReportService). */
export interface ReportDigests {
  /** Sends every digest that is due; returns how many were sent. */
  sendDueDigests(): Promise<number>;
}

/** The peers of this instance, as maintenance sees them (the peering service). */
export interface PeerCheck {
  /** Checks the silent peers; returns how many directory entries of unreachable ones were removed. */
  checkPeers(): Promise<number>;
}

/**
 * Releases the jobs leased by gone holders on this host (see lease-owner.ts). Returns how many jobs were released.
 */
export async function releaseLeasesOfGoneProcesses(
  jobs: JobQueue,
  me: ProcessIdentity,
  now: number,
  log: Logger,
  probe?: ProcessProbe,
): Promise<number> {
  let released = 0;
  for (const owner of await jobs.listLeaseOwners(now, 1000)) {
    if (!isGoneHolder(owner, me, probe)) continue;
    const n = await jobs.releaseLeases(owner, now);
    released += n;
    if (n > 0) log.info('released the jobs of a process that is gone', { owner, jobs: n });
  }
  return released;
}

export interface MaintenanceOptions {
  store: Store;
  config: MaintenanceConfig;
  me: ProcessIdentity;
  log: Logger;
  now?: () => number;
  probe?: ProcessProbe;
  /** When given, the digests that are due are sent on each pass. */
  digests?: ReportDigests;
  /** The peered instances (directory), whose silent ones are checked. */
  peers?: PeerCheck;
  /** Reads again the software of servers whose time has come (peer-software.service.ts); how many. */
  refreshPeers?: () => Promise<number>;
}

export class Maintenance {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: MaintenanceOptions) {
    this.now = o.now ?? Date.now;
    if (o.config.replayWindowMs < MIN_SAFE_REPLAY_WINDOW_MS) {
      o.log.warn(
        'the replay window is shorter than a signature can be valid: a replayed activity may be taken in twice',
        {
          replayWindowMs: o.config.replayWindowMs,
          safeFromMs: MIN_SAFE_REPLAY_WINDOW_MS,
        },
      );
    }
  }

  /** Runs a pass now, then one every `intervalMs`. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops after the pass under way, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass()
        .then(
          (report) => {
            if (Object.values(report).some((n) => n > 0)) this.o.log.info('maintenance', { ...report });
          },
          (e: unknown) =>
            this.o.log.warn('maintenance pass failed; trying again at the next one', { err: e }),
        )
        .finally(() => this.schedule(this.o.config.intervalMs));
    }, ms);
    this.timer.unref();
  }

  /** One pass (see the top of this file). */
  async pass(): Promise<MaintenanceReport> {
    const { store, config } = this.o;
    const now = this.now();
    const report: MaintenanceReport = {
      releasedLeases: await releaseLeasesOfGoneProcesses(
        store.jobs,
        this.o.me,
        now,
        this.o.log,
        this.o.probe,
      ),
      purgedJobs: 0,
      forgottenIds: 0,
      purgedBans: 0,
      purgedActors: 0,
      purgedRateHits: 0,
      purgedClaims: 0,
      sentReportDigests: 0,
      purgedPeerEntries: 0,
      refreshedPeers: 0,
      purgedCodes: 0,
      purgedSessions: 0,
    };
    for (const queue of QUEUES) {
      const o = {
        doneBefore: now - config.doneRetentionMs,
        failedBefore: now - FAILED_RETENTION_MS,
        // Only received activities need their ids after the job is gone: other ids are derived from them.
        keepIds: queue === 'intake',
      };
      report.purgedJobs += await batches((limit) => store.jobs.purgeFinished(queue, o, limit));
    }
    report.forgottenIds = await batches((limit) =>
      store.jobs.forgetPurgedIds('intake', now - config.replayWindowMs, limit),
    );
    report.purgedBans = await store.bans.purgeExpired(now - ENDED_BANS_RETENTION_MS);
    report.purgedActors = await batches((limit) =>
      store.remoteActors.purgeStale(now - REMOTE_ACTOR_MAX_AGE_MS, limit),
    );
    report.purgedRateHits = await batches((limit) =>
      store.rateLimits.purgeHits(now - MAX_RATE_WINDOW_MS, limit),
    );
    report.purgedClaims = await batches((limit) => store.claims.purgeExpiredClaims(now, limit));
    report.sentReportDigests = (await this.o.digests?.sendDueDigests()) ?? 0;
    if (this.o.peers) report.purgedPeerEntries = await this.o.peers.checkPeers();
    report.purgedCodes = await batches((limit) => store.codes.purgeCodes(now, limit));
    report.purgedSessions = await batches((limit) => store.sessions.purgeSessions(now, limit));
    report.refreshedPeers = (await this.o.refreshPeers?.()) ?? 0;
    return report;
  }
}

/** Calls `purge` with a limit until it purges fewer than that (or a pass's share is reached); sums the counts. */
async function batches(purge: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await purge(BATCH);
    total += n;
    if (n < BATCH) break;
  }
  return total;
}
