/** The MongoDB collections and indexes, and the documents of groups, keys, members, actors, posts and jobs. */
import type { Collection, Db, IndexDescription, ObjectId } from 'mongodb';
import type { GroupSettings, JobState, MemberState, QueueName } from '../store.ts';
import type {
  AuditDoc,
  BanDoc,
  DomainPolicyDoc,
  HeldPostDoc,
  HostDoc,
  ModeratorDoc,
  ReportDoc,
  ReportResolutionDoc,
} from './moderation-documents.mongodb.ts';
import type { ClaimDoc, RateHitDoc, VoteDoc } from './brakes-documents.mongodb.ts';
import type { DeliveryInboxDoc } from './delivery-inboxes.mongodb.ts';
import type {
  DirectoryEntryDoc,
  GroupFollowDoc,
  GroupMoveDoc,
  KnownMemberDoc,
  PeerDoc,
  PriorMemberDoc,
} from './links-documents.mongodb.ts';

/** A group; `_id` is its name. */
export interface GroupDoc {
  _id: string;
  title: string;
  summary: string;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
  settings: Partial<GroupSettings>;
}

/** A key pair; `_id` is the owner. Every read except getPrivateKey projects `privateKeyPem` out. */
export interface KeyPairDoc {
  _id: string;
  publicKeyPem: string;
  privateKeyPem: string;
}

/** A member or join request; (groupName, actorId) is unique. */
export interface MemberDoc {
  _id?: ObjectId;
  groupName: string;
  actorId: string;
  inbox: string;
  sharedInbox: string | null;
  deliveryInbox: string;
  state: MemberState;
  followId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A cached remote actor; `_id` is its id. */
export interface RemoteActorDoc {
  _id: string;
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

/** A stored activity; `_id` is its id. */
export interface ActivityDoc {
  _id: string;
  groupName: string;
  type: string;
  objectId: string | null;
  json: string;
  published: number;
  inOutbox: boolean;
  /** Absent from documents written before withdrawal existed, which reads the same as null. */
  withdrawnAt?: number | null;
}

/**
 * A post; (groupName, objectId) is unique. `pinnedAt` and `lockedAt` are absent from documents written before
 * pins and locks existed, which reads the same as null.
 */
export interface PostDoc {
  _id?: ObjectId;
  groupName: string;
  objectId: string;
  authorId: string;
  inReplyTo: string | null;
  threadRoot: string;
  createId: string;
  boostId: string | null;
  createdAt: number;
  deletedAt: number | null;
  /** Absent from documents written before removals were told apart from deletions. */
  removedBy?: string | null;
  pinnedAt?: number | null;
  lockedAt?: number | null;
}

/**
 * A job; `_id` is its id. `payload` is JSON text (payload keys are free-form and may not be valid field names).
 * `rev` is a random id of this incarnation of the job and `seq` counts its transitions: see job-queue.mongodb.ts.
 */
export interface JobDoc {
  _id: string;
  queue: QueueName;
  key: string;
  payload: string;
  /** `purged`: only the id is kept (see purgeFinished), so that enqueueing it again inserts nothing. */
  state: JobState | 'purged';
  runAt: number;
  attempts: number;
  leaseOwner: string | null;
  leaseUntil: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  rev: string;
  seq: number;
}

/** The state of a job or a pack entry as it is queued: never run, held by nobody. */
export const QUEUED_FIELDS = {
  state: 'queued',
  attempts: 0,
  leaseOwner: null,
  leaseUntil: 0,
  lastError: null,
} as const satisfies Pick<JobDoc, 'state' | 'attempts' | 'leaseOwner' | 'leaseUntil' | 'lastError'>;

/** One job of a pack: a job's fields but its queue, kept in the pack's document. */
export interface PackEntry {
  id: string;
  key: string;
  /** JSON text: the payload's own keys, over the pack's `base` unless `whole`. */
  payload: string;
  /** The payload was replaced (updatePayload): `payload` is all of it. */
  whole?: boolean;
  state: JobState;
  runAt: number;
  attempts: number;
  leaseOwner: string | null;
  leaseUntil: number;
  lastError: string | null;
  updatedAt: number;
}

/**
 * Jobs enqueued together as one pack (see job-packs.mongodb.ts). `state` is `open` while an entry is queued,
 * `closed` when every entry is done or failed, `purged` once its entries are dropped (the id is kept so that
 * the pack is not enqueued again). `nextAt` is when its next entry can be claimed (its runAt, or the end of its
 * lease when later); `ids` lists the entries' ids, for getJob. The counts and leases sum up the entries, so that
 * stats and the release of a gone process's leases read no entries. A closed pack keeps only its failed entries
 * (and their ids), and is copied whole to `job_packs_done`: every read of a pack by its fields reads the whole
 * document of every pack of the collection on FerretDB, so finished deliveries are not left in `job_packs` for
 * the hour they are kept (job-packs.mongodb.ts).
 */
export interface PackDoc extends PackSummary {
  _id: string;
  queue: QueueName;
  /** JSON text: the payload keys whose values all the entries share (the activity and signer of deliveries). */
  base: string;
  /** Entries enqueued in the pack. */
  size: number;
  ids: string[];
  /**
   * JSON text of the entries (PackEntry[]). One string rather than an array of documents: FerretDB 1.x converts
   * every field of every document it reads, so a claim's read of the open packs took 4 times as long (139 ms
   * against 33 ms for 40 packs of 50 entries, FerretDB 1.24 on PostgreSQL 15) and a read by `_id` 2.6 times.
   */
  entries: string;
  createdAt: number;
  updatedAt: number;
  rev: string;
  seq: number;
}

/** What a pack's entries come to. */
export interface PackSummary {
  state: 'open' | 'closed' | 'purged';
  nextAt: number;
  /** Queued entries. */
  open: number;
  /** Failed entries; `hasFailed` when there is one. */
  failed: number;
  hasFailed: boolean;
  /** The owners of leases on queued entries, and when each one's last lease here ends. */
  owners: string[];
  leases: { owner: string; until: number }[];
  /** When the lease of each leased queued entry ends. */
  leaseEnds: number[];
}

/** The fields a transition of a pack sets, always including its new `seq`. */
export type PackChange = Partial<PackSummary & Pick<PackDoc, 'entries' | 'ids' | 'updatedAt'>> & {
  seq: number;
  /** A claim's entries: a claim applied on its taker's behalf leases them to nobody (job-transitions.mongodb.ts). */
  claimed?: string[];
};

/** The fields a transition of a job sets, always including its new `seq`. */
export type JobChange = Partial<Omit<JobDoc, '_id' | 'queue' | 'key' | 'createdAt' | 'rev' | 'seq'>> & {
  seq: number;
};

/**
 * The claim on one transition of a job: `_id` is `rev:seq` of the state it leaves, so only one writer can take
 * each step. `at` is the store's wall clock when it was taken.
 */
export interface JobTransitionDoc<C extends { seq: number } = JobChange> {
  _id: string;
  rev: string;
  /** The job's id, or the pack's. */
  jobId: string;
  at: number;
  change: C;
}

/** What a server's NodeInfo said of its software; `_id` is its origin. */
export interface PeerSoftwareDoc {
  _id: string;
  name: string | null;
  version: string | null;
  learnedAt: number | null;
  refreshAt: number;
}

/** Every collection of the store, typed. */
export interface MongoCollections {
  groups: Collection<GroupDoc>;
  keyPairs: Collection<KeyPairDoc>;
  members: Collection<MemberDoc>;
  deliveryInboxes: Collection<DeliveryInboxDoc>;
  remoteActors: Collection<RemoteActorDoc>;
  activities: Collection<ActivityDoc>;
  posts: Collection<PostDoc>;
  jobs: Collection<JobDoc>;
  jobTransitions: Collection<JobTransitionDoc>;
  jobPacks: Collection<PackDoc>;
  jobPacksDone: Collection<PackDoc>;
  moderators: Collection<ModeratorDoc>;
  bans: Collection<BanDoc>;
  domainPolicies: Collection<DomainPolicyDoc>;
  reports: Collection<ReportDoc>;
  reportResolutions: Collection<ReportResolutionDoc>;
  heldPosts: Collection<HeldPostDoc>;
  audit: Collection<AuditDoc>;
  hosts: Collection<HostDoc>;
  votes: Collection<VoteDoc>;
  rateHits: Collection<RateHitDoc>;
  claims: Collection<ClaimDoc>;
  groupMoves: Collection<GroupMoveDoc>;
  priorMembers: Collection<PriorMemberDoc>;
  groupFollows: Collection<GroupFollowDoc>;
  knownMembers: Collection<KnownMemberDoc>;
  peerings: Collection<PeerDoc>;
  directoryEntries: Collection<DirectoryEntryDoc>;
  peers: Collection<PeerSoftwareDoc>;
}

/** The typed collections of the store in `db`. */
export function collectionsOf(db: Db): MongoCollections {
  return {
    groups: db.collection<GroupDoc>('groups'),
    keyPairs: db.collection<KeyPairDoc>('key_pairs'),
    members: db.collection<MemberDoc>('members'),
    deliveryInboxes: db.collection<DeliveryInboxDoc>('delivery_inboxes'),
    remoteActors: db.collection<RemoteActorDoc>('remote_actors'),
    activities: db.collection<ActivityDoc>('activities'),
    posts: db.collection<PostDoc>('posts'),
    jobs: db.collection<JobDoc>('jobs'),
    jobTransitions: db.collection<JobTransitionDoc>('job_transitions'),
    jobPacks: db.collection<PackDoc>('job_packs'),
    jobPacksDone: db.collection<PackDoc>('job_packs_done'),
    moderators: db.collection<ModeratorDoc>('moderators'),
    bans: db.collection<BanDoc>('bans'),
    domainPolicies: db.collection<DomainPolicyDoc>('domain_policies'),
    reports: db.collection<ReportDoc>('reports'),
    reportResolutions: db.collection<ReportResolutionDoc>('report_resolutions'),
    heldPosts: db.collection<HeldPostDoc>('held_posts'),
    audit: db.collection<AuditDoc>('audit_log'),
    hosts: db.collection<HostDoc>('host_status'),
    votes: db.collection<VoteDoc>('votes'),
    rateHits: db.collection<RateHitDoc>('rate_hits'),
    claims: db.collection<ClaimDoc>('claims'),
    groupMoves: db.collection<GroupMoveDoc>('group_moves'),
    priorMembers: db.collection<PriorMemberDoc>('prior_members'),
    groupFollows: db.collection<GroupFollowDoc>('group_follows'),
    knownMembers: db.collection<KnownMemberDoc>('known_members'),
    peerings: db.collection<PeerDoc>('peerings'),
    directoryEntries: db.collection<DirectoryEntryDoc>('directory_entries'),
    peers: db.collection<PeerSoftwareDoc>('peer_software'),
  };
}

/** One index per query of the repositories (the comment names it); `_id` lookups need none. */
const INDEXES: { [K in keyof MongoCollections]: IndexDescription[] } = {
  // listGroups, countGroups
  groups: [{ key: { deletedAt: 1, _id: 1 } }],
  keyPairs: [],
  members: [
    // getMember, upsertMember, removeMember
    { key: { groupName: 1, actorId: 1 }, unique: true },
    // listMembers, countMembers
    { key: { groupName: 1, state: 1, actorId: 1 } },
    // the releases of delivery inboxes (delivery-inboxes.mongodb.ts), listDeliveryInboxesExcept
    { key: { groupName: 1, state: 1, deliveryInbox: 1 } },
    // listGroupsOfActor
    { key: { actorId: 1, groupName: 1 } },
  ],
  // listDeliveryInboxes
  deliveryInboxes: [{ key: { groupName: 1, inbox: 1 } }],
  remoteActors: [
    // getRemoteActorByKeyId
    { key: { keyId: 1, fetchedAt: -1 } },
    // purgeStale
    { key: { fetchedAt: 1 } },
  ],
  activities: [
    // listOutbox, countOutbox
    { key: { groupName: 1, inOutbox: 1, published: -1, _id: -1 } },
    // markPostDeleted (withdrawal), listActivitiesAbout
    { key: { groupName: 1, objectId: 1, published: 1, _id: 1 } },
  ],
  posts: [
    // getPost, putPost, markPostDeleted
    { key: { groupName: 1, objectId: 1 }, unique: true },
    // listThread
    { key: { groupName: 1, threadRoot: 1, createdAt: 1, objectId: 1 } },
    // listPinned
    { key: { groupName: 1, pinnedAt: -1, objectId: -1 } },
    // countPostsByAuthorSince, countPostsByAuthor
    { key: { groupName: 1, authorId: 1, createdAt: 1 } },
    // listPostsByAuthor
    { key: { groupName: 1, authorId: 1, objectId: 1 } },
    // listGroupsOfPost
    { key: { objectId: 1, groupName: 1 } },
  ],
  jobs: [
    // claim (in the order it sorts, so that no sort of the whole backlog is needed), stats
    { key: { queue: 1, state: 1, runAt: 1, _id: 1 } },
    // stats (oldest queued job)
    { key: { queue: 1, state: 1, createdAt: 1 } },
    // purgeFinished
    { key: { queue: 1, state: 1, updatedAt: 1 } },
  ],
  // purgeFinished
  jobTransitions: [{ key: { rev: 1 } }],
  jobPacks: [
    // claim, in the order it sorts
    { key: { queue: 1, state: 1, nextAt: 1, _id: 1 } },
    // purgeFinished, forgetPurgedIds
    { key: { queue: 1, state: 1, updatedAt: 1 } },
    // Not `ids` (getJob, rare): FerretDB 1.x indexes an array as one key, over PostgreSQL's size limit here.
  ],
  // getJob and purgeFinished use `_id` (and `ids`, unindexed as above).
  jobPacksDone: [],
  moderators: [
    // addModerator, removeModerator, isModerator
    { key: { groupName: 1, actorId: 1 }, unique: true },
    // purgeStale of remote actors
    { key: { actorId: 1 } },
    // listModerators, countModerators
    { key: { groupName: 1, addedAt: 1, actorId: 1 } },
  ],
  bans: [
    // putBan, removeBan, getActiveBan, listBans
    { key: { groupName: 1, actorId: 1 }, unique: true },
    // hasActiveBan
    { key: { actorId: 1, expiresAt: 1 } },
  ],
  // listDomainPolicies of one kind, countDomainPolicies
  domainPolicies: [{ key: { policy: 1, _id: 1 } }],
  reports: [
    // listReports
    { key: { groupName: 1, state: 1, createdAt: -1, _id: -1 } },
    // listUnnotified, listGroupsWithUnnotified
    { key: { notifyPending: 1, groupName: 1, createdAt: 1, _id: 1 } },
  ],
  reportResolutions: [],
  heldPosts: [
    // holdPost, getHeldPost, takeHeldPost
    { key: { groupName: 1, objectId: 1 }, unique: true },
    // listHeldPosts
    { key: { groupName: 1, createdAt: 1, objectId: 1 } },
  ],
  audit: [
    // listAudit of a group or of the instance (groupName null)
    { key: { groupName: 1, at: -1, _id: -1 } },
    // listAudit of everything
    { key: { at: -1, _id: -1 } },
  ],
  // getHost, recordFailure, recordSuccess use `_id`; listFailingHosts reads `_id` in order (failing hosts only).
  hosts: [],
  // getVote, putVote, removeVote
  votes: [{ key: { groupName: 1, actorId: 1, objectId: 1 }, unique: true }],
  rateHits: [
    // tryHit (the slots of a bucket), listHits
    { key: { bucket: 1, at: 1 } },
    // tryHit (a hit counted already)
    { key: { bucket: 1, hitId: 1 } },
    // purgeHits
    { key: { at: 1 } },
  ],
  // purgeExpiredClaims (claim and release use `_id`)
  claims: [{ key: { expiresAt: 1 } }],
  // getMoveState, addAlsoKnownAs, setMovedTo use `_id`.
  groupMoves: [],
  // addPriorMembers, isPriorMember, countPriorMembers
  priorMembers: [{ key: { groupName: 1, actorId: 1 }, unique: true }],
  groupFollows: [
    // putGroupFollow, getGroupFollow, removeGroupFollow, listGroupFollows
    { key: { groupName: 1, targetId: 1 }, unique: true },
    // listFollowsOf
    { key: { targetId: 1, groupName: 1 } },
  ],
  // replaceKnownMembers, countKnownMembers, listDeliveryInboxesExcept (remote group)
  knownMembers: [{ key: { groupId: 1, actorId: 1 }, unique: true }],
  // getPeer, putPeer, removePeer, listPeers, markPeerSeen use `_id`.
  peerings: [],
  // removeEntriesOfHost; the others use `_id`.
  directoryEntries: [{ key: { host: 1 } }],
  // listDue (getSoftware, noteOrigins and putSoftware use `_id`)
  peers: [{ key: { refreshAt: 1, _id: 1 } }],
};

/**
 * Creates the indexes; idempotent, and safe when several processes start at once. One index per command:
 * FerretDB 1.24 drops the connection when one createIndexes command names several indexes that all exist.
 */
export async function ensureIndexes(collections: MongoCollections): Promise<void> {
  const names = Object.keys(INDEXES) as (keyof MongoCollections)[];
  for (const name of names) {
    for (const index of INDEXES[name]) await collections[name].createIndexes([index]);
  }
}
