/**
 * The moderation part of the storage port: moderators, bans, domain policies, reports, held posts, pins,
 * locks, the audit log and the delivery health of remote hosts. Implemented by both adapters and covered by the
 * contract suite like the rest. Every list is paged in the store; times are epoch milliseconds.
 */

/** A moderator of a group: a local or remote actor. */
export interface Moderator {
  groupName: string;
  actorId: string;
  /** Who added them: `admin` (CLI, API) or a moderator's actor id. */
  addedBy: string;
  addedAt: number;
}

export interface ModeratorRepository {
  /** Adds a moderator; returns false (changing nothing) when already one. */
  addModerator(m: Moderator): Promise<boolean>;
  /** Returns false when the actor was not a moderator. */
  removeModerator(groupName: string, actorId: string): Promise<boolean>;
  isModerator(groupName: string, actorId: string): Promise<boolean>;
  /** Moderators ordered by addedAt then actorId (the first added first), actorIds after the cursor. */
  listModerators(
    groupName: string,
    after: { addedAt: number; actorId: string } | null,
    limit: number,
  ): Promise<Moderator[]>;
  countModerators(groupName: string): Promise<number>;
  /** Names of the groups an actor moderates, ascending, strictly after `after`. */
  listGroupsOfModerator(actorId: string, after: string | null, limit: number): Promise<string[]>;
}

/** A user banned from a group. */
export interface Ban {
  groupName: string;
  actorId: string;
  reason: string;
  by: string;
  createdAt: number;
  /** The ban ends at this time; null = permanent. */
  expiresAt: number | null;
}

export interface BanRepository {
  /** Inserts or replaces the ban of (groupName, actorId). */
  putBan(ban: Ban): Promise<void>;
  /** Returns false when there was no ban. */
  removeBan(groupName: string, actorId: string): Promise<boolean>;
  /** The ban in force at `now` (expired bans are not returned), or null. */
  getActiveBan(groupName: string, actorId: string, now: number): Promise<Ban | null>;
  /** Bans ordered by actorId, after the cursor, including expired ones. */
  listBans(groupName: string, after: string | null, limit: number): Promise<Ban[]>;
  /** True when the actor is banned, at `now`, from at least one group. */
  hasActiveBan(actorId: string, now: number): Promise<boolean>;
  /** Deletes, in every group, the bans that ended before `before` (permanent bans stay). Returns how many. */
  purgeExpired(before: number): Promise<number>;
}

/** What the instance does with a remote domain. */
export type DomainPolicyKind = 'block' | 'limit' | 'allow';

export interface DomainPolicy {
  /**
   * The entry in canonical form: a host name (lowercase, IDNA as punycode, no trailing dot; it covers its
   * sub-domains), an IP address (IPv6 compressed, IPv4-mapped as IPv4), or a CIDR range (`10.0.0.0/8`).
   */
  domain: string;
  policy: DomainPolicyKind;
  reason: string;
  createdAt: number;
}

export interface DomainPolicyRepository {
  /** Inserts or replaces the policy of a domain. */
  putDomainPolicy(p: DomainPolicy): Promise<void>;
  removeDomainPolicy(domain: string): Promise<boolean>;
  getDomainPolicy(domain: string): Promise<DomainPolicy | null>;
  /** Policies of a kind (or all when kind is null) ordered by domain, after the cursor. */
  listDomainPolicies(
    kind: DomainPolicyKind | null,
    after: string | null,
    limit: number,
  ): Promise<DomainPolicy[]>;
  countDomainPolicies(kind: DomainPolicyKind): Promise<number>;
}

export type ReportState = 'open' | 'resolved';

/** A report (Flag or DM `report` command) in a group's moderation queue. */
export interface Report {
  /** Local id (also used in commands: `resolve <id>`). */
  id: string;
  groupName: string;
  reporterId: string;
  /** The reported account, when known. */
  targetActorId: string | null;
  objectIds: string[];
  reason: string;
  /** Id of the Flag activity, to answer with Resolve; null for DM reports. */
  flagId: string | null;
  state: ReportState;
  createdAt: number;
  resolvedAt: number | null;
  resolvedBy: string | null;
}

export interface ReportRepository {
  /** Inserts; returns false when the id exists. */
  putReport(r: Report): Promise<boolean>;
  getReport(id: string): Promise<Report | null>;
  /** Reports of a group in a state, newest first, created strictly before the cursor. */
  listReports(
    groupName: string,
    state: ReportState,
    before: { createdAt: number; id: string } | null,
    limit: number,
  ): Promise<Report[]>;
  /** Marks resolved; returns false when absent or already resolved. */
  resolveReport(id: string, by: string, at: number): Promise<boolean>;
}

/** A post held for a moderator's approval (pre-moderation, limited domains). */
export interface HeldPost {
  groupName: string;
  objectId: string;
  authorId: string;
  /** The Create activity, serialized JSON, as received. */
  activityJson: string;
  reason: string;
  createdAt: number;
}

export interface HeldPostRepository {
  /** Inserts; returns false when (groupName, objectId) is already held. */
  holdPost(p: HeldPost): Promise<boolean>;
  getHeldPost(groupName: string, objectId: string): Promise<HeldPost | null>;
  /** Removes and returns the held post (approve or discard), or null. */
  takeHeldPost(groupName: string, objectId: string): Promise<HeldPost | null>;
  listHeldPosts(
    groupName: string,
    after: { createdAt: number; objectId: string } | null,
    limit: number,
  ): Promise<HeldPost[]>;
}

/** One moderation action, as recorded. */
export interface AuditEntry {
  /** Unique id; appending the same id twice records it once (idempotent actions). */
  id: string;
  /** The group concerned, or null for instance-level actions. */
  groupName: string | null;
  /** Who did it: `admin` or an actor id. */
  actorId: string;
  action: string;
  target: string;
  reason: string;
  at: number;
}

/**
 * Which part of the audit log to read: the entries of one group, the instance-level entries (no group), or
 * every entry. A tagged union, so that no group name can be mistaken for "everything".
 */
export type AuditScope = { group: string } | { instance: true } | { all: true };

export interface AuditRepository {
  /** Appends; returns false when the id was already recorded. */
  appendAudit(e: AuditEntry): Promise<boolean>;
  /** The entry with this id, or null (whether an idempotent action was already recorded). */
  getAudit(id: string): Promise<AuditEntry | null>;
  /** Entries of the scope newest first (at, then id, descending), strictly before the cursor. */
  listAudit(
    scope: AuditScope,
    before: { at: number; id: string } | null,
    limit: number,
  ): Promise<AuditEntry[]>;
}

/** Per-post moderation state: pins and locks. */
export interface PostFlagsRepository {
  /** Sets or clears the pin of a post; returns false when the post is absent. */
  setPinned(groupName: string, objectId: string, pinnedAt: number | null): Promise<boolean>;
  /** Pinned posts of a group, most recently pinned first (a small list; at most `limit`). */
  listPinned(groupName: string, limit: number): Promise<string[]>;
  /** Sets or clears the lock of a thread (by its root); returns false when the post is absent. */
  setLocked(groupName: string, threadRoot: string, lockedAt: number | null): Promise<boolean>;
  isLocked(groupName: string, threadRoot: string): Promise<boolean>;
  /** Number of posts by an author in a group created at or after `since` (rate limits). */
  countPostsByAuthorSince(groupName: string, authorId: string, since: number): Promise<number>;
  /** Number of accepted posts by an author in a group (pre-moderation of first posts). */
  countPostsByAuthor(groupName: string, authorId: string): Promise<number>;
  /** Object ids of an author's posts in a group, paged by objectId (ban with removal of earlier posts). */
  listPostsByAuthor(
    groupName: string,
    authorId: string,
    after: string | null,
    limit: number,
  ): Promise<string[]>;
}

/**
 * Delivery health of one destination host since its last successful delivery. A host with no failure since
 * then has no status at all.
 */
export interface HostStatus {
  /** The destination host as the delivery queue keys it (its job `key`). */
  host: string;
  /** The earliest failure recorded since the last success. */
  firstFailureAt: number;
  /** The latest failure recorded since the last success. */
  lastFailureAt: number;
  /** Failed deliveries since the last success. */
  consecutiveFailures: number;
  /**
   * The UTC days (`YYYY-MM-DD`) with at least one failure, ascending, within the {@link HOST_FAILURE_DAYS_KEPT}
   * days that end on the day of `lastFailureAt`.
   */
  failureDays: string[];
}

/** How many days of failures a {@link HostStatus} remembers, the day of its last failure included. */
export const HOST_FAILURE_DAYS_KEPT = 14;

export interface HostRepository {
  /**
   * Counts one failed delivery to `host` at `at` and returns the status afterwards: firstFailureAt becomes the
   * earlier of the two, lastFailureAt the later, consecutiveFailures grows by one and the UTC day of `at` joins
   * failureDays (days older than the window are dropped). Never fails because another process records a
   * failure of the same host at the same time, though on some MongoDB-wire servers (FerretDB) one of two
   * concurrent failures may go uncounted.
   */
  recordFailure(host: string, at: number): Promise<HostStatus>;
  /**
   * Forgets the failures of `host` recorded at or before `at` (a successful delivery at `at`); a failure recorded
   * after `at` keeps the whole status, since the host failed again after this success.
   */
  recordSuccess(host: string, at: number): Promise<void>;
  /** The status of a host, or null when it has not failed since its last success. */
  getHost(host: string): Promise<HostStatus | null>;
  /**
   * Hosts with at least `minDistinctDays` failure days, ordered by host, hosts strictly greater than `after`.
   * Pass 0 (or 1) to list every host with a failure since its last success.
   */
  listFailingHosts(minDistinctDays: number, after: string | null, limit: number): Promise<HostStatus[]>;
}

/** The moderation repositories, as one part of the Store. */
export interface ModerationStore {
  readonly moderators: ModeratorRepository;
  readonly bans: BanRepository;
  readonly domains: DomainPolicyRepository;
  readonly reports: ReportRepository;
  readonly held: HeldPostRepository;
  readonly audit: AuditRepository;
  readonly postFlags: PostFlagsRepository;
  /** Delivery health per destination host. */
  readonly hosts: HostRepository;
}
