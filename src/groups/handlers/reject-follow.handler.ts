/**
 * `Reject{Follow}` from a moderator's server: the moderator refuses a pending join request; from a group this one
 * follows (or asked to): the follow ends.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { joinAnswerHandler, type JoinAnswerPlan } from './join-answer.ts';
import type { Handler, HandlerDeps } from './handler.ts';

export function rejectFollowHandler(d: HandlerDeps): Handler<InboundOf<'reject-follow'>, JoinAnswerPlan> {
  return joinAnswerHandler(d, 'Reject', (group, follower, o) =>
    d.moderation.rejectMember(group, follower, o),
  );
}
