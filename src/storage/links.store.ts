/**
 * The part of the storage port that ties groups and instances to others: a group's former and new ids (moves),
 * the groups a group follows (FEP-d36d), and the instances this one shares its directory with (peers) and the
 * groups they list. Implemented by both adapters and covered by the contract suite like the rest. Lists are paged
 * in the store; times are epoch milliseconds.
 */

/** Where a group came from and where it went. */
export interface GroupMoveState {
  groupName: string;
  /** Former actor ids of the group (served as `alsoKnownAs`), in the order they were recorded. */
  alsoKnownAs: string[];
  /** The actor id the group moved to, or null. */
  movedTo: string | null;
  /** When it moved, or null. */
  movedAt: number | null;
}

export interface GroupMoveRepository {
  /** The group's move state; a group never imported nor moved has no aliases and no target. */
  getMoveState(groupName: string): Promise<GroupMoveState>;
  /** Adds a former id (once: adding one already listed changes nothing). */
  addAlsoKnownAs(groupName: string, actorId: string): Promise<void>;
  /** Records that the group moved to `target` at `at`; recording the same target again changes nothing. */
  setMovedTo(groupName: string, target: string, at: number): Promise<void>;
  /**
   * Records actors that were accepted members of a former id of the group: their Follow is accepted without a
   * new approval. Adding one already recorded changes nothing. Returns how many were new.
   */
  addPriorMembers(groupName: string, actorIds: string[]): Promise<number>;
  isPriorMember(groupName: string, actorId: string): Promise<boolean>;
  countPriorMembers(groupName: string): Promise<number>;
}

export type GroupFollowState = 'pending' | 'accepted';

/** A group here following another group (on any server). */
export interface GroupFollow {
  groupName: string;
  /** The followed group's actor id. */
  targetId: string;
  /** Where the Follow (and its Undo) went. */
  targetInbox: string;
  /** Id of the Follow, answered by Accept or Reject. */
  followId: string;
  state: GroupFollowState;
  createdAt: number;
  updatedAt: number;
}

/**
 * Whose members already get what a group re-shares from another: the accepted members of a group hosted here,
 * or the known members of a remote group ({@link GroupFollowRepository.replaceKnownMembers}).
 */
export type MemberExclusion = { localGroup: string } | { remoteGroup: string };

/** One page of delivery inboxes, and where the next page starts (null when there are no more). */
export interface InboxPage {
  inboxes: string[];
  next: string | null;
}

export interface GroupFollowRepository {
  /** Inserts or replaces the follow of (groupName, targetId). */
  putGroupFollow(f: GroupFollow): Promise<void>;
  getGroupFollow(groupName: string, targetId: string): Promise<GroupFollow | null>;
  /** Returns false when there was none. */
  removeGroupFollow(groupName: string, targetId: string): Promise<boolean>;
  /** The follows of a group ordered by targetId, targetIds strictly greater than `after`. */
  listGroupFollows(groupName: string, after: string | null, limit: number): Promise<GroupFollow[]>;
  /** The follows of `targetId` by groups here (any state), ordered by groupName, after the cursor. */
  listFollowsOf(targetId: string, after: string | null, limit: number): Promise<GroupFollow[]>;
  /**
   * Replaces the known members of a remote group (its followers collection, as last read) with `actorIds`.
   */
  replaceKnownMembers(groupId: string, actorIds: string[]): Promise<void>;
  countKnownMembers(groupId: string): Promise<number>;
  /**
   * Distinct delivery inboxes of the accepted members of `groupName`, ascending, strictly greater than `after`,
   * leaving out each inbox behind which every accepted member of `groupName` is also in `except`: they get the
   * activity from the other group. `next` is the last inbox looked at, to pass as `after`, or null at the end.
   * A page may hold fewer than `limit` inboxes (even none) while more remain.
   */
  listDeliveryInboxesExcept(
    groupName: string,
    except: MemberExclusion,
    after: string | null,
    limit: number,
  ): Promise<InboxPage>;
}

/** Another instance this one shares its directory with. */
export interface Peer {
  /** host[:port], lowercase: the peer's key. */
  host: string;
  /** The peer's Service actor. */
  actorId: string;
  /** Where activities for the peer's Service actor go (its shared inbox when it has one). */
  inbox: string;
  /** True when this instance's admin added the peer; false for a peer that asked first (its Follow waits). */
  added: boolean;
  /** Id of this instance's Follow of the peer's Service actor, or null before it is sent. */
  followId: string | null;
  /** The peer accepted this instance's Follow: it sends its groups here. */
  following: boolean;
  /** Id of the peer's Follow of this instance's Service actor, or null. */
  theirFollowId: string | null;
  /** The peer's Follow was accepted: this instance sends its groups there. */
  followedBy: boolean;
  addedAt: number;
  /** The last time the peer answered (an activity from it, or a fetch of its Service actor). */
  lastSeenAt: number;
}

/** The fields of a peer that change once it is stored. */
export type PeerChanges = Partial<Pick<Peer, 'following' | 'theirFollowId' | 'followedBy'>>;

export interface PeerRepository {
  /** Inserts or replaces the peer of `host`. */
  putPeer(p: Peer): Promise<void>;
  getPeer(host: string): Promise<Peer | null>;
  /** Removes the peer; returns false when there was none. Its directory entries are removed apart. */
  removePeer(host: string): Promise<boolean>;
  /** Peers ordered by host, hosts strictly greater than `after`. */
  listPeers(after: string | null, limit: number): Promise<Peer[]>;
  /**
   * Changes only the given fields of the peer of `host` (in one write, so that changes made at once by two
   * activities of the peer are both kept). Returns false when there is no such peer.
   */
  updatePeer(host: string, changes: PeerChanges): Promise<boolean>;
  /** Sets lastSeenAt to `at` when it is later than the one stored. Returns false when there is no such peer. */
  markPeerSeen(host: string, at: number): Promise<boolean>;
}

/** A group listed by a peer, shown in this instance's directory beside the local groups. */
export interface DirectoryEntry {
  /** The group's actor id (on the peer's host). */
  actorId: string;
  /** The peer that listed it. */
  host: string;
  /** preferredUsername. */
  name: string;
  title: string;
  /** Plain text. */
  summary: string;
  tags: string[];
  iconUrl: string | null;
  membershipPolicy: 'open' | 'approval';
  /** When the peer last told about it. */
  updatedAt: number;
}

export interface DirectoryRepository {
  /** Inserts or replaces the entry of `actorId`. */
  putEntry(e: DirectoryEntry): Promise<void>;
  getEntry(actorId: string): Promise<DirectoryEntry | null>;
  /** Returns false when there was none. */
  removeEntry(actorId: string): Promise<boolean>;
  /** Removes every entry a peer listed; returns how many. */
  removeEntriesOfHost(host: string): Promise<number>;
  /** Entries ordered by actorId, actorIds strictly greater than `after`. */
  listEntries(after: string | null, limit: number): Promise<DirectoryEntry[]>;
}

/** The repositories of links between groups and instances, as one part of the Store. */
export interface LinksStore {
  readonly moves: GroupMoveRepository;
  readonly groupFollows: GroupFollowRepository;
  readonly peerings: PeerRepository;
  readonly directory: DirectoryRepository;
}
