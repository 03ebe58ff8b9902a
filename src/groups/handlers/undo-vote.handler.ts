/** `Undo` of a member's `Like` or `Dislike`: re-shared unchanged. */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { err, ok } from '../ports.ts';
import { applied, groupsOfPost, type Handler, type HandlerDeps } from './handler.ts';
import { checkVote } from './vote.handler.ts';

export function undoVoteHandler(d: HandlerDeps): Handler<InboundOf<'undo-vote'>, null> {
  return {
    async groups(a, inboxGroup) {
      return groupsOfPost(d, a, a.vote.objectId, inboxGroup);
    },
    async verify(a, group) {
      if (a.vote.actor !== null && a.vote.actor !== a.actor)
        return err('Undo of a vote made by another actor');
      const refused = await checkVote(d, group, a.actor, a.vote.objectId);
      return refused ? err(refused) : ok(null);
    },
    async apply(a, group) {
      await d.events.emit({
        type: 'ActivityReshared',
        group,
        basis: a.id,
        activity: a.raw,
        objectId: a.vote.objectId,
      });
      return applied(`Undo{${a.vote.type}} of ${a.vote.objectId} announced to ${group}`);
    },
  };
}
