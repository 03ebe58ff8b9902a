/**
 * Moderation of a group: moderators, bans, removal of posts, pins, locks, reports and held posts. Every
 * action is checked (`by` must be the admin or a moderator), applied, recorded in the audit log, and sent to
 * members per FEP-1b12. Actions are idempotent: repeating one changes nothing and records nothing new.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import type { ModerationStore, Report } from '../storage/moderation.store.ts';
import { GUILD_CONTEXT, PUBLIC, type ApObject } from '../activitypub/vocab.ts';
import type { Urls } from '../activitypub/urls.ts';
import { err, ok, type ActorLookup, type Publisher, type Result } from './ports.ts';
import { escapeHtml } from '../text/html.ts';

/** Who acts: the instance admin (CLI, admin API) or a moderator's actor id. */
export type Actor = 'admin' | string;

export type ModerationError =
  | { type: 'group-not-found' }
  | { type: 'not-allowed' }
  | { type: 'post-not-found' }
  | { type: 'not-found' }
  | { type: 'invalid'; detail: string };

export interface ModerationDeps {
  store: Store & ModerationStore;
  urls: Urls;
  publisher: Publisher;
  actors: ActorLookup;
  now?: () => number;
}

export interface ActionOptions {
  by: Actor;
  reason?: string;
  /** The remote activity that asked for this (a moderator's Delete, Block...): announced unchanged. */
  source?: ApObject;
}

export class ModerationService {
  private readonly now: () => number;
  constructor(private readonly d: ModerationDeps) {
    this.now = d.now ?? Date.now;
  }

  /** True for the admin and for the group's moderators. */
  async canModerate(group: string, by: Actor): Promise<boolean> {
    return by === 'admin' || (await this.d.store.moderators.isModerator(group, by));
  }

  private async check(group: string, by: Actor): Promise<Result<void, ModerationError>> {
    const g = await this.d.store.groups.getGroup(group);
    if (!g || g.deletedAt !== null) return err({ type: 'group-not-found' });
    if (!(await this.canModerate(group, by))) return err({ type: 'not-allowed' });
    return ok(undefined);
  }

  private async audit(
    group: string | null,
    by: Actor,
    action: string,
    target: string,
    o: { reason?: string; source?: ApObject },
  ): Promise<void> {
    const basis = typeof o.source?.id === 'string' ? o.source.id : randomUUID();
    const id = createHash('sha256')
      .update(`${basis}\n${action}\n${group ?? ''}\n${target}`)
      .digest('base64url');
    await this.d.store.audit.appendAudit({
      id,
      groupName: group,
      actorId: by,
      action,
      target,
      reason: o.reason ?? '',
      at: this.now(),
    });
  }

  /** The group-authored activity for an action, or the moderator's own activity, announced to members. */
  private async emit(
    group: string,
    own: ApObject,
    source: ApObject | undefined,
    objectId: string | null,
  ): Promise<void> {
    const groupId = this.d.urls.group(group);
    const base = {
      '@context': GUILD_CONTEXT,
      actor: groupId,
      to: [PUBLIC],
      cc: [this.d.urls.followers(group)],
      audience: groupId,
      published: new Date(this.now()).toISOString(),
    };
    const inner = source ?? { ...base, id: this.d.urls.activity(group, randomUUID()), ...own };
    await this.d.publisher.publishToMembers(
      group,
      { ...base, id: this.d.urls.activity(group, randomUUID()), type: 'Announce', object: inner },
      { inOutbox: true, objectId },
    );
  }

  async addModerator(
    group: string,
    actorId: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    if (!/^https?:\/\//.test(actorId) || this.d.urls.isLocal(actorId)) {
      return err({ type: 'invalid', detail: 'a moderator is a remote actor, named by its http(s) id' });
    }
    const added = await this.d.store.moderators.addModerator({
      groupName: group,
      actorId,
      addedBy: o.by,
      addedAt: this.now(),
    });
    if (!added) return ok(false);
    await this.audit(group, o.by, 'add-moderator', actorId, o);
    await this.emit(
      group,
      { type: 'Add', object: actorId, target: this.d.urls.moderators(group) },
      o.source,
      actorId,
    );
    return ok(true);
  }

  async removeModerator(
    group: string,
    actorId: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    if (!(await this.d.store.moderators.removeModerator(group, actorId))) return ok(false);
    await this.audit(group, o.by, 'remove-moderator', actorId, o);
    await this.emit(
      group,
      { type: 'Remove', object: actorId, target: this.d.urls.moderators(group) },
      o.source,
      actorId,
    );
    return ok(true);
  }

  /** Bans a user: their membership ends, their Follows are refused, their posts are dropped. */
  async ban(
    group: string,
    actorId: string,
    o: ActionOptions & { expiresAt?: number | null; removePosts?: boolean },
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    if (o.by !== 'admin' && o.by === actorId)
      return err({ type: 'invalid', detail: 'moderators cannot ban themselves' });
    if (await this.d.store.moderators.isModerator(group, actorId)) {
      if (o.by !== 'admin') return err({ type: 'invalid', detail: 'remove the moderator first' });
      // The admin's ban also ends the moderator role.
      await this.removeModerator(group, actorId, { by: 'admin', reason: o.reason ?? 'banned' });
    }
    const expiresAt = o.expiresAt ?? null;
    const existing = await this.d.store.bans.getActiveBan(group, actorId, this.now());
    const member = await this.d.store.members.getMember(group, actorId);
    if (existing && existing.expiresAt === expiresAt && !member && !o.removePosts) return ok(false);
    await this.d.store.bans.putBan({
      groupName: group,
      actorId,
      reason: o.reason ?? '',
      by: o.by,
      createdAt: this.now(),
      expiresAt,
    });
    if (member) await this.d.store.members.removeMember(group, actorId);
    await this.audit(group, o.by, 'ban', actorId, o);
    const block: ApObject = {
      type: 'Block',
      object: actorId,
      target: this.d.urls.group(group),
      summary: o.reason ?? '',
    };
    if (expiresAt !== null) block.endTime = new Date(expiresAt).toISOString();
    if (o.removePosts) block.removeData = true;
    await this.emit(group, block, o.source, actorId);
    if (o.removePosts) {
      let after: string | null = null;
      for (;;) {
        const ids: string[] = await this.d.store.postFlags.listPostsByAuthor(group, actorId, after, 100);
        if (ids.length === 0) break;
        for (const id of ids) await this.removePost(group, id, { by: o.by, reason: o.reason ?? 'banned' });
        after = ids[ids.length - 1] ?? null;
      }
    }
    return ok(true);
  }

  async unban(group: string, actorId: string, o: ActionOptions): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    if (!(await this.d.store.bans.removeBan(group, actorId))) return ok(false);
    await this.audit(group, o.by, 'unban', actorId, o);
    const block = {
      type: 'Block',
      actor: this.d.urls.group(group),
      object: actorId,
      target: this.d.urls.group(group),
    };
    await this.emit(group, { type: 'Undo', object: block }, o.source, actorId);
    return ok(true);
  }

  /** Removes a post from the group: members' servers are told, and the plain boost is undone. */
  async removePost(
    group: string,
    objectId: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    const post = await this.d.store.posts.getPost(group, objectId);
    if (!post) return err({ type: 'post-not-found' });
    if (!(await this.d.store.posts.markPostDeleted(group, objectId, this.now()))) return ok(false);
    await this.audit(group, o.by, 'remove-post', objectId, o);
    await this.emit(
      group,
      { type: 'Remove', object: objectId, target: this.d.urls.group(group), summary: o.reason ?? '' },
      o.source,
      objectId,
    );
    if (post.boostId) {
      const groupId = this.d.urls.group(group);
      await this.d.publisher.publishToMembers(
        group,
        {
          '@context': GUILD_CONTEXT,
          id: this.d.urls.activity(group, randomUUID()),
          type: 'Undo',
          actor: groupId,
          to: [PUBLIC],
          cc: [this.d.urls.followers(group)],
          object: { id: post.boostId, type: 'Announce', actor: groupId, object: objectId },
        },
        { inOutbox: false, objectId: post.boostId },
      );
    }
    return ok(true);
  }

  async setPinned(
    group: string,
    objectId: string,
    pinned: boolean,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    const post = await this.d.store.posts.getPost(group, objectId);
    if (!post || post.deletedAt !== null) return err({ type: 'post-not-found' });
    const current = (await this.d.store.postFlags.listPinned(group, 100)).includes(objectId);
    if (current === pinned) return ok(false);
    await this.d.store.postFlags.setPinned(group, objectId, pinned ? this.now() : null);
    await this.audit(group, o.by, pinned ? 'pin' : 'unpin', objectId, o);
    await this.emit(
      group,
      { type: pinned ? 'Add' : 'Remove', object: objectId, target: this.d.urls.featured(group) },
      o.source,
      objectId,
    );
    return ok(true);
  }

  async setLocked(
    group: string,
    objectId: string,
    locked: boolean,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    const post = await this.d.store.posts.getPost(group, objectId);
    if (!post) return err({ type: 'post-not-found' });
    if ((await this.d.store.postFlags.isLocked(group, post.threadRoot)) === locked) return ok(false);
    await this.d.store.postFlags.setLocked(group, post.threadRoot, locked ? this.now() : null);
    await this.audit(group, o.by, locked ? 'lock' : 'unlock', post.threadRoot, o);
    const lock = { type: 'Lock', object: post.threadRoot };
    await this.emit(
      group,
      locked ? lock : { type: 'Undo', object: { ...lock, actor: this.d.urls.group(group) } },
      o.source,
      post.threadRoot,
    );
    return ok(true);
  }

  /** Files a report and tells every moderator by direct message. */
  async report(
    r: Omit<Report, 'id' | 'state' | 'createdAt' | 'resolvedAt' | 'resolvedBy'>,
  ): Promise<Result<Report, ModerationError>> {
    const g = await this.d.store.groups.getGroup(r.groupName);
    if (!g || g.deletedAt !== null) return err({ type: 'group-not-found' });
    const basis = r.flagId ?? `${r.reporterId}\n${r.objectIds.join(' ')}\n${r.reason}`;
    const id = createHash('sha256').update(`${r.groupName}\n${basis}`).digest('hex').slice(0, 12);
    const report: Report = {
      ...r,
      id,
      state: 'open',
      createdAt: this.now(),
      resolvedAt: null,
      resolvedBy: null,
    };
    if (!(await this.d.store.reports.putReport(report)))
      return ok((await this.d.store.reports.getReport(id)) ?? report);
    await this.audit(r.groupName, r.reporterId, 'report', r.targetActorId ?? r.objectIds[0] ?? '', {
      reason: r.reason,
    });
    const what = [r.targetActorId, ...r.objectIds].filter(Boolean).join(' ');
    await this.notifyModerators(
      r.groupName,
      `New report ${id} from ${r.reporterId}: ${r.reason || '(no reason)'} — ${what}. Answer "resolve ${id}" when handled.`,
    );
    return ok(report);
  }

  async resolveReport(
    group: string,
    id: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    const report = await this.d.store.reports.getReport(id);
    if (!report || report.groupName !== group) return err({ type: 'not-found' });
    if (!(await this.d.store.reports.resolveReport(id, o.by, this.now()))) return ok(false);
    await this.audit(group, o.by, 'resolve-report', id, o);
    if (report.flagId) {
      const reporter = await this.d.actors.getActor(report.reporterId);
      if (reporter) {
        await this.d.publisher.sendTo(
          group,
          {
            '@context': GUILD_CONTEXT,
            id: this.d.urls.activity(group, randomUUID()),
            type: 'Resolve',
            actor: this.d.urls.group(group),
            to: [report.reporterId],
            object: { id: report.flagId, type: 'Flag', actor: report.reporterId, object: report.objectIds },
          },
          reporter.sharedInbox ?? reporter.inbox,
        );
      }
    }
    return ok(true);
  }

  /** Sends a direct message from the group to every moderator, wherever they live. */
  async notifyModerators(group: string, text: string): Promise<number> {
    let sent = 0;
    let after: { addedAt: number; actorId: string } | null = null;
    for (;;) {
      const page = await this.d.store.moderators.listModerators(group, after, 100);
      if (page.length === 0) break;
      for (const m of page) if (await this.sendDirect(group, m.actorId, text)) sent++;
      const last = page[page.length - 1];
      after = last ? { addedAt: last.addedAt, actorId: last.actorId } : null;
    }
    return sent;
  }

  /** A direct message (Create{Note} addressed only to `to`, with a mention) from the group. */
  async sendDirect(group: string, to: string, text: string, inReplyTo?: string): Promise<boolean> {
    const actor = await this.d.actors.getActor(to);
    if (!actor) return false;
    const groupId = this.d.urls.group(group);
    const noteId = this.d.urls.activity(group, randomUUID());
    const name = actor.preferredUsername ? `@${actor.preferredUsername}@${new URL(actor.id).host}` : actor.id;
    const note: ApObject = {
      id: noteId,
      type: 'Note',
      attributedTo: groupId,
      to: [to],
      cc: [],
      published: new Date(this.now()).toISOString(),
      content: `<p><span class="h-card"><a href="${escapeHtml(actor.url ?? actor.id)}" class="u-url mention">${escapeHtml(name)}</a></span> ${escapeHtml(text).replace(/\n/g, '<br>')}</p>`,
      tag: [{ type: 'Mention', href: to, name }],
    };
    if (inReplyTo) note.inReplyTo = inReplyTo;
    await this.d.store.activities.putActivity({
      id: noteId,
      groupName: group,
      type: 'Note',
      objectId: null,
      json: JSON.stringify({ '@context': GUILD_CONTEXT, ...note }),
      published: this.now(),
      inOutbox: false,
    });
    await this.d.publisher.sendTo(
      group,
      {
        '@context': GUILD_CONTEXT,
        id: this.d.urls.activity(group, randomUUID()),
        type: 'Create',
        actor: groupId,
        to: [to],
        cc: [],
        object: note,
      },
      actor.inbox,
    );
    return true;
  }
}
