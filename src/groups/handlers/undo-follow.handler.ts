/** `Undo{Follow}`: a member leaves (or withdraws a join request). */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { err, ok } from '../ports.ts';
import { applied, notApplied, type Handler, type HandlerDeps } from './handler.ts';

export function undoFollowHandler(d: HandlerDeps): Handler<InboundOf<'undo-follow'>, null> {
  return {
    async groups(a, inboxGroup) {
      const name = a.follow.object ? d.urls.groupNameOf(a.follow.object) : null;
      if (name) return [name];
      if (a.follow.object === null && inboxGroup) return [inboxGroup];
      // An Undo naming the Follow by id only: the groups where that Follow made the actor a member.
      return a.follow.object === null ? d.store.members.listGroupsOfActor(a.actor) : [];
    },
    async verify(a, group) {
      if (a.follow.actor !== null && a.follow.actor !== a.actor)
        return err('Undo of a Follow made by another actor');
      const member = await d.store.members.getMember(group, a.actor);
      if (!member) return err(`${a.actor} was not a member of ${group}`);
      if (a.follow.object === null && (a.follow.id === null || member.followId !== a.follow.id))
        return err(`the Follow ${a.follow.id ?? '(no id)'} is not how ${a.actor} joined ${group}`);
      return ok(null);
    },
    async apply(a, group) {
      return (await d.store.members.removeMember(group, a.actor))
        ? applied(`${a.actor} left ${group}`)
        : notApplied(`${a.actor} was not a member of ${group}`);
    },
  };
}
