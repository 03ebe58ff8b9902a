/** `Add` by a moderator: a new moderator (target: the moderators collection), or a pin (target: featured). */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { collectionHandler, type CollectionPlan } from './collection-change.ts';
import { applied, notApplied, type Handler, type HandlerDeps } from './handler.ts';

export function addHandler(d: HandlerDeps): Handler<InboundOf<'add'>, CollectionPlan> {
  return collectionHandler(d, 'Add', async (a, group, plan) => {
    const o = { by: a.actor, source: a.raw };
    const r =
      plan === 'moderators'
        ? await d.moderation.addModerator(group, a.object, o)
        : await d.moderation.setPinned(group, a.object, true, o);
    if (!r.ok) return notApplied(r.error.type === 'invalid' ? r.error.detail : r.error.type);
    if (!r.value)
      return notApplied(`${a.object} already was ${plan === 'moderators' ? 'a moderator' : 'pinned'}`);
    return applied(
      plan === 'moderators' ? `Add moderator ${a.object} in ${group}` : `pinned ${a.object} in ${group}`,
    );
  });
}
