/**
 * `Undo` of a member's `Like` or `Dislike`: re-shared (with the post reduced to its id) when the member has a
 * current vote on the post, which it then marks undone; an Undo when there is none (the vote was never
 * announced, or is undone already) is not announced. Any Undo of a vote undoes the current one, whatever its
 * type: Lemmy sends `Undo{Like}` to take back a Dislike too ("Lemmy API doesnt distinguish between Undo/Like
 * and Undo/Dislike", `send_like_activity` in LemmyNet/lemmy crates/apub/src/activities/voting/mod.rs) and
 * removes the vote whatever its score when it receives one. It counts against the member's hourly budget like
 * a vote.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { err, ok } from '../ports.ts';
import { applied, groupsOfPost, notApplied, type Handler, type HandlerDeps } from './handler.ts';
import { checkVote, claimVoteChange, type VoteChange } from './vote.handler.ts';

export function undoVoteHandler(d: HandlerDeps): Handler<InboundOf<'undo-vote'>, VoteChange> {
  return {
    async groups(a, inboxGroup) {
      return groupsOfPost(d, a, a.vote.objectId, inboxGroup);
    },
    async verify(a, group) {
      if (a.vote.actor !== null && a.vote.actor !== a.actor)
        return err('Undo of a vote made by another actor');
      const checked = await checkVote(d, group, a.actor, a.vote.objectId);
      if (!checked.ok) return checked;
      const from = await d.store.votes.getVote(group, a.actor, a.vote.objectId);
      if (from?.state === 'undone' && from.activityId === a.id)
        return err(`Undo{${a.vote.type}} of ${a.vote.objectId} already announced to ${group}`);
      if (!from || from.state === 'undone')
        return err(
          `Undo of a ${a.vote.type} of ${a.vote.objectId}, on which ${a.actor} has no current vote in ${group}; not announced`,
        );
      return ok({ group: checked.value, from });
    },
    async apply(a, group, plan) {
      const over = await d.budget.takeMember(plan.group, a.actor, a.id);
      if (over) return notApplied(over);
      await claimVoteChange(d, group, a.actor, a.vote.objectId, plan.from, a.id);
      await d.events.emit({
        type: 'VoteReshared',
        group,
        basis: a.id,
        activity: a.raw,
        objectId: a.vote.objectId,
      });
      await d.store.votes.putVote({
        groupName: group,
        actorId: a.actor,
        objectId: a.vote.objectId,
        state: 'undone',
        activityId: a.id,
        at: d.now(),
      });
      return applied(
        `Undo{${a.vote.type}} of ${a.vote.objectId} announced to ${group} (the ${plan.from?.state ?? 'vote'} is undone)`,
      );
    },
  };
}
