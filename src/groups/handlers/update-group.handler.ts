/**
 * `Update{Group}` by a moderator (Lemmy's `UpdateCommunity`): the fields Lemmy's moderators edit (title,
 * description, sensitive, posting restricted to moderators, approval of members) become the group's settings.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import type { SettingsPatch } from '../settings.service.ts';
import { err, ok } from '../ports.ts';
import {
  addressedGroups,
  applied,
  notApplied,
  notModerator,
  type Handler,
  type HandlerDeps,
} from './handler.ts';

export function updateGroupHandler(d: HandlerDeps): Handler<InboundOf<'update-group'>, SettingsPatch> {
  return {
    async groups(a, inboxGroup) {
      return addressedGroups(d.urls, a, inboxGroup, [a.group.id]);
    },
    async verify(a, group) {
      if (a.group.id !== d.urls.group(group)) return err('Update of another group');
      const refused = await notModerator(d, group, a.actor, 'Update{Group}');
      if (refused) return err(refused);
      const g = a.group;
      const patch: SettingsPatch = {};
      if (g.name !== null) patch.title = g.name;
      if (g.summarySource !== null) patch.summary = g.summarySource;
      if (g.sensitive !== null) patch.sensitive = g.sensitive;
      if (g.postingRestrictedToMods !== null)
        patch.postingPolicy = g.postingRestrictedToMods ? 'moderators' : 'members';
      if (g.manuallyApprovesFollowers !== null)
        patch.membershipPolicy = g.manuallyApprovesFollowers ? 'approval' : 'open';
      return ok(patch);
    },
    async apply(a, group, patch) {
      const r = await d.moderation.changeSettings(group, patch, { by: a.actor, source: a.raw });
      if (!r.ok) {
        if (r.error.type === 'invalid' && 'problems' in r.error)
          return notApplied(r.error.problems.map((p) => `${p.field}: ${p.detail}`).join('; '));
        return notApplied(r.error.type === 'invalid' && 'detail' in r.error ? r.error.detail : r.error.type);
      }
      return applied(`${a.actor} changed ${r.value.changed.join(', ') || 'nothing'} of ${group}`);
    },
  };
}
