/** `Update` of a post by its author: re-shared unchanged to the members. */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { sameOrigin } from '../../activitypub/vocab.ts';
import { err, ok } from '../ports.ts';
import { applied, groupsOfPost, type Handler, type HandlerDeps } from './handler.ts';

export function updatePostHandler(d: HandlerDeps): Handler<InboundOf<'update-post'>, null> {
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
      const post = await d.store.posts.getPost(group, a.objectId);
      if (!post) return err(`Update of ${a.objectId}, which is not a post of ${group}`);
      if (post.authorId !== a.actor) return err(`Update of ${a.objectId} by someone who is not its author`);
      if (a.object !== null && !sameOrigin(a.objectId, a.actor))
        return err('Update of an object on another origin');
      if (post.deletedAt !== null) return err(`${a.objectId} was deleted`);
      return ok(null);
    },
    async apply(a, group) {
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
