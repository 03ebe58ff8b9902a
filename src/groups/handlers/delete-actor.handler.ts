/** `Delete` of an actor by itself: the account is gone, its memberships and requests end everywhere. */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { ok } from '../ports.ts';
import { applied, notApplied, type Handler, type HandlerDeps } from './handler.ts';

export function deleteActorHandler(d: HandlerDeps): Handler<InboundOf<'delete-actor'>, null> {
  return {
    async groups(a) {
      return d.store.members.listGroupsOfActor(a.actor);
    },
    async verify() {
      return ok(null);
    },
    async apply(a, group) {
      return (await d.store.members.removeMember(group, a.actor))
        ? applied(`deleted account ${a.actor} left ${group}`)
        : notApplied(`deleted account ${a.actor} was not in ${group}`);
    },
  };
}
