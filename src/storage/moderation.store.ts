/**
 * The moderation part of the storage port: moderators, bans, domain policies, reports, held posts, pins,
 * locks and the audit log. Implemented by both adapters and covered by the contract suite like the rest.
 * Every list is paged in the store; times are epoch milliseconds.
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
  listModerators(groupName: string, after: { addedAt: number; actorId: string } | null, limit: number): Promise<Moderator[]>;
  countModerators(groupName: string): Promise<number>;
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
}

/** What the instance does with a remote domain. */
export type DomainPolicyKind = 'block' | 'limit' | 'allow';

export interface DomainPolicy {
  /** Lowercase host name (no port). */
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
  listDomainPolicies(kind: DomainPolicyKind | null, after: string | null, limit: number): Promise<DomainPolicy[]>;
  countDomainPolicies(kind: DomainPolicyKind): Promise<number>;
  /**
   * Removes the memberships and pending requests, in every group, of actors whose id is on `domain` (any
   * scheme, any port). Returns how many were removed.
   */
  removeMembersOfDomain(domain: string): Promise<number>;
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
  listReports(groupName: string, state: ReportState, before: { createdAt: number; id: string } | null, limit: number): Promise<Report[]>;
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
  listHeldPosts(groupName: string, after: { createdAt: number; objectId: string } | null, limit: number): Promise<HeldPost[]>;
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

export interface AuditRepository {
  /** Appends; returns false when the id was already recorded. */
  appendAudit(e: AuditEntry): Promise<boolean>;
  /** Entries of a group (or of the instance when groupName is null, or of everything when 'all'), newest first. */
  listAudit(groupName: string | null | 'all', before: { at: number; id: string } | null, limit: number): Promise<AuditEntry[]>;
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
  listPostsByAuthor(groupName: string, authorId: string, after: string | null, limit: number): Promise<string[]>;
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
}
