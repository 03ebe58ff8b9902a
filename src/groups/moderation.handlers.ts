/**
 * Moderation activities from moderators' own servers (FEP-1b12 and Lemmy's vocabulary): Block / Undo{Block}
 * of a user, Delete or Remove of a post, Lock / Undo{Lock}, Add / Remove on the moderators and featured
 * collections, Update{Group}, Accept / Reject of join requests, and Flag reports from anyone. The actor must be
 * a moderator (reports excepted); the action is applied through {@link ModerationService}, which records it
 * and announces the moderator's activity unchanged.
 */
import type { Store } from '../storage/store.ts';
import type { ModerationStore } from '../storage/moderation.store.ts';
import {
  asArray,
  idOf,
  idsOf,
  isObject,
  recipientsOf,
  str,
  typeOf,
  type ApObject,
} from '../activitypub/vocab.ts';
import type { Urls } from '../activitypub/urls.ts';
import type { ModerationService } from './moderation.service.ts';
import type { MembershipService } from './membership.service.ts';
import type { SettingsPatch, SettingsService } from './settings.service.ts';
import type { InboundActivity, Outcome } from './inbox.handlers.ts';

const applied = (what: string): Outcome => ({ applied: true, what });
const ignored = (reason: string): Outcome => ({ applied: false, reason });

export interface ModerationInboxDeps {
  store: Store & ModerationStore;
  urls: Urls;
  moderation: ModerationService;
  membership: MembershipService;
  settings: SettingsService | null;
}

export class ModerationInbox {
  constructor(private readonly d: ModerationInboxDeps) {}

  /** Local groups an activity concerns: target, audience, addressing, and the inbox it came to. */
  groupsOf(a: InboundActivity): string[] {
    const names = new Set<string>();
    const add = (id: string | null): void => {
      if (!id) return;
      const base = id.replace(/\/(moderators|featured|followers)$/, '');
      const n = this.d.urls.groupNameOf(base);
      if (n) names.add(n);
    };
    add(idOf(a.json.target));
    const r = recipientsOf(a.json);
    for (const id of [...r.to, ...r.cc, ...r.audience]) add(id);
    if (a.inboxGroup) names.add(a.inboxGroup);
    return [...names];
  }

  /** Handles a moderation activity; null when the activity is not one (the caller handles it). */
  async handle(a: InboundActivity): Promise<Outcome[] | null> {
    switch (a.type) {
      case 'Block':
        return this.each(a, (g) => this.onBlock(g, a));
      case 'Lock':
        return this.each(a, (g) => this.asModerator(g, a, () => this.onLock(g, a, a.json.object, true)));
      case 'Add':
      case 'Remove':
        return this.each(a, (g) => this.asModerator(g, a, () => this.onAddRemove(g, a)));
      case 'Flag':
        return this.onFlag(a);
      case 'Accept':
      case 'Reject':
        return this.each(a, (g) => this.asModerator(g, a, () => this.onAnswer(g, a)));
      case 'Update':
        if (!isObject(a.json.object) || a.json.object.type !== 'Group') return null;
        return this.each(a, (g) => this.asModerator(g, a, () => this.onUpdateGroup(g, a)));
      case 'Undo': {
        const inner = a.json.object;
        const t = typeOf(inner);
        if (!isObject(inner) || (t !== 'Block' && t !== 'Lock')) return null;
        if (t === 'Lock')
          return this.each(a, (g) => this.asModerator(g, a, () => this.onLock(g, a, inner.object, false)));
        const user = idOf(inner.object);
        if (!user) return [ignored('Undo{Block} without an object')];
        return this.each(a, (g) =>
          this.asModerator(g, a, async () => {
            const r = await this.d.moderation.unban(g, user, { by: a.actorId, source: a.json });
            return r.ok
              ? r.value
                ? applied(`${user} unbanned from ${g}`)
                : ignored(`${user} was not banned from ${g}`)
              : ignored(r.error.type);
          }),
        );
      }
      default:
        return null;
    }
  }

  /** Delete of a group post by a moderator who is not its author. */
  async moderatorDelete(group: string, a: InboundActivity, objectId: string): Promise<Outcome> {
    return this.asModerator(group, a, async () => {
      const r = await this.d.moderation.removePost(group, objectId, {
        by: a.actorId,
        reason: str(a.json.summary) ?? '',
        source: a.json,
      });
      return r.ok
        ? applied(`moderator ${a.actorId} removed ${objectId} from ${group}`)
        : ignored(r.error.type);
    });
  }

  private async each(a: InboundActivity, f: (group: string) => Promise<Outcome>): Promise<Outcome[]> {
    const groups = this.groupsOf(a);
    if (groups.length === 0) return [ignored(`${a.type} does not concern a group here`)];
    const out: Outcome[] = [];
    for (const g of groups) out.push(await f(g));
    return out;
  }

  private async asModerator(group: string, a: InboundActivity, f: () => Promise<Outcome>): Promise<Outcome> {
    if (!(await this.d.moderation.canModerate(group, a.actorId))) {
      return ignored(`${a.actorId} is not a moderator of ${group}; ${a.type} refused`);
    }
    return f();
  }

  private async onBlock(group: string, a: InboundActivity): Promise<Outcome> {
    const object = idOf(a.json.object);
    if (!object) return ignored('Block without an object');
    if (object === this.d.urls.group(group)) {
      // A member blocked the group: stop delivering to them.
      const removed = await this.d.store.members.removeMember(group, a.actorId);
      return removed
        ? applied(`${a.actorId} blocked ${group}; membership ended`)
        : ignored(`${a.actorId} blocked ${group}`);
    }
    return this.asModerator(group, a, async () => {
      const end = str(a.json.endTime);
      const expiresAt = end ? Date.parse(end) : NaN;
      const r = await this.d.moderation.ban(group, object, {
        by: a.actorId,
        reason: str(a.json.summary) ?? '',
        expiresAt: Number.isFinite(expiresAt) ? expiresAt : null,
        removePosts: a.json.removeData === true,
        source: a.json,
      });
      if (!r.ok) return ignored(r.error.type === 'invalid' ? r.error.detail : r.error.type);
      return r.value
        ? applied(`${object} banned from ${group} by ${a.actorId}`)
        : ignored(`${object} was already banned`);
    });
  }

  private async onLock(
    group: string,
    a: InboundActivity,
    target: unknown,
    locked: boolean,
  ): Promise<Outcome> {
    const objectId = idOf(target);
    if (!objectId) return ignored('Lock without an object');
    const r = await this.d.moderation.setLocked(group, objectId, locked, { by: a.actorId, source: a.json });
    if (!r.ok) return ignored(r.error.type);
    return r.value
      ? applied(`${locked ? 'locked' : 'unlocked'} ${objectId}`)
      : ignored(`already ${locked ? 'locked' : 'unlocked'}`);
  }

  private async onAddRemove(group: string, a: InboundActivity): Promise<Outcome> {
    const target = idOf(a.json.target);
    const object = idOf(a.json.object);
    if (!object || !target) return ignored(`${a.type} without object or target`);
    const add = a.type === 'Add';
    const o = { by: a.actorId, source: a.json };
    if (target === this.d.urls.moderators(group)) {
      const r = add
        ? await this.d.moderation.addModerator(group, object, o)
        : await this.d.moderation.removeModerator(group, object, o);
      return r.ok ? applied(`${a.type} moderator ${object} in ${group}`) : ignored(r.error.type);
    }
    if (target === this.d.urls.featured(group)) {
      const r = await this.d.moderation.setPinned(group, object, add, o);
      return r.ok ? applied(`${add ? 'pinned' : 'unpinned'} ${object}`) : ignored(r.error.type);
    }
    if (!add && target === this.d.urls.group(group)) {
      const r = await this.d.moderation.removePost(group, object, {
        ...o,
        reason: str(a.json.summary) ?? '',
      });
      return r.ok ? applied(`moderator ${a.actorId} removed ${object}`) : ignored(r.error.type);
    }
    return ignored(`${a.type} with target ${target} is not handled`);
  }

  private async onAnswer(group: string, a: InboundActivity): Promise<Outcome> {
    const follow = a.json.object;
    const who = isObject(follow) ? idOf(follow.actor) : null;
    if (!who) return ignored(`${a.type} without an embedded Follow`);
    const r =
      a.type === 'Accept'
        ? await this.d.membership.approve(group, who)
        : await this.d.membership.reject(group, who);
    return r.ok
      ? applied(`${a.type} of ${who}'s request to ${group} by ${a.actorId}`)
      : ignored(r.error.type);
  }

  private async onUpdateGroup(group: string, a: InboundActivity): Promise<Outcome> {
    if (!this.d.settings) return ignored('settings cannot be changed here');
    const o = a.json.object as ApObject;
    if (idOf(o) !== this.d.urls.group(group)) return ignored('Update of another group');
    const patch: SettingsPatch = {};
    const name = str(o.name);
    if (name !== null) patch.title = name;
    const source = isObject(o.source) ? str(o.source.content) : null;
    if (source !== null) patch.summary = source;
    if (typeof o.sensitive === 'boolean') patch.sensitive = o.sensitive;
    if (typeof o.postingRestrictedToMods === 'boolean')
      patch.postingPolicy = o.postingRestrictedToMods ? 'moderators' : 'members';
    if (typeof o.manuallyApprovesFollowers === 'boolean')
      patch.membershipPolicy = o.manuallyApprovesFollowers ? 'approval' : 'open';
    const r = await this.d.settings.update(group, patch);
    if (!r.ok)
      return ignored(
        r.error.type === 'invalid'
          ? r.error.problems.map((p) => `${p.field}: ${p.detail}`).join('; ')
          : r.error.type,
      );
    await this.d.store.audit.appendAudit({
      id: `update-group:${a.id}`,
      groupName: group,
      actorId: a.actorId,
      action: 'update-group',
      target: r.value.changed.join(','),
      reason: '',
      at: Date.now(),
    });
    return applied(`${a.actorId} changed ${r.value.changed.join(', ') || 'nothing'} of ${group}`);
  }

  /** Flag: Mastodon's (instance actor, object = [account, statuses...]) and Lemmy's (object = post). */
  private async onFlag(a: InboundActivity): Promise<Outcome[]> {
    const objects = asArray(a.json.object)
      .map(idOf)
      .filter((x): x is string => x !== null)
      .slice(0, 20);
    let groups = this.groupsOf(a);
    if (groups.length === 0) {
      // Mastodon addresses a Flag to nobody: find the groups that hold the reported posts.
      const found = new Set<string>();
      for (const id of objects) for (const g of await this.d.store.posts.listGroupsOfPost(id)) found.add(g);
      groups = [...found];
    }
    if (groups.length === 0) return [ignored('Flag does not concern a group here')];
    const reason = str(a.json.content) ?? str(a.json.summary) ?? '';
    const out: Outcome[] = [];
    for (const g of groups) {
      const posts: string[] = [];
      let account: string | null = null;
      for (const id of objects) {
        const p = await this.d.store.posts.getPost(g, id);
        if (p) {
          posts.push(id);
          account ??= p.authorId;
        } else if (account === null && !idsOf(a.json.object).includes(this.d.urls.group(g))) {
          account = id;
        }
      }
      const r = await this.d.moderation.report({
        groupName: g,
        reporterId: a.actorId,
        targetActorId: account,
        objectIds: posts,
        reason,
        flagId: a.id,
      });
      out.push(r.ok ? applied(`report ${r.value.id} filed in ${g}`) : ignored(r.error.type));
    }
    return out;
  }
}
