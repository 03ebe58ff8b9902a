/**
 * `Create` of a post addressed to a group (mentioned, or in `to`/`cc`/`audience`): the posting rules, then the
 * post is stored and re-shared, or held for a moderator (see PostingService).
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import type { ApPostObject } from '../../activitypub/inbound.parser.ts';
import type { PostingPlan, Submission } from '../posting.service.ts';
import { ok } from '../ports.ts';
import { movedText } from '../moved.ts';
import { applied, localGroups, notApplied, type Handler, type HandlerDeps } from './handler.ts';

/** What to do with a post: the posting rules' decision, or a pointer when the group has moved. */
type Plan = PostingPlan | { kind: 'moved'; target: string };

type CreatePost = InboundOf<'create-post'>;

/** The groups here that a post is addressed to, by the activity and by the post itself. */
export function postGroups(
  d: HandlerDeps,
  a: { to: string[]; cc: string[]; audience: string[] },
  o: ApPostObject,
): string[] {
  return localGroups(d.urls, [
    ...a.to,
    ...a.cc,
    ...a.audience,
    ...o.to,
    ...o.cc,
    ...o.audience,
    ...o.mentions,
  ]);
}

/** Remote groups among a post's mentions, as far as the actor cache knows them (at most 50 looked up). */
async function remoteGroupsMentioned(d: HandlerDeps, o: ApPostObject): Promise<number> {
  const hrefs = [...new Set(o.mentions)].filter((h) => !d.urls.isLocal(h)).slice(0, 50);
  let n = 0;
  for (const href of hrefs) if ((await d.store.remoteActors.getRemoteActor(href))?.type === 'Group') n++;
  return n;
}

/** How many groups, here and elsewhere, a post (or the new version of one) mentions: the spam cap. */
export async function groupMentions(
  d: HandlerDeps,
  a: { to: string[]; cc: string[]; audience: string[] },
  o: ApPostObject,
): Promise<number> {
  return postGroups(d, a, o).length + (await remoteGroupsMentioned(d, o));
}

export function createPostHandler(d: HandlerDeps): Handler<CreatePost, Plan> {
  const submission = (a: CreatePost): Submission => ({
    activityId: a.id,
    author: a.actor,
    object: a.object,
    activity: a.raw,
  });
  return {
    async groups(a) {
      return postGroups(d, a, a.object);
    },
    async verify(a, group) {
      const { movedTo } = await d.store.moves.getMoveState(group);
      if (movedTo !== null) return ok({ kind: 'moved', target: movedTo });
      const mentions = await groupMentions(d, a, a.object);
      return d.posting.check(group, submission(a), { groupMentions: mentions, released: false });
    },
    async apply(a, group, plan) {
      if (plan.kind === 'moved') {
        // Nothing is re-shared here any more: the author is told where the group went, once per post.
        await d.notices.sendDirect(group, a.actor, movedText(plan.target), {
          basis: a.id,
          inReplyTo: a.object.id,
        });
        return applied(`${group} has moved to ${plan.target}; ${a.actor} was pointed there`);
      }
      if (plan.kind === 'refuse-non-member') {
        // Told to its author, who would otherwise see the post as sent to the group (rate-limited).
        const told = await d.notices.notifyRefusedPost(group, a.actor, { postId: a.object.id, basis: a.id });
        return notApplied(`${plan.reason}${told ? ' (told by direct message)' : ''}`);
      }
      if (plan.kind === 'hold') return applied(await d.posting.hold(group, submission(a), plan.reason));
      return applied(await d.posting.accept(plan.post, submission(a)));
    },
  };
}
