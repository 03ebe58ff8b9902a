/** What `Accept{Follow}` and `Reject{Follow}` from a moderator share: the embedded Follow names the requester. */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import type { Member } from '../../storage/store.ts';
import { err, ok, type Result } from '../ports.ts';
import type { ActionOptions, MemberDecisionError } from '../moderation.service.ts';
import {
  addressedGroups,
  applied,
  notApplied,
  notModerator,
  type Handler,
  type HandlerDeps,
} from './handler.ts';

type Decide = (
  group: string,
  follower: string,
  o: ActionOptions,
) => Promise<Result<Member | null, MemberDecisionError>>;

export function joinAnswerHandler(
  d: HandlerDeps,
  type: 'Accept' | 'Reject',
  decide: Decide,
): Handler<InboundOf<'accept-follow' | 'reject-follow'>, string> {
  return {
    async groups(a, inboxGroup) {
      return addressedGroups(d.urls, a, inboxGroup, [a.follow.object]);
    },
    async verify(a, group) {
      const follower = a.follow.actor;
      if (!follower) return err(`${type} without an embedded Follow`);
      const refused = await notModerator(d, group, a.actor, type);
      if (refused) return err(refused);
      const pending = await d.membership.pending(group, follower);
      return pending.ok ? ok(follower) : err(`${follower} has no pending request in ${group}`);
    },
    async apply(a, group, follower) {
      const r = await decide(group, follower, { by: a.actor, source: a.raw });
      return r.ok
        ? applied(`${type} of ${follower}'s request to ${group} by ${a.actor}`)
        : notApplied(r.error.type);
    },
  };
}
