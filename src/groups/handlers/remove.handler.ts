/**
 * `Remove` by a moderator: of a moderator (target: the moderators collection), of a pin (target: featured), or
 * of a post (target: the group; Lemmy's older form of a removal).
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { collectionHandler, type CollectionPlan } from './collection-change.ts';
import { applied, notApplied, type Handler, type HandlerDeps } from './handler.ts';

export function removeHandler(d: HandlerDeps): Handler<InboundOf<'remove'>, CollectionPlan> {
  return collectionHandler(d, 'Remove', async (a, group, plan) => {
    const o = { by: a.actor, source: a.raw };
    const r =
      plan === 'moderators'
        ? await d.moderation.removeModerator(group, a.object, o)
        : plan === 'featured'
          ? await d.moderation.setPinned(group, a.object, false, o)
          : await d.moderation.removePost(group, a.object, { ...o, reason: a.summary });
    if (!r.ok) return notApplied(r.error.type === 'invalid' ? r.error.detail : r.error.type);
    if (!r.value) return notApplied(`nothing to remove: ${a.object}`);
    const what = { moderators: 'moderator', featured: 'pin of', post: 'post' }[plan];
    return applied(`Remove ${what} ${a.object} in ${group} by ${a.actor}`);
  });
}
