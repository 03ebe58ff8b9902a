/**
 * `Follow` of a group: a request to join. Open groups accept at once; approval groups keep the request for a
 * moderator; a banned actor is refused with `Reject`.
 */
import type { Member } from '../../storage/store.ts';
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import type { RemoteActor } from '../../storage/store.ts';
import { err, ok } from '../ports.ts';
import { applied, liveGroup, type Handler, type HandlerDeps } from './handler.ts';

type Plan =
  | { kind: 'refuse-banned'; inbox: string }
  | { kind: 'join'; actor: RemoteActor; accept: boolean; existing: Member | null };

export function followHandler(d: HandlerDeps): Handler<InboundOf<'follow'>, Plan> {
  return {
    async groups(a) {
      const name = d.urls.groupNameOf(a.object);
      return name ? [name] : [];
    },
    async verify(a, group) {
      const g = await liveGroup(d, group);
      if (!g) return err(`Follow of ${a.object}, which is not a group here`);
      const actor = await d.actors.getActor(a.actor);
      if (!actor) return err(`follower ${a.actor} could not be fetched`);
      if (await d.store.bans.getActiveBan(group, a.actor, d.now()))
        return ok({ kind: 'refuse-banned', inbox: actor.inbox });
      const existing = await d.store.members.getMember(group, a.actor);
      const accept = g.settings.membershipPolicy === 'open' || existing?.state === 'accepted';
      return ok({ kind: 'join', actor, accept, existing });
    },
    async apply(a, group, plan) {
      const follow = { id: a.id, follower: a.actor };
      if (plan.kind === 'refuse-banned') {
        await d.events.emit({
          type: 'JoinRejected',
          group,
          basis: a.id,
          follow: { ...follow, inbox: plan.inbox },
        });
        return applied(`${a.actor} is banned from ${group}; Follow rejected`);
      }
      const { actor, accept, existing } = plan;
      const t = d.now();
      await d.store.members.upsertMember({
        groupName: group,
        actorId: actor.id,
        inbox: actor.inbox,
        sharedInbox: actor.sharedInbox,
        deliveryInbox: actor.sharedInbox ?? actor.inbox,
        state: accept ? 'accepted' : 'pending',
        followId: a.id,
        createdAt: existing?.createdAt ?? t,
        updatedAt: t,
      });
      if (!accept) {
        await d.events.emit({ type: 'JoinRequested', group, basis: a.id, follower: a.actor });
        return applied(`join request of ${a.actor} to ${group} is pending`);
      }
      await d.events.emit({
        type: 'MemberJoined',
        group,
        basis: a.id,
        follow: { ...follow, inbox: actor.inbox },
      });
      return applied(`${a.actor} joined ${group}`);
    },
  };
}
