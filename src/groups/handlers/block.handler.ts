/**
 * `Block`: of the group by a member (their server stops taking its deliveries, so their membership ends), or of
 * a user with the group as `target` by a moderator (a ban: Lemmy's `BlockUser`, with `endTime` and
 * `removeData`).
 */
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

type Plan = { kind: 'group-blocked' } | { kind: 'ban'; expiresAt: number | null };

export function blockHandler(d: HandlerDeps): Handler<InboundOf<'block'>, Plan> {
  return {
    async groups(a, inboxGroup) {
      return addressedGroups(d.urls, a, inboxGroup, [a.target, a.object]);
    },
    async verify(a, group) {
      if (a.object === d.urls.group(group)) return ok({ kind: 'group-blocked' });
      const refused = await notModerator(d, group, a.actor, 'Block');
      if (refused) return err(refused);
      const end = a.endTime === null ? NaN : Date.parse(a.endTime);
      return ok({ kind: 'ban', expiresAt: Number.isFinite(end) ? end : null });
    },
    async apply(a, group, plan) {
      if (plan.kind === 'group-blocked') {
        return (await d.store.members.removeMember(group, a.actor))
          ? applied(`${a.actor} blocked ${group}; membership ended`)
          : notApplied(`${a.actor} blocked ${group}, of which they are not a member`);
      }
      const r = await d.moderation.ban(group, a.object, {
        by: a.actor,
        reason: a.summary,
        expiresAt: plan.expiresAt,
        removePosts: a.removeData,
        source: a.raw,
      });
      if (!r.ok) return notApplied(r.error.type === 'invalid' ? r.error.detail : r.error.type);
      return r.value
        ? applied(`${a.object} banned from ${group} by ${a.actor}`)
        : notApplied(`${a.object} was already banned`);
    },
  };
}
