/**
 * What Guild should decide for each activity of the interop corpus, delivered to a group of its own after the
 * payloads it builds on (`historyOf`, in `deliveryRank` order), with its actor a member of the group. `applied`
 * means a log line of the intake loop that is not `not applied: ...`; `refused` means a `not applied: <reason>`
 * line or the inbox's "type not handled" line; `rejected` means a 4xx answer. A `note` explains why a refusal
 * is right.
 */
import { expect } from 'chai';
import type { Store } from '../../src/storage/store.ts';
import { idOf } from '../../src/activitypub/vocab.ts';
import type { PreparedActivity } from './interop-fixtures.ts';

export type Decision = 'applied' | 'refused' | 'rejected';

export interface CheckContext {
  store: Store;
  groupName: string;
  prepared: PreparedActivity;
}

export interface Expectation {
  decision: Decision;
  /** A missing feature behind a refusal that is right for now. */
  note?: string;
  /** Further state to check once the activity was processed. */
  check?: (c: CheckContext) => Promise<void>;
}

const objectIdOf = (p: PreparedActivity): string => {
  const id = idOf(p.activity.object);
  if (!id) throw new Error(`${p.fixture} has no object id`);
  return id;
};

const postStored = async ({ store, groupName, prepared }: CheckContext): Promise<void> => {
  const post = await store.posts.getPost(groupName, objectIdOf(prepared));
  expect(post, 'the post is stored').to.not.equal(null);
  expect(post?.createId).to.equal(prepared.id);
};

const memberIs =
  (state: 'accepted' | null) =>
  async ({ store, groupName, prepared }: CheckContext): Promise<void> => {
    const m = await store.members.getMember(groupName, prepared.signerId);
    expect(m?.state ?? null, `membership of ${prepared.signerId}`).to.equal(state);
  };

const MODERATION = 'the sender is not a moderator of the group here, so the moderation activity is refused';
const RESOLVE = 'Resolve is sent by groups to reporters, not taken from them';

/** A Flag becomes an open report in the group's moderation queue. */
const reportFiled: Expectation = {
  decision: 'applied',
  check: async (c) => {
    const open = await c.store.reports.listReports(c.groupName, 'open', null, 50);
    if (!open.some((r) => r.flagId === c.prepared.activity.id))
      throw new Error(`no open report for ${String(c.prepared.activity.id)}`);
  },
};

/** Expected decisions by fixture name; every activity of the corpus has one. */
export const EXPECTED: Record<string, Expectation> = {
  'friendica/activities/create_note.json': { decision: 'refused' },
  'friendica/activities/create_page_1.json': { decision: 'applied', check: postStored },
  'friendica/activities/create_page_2.json': { decision: 'applied', check: postStored },
  'friendica/activities/delete.json': { decision: 'refused' },
  'friendica/activities/dislike_page.json': { decision: 'refused' },
  'friendica/activities/like_page.json': { decision: 'refused' },
  'friendica/activities/undo_dislike_page.json': { decision: 'refused' },
  'friendica/activities/update_note.json': { decision: 'refused' },

  'lemmy/activities/block/block_user.json': { decision: 'refused', note: MODERATION },
  'lemmy/activities/block/undo_block_user.json': { decision: 'refused', note: MODERATION },
  'lemmy/activities/community/add_featured_post.json': { decision: 'refused', note: MODERATION },
  'lemmy/activities/community/add_mod.json': { decision: 'refused', note: MODERATION },
  'lemmy/activities/community/announce_create_page.json': { decision: 'refused' },
  'lemmy/activities/community/lock_note.json': { decision: 'refused', note: MODERATION },
  'lemmy/activities/community/lock_page.json': { decision: 'refused', note: MODERATION },
  'lemmy/activities/community/remove_featured_post.json': { decision: 'refused', note: MODERATION },
  'lemmy/activities/community/remove_mod.json': { decision: 'refused', note: MODERATION },
  'lemmy/activities/community/report_page.json': reportFiled,
  'lemmy/activities/community/resolve_report_page.json': { decision: 'refused', note: RESOLVE },
  'lemmy/activities/community/undo_lock_note.json': { decision: 'refused', note: MODERATION },
  'lemmy/activities/community/undo_lock_page.json': { decision: 'refused', note: MODERATION },
  'lemmy/activities/community/update_community.json': {
    decision: 'refused',
    // A member sends an Update of the group itself: nothing of the group may change.
    check: async ({ store, groupName }) => {
      const group = await store.groups.getGroup(groupName);
      expect(group?.title).to.not.equal('The Updated Community');
    },
  },
  'lemmy/activities/community/warn.json': { decision: 'refused' },
  'lemmy/activities/create_or_update/create_comment.json': { decision: 'applied', check: postStored },
  'lemmy/activities/create_or_update/create_page.json': { decision: 'applied', check: postStored },
  'lemmy/activities/create_or_update/create_private_message.json': { decision: 'refused' },
  'lemmy/activities/create_or_update/create_private_message_0.19.json': { decision: 'refused' },
  'lemmy/activities/create_or_update/update_page.json': { decision: 'applied' },
  'lemmy/activities/deletion/delete_page.json': {
    decision: 'applied',
    check: async ({ store, groupName, prepared }) => {
      const post = await store.posts.getPost(groupName, objectIdOf(prepared));
      expect(post?.deletedAt ?? null, 'the post is marked deleted').to.not.equal(null);
    },
  },
  'lemmy/activities/deletion/delete_private_message.json': { decision: 'refused' },
  'lemmy/activities/deletion/delete_user.json': {
    decision: 'applied',
    check: memberIs(null),
  },
  'lemmy/activities/deletion/remove_note.json': {
    decision: 'refused',
    note: MODERATION,
    check: async ({ store, groupName, prepared }) => {
      const post = await store.posts.getPost(groupName, objectIdOf(prepared));
      expect(post?.deletedAt, 'a non-author, non-moderator cannot delete').to.equal(null);
    },
  },
  // Lemmy's author undoing their own Delete (crates/apub/src/activities/deletion/undo_delete.rs): the post is live
  // again (delete_page.json deleted it just before, in delivery order).
  'lemmy/activities/deletion/undo_delete_page.json': {
    decision: 'applied',
    check: async ({ store, groupName, prepared }) => {
      const inner = prepared.activity.object;
      const objectId = idOf(
        typeof inner === 'object' && inner !== null ? (inner as { object?: unknown }).object : null,
      );
      if (!objectId) throw new Error('the Undo embeds no Delete of a post');
      const post = await store.posts.getPost(groupName, objectId);
      expect(post === null ? 'absent' : post.deletedAt, 'the post is live again').to.equal(null);
    },
  },
  'lemmy/activities/deletion/undo_delete_private_message.json': { decision: 'refused' },
  'lemmy/activities/deletion/undo_remove_note.json': { decision: 'refused', note: MODERATION },
  'lemmy/activities/following/accept.json': { decision: 'refused' },
  'lemmy/activities/following/follow.json': { decision: 'applied', check: memberIs('accepted') },
  'lemmy/activities/following/undo_follow.json': { decision: 'applied', check: memberIs(null) },
  'lemmy/activities/voting/dislike_page.json': { decision: 'applied' },
  'lemmy/activities/voting/like_note.json': { decision: 'applied' },
  'lemmy/activities/voting/undo_dislike_page.json': { decision: 'applied' },
  'lemmy/activities/voting/undo_like_note.json': { decision: 'applied' },

  'mastodon/activities/create_note.json': { decision: 'refused' },
  'mastodon/activities/delete.json': {
    decision: 'refused',
  },
  'mastodon/activities/flag.json': reportFiled,
  'mastodon/activities/follow.json': { decision: 'applied', check: memberIs('accepted') },
  'mastodon/activities/like_page.json': { decision: 'refused' },
  // A bare Note (no activity around it, no actor): 400.
  'mastodon/activities/private_message.json': { decision: 'rejected' },
  'mastodon/activities/undo_follow.json': { decision: 'applied', check: memberIs(null) },
  'mastodon/activities/undo_like_page.json': { decision: 'refused' },

  'mbin/activities/accept.json': { decision: 'refused' },
  'mbin/activities/flag.json': reportFiled,

  'pleroma/activities/create_note.json': { decision: 'refused' },
  'pleroma/activities/delete.json': { decision: 'refused' },
  'pleroma/activities/follow.json': { decision: 'refused' },
};
