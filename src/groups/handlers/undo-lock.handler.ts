/** `Undo{Lock}` by a moderator (Lemmy's `UndoLockPage`): the thread is open again. */
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

export function undoLockHandler(d: HandlerDeps): Handler<InboundOf<'undo-lock'>, null> {
  return {
    async groups(a, inboxGroup) {
      return groupsOfPost(d, a, a.lock.objectId, inboxGroup);
    },
    async verify(a, group) {
      if (a.lock.actor !== null && a.lock.actor !== a.actor)
        return err('Undo of a Lock made by another actor');
      const refused = await notModerator(d, group, a.actor, 'Undo{Lock}');
      return refused ? err(refused) : ok(null);
    },
    async apply(a, group) {
      const r = await d.moderation.setLocked(group, a.lock.objectId, false, { by: a.actor, source: a.raw });
      if (!r.ok) return notApplied(r.error.type);
      return r.value ? applied(`unlocked ${a.lock.objectId} in ${group}`) : notApplied('already unlocked');
    },
  };
}
