/**
 * `Undo{Delete}` of a post: its author undeletes what they deleted, or a moderator restores what was removed
 * (Lemmy's `UndoDelete`, a removal's Undo carrying the Delete's `summary`). The post is live again, the Undo is
 * re-shared (a moderator's own, or the group's), and a top-level post is boosted again.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { err, ok } from '../ports.ts';
import {
  applied,
  groupsOfPost,
  notApplied,
  notModerator,
  type Handler,
  type HandlerDeps,
} from './handler.ts';

type Plan = { kind: 'undelete'; topLevel: boolean } | { kind: 'restore' };

export function undoDeleteHandler(d: HandlerDeps): Handler<InboundOf<'undo-delete'>, Plan> {
  return {
    async groups(a, inboxGroup) {
      return groupsOfPost(d, a, a.delete.objectId, inboxGroup);
    },
    async verify(a, group) {
      if (a.delete.actor !== null && a.delete.actor !== a.actor)
        return err('Undo of a Delete made by another actor');
      const post = await d.store.posts.getPost(group, a.delete.objectId);
      if (!post) return err(`Undo{Delete} of ${a.delete.objectId}, which is not a post of ${group}`);
      if (post.deletedAt === null) return err(`${a.delete.objectId} is not deleted`);
      if (post.removedBy === null) {
        if (post.authorId !== a.actor) return err(`only the author of ${a.delete.objectId} can undelete it`);
        return ok({ kind: 'undelete', topLevel: post.inReplyTo === null });
      }
      const refused = await notModerator(d, group, a.actor, 'Undo{Delete} of a removed post');
      return refused ? err(refused) : ok({ kind: 'restore' });
    },
    async apply(a, group, plan) {
      if (plan.kind === 'restore') {
        const r = await d.moderation.restorePost(group, a.delete.objectId, { by: a.actor, source: a.raw });
        if (!r.ok) return notApplied(r.error.type === 'invalid' ? r.error.detail : r.error.type);
        return r.value
          ? applied(`moderator ${a.actor} restored ${a.delete.objectId} in ${group}`)
          : notApplied(`${a.delete.objectId} was not removed`);
      }
      const boostId = plan.topLevel ? d.urls.derivedActivity(group, a.id, 'boost') : null;
      // Told first, restored last: a retry after a failure in between finds the post still deleted.
      await d.events.emit({
        type: 'PostRestored',
        group,
        basis: a.id,
        source: a.raw,
        objectId: a.delete.objectId,
        reason: '',
        boostId,
      });
      await d.store.posts.restorePost(group, a.delete.objectId, boostId);
      return applied(`${a.actor} undeleted ${a.delete.objectId} in ${group}`);
    },
  };
}
