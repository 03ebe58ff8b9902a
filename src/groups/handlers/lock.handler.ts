/** `Lock` of a thread by a moderator (Lemmy's `LockPage`): only moderators may reply in it from then on. */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { err, ok } from '../ports.ts';
import {
  applied,
  groupsOfPost,
  notApplied,
  notModerator,
  type Handler,
  type HandlerDeps,
} from './handler.ts';

export function lockHandler(d: HandlerDeps): Handler<InboundOf<'lock'>, null> {
  return {
    async groups(a, inboxGroup) {
      return groupsOfPost(d, a, a.objectId, inboxGroup);
    },
    async verify(a, group) {
      const refused = await notModerator(d, group, a.actor, 'Lock');
      return refused ? err(refused) : ok(null);
    },
    async apply(a, group) {
      const r = await d.moderation.setLocked(group, a.objectId, true, { by: a.actor, source: a.raw });
      if (!r.ok) return notApplied(r.error.type);
      return r.value ? applied(`locked ${a.objectId} in ${group}`) : notApplied('already locked');
    },
  };
}
