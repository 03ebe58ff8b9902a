/**
 * `Like` and `Dislike` of a post by a member (Lemmy, Mbin and NodeBB count them). The group keeps each
 * member's last vote on each post and re-shares only a change: the same vote again (a new id for the same
 * Like) is not announced, a Dislike after a Like is. Each announced vote counts against the member's hourly
 * budget, and is re-shared with the post reduced to its id.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import type { Group } from '../../storage/store.ts';
import type { Vote, VoteType } from '../../storage/brakes.store.ts';
import { err, ok } from '../ports.ts';
import { applied, groupsOfPost, liveGroup, notApplied, type Handler, type HandlerDeps } from './handler.ts';

/** How long the claim on a change of vote is kept: far longer than two activities can race. */
const VOTE_CLAIM_MS = 86_400_000;

/** What a vote or its Undo changes: the member's vote as it was (null: never voted) in a live group. */
export interface VoteChange {
  group: Group;
  from: Vote | null;
}

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

/**
 * Claims the change of a member's vote from the state `from` set: of two activities handled at once from the
 * same state (two Likes of a post sent together), one changes it and the other is handled again, against the
 * new state. The same activity claims again after a failure.
 */
export async function claimVoteChange(
  d: HandlerDeps,
  group: string,
  actor: string,
  objectId: string,
  from: Vote | null,
  activityId: string,
): Promise<void> {
  const key = `vote:${group}\n${actor}\n${objectId}\n${from?.activityId ?? ''}`;
  const at = d.now();
  const holder = await d.store.claims.claim(key, activityId, at, at + VOTE_CLAIM_MS);
  if (holder !== activityId)
    throw new Error(`the vote of ${actor} on ${objectId} in ${group} was changed at once by ${holder}`);
}

export function voteHandler(d: HandlerDeps): Handler<InboundOf<'like' | 'dislike'>, VoteChange> {
  return {
    async groups(a, inboxGroup) {
      return groupsOfPost(d, a, a.objectId, inboxGroup);
    },
    async verify(a, group) {
      const checked = await checkVote(d, group, a.actor, a.objectId);
      if (!checked.ok) return checked;
      const type: VoteType = a.kind === 'like' ? 'Like' : 'Dislike';
      const from = await d.store.votes.getVote(group, a.actor, a.objectId);
      if (from?.state === type)
        return err(
          from.activityId === a.id
            ? `${type} of ${a.objectId} already announced to ${group}`
            : `${a.actor} already has a ${type} on ${a.objectId} in ${group} (${from.activityId}); not announced again`,
        );
      return ok({ group: checked.value, from });
    },
    async apply(a, group, plan) {
      const type: VoteType = a.kind === 'like' ? 'Like' : 'Dislike';
      const over = await d.budget.takeMember(plan.group, a.actor, a.id);
      if (over) return notApplied(over);
      await claimVoteChange(d, group, a.actor, a.objectId, plan.from, a.id);
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
        state: type,
        activityId: a.id,
        at: d.now(),
      });
      return applied(`${type} of ${a.objectId} announced to ${group}`);
    },
  };
}
