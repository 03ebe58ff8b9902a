/**
 * `Flag`: a report, from anyone. Mastodon's comes from an instance actor with `object` = [account, posts...]
 * and no addressing; Lemmy's and Mbin's name the group. It goes to the group's moderation queue and every
 * moderator is told by direct message.
 */
import type { InboundOf } from '../../activitypub/inbound.parser.ts';
import { ok } from '../ports.ts';
import { addressedGroups, applied, notApplied, type Handler, type HandlerDeps } from './handler.ts';

type Plan = { posts: string[]; account: string | null };

export function flagHandler(d: HandlerDeps): Handler<InboundOf<'flag'>, Plan> {
  return {
    async groups(a, inboxGroup) {
      const named = addressedGroups(d.urls, a, inboxGroup, a.objects);
      if (named.length > 0) return named;
      // Mastodon addresses a Flag to nobody: the groups that hold the reported posts.
      const found = new Set<string>();
      for (const id of a.objects) for (const g of await d.store.posts.listGroupsOfPost(id)) found.add(g);
      return [...found];
    },
    async verify(a, group) {
      const posts: string[] = [];
      let account: string | null = null;
      for (const id of a.objects) {
        const p = await d.store.posts.getPost(group, id);
        if (p) {
          posts.push(id);
          account ??= p.authorId;
        } else if (account === null && id !== d.urls.group(group)) {
          account = id;
        }
      }
      return ok({ posts, account });
    },
    async apply(a, group, plan) {
      const r = await d.moderation.report({
        groupName: group,
        reporterId: a.actor,
        targetActorId: plan.account,
        objectIds: plan.posts,
        reason: a.content,
        flagId: a.id,
      });
      return r.ok ? applied(`report ${r.value.id} filed in ${group}`) : notApplied(r.error.type);
    },
  };
}
