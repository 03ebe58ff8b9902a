/**
 * Wire types of the activities Guild writes, as AS2 compacted JSON. Every outbound activity is one of these and
 * is made by a builder (`*.builders.ts`); inbound documents are read by `inbound.parser.ts` into its own union.
 * No I/O.
 */
import type { ApObject } from './vocab.ts';

/** `to`, `cc` and FEP-1b12 `audience`, as this server writes them. */
export interface ApAddressing {
  to: string[];
  cc: string[];
  /** The group the activity belongs to (FEP-1b12); Lemmy checks that it names the community. */
  audience?: string;
}

/** What every activity written here carries. */
export interface ApActivityBase extends ApAddressing {
  id: string;
  actor: string;
  /** ISO 8601. */
  published?: string;
}

/** The Follow an Accept or Reject answers, as embedded in the answer. */
export interface ApFollowRef {
  id?: string;
  type: 'Follow';
  actor: string;
  object: string;
}

export interface ApFollowAnswer extends ApActivityBase {
  type: 'Accept' | 'Reject';
  object: ApFollowRef;
}

/** FEP-1b12 `Announce{activity}` (the activity unchanged) or a plain boost `Announce{object id}`. */
export interface ApAnnounce extends ApActivityBase {
  type: 'Announce';
  object: ApObject | string;
}

export interface ApUndo<T> extends ApActivityBase {
  type: 'Undo';
  object: T;
}

/** A ban from a group (Lemmy `BlockUser`): `target` is the group. */
export interface ApBlock extends ApActivityBase {
  type: 'Block';
  object: string;
  target: string;
  /** The reason, written to the moderation log. */
  summary?: string;
  /** When the ban ends (Lemmy reads `endTime`, and `expires` from older versions). */
  endTime?: string;
  expires?: string;
  /** Also remove the banned user's content in the group. */
  removeData?: boolean;
}

/** Delete of a post, or of the group. With `summary`, Lemmy reads a post's Delete as a moderator's removal. */
export interface ApDelete extends ApActivityBase {
  type: 'Delete';
  object: string;
  summary?: string;
}

/** Add or Remove of an actor on the moderators collection, or of a post on the featured collection. */
export interface ApCollectionChange extends ApActivityBase {
  type: 'Add' | 'Remove';
  object: string;
  target: string;
}

/** Lemmy's lock of a thread, by its top-level post. */
export interface ApLock extends ApActivityBase {
  type: 'Lock';
  object: string;
}

/** Update of the group's actor document. */
export interface ApUpdate extends ApActivityBase {
  type: 'Update';
  object: ApObject;
}

/** The Flag a Resolve answers, as embedded. */
export interface ApFlagRef {
  id: string;
  type: 'Flag';
  actor: string;
  object: string[];
}

export interface ApResolve extends ApActivityBase {
  type: 'Resolve';
  object: ApFlagRef;
}

export interface ApMention {
  type: 'Mention';
  href: string;
  name: string;
}

/** A direct message as Mastodon-style servers take it: a Note addressed to one actor, with a mention. */
export interface ApDirectNote {
  id: string;
  type: 'Note';
  attributedTo: string;
  to: string[];
  cc: string[];
  published: string;
  content: string;
  tag: ApMention[];
  inReplyTo?: string;
}

/** A private message as Lemmy takes it (Pleroma's `ChatMessage`): exactly one recipient. */
export interface ApChatMessage {
  id: string;
  type: 'ChatMessage';
  attributedTo: string;
  to: [string];
  content: string;
  mediaType: 'text/html';
  source: { content: string; mediaType: 'text/markdown' };
  published: string;
}

/** A group's move to its new id (the object is the group itself). */
export interface ApMove extends ApActivityBase {
  type: 'Move';
  object: string;
  target: string;
}

/** A Follow this server sends: of a group by a group, or of a peer's Service actor by this one. */
export interface ApFollow extends ApActivityBase {
  type: 'Follow';
  object: string;
}

export interface ApCreate<T> extends ApActivityBase {
  type: 'Create';
  object: T;
}

/** Every activity this server writes. */
export type ApOutbound =
  | ApFollowAnswer
  | ApAnnounce
  | ApUndo<ApAnnounce | ApBlock | ApDelete | ApLock | ApFollow>
  | ApBlock
  | ApDelete
  | ApCollectionChange
  | ApLock
  | ApUpdate
  | ApResolve
  | ApCreate<ApDirectNote | ApChatMessage>
  | ApMove
  | ApFollow;
