/**
 * `Delete` of a post: by its author (re-shared unchanged, the group's boost undone), or by a moderator who is
 * not its author, which is a removal (Lemmy sends removals as `Delete` with a `summary`). It is taken by every
 * group that holds the post, wherever it arrived.
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

type Plan = { kind: 'author'; boostId: string | null } | { kind: 'moderator' };

export function deletePostHandler(d: HandlerDeps): Handler<InboundOf<'delete-post'>, Plan> {
  return {
    async groups(a, inboxGroup) {
      // Also the groups that hold the post, whatever the Delete is addressed to: Mastodon addresses an
      // author's Delete to the public only, snac to the moderators collection of the group that boosted it.
      const named = await groupsOfPost(d, a, a.objectId, inboxGroup);
      return [...new Set([...named, ...(await d.store.posts.listGroupsOfPost(a.objectId))])];
    },
    async verify(a, group) {
      const post = await d.store.posts.getPost(group, a.objectId);
      if (!post) return err(`Delete of ${a.objectId}, which is not a post of ${group}`);
      if (post.deletedAt !== null) return err(`${a.objectId} was deleted`);
      if (post.authorId === a.actor) return ok({ kind: 'author', boostId: post.boostId });
      const refused = await notModerator(d, group, a.actor, 'Delete');
      return refused ? err(refused) : ok({ kind: 'moderator' });
    },
    async apply(a, group, plan) {
      if (plan.kind === 'moderator') {
        const r = await d.moderation.removePost(group, a.objectId, {
          by: a.actor,
          reason: a.summary ?? '',
          source: a.raw,
        });
        if (!r.ok) return notApplied(r.error.type);
        return r.value
          ? applied(`moderator ${a.actor} removed ${a.objectId} from ${group}`)
          : notApplied(`${a.objectId} was already removed`);
      }
      // Told first, marked last: a retry after a failure in between finds the post live and tells nothing twice.
      await d.events.emit({
        type: 'PostDeleted',
        group,
        basis: a.id,
        source: a.raw,
        objectId: a.objectId,
        boostId: plan.boostId,
      });
      await d.store.posts.markPostDeleted(group, a.objectId, d.now(), null);
      return applied(`Delete of ${a.objectId} announced to ${group}`);
    },
  };
}
