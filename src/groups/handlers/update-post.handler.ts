/**
 * `Update` of a post by its author. It passes the same rules as the post did (PostingService): a banned or
 * former member's edit is refused, an edit is held when its author's posts would be, and the new version is
 * checked again for public addressing, locked threads and the group-mention cap. Accepted, it is re-shared
 * unchanged, within the member's hourly budget of votes and edits and the post's hourly budget of edits.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { err } from '../ports.ts';
import type { PostingPlan, Submission } from '../posting.service.ts';
import { applied, groupsOfPost, liveGroup, notApplied, type Handler, type HandlerDeps } from './handler.ts';
import { groupMentions } from './create-post.handler.ts';

type UpdatePost = InboundOf<'update-post'>;

export function updatePostHandler(d: HandlerDeps): Handler<UpdatePost, PostingPlan> {
  const submission = (a: UpdatePost & { object: NonNullable<UpdatePost['object']> }): Submission => ({
    activityId: a.id,
    author: a.actor,
    object: a.object,
    activity: a.raw,
  });
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
      const object = a.object;
      if (object === null)
        return err(`Update of ${a.objectId} without the post inline: the new version cannot be checked`);
      const mentions = await groupMentions(d, a, object);
      return d.posting.checkEdit(group, submission({ ...a, object }), {
        groupMentions: mentions,
        released: false,
      });
    },
    async apply(a, group, plan) {
      const g = await liveGroup(d, group);
      if (!g || a.object === null) return notApplied(`group ${group} does not exist`);
      const s = submission({ ...a, object: a.object });
      const over =
        (await d.budget.takeEdit(g, a.actor, a.objectId, a.id)) ??
        (await d.budget.takeMember(g, a.actor, a.id));
      if (over) return notApplied(over);
      if (plan.kind === 'refuse-non-member') return notApplied(plan.reason);
      if (plan.kind === 'hold') return applied(await d.posting.hold(group, s, plan.reason, true));
      return applied(await d.posting.acceptEdit(plan.post, s));
    },
  };
}
