/**
 * Builders of the activities that link groups and instances: a group's `Move` to its new id, the `Follow` (and
 * its `Undo`) of a group by a group (FEP-d36d) or of a peer's Service actor by this one, and what a Service actor
 * tells the peers that follow it about the groups of its directory. Ids are given by the caller. No I/O.
 */
import type { ApObject } from './vocab.ts';
import type { ApAnnounce, ApDelete, ApFollow, ApMove, ApUndo, ApUpdate } from './ap-types.ts';
import { embedded } from './activity.builders.ts';

/**
 * `Move{object: old, target: new}` by the group itself, to its followers. Mastodon follows it when the actor,
 * the object and the signer are the old account and the target lists the old one in `alsoKnownAs`
 * (mastodon/mastodon, app/lib/activitypub/activity/move.rb); GoToSocial wants exactly one object and one target,
 * the object being the actor, and a target not the actor (superseriousbusiness/gotosocial,
 * internal/federation/federatingdb/move.go).
 */
export function buildMove(o: {
  id: string;
  group: string;
  followers: string;
  target: string;
  published: string;
}): ApMove {
  return {
    id: o.id,
    type: 'Move',
    actor: o.group,
    object: o.group,
    target: o.target,
    to: [o.followers],
    cc: [],
    published: o.published,
  };
}

/** `Follow` of an actor (a group by a group, a peer's Service actor by this one), to that actor only. */
export function buildFollow(o: { id: string; actor: string; object: string; published: string }): ApFollow {
  return {
    id: o.id,
    type: 'Follow',
    actor: o.actor,
    object: o.object,
    to: [o.object],
    cc: [],
    published: o.published,
  };
}

/** `Undo{Follow}`, embedding the Follow as it was sent. */
export function buildUndoFollow(o: { id: string; follow: ApFollow; published: string }): ApUndo<ApFollow> {
  return {
    id: o.id,
    type: 'Undo',
    actor: o.follow.actor,
    object: o.follow,
    to: [o.follow.object],
    cc: [],
    published: o.published,
  };
}

/** What a Service actor tells a peer following it about one group of its directory. */
export type DirectoryChange = 'listed' | 'updated' | 'unlisted';

/**
 * The Service actor's news of one group to a peer's Service actor: `Announce{Group}` when the group is listed,
 * `Update{Group}` when it changed, `Delete{group id}` when it is no longer listed (deleted, moved, or made not
 * discoverable).
 */
export function buildDirectoryNews(o: {
  id: string;
  service: string;
  peer: string;
  change: DirectoryChange;
  group: string;
  /** The group's actor document (not needed to unlist). */
  document: ApObject | null;
  published: string;
}): ApAnnounce | ApUpdate | ApDelete {
  const base = { id: o.id, actor: o.service, to: [o.peer], cc: [], published: o.published };
  if (o.change === 'unlisted' || o.document === null) return { ...base, type: 'Delete', object: o.group };
  const document = embedded(o.document);
  return o.change === 'listed'
    ? { ...base, type: 'Announce', object: document }
    : { ...base, type: 'Update', object: document };
}
