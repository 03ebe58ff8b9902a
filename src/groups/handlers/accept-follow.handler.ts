/**
 * `Accept{Follow}` from a moderator's server: the moderator approves a pending join request; from a group this one
 * asked to follow: the follow begins.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { joinAnswerHandler, type JoinAnswerPlan } from './join-answer.ts';
import type { Handler, HandlerDeps } from './handler.ts';

export function acceptFollowHandler(d: HandlerDeps): Handler<InboundOf<'accept-follow'>, JoinAnswerPlan> {
  return joinAnswerHandler(d, 'Accept', (group, follower, o) =>
    d.moderation.approveMember(group, follower, o),
  );
}
