/**
 * What `Accept{Follow}` and `Reject{Follow}` share: from a moderator, the embedded Follow names the requester of
 * a join request; from another group, it answers this group's own Follow of it (FEP-d36d).
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import type { Member } from '../../storage/store.ts';
import type { GroupFollow } from '../../storage/links.store.ts';
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

export type JoinAnswerPlan =
  { kind: 'decide'; follower: string } | { kind: 'own-follow'; follow: GroupFollow };

/** The group here whose activity `id` is (`ORIGIN/groups/NAME/activities/...`), or null. */
function senderOf(d: HandlerDeps, id: string | null): string | null {
  const m = id === null ? null : /^(.*)\/activities\/[^/]+$/.exec(id);
  return m?.[1] ? d.urls.groupNameOf(m[1]) : null;
}

export function joinAnswerHandler(
  d: HandlerDeps,
  type: 'Accept' | 'Reject',
  decide: Decide,
): Handler<InboundOf<'accept-follow' | 'reject-follow'>, JoinAnswerPlan> {
  return {
    async groups(a, inboxGroup) {
      const own = senderOf(d, a.follow.id) ?? (a.follow.actor ? d.urls.groupNameOf(a.follow.actor) : null);
      // The followed actor answering a Follow: only the group that followed is concerned.
      if (a.follow.object !== null && a.follow.object === a.actor) return own ? [own] : [];
      const names = addressedGroups(d.urls, a, inboxGroup, [a.follow.object, a.follow.actor]);
      return own && !names.includes(own) ? [...names, own] : names;
    },
    async verify(a, group) {
      if (
        a.follow.actor === d.urls.group(group) ||
        (a.follow.actor === null && senderOf(d, a.follow.id) === group)
      ) {
        // The answer to this group's own Follow of another group.
        const f = await d.store.groupFollows.getGroupFollow(group, a.actor);
        if (!f) return err(`${group} does not follow ${a.actor}`);
        if (a.follow.id !== null && a.follow.id !== f.followId)
          return err(`${a.follow.id} is not the Follow of ${a.actor} by ${group}`);
        return ok({ kind: 'own-follow', follow: f });
      }
      const follower = a.follow.actor;
      if (!follower) return err(`${type} without an embedded Follow`);
      const refused = await notModerator(d, group, a.actor, type);
      if (refused) return err(refused);
      const pending = await d.membership.pending(group, follower);
      return pending.ok
        ? ok({ kind: 'decide', follower })
        : err(`${follower} has no pending request in ${group}`);
    },
    async apply(a, group, plan) {
      if (plan.kind === 'own-follow') {
        if (type === 'Accept') await d.groupFollows.accepted(plan.follow);
        else await d.groupFollows.rejected(plan.follow);
        return applied(`${a.actor} ${type === 'Accept' ? 'accepted' : 'refused'} the Follow of ${group}`);
      }
      const follower = plan.follower;
      const r = await decide(group, follower, { by: a.actor, source: a.raw });
      return r.ok
        ? applied(`${type} of ${follower}'s request to ${group} by ${a.actor}`)
        : notApplied(r.error.type);
    },
  };
}
