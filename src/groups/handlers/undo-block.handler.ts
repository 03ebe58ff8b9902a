/** `Undo{Block}` by a moderator: the ban ends (Lemmy's `UndoBlockUser`). */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { err, ok } from '../ports.ts';
import {
  addressedGroups,
  applied,
  notApplied,
  notModerator,
  type Handler,
  type HandlerDeps,
} from './handler.ts';

export function undoBlockHandler(d: HandlerDeps): Handler<InboundOf<'undo-block'>, null> {
  return {
    async groups(a, inboxGroup) {
      return addressedGroups(d.urls, a, inboxGroup, [a.block.target]);
    },
    async verify(a, group) {
      if (a.block.actor !== null && a.block.actor !== a.actor)
        return err('Undo of a Block made by another actor');
      const refused = await notModerator(d, group, a.actor, 'Undo{Block}');
      return refused ? err(refused) : ok(null);
    },
    async apply(a, group) {
      const r = await d.moderation.unban(group, a.block.object, { by: a.actor, source: a.raw });
      if (!r.ok) return notApplied(r.error.type);
      return r.value
        ? applied(`${a.block.object} unbanned from ${group}`)
        : notApplied(`${a.block.object} was not banned from ${group}`);
    },
  };
}
