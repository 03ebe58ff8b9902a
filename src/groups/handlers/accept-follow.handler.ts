/** `Accept{Follow}` from a moderator's server: the moderator approves a pending join request. */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { joinAnswerHandler } from './join-answer.ts';
import type { Handler, HandlerDeps } from './handler.ts';

export function acceptFollowHandler(d: HandlerDeps): Handler<InboundOf<'accept-follow'>, string> {
  return joinAnswerHandler(d, 'Accept', (group, follower, o) =>
    d.moderation.approveMember(group, follower, o),
  );
}
