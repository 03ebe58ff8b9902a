/**
 * `Follow` of a group: a request to join. Open groups accept at once; approval groups keep the request for a
 * moderator, except for the members of the group's former id (an imported group), who are accepted at once; a
 * banned actor is refused with `Reject` (within the limits on answers to non-members), as is a group when this
 * one takes no group followers (FEP-d36d), and anyone once the group has moved (with a message pointing to the
 * new group).
 */
import type { Member } from '../../storage/store.ts';
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import type { RemoteActor } from '../../storage/store.ts';
import { err, ok } from '../ports.ts';
import { movedText } from '../moved.ts';
import { applied, liveGroup, notApplied, type Handler, type HandlerDeps } from './handler.ts';

type Plan =
  | { kind: 'refuse'; inbox: string; why: string; pointer: string | null }
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
      const refuse = (why: string, pointer: string | null = null) =>
        ok<Plan>({ kind: 'refuse', inbox: actor.inbox, why, pointer });
      if (await d.store.bans.getActiveBan(group, a.actor, d.now())) return refuse('is banned from');
      const { movedTo } = await d.store.moves.getMoveState(group);
      if (movedTo !== null) return refuse('may not join, moved,', movedTo);
      if (actor.type === 'Group' && !g.settings.acceptGroupFollowers)
        return refuse('is a group, and groups may not follow');
      const existing = await d.store.members.getMember(group, a.actor);
      const accept =
        g.settings.membershipPolicy === 'open' ||
        existing?.state === 'accepted' ||
        (await d.store.moves.isPriorMember(group, a.actor));
      return ok({ kind: 'join', actor, accept, existing });
    },
    async apply(a, group, plan) {
      const follow = { id: a.id, follower: a.actor };
      if (plan.kind === 'refuse') {
        const answering = await d.answers.mayAnswer(group, a.actor, a.id);
        if (!answering.send)
          return notApplied(`${a.actor} ${plan.why} ${group}; Follow not answered: ${answering.reason}`);
        await d.events.emit({
          type: 'JoinRejected',
          group,
          basis: a.id,
          follow: { ...follow, inbox: plan.inbox },
        });
        if (plan.pointer !== null)
          await d.notices.sendDirect(group, a.actor, movedText(plan.pointer), { basis: a.id });
        return applied(`${a.actor} ${plan.why} ${group}; Follow rejected`);
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
