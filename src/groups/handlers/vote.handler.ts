/**
 * `Like` and `Dislike` of a post by a member (Lemmy, Mbin and NodeBB count them). The group keeps each
 * member's current vote on each post and re-shares only a change: the same vote again (a new id for the same
 * Like) is not announced, a Dislike after a Like is. Each announced vote counts against the member's hourly
 * budget, and is re-shared with the post reduced to its id.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import type { Group } from '../../storage/store.ts';
import type { VoteType } from '../../storage/brakes.store.ts';
import { err, ok } from '../ports.ts';
import { applied, groupsOfPost, liveGroup, notApplied, type Handler, type HandlerDeps } from './handler.ts';

/** Checks shared by votes and their Undo: the group is live, the post is live in it, the voter a member. */
export async function checkVote(
  d: HandlerDeps,
  group: string,
  voter: string,
  objectId: string,
): Promise<{ ok: true; value: Group } | { ok: false; error: string }> {
  const g = await liveGroup(d, group);
  if (!g) return err(`group ${group} does not exist`);
  const post = await d.store.posts.getPost(group, objectId);
  if (!post) return err(`vote on ${objectId}, which is not a post of ${group}`);
  if (post.deletedAt !== null) return err(`${objectId} was deleted`);
  const member = await d.store.members.getMember(group, voter);
  return member?.state === 'accepted' ? ok(g) : err(`${voter} is not a member of ${group}`);
}

export function voteHandler(d: HandlerDeps): Handler<InboundOf<'like' | 'dislike'>, Group> {
  return {
    async groups(a, inboxGroup) {
      return groupsOfPost(d, a, a.objectId, inboxGroup);
    },
    async verify(a, group) {
      const checked = await checkVote(d, group, a.actor, a.objectId);
      if (!checked.ok) return checked;
      const type: VoteType = a.kind === 'like' ? 'Like' : 'Dislike';
      const current = await d.store.votes.getVote(group, a.actor, a.objectId);
      if (current?.type === type)
        return err(
          current.activityId === a.id
            ? `${type} of ${a.objectId} already announced to ${group}`
            : `${a.actor} already has a ${type} on ${a.objectId} in ${group} (${current.activityId}); not announced again`,
        );
      return ok(checked.value);
    },
    async apply(a, group, g) {
      const type: VoteType = a.kind === 'like' ? 'Like' : 'Dislike';
      const over = await d.budget.takeMember(g, a.actor, a.id);
      if (over) return notApplied(over);
      await d.events.emit({
        type: 'VoteReshared',
        group,
        basis: a.id,
        activity: a.raw,
        objectId: a.objectId,
      });
      // The state the check reads changes last: a retry after a failed emit announces the same activity again.
      await d.store.votes.putVote({
        groupName: group,
        actorId: a.actor,
        objectId: a.objectId,
        type,
        activityId: a.id,
        at: d.now(),
      });
      return applied(`${type} of ${a.objectId} announced to ${group}`);
    },
  };
}
