/** MongoDB documents of moves, groups following groups, peers and their directories. */
import type { ObjectId } from 'mongodb';
import type { GroupFollowState } from '../links.store.ts';

/** A group's move state; `_id` is the group's name. */
export interface GroupMoveDoc {
  _id: string;
  alsoKnownAs: string[];
  movedTo: string | null;
  movedAt: number | null;
}

/** An accepted member of a former id of a group; (groupName, actorId) is unique. */
export interface PriorMemberDoc {
  _id?: ObjectId;
  groupName: string;
  actorId: string;
}

/** A group here following another group; (groupName, targetId) is unique. */
export interface GroupFollowDoc {
  _id?: ObjectId;
  groupName: string;
  targetId: string;
  targetInbox: string;
  followId: string;
  state: GroupFollowState;
  createdAt: number;
  updatedAt: number;
}

/** A known member of a remote group; (groupId, actorId) is unique. */
export interface KnownMemberDoc {
  _id?: ObjectId;
  groupId: string;
  actorId: string;
}

/** A peer; `_id` is its host. */
export interface PeerDoc {
  _id: string;
  actorId: string;
  inbox: string;
  added: boolean;
  followId: string | null;
  following: boolean;
  theirFollowId: string | null;
  followedBy: boolean;
  addedAt: number;
  lastSeenAt: number;
}

/** A group a peer lists; `_id` is the group's actor id. */
export interface DirectoryEntryDoc {
  _id: string;
  host: string;
  name: string;
  title: string;
  summary: string;
  tags: string[];
  iconUrl: string | null;
  membershipPolicy: 'open' | 'approval';
  updatedAt: number;
}
