/**
 * `Undo` of a member's `Like` or `Dislike`: re-shared (with the post reduced to its id) when it undoes the
 * member's current vote, which it then clears; an Undo of a vote that is not current (never announced, or
 * replaced since) is not announced. It counts against the member's hourly budget like a vote.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import type { Group } from '../../storage/store.ts';
import { err, ok } from '../ports.ts';
import { applied, groupsOfPost, notApplied, type Handler, type HandlerDeps } from './handler.ts';
import { checkVote } from './vote.handler.ts';

export function undoVoteHandler(d: HandlerDeps): Handler<InboundOf<'undo-vote'>, Group> {
  return {
    async groups(a, inboxGroup) {
      return groupsOfPost(d, a, a.vote.objectId, inboxGroup);
    },
    async verify(a, group) {
      if (a.vote.actor !== null && a.vote.actor !== a.actor)
        return err('Undo of a vote made by another actor');
      const checked = await checkVote(d, group, a.actor, a.vote.objectId);
      if (!checked.ok) return checked;
      const current = await d.store.votes.getVote(group, a.actor, a.vote.objectId);
      if (current?.type !== a.vote.type)
        return err(
          `Undo of a ${a.vote.type} of ${a.vote.objectId} that is not ${a.actor}'s current vote in ${group}; not announced`,
        );
      return ok(checked.value);
    },
    async apply(a, group, g) {
      const over = await d.budget.takeMember(g, a.actor, a.id);
      if (over) return notApplied(over);
      await d.events.emit({
        type: 'VoteReshared',
        group,
        basis: a.id,
        activity: a.raw,
        objectId: a.vote.objectId,
      });
      await d.store.votes.removeVote(group, a.actor, a.vote.objectId);
      return applied(`Undo{${a.vote.type}} of ${a.vote.objectId} announced to ${group}`);
    },
  };
}
