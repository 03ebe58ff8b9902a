/**
 * `Update` of a post by its author: re-shared unchanged to the members, within the member's hourly budget of
 * votes and edits and the post's hourly budget of edits.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import type { Group } from '../../storage/store.ts';
import { sameOrigin } from '../../activitypub/vocab.ts';
import { err, ok } from '../ports.ts';
import { applied, groupsOfPost, liveGroup, notApplied, type Handler, type HandlerDeps } from './handler.ts';

export function updatePostHandler(d: HandlerDeps): Handler<InboundOf<'update-post'>, Group> {
  return {
    async groups(a, inboxGroup) {
      const o = a.object;
      return groupsOfPost(
        d,
        a,
        a.objectId,
        inboxGroup,
        o ? [...o.to, ...o.cc, ...o.audience, ...o.mentions] : [],
      );
    },
    async verify(a, group) {
      const g = await liveGroup(d, group);
      if (!g) return err(`group ${group} does not exist`);
      const post = await d.store.posts.getPost(group, a.objectId);
      if (!post) return err(`Update of ${a.objectId}, which is not a post of ${group}`);
      if (post.authorId !== a.actor) return err(`Update of ${a.objectId} by someone who is not its author`);
      if (a.object !== null && !sameOrigin(a.objectId, a.actor))
        return err('Update of an object on another origin');
      if (post.deletedAt !== null) return err(`${a.objectId} was deleted`);
      return ok(g);
    },
    async apply(a, group, g) {
      const over =
        (await d.budget.takeEdit(g, a.actor, a.objectId, a.id)) ??
        (await d.budget.takeMember(g, a.actor, a.id));
      if (over) return notApplied(over);
      await d.events.emit({
        type: 'ActivityReshared',
        group,
        basis: a.id,
        activity: a.raw,
        objectId: a.objectId,
      });
      return applied(`Update of ${a.objectId} announced to ${group}`);
    },
  };
}
