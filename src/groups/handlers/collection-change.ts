/**
 * What `Add` and `Remove` from a moderator share: the target names what changes, the moderators collection or
 * the featured one (pins); Lemmy's older `Remove` of a post has the group itself as target (a removal).
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { err, ok } from '../ports.ts';
import { addressedGroups, notModerator, type Handler, type HandlerDeps, type Outcome } from './handler.ts';

export type CollectionPlan = 'moderators' | 'featured' | 'post';

export function collectionHandler(
  d: HandlerDeps,
  type: 'Add' | 'Remove',
  apply: (a: InboundOf<'add' | 'remove'>, group: string, plan: CollectionPlan) => Promise<Outcome>,
): Handler<InboundOf<'add' | 'remove'>, CollectionPlan> {
  return {
    async groups(a, inboxGroup) {
      return addressedGroups(d.urls, a, inboxGroup, [a.target]);
    },
    async verify(a, group) {
      const refused = await notModerator(d, group, a.actor, type);
      if (refused) return err(refused);
      if (a.target === d.urls.moderators(group)) return ok('moderators');
      if (a.target === d.urls.featured(group)) return ok('featured');
      if (type === 'Remove' && a.target === d.urls.group(group)) return ok('post');
      return err(`${type} with target ${a.target} is not handled`);
    },
    apply,
  };
}
