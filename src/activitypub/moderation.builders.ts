/**
 * Builders of moderation activities in the shapes Lemmy 0.19 takes (`crates/apub/src/protocol/activities/`):
 * every one names its actor (a moderator, or the instance's Service actor for what the admin and DM commands
 * do), is public, cc the group, `audience` the group, and is then wrapped in the group's Announce. An Undo
 * embeds the whole activity it undoes, addressing included (Lemmy parses the embedded activity with the same
 * required fields). No I/O.
 */
import type { ApBlock, ApCollectionChange, ApDelete, ApLock, ApUndo } from './ap-types.ts';
import { inGroup } from './activity.builders.ts';

interface InGroup {
  id: string;
  /** Who acts: a moderator, or the Service actor. */
  actor: string;
  /** The group's actor id. */
  group: string;
  published: string;
}

/** A ban from the group (Lemmy `BlockUser`, target the community). */
export function buildBlock(
  o: InGroup & { user: string; reason: string; endTime: string | null; removeData: boolean },
): ApBlock {
  const block: ApBlock = {
    id: o.id,
    type: 'Block',
    actor: o.actor,
    object: o.user,
    target: o.group,
    ...inGroup(o.group),
    summary: o.reason,
    published: o.published,
  };
  if (o.endTime !== null) {
    block.endTime = o.endTime;
    block.expires = o.endTime;
  }
  if (o.removeData) block.removeData = true;
  return block;
}

/** The end of a ban (Lemmy `UndoBlockUser`): Lemmy checks that its actor and the Block's are on one domain. */
export function buildUndoBlock(o: InGroup & { block: ApBlock }): ApUndo<ApBlock> {
  return {
    id: o.id,
    type: 'Undo',
    actor: o.actor,
    object: o.block,
    ...inGroup(o.group),
    published: o.published,
  };
}

/**
 * A moderator's removal of a post: `Delete` with `summary` (the reason, possibly empty), which Lemmy reads as
 * a removal (`receive_remove_action`) rather than the author's deletion.
 */
export function buildRemovePost(o: InGroup & { objectId: string; reason: string }): ApDelete {
  return {
    id: o.id,
    type: 'Delete',
    actor: o.actor,
    object: o.objectId,
    ...inGroup(o.group),
    summary: o.reason,
    published: o.published,
  };
}

/** A moderator's restoring of a removed post: Undo of the removal's Delete (Lemmy `UndoDelete`). */
export function buildRestorePost(o: InGroup & { remove: ApDelete }): ApUndo<ApDelete> {
  return {
    id: o.id,
    type: 'Undo',
    actor: o.actor,
    object: o.remove,
    ...inGroup(o.group),
    published: o.published,
  };
}

/**
 * Add or Remove of an actor on the moderators collection or of a post on the featured collection (Lemmy
 * `CollectionAdd`/`CollectionRemove`; it finds the group by the collection's URL).
 */
export function buildCollectionChange(
  o: InGroup & { type: 'Add' | 'Remove'; object: string; collection: string },
): ApCollectionChange {
  return {
    id: o.id,
    type: o.type,
    actor: o.actor,
    object: o.object,
    target: o.collection,
    ...inGroup(o.group),
    published: o.published,
  };
}

/** Lock of a thread by its top-level post (Lemmy `LockPage`). */
export function buildLock(o: InGroup & { objectId: string }): ApLock {
  return {
    id: o.id,
    type: 'Lock',
    actor: o.actor,
    object: o.objectId,
    ...inGroup(o.group),
    published: o.published,
  };
}

/** Unlock of a thread (Lemmy `UndoLockPage`, the Lock embedded). */
export function buildUndoLock(o: InGroup & { lock: ApLock }): ApUndo<ApLock> {
  return {
    id: o.id,
    type: 'Undo',
    actor: o.actor,
    object: o.lock,
    ...inGroup(o.group),
    published: o.published,
  };
}
