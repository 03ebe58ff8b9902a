/**
 * The storage port. Domain and federation code depend on these interfaces only; `sqlite/` (the embedded
 * default) and `mongodb/` implement them, and `test/contract/` runs one suite unchanged against both.
 *
 * Conventions shared by every repository:
 * - times are epoch milliseconds (numbers);
 * - every list is paged in the store with an opaque-to-the-caller `after` cursor and a `limit`; nothing loads a
 *   whole collection;
 * - private key material is only ever returned by {@link KeyRepository.getPrivateKey} and by
 *   {@link KeyRepository.putKeyPairIfAbsent} (which returns the pair it stored, private key included).
 */

import type { ModerationStore } from './moderation.store.ts';
import type { BrakesStore } from './brakes.store.ts';
import type { LinksStore } from './links.store.ts';
import type { PeerSoftwareRepository } from './peer-software.repository.ts';
import type { SelfServiceStore } from './self-service.store.ts';

/** Who may join a group. */
export type MembershipPolicy = 'open' | 'approval';
/** Who may post to a group. */
export type PostingPolicy = 'members' | 'moderators';

/** Settings of a group that admins and moderators change; stored as one document. */
export interface GroupSettings {
  membershipPolicy: MembershipPolicy;
  postingPolicy: PostingPolicy;
  /** Image URL of the avatar, or null. */
  iconUrl: string | null;
  /** Image URL of the header, or null. */
  bannerUrl: string | null;
  /** Markdown source of the rules. */
  rules: string;
  /** BCP 47 language tag, or null. */
  language: string | null;
  tags: string[];
  sensitive: boolean;
  discoverable: boolean;
  /** A post that mentions more groups than this is treated as spam. */
  maxGroupMentions: number;
  /** List followers in the followers collection (otherwise only the count is public). */
  listFollowers: boolean;
  /** Posts (top-level and replies) one member may make per hour; 0 = no limit. */
  maxPostsPerHour: number;
  /**
   * Votes, undone votes and edits of one member that the group re-shares per hour (posts have their own
   * limit); 0 = no limit.
   */
  maxActivitiesPerHour: number;
  /** Edits of one post that the group re-shares per hour; 0 = no limit. */
  maxEditsPerPostPerHour: number;
  /** A new member's first posts are held for a moderator's approval; 0 = off. */
  premoderateFirstPosts: number;
  /** Other groups may follow this one (FEP-d36d); when false their Follow is refused with Reject. */
  acceptGroupFollowers: boolean;
}

export const DEFAULT_GROUP_SETTINGS: GroupSettings = {
  membershipPolicy: 'open',
  postingPolicy: 'members',
  iconUrl: null,
  bannerUrl: null,
  rules: '',
  language: null,
  tags: [],
  sensitive: false,
  discoverable: true,
  maxGroupMentions: 5,
  listFollowers: false,
  maxPostsPerHour: 30,
  maxActivitiesPerHour: 60,
  maxEditsPerPostPerHour: 5,
  premoderateFirstPosts: 0,
  acceptGroupFollowers: true,
};

/** A group hosted here. Its actor URL is derived from the configured origin and `name`. */
export interface Group {
  /** preferredUsername: lowercase letters, digits and underscore; unique forever (also after deletion). */
  name: string;
  title: string;
  /** Markdown source; HTML is rendered when served. */
  summary: string;
  createdAt: number;
  updatedAt: number;
  /** Set when the group was deleted. A deleted group keeps its name so nobody else can take it. */
  deletedAt: number | null;
  settings: GroupSettings;
}

export interface GroupRepository {
  /** Inserts a group. Returns false (and changes nothing) when the name is taken, deleted groups included. */
  createGroup(group: Group): Promise<boolean>;
  /** The group with this name, deleted or not; null when no such name was ever created. */
  getGroup(name: string): Promise<Group | null>;
  /** Replaces title, summary, settings and updatedAt of an existing group. Returns false if absent. */
  updateGroup(group: Group): Promise<boolean>;
  /** Marks a group deleted at `at`. Returns false when it is absent or already deleted. */
  markGroupDeleted(name: string, at: number): Promise<boolean>;
  /** Live (not deleted) groups ordered by name, names strictly greater than `after`. */
  listGroups(after: string | null, limit: number): Promise<Group[]>;
  /** Number of live groups. */
  countGroups(): Promise<number>;
}

/** An RSA key pair owned by a local actor (`group:NAME` or `instance`). */
export interface KeyPair {
  owner: string;
  publicKeyPem: string;
  privateKeyPem: string;
}

export interface KeyRepository {
  /**
   * Stores the pair unless the owner already has one; returns the pair that is stored afterwards, private key
   * included (the caller that generated a pair must learn which one won when several start at once).
   */
  putKeyPairIfAbsent(pair: KeyPair): Promise<KeyPair>;
  /** Public key of an owner, or null. */
  getPublicKey(owner: string): Promise<string | null>;
  /** Private key of an owner, or null. The only read of private key material besides putKeyPairIfAbsent. */
  getPrivateKey(owner: string): Promise<string | null>;
}

export type MemberState = 'pending' | 'accepted';

/** A remote actor's relation with a group: a pending join request or a membership. */
export interface Member {
  groupName: string;
  actorId: string;
  inbox: string;
  sharedInbox: string | null;
  /** Where deliveries go: the shared inbox when there is one, else the inbox. */
  deliveryInbox: string;
  state: MemberState;
  /** The id of the Follow activity, answered by Accept or Reject. */
  followId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface MemberRepository {
  /**
   * Inserts or replaces the member identified by (groupName, actorId), every field included: callers that update
   * an existing member pass its original createdAt.
   */
  upsertMember(member: Member): Promise<void>;
  getMember(groupName: string, actorId: string): Promise<Member | null>;
  /** Removes a member or pending request. Returns false when there was none. */
  removeMember(groupName: string, actorId: string): Promise<boolean>;
  countMembers(groupName: string, state: MemberState): Promise<number>;
  /** Members in a state ordered by actorId, actorIds strictly greater than `after`. */
  listMembers(groupName: string, state: MemberState, after: string | null, limit: number): Promise<Member[]>;
  /**
   * Distinct delivery inboxes of accepted members, ascending, strictly greater than `after`. Pages may hold
   * fewer than `limit` entries while more remain; the caller stops only on an empty page.
   */
  listDeliveryInboxes(groupName: string, after: string | null, limit: number): Promise<string[]>;
  /**
   * Actor ids of the members and pending requests of every group, in id order, ids strictly greater than
   * `after`; each id once per page. A page may hold fewer than `limit` ids (an actor in several groups); an
   * empty page is the end.
   */
  listMemberActors(after: string | null, limit: number): Promise<string[]>;
  /** Names of the groups (at most 100) where the actor is a member or has a pending request. */
  listGroupsOfActor(actorId: string): Promise<string[]>;
}

/** A remote actor as last fetched; the cache behind signature verification and delivery. */
export interface RemoteActor {
  id: string;
  type: string;
  inbox: string;
  sharedInbox: string | null;
  preferredUsername: string | null;
  name: string | null;
  url: string | null;
  keyId: string | null;
  publicKeyPem: string | null;
  fetchedAt: number;
}

export interface RemoteActorRepository {
  /** Inserts or replaces by id. */
  putRemoteActor(actor: RemoteActor): Promise<void>;
  getRemoteActor(id: string): Promise<RemoteActor | null>;
  getRemoteActorByKeyId(keyId: string): Promise<RemoteActor | null>;
  /**
   * Deletes up to `limit` copies fetched before `fetchedBefore` of actors that are neither members (or pending
   * members) of a group nor moderators of one; they are fetched again when needed. Returns how many.
   */
  purgeStale(fetchedBefore: number, limit: number): Promise<number>;
}

/** An activity or object this server emitted or announced, kept so that its id can be dereferenced. */
export interface StoredActivity {
  /** Absolute id (URL) of the stored document. */
  id: string;
  groupName: string;
  type: string;
  /** The id of the object it is about (the announced activity or object), or null. */
  objectId: string | null;
  /** The document, serialized JSON. */
  json: string;
  published: number;
  /** Listed in the group's outbox. */
  inOutbox: boolean;
  /**
   * When the post it is about (`objectId`) was deleted or removed, for the activities stored before that: a
   * withdrawn activity leaves the outbox and is served as a Tombstone. Null otherwise.
   */
  withdrawnAt: number | null;
}

/** An activity as stored first: nothing is withdrawn when it is stored. */
export type NewActivity = Omit<StoredActivity, 'withdrawnAt'>;

/** Cursor into an outbox: entries strictly older than this (published, then id descending). */
export interface OutboxCursor {
  published: number;
  id: string;
}

export interface ActivityRepository {
  /** Inserts (not withdrawn); returns false (and changes nothing) when the id exists. */
  putActivity(activity: NewActivity): Promise<boolean>;
  /** The activity with this id, withdrawn or not. */
  getActivity(id: string): Promise<StoredActivity | null>;
  /** Outbox entries that are not withdrawn, newest first, strictly before `before`. */
  listOutbox(groupName: string, before: OutboxCursor | null, limit: number): Promise<StoredActivity[]>;
  /** Number of outbox entries that are not withdrawn. */
  countOutbox(groupName: string): Promise<number>;
  /**
   * The activities of a group about an object (`objectId`), withdrawn or not, oldest first (published, then id),
   * strictly after `after`.
   */
  listActivitiesAbout(
    groupName: string,
    objectId: string,
    after: OutboxCursor | null,
    limit: number,
  ): Promise<StoredActivity[]>;
}

/** A post accepted into a group (a top-level post or a reply in one of its threads). */
export interface Post {
  /** The object id (Note, Page, Article...). */
  objectId: string;
  groupName: string;
  authorId: string;
  inReplyTo: string | null;
  /** objectId of the top-level post of its thread (itself for a top-level post). */
  threadRoot: string;
  /** Id of the Create activity that brought it. */
  createId: string;
  /** Id of the plain Announce{object} sent for a top-level post, or null. */
  boostId: string | null;
  createdAt: number;
  deletedAt: number | null;
  /**
   * Who removed the post when a moderator or the admin did (`admin` or an actor id); null when it is live or
   * its author deleted it. Its author may undelete only what they deleted themselves.
   */
  removedBy: string | null;
}

export interface PostRepository {
  /** Inserts; returns false when the (groupName, objectId) pair exists. */
  putPost(post: Post): Promise<boolean>;
  getPost(groupName: string, objectId: string): Promise<Post | null>;
  /** Names of the groups (at most 100) that hold a post with this object id. */
  listGroupsOfPost(objectId: string): Promise<string[]>;
  /**
   * Marks a live post deleted at `at`, by its author (`removedBy` null) or removed by a moderator or the admin
   * (`removedBy` names them), and withdraws, at `at`, the activities of the group stored so far about it
   * (`objectId`): its Create, Updates, votes and boost leave the outbox and are served as Tombstones. Activities
   * stored afterwards, or about something else (the announcement of the deletion is about the Delete), are not
   * withdrawn. Returns false, changing nothing, when the post is absent or already deleted. A failure part way
   * leaves the post live, so calling again completes the withdrawal.
   */
  markPostDeleted(
    groupName: string,
    objectId: string,
    at: number,
    removedBy: string | null,
  ): Promise<boolean>;
  /**
   * Makes a deleted post live again (deletedAt and removedBy cleared, `boostId` its boost) and its withdrawn
   * activities with it (back in the outbox, served again); returns false, changing nothing, when the post is
   * absent or not deleted. A failure part way leaves the post deleted, so calling again completes it.
   */
  restorePost(groupName: string, objectId: string, boostId: string | null): Promise<boolean>;
  /** Posts of a thread oldest first, objectIds of posts created strictly after `after` (createdAt, objectId). */
  listThread(
    groupName: string,
    threadRoot: string,
    after: OutboxCursor | null,
    limit: number,
  ): Promise<Post[]>;
}

export type QueueName = 'intake' | 'fanout' | 'deliver';

export type JobState = 'queued' | 'done' | 'failed';

/** A durable unit of work. Ids are chosen by the producer so that enqueueing is idempotent. */
export interface Job {
  id: string;
  queue: QueueName;
  /** Grouping key (the destination host for deliveries), used for per-host limits. */
  key: string;
  payload: Record<string, unknown>;
  state: JobState;
  /** Not to be claimed before this time. */
  runAt: number;
  attempts: number;
  leaseOwner: string | null;
  /** The lease holds until this time; 0 when not leased. */
  leaseUntil: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewJob {
  id: string;
  queue: QueueName;
  key: string;
  payload: Record<string, unknown>;
  runAt: number;
  /**
   * The pack this job travels in: the jobs of one enqueue call that name the same pack may be stored together
   * (the MongoDB adapter stores a pack as one document, leased and finished a pack at a time; SQLite keeps one
   * row per job). A pack id names a fixed set of jobs (derive it from them): a pack whose id is known is not
   * enqueued again. A job named in two packs runs twice on MongoDB, once on SQLite: avoid it.
   */
  pack?: string;
}

export interface QueueStats {
  queued: number;
  leased: number;
  failed: number;
  /** createdAt of the oldest queued job, or null. */
  oldestCreatedAt: number | null;
}

/** What became of a leased job, as {@link JobQueue.finish} records it (see complete, retry and fail). */
export type JobOutcome =
  | { kind: 'done'; id: string; owner: string; now: number }
  | { kind: 'retry'; id: string; owner: string; runAt: number; error: string; now: number }
  | { kind: 'fail'; id: string; owner: string; error: string; now: number };

export interface JobQueue {
  /** Inserts jobs whose id is new; existing ids are left untouched. Returns how many were inserted. */
  enqueue(jobs: NewJob[], now: number): Promise<number>;
  /**
   * Leases up to `limit` queued jobs of `queue` whose runAt <= now and whose lease is absent or expired,
   * oldest runAt first, optionally skipping the given keys. A job is never leased to two owners at once.
   */
  claim(
    queue: QueueName,
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    excludeKeys?: string[],
  ): Promise<Job[]>;
  /** Marks a leased job done. Returns false when `owner` no longer holds the lease. */
  complete(id: string, owner: string, now: number): Promise<boolean>;
  /** Releases a leased job to run again at `runAt`, counting one more attempt. */
  retry(id: string, owner: string, runAt: number, error: string, now: number): Promise<boolean>;
  /** Marks a leased job permanently failed. */
  fail(id: string, owner: string, error: string, now: number): Promise<boolean>;
  /**
   * Records the outcomes of several leased jobs at once, each exactly as complete, retry or fail would, in a
   * constant number of round trips (one transaction on SQLite). Returns, in order, whether each was recorded:
   * false where `owner` no longer held the lease. Give each job at most one outcome per call.
   */
  finish(outcomes: JobOutcome[]): Promise<boolean[]>;
  /** Replaces the payload of a job leased by `owner` (progress of long jobs). */
  updatePayload(id: string, owner: string, payload: Record<string, unknown>, now: number): Promise<boolean>;
  /** Extends a lease still held by `owner`. */
  extendLease(id: string, owner: string, leaseUntil: number): Promise<boolean>;
  /**
   * A job as stored, or null; finished jobs stay until purged. (On MongoDB, the done jobs of a pack may be
   * missing when a process was killed in the moment their pack was finished: job-packs.mongodb.ts.)
   */
  getJob(id: string): Promise<Job | null>;
  stats(queue: QueueName, now: number): Promise<QueueStats>;
  /**
   * Deletes up to `limit` finished jobs of `queue`: done jobs last updated before `doneBefore` and failed jobs
   * last updated before `failedBefore`. With `keepIds`, their ids stay known, so that enqueueing one of them
   * again inserts nothing (de-duplication outlives the job), until {@link forgetPurgedIds} drops it. Returns how
   * many jobs were deleted.
   */
  purgeFinished(
    queue: QueueName,
    o: { doneBefore: number; failedBefore: number; keepIds: boolean },
    limit: number,
  ): Promise<number>;
  /**
   * Forgets up to `limit` ids kept by {@link purgeFinished} of jobs of `queue` created before `createdBefore`;
   * those ids can be enqueued again. Returns how many.
   */
  forgetPurgedIds(queue: QueueName, createdBefore: number, limit: number): Promise<number>;
  /**
   * Distinct owners (at most `limit`) of the leases in force at `now`: queued jobs leased until after `now`.
   */
  listLeaseOwners(now: number, limit: number): Promise<string[]>;
  /**
   * Releases every queued job leased by `owner`, whose holder is known to be gone (a crashed process): they can
   * be claimed at once instead of when the lease ends; no attempt is counted. Returns how many.
   */
  releaseLeases(owner: string, now: number): Promise<number>;
}

/**
 * The whole port, assembled from the per-topic repositories (the moderation ones in moderation.store.ts, vote
 * state, rate limits and claims in brakes.store.ts, owners, group requests, codes and sessions in
 * self-service.store.ts, moves, group follows, peers and their directories in links.store.ts).
 */
export interface Store extends ModerationStore, BrakesStore, SelfServiceStore, LinksStore {
  readonly kind: 'sqlite' | 'mongodb';
  readonly groups: GroupRepository;
  readonly keys: KeyRepository;
  readonly members: MemberRepository;
  readonly remoteActors: RemoteActorRepository;
  readonly activities: ActivityRepository;
  readonly posts: PostRepository;
  readonly jobs: JobQueue;
  /** The software other servers run, from their NodeInfo. */
  readonly peers: PeerSoftwareRepository;
  /** Cheap round trip to the database; throws when it is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
