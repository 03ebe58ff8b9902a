/**
 * Moderation of posts: removal and restoring, pins, thread locks, held posts, and reports. Part of the
 * moderation service (see `moderation.service.ts`); the order of each action's steps is explained in
 * `moderation.base.ts`.
 */
import { createHash } from 'node:crypto';
import type { Report } from '../storage/moderation.store.ts';
import { parseInbound } from '../activitypub/inbound.parser.ts';
import { err, ok, type Result } from './ports.ts';
import { ModerationBase, type ActionOptions, type ModerationError } from './moderation.base.ts';

export class PostModeration extends ModerationBase {
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
    if (post.deletedAt !== null) return this.nothingLeft(group, 'remove-post', objectId, o);
    const basis = this.basisOf(o);
    await this.d.events.emit({
      type: 'PostRemoved',
      group,
      basis,
      source: o.source ?? null,
      objectId,
      reason: o.reason ?? '',
      boostId: post.boostId,
    });
    await this.audit(group, o.by, 'remove-post', objectId, { ...o, basis });
    await this.d.store.posts.markPostDeleted(group, objectId, this.now(), o.by);
    return ok(true);
  }

  /** Makes a removed post live again: members' servers are told, and a top-level post is boosted again. */
  async restorePost(
    group: string,
    objectId: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    const post = await this.d.store.posts.getPost(group, objectId);
    if (!post) return err({ type: 'post-not-found' });
    if (post.deletedAt === null) return this.nothingLeft(group, 'restore-post', objectId, o);
    if (post.removedBy === null)
      return err({
        type: 'invalid',
        detail: 'the post was deleted by its author; only they can undelete it',
      });
    const basis = this.basisOf(o);
    const boostId = post.inReplyTo === null ? this.d.urls.derivedActivity(group, basis, 'boost') : null;
    await this.d.events.emit({
      type: 'PostRestored',
      group,
      basis,
      source: o.source ?? null,
      objectId,
      reason: o.reason ?? '',
      boostId,
    });
    await this.audit(group, o.by, 'restore-post', objectId, { ...o, basis });
    await this.d.store.posts.restorePost(group, objectId, boostId);
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
    if (current === pinned) return this.nothingLeft(group, pinned ? 'pin' : 'unpin', objectId, o);
    const basis = this.basisOf(o);
    await this.d.events.emit({
      type: pinned ? 'PostPinned' : 'PostUnpinned',
      group,
      basis,
      source: o.source ?? null,
      objectId,
    });
    await this.audit(group, o.by, pinned ? 'pin' : 'unpin', objectId, { ...o, basis });
    await this.d.store.postFlags.setPinned(group, objectId, pinned ? this.now() : null);
    return ok(true);
  }

  /** Locks or unlocks the thread of a post (by its top-level post). */
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
    if ((await this.d.store.postFlags.isLocked(group, post.threadRoot)) === locked)
      return this.nothingLeft(group, locked ? 'lock' : 'unlock', post.threadRoot, o);
    const basis = this.basisOf(o);
    await this.d.events.emit({
      type: locked ? 'ThreadLocked' : 'ThreadUnlocked',
      group,
      basis,
      source: o.source ?? null,
      objectId: post.threadRoot,
    });
    await this.audit(group, o.by, locked ? 'lock' : 'unlock', post.threadRoot, { ...o, basis });
    await this.d.store.postFlags.setLocked(group, post.threadRoot, locked ? this.now() : null);
    return ok(true);
  }

  /**
   * Shares a post held for approval, as if it had just been received (the holds do not apply again); it
   * leaves the queue once shared. Refused with the reason when the posting rules no longer let it in (its
   * author was banned meanwhile...): it stays held, for `rejectPost`.
   */
  async approvePost(
    group: string,
    objectId: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    const held = await this.d.store.held.getHeldPost(group, objectId);
    if (!held) return this.doneOr(group, 'approve-post', objectId, o);
    const parsed = parseInbound(JSON.parse(held.activityJson));
    if (!parsed.ok || parsed.value.kind !== 'create-post')
      return err({ type: 'invalid', detail: 'the held activity is not a post' });
    const a = parsed.value;
    const submission = { createId: a.id, author: held.authorId, object: a.object, create: a.raw };
    const plan = await this.d.posting.check(group, submission, { groupMentions: 0, released: true });
    if (!plan.ok) return err({ type: 'invalid', detail: plan.error });
    if (plan.value.kind === 'refuse-non-member') return err({ type: 'invalid', detail: plan.value.reason });
    if (plan.value.kind !== 'accept') return err({ type: 'invalid', detail: 'the post would be held again' });
    const basis = this.basisOf(o);
    await this.d.posting.accept(plan.value.post, submission);
    await this.audit(group, o.by, 'approve-post', objectId, { ...o, basis });
    await this.d.store.held.takeHeldPost(group, objectId);
    return ok(true);
  }

  /** Discards a post held for approval: it is never shared. */
  async rejectPost(
    group: string,
    objectId: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    if (!(await this.d.store.held.getHeldPost(group, objectId)))
      return this.doneOr(group, 'reject-post', objectId, o);
    await this.audit(group, o.by, 'reject-post', objectId, { ...o, basis: this.basisOf(o) });
    await this.d.store.held.takeHeldPost(group, objectId);
    return ok(true);
  }

  /**
   * Files a report and tells every moderator by direct message. The report's id derives from the Flag (or from
   * the reporter, posts and reason of a DM report), so that filing it again files and tells nothing new.
   */
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
    const filed = (await this.d.store.reports.putReport(report))
      ? report
      : ((await this.d.store.reports.getReport(id)) ?? report);
    await this.audit(r.groupName, r.reporterId, 'report', r.targetActorId ?? r.objectIds[0] ?? '', {
      reason: r.reason,
      basis: `report:${id}`,
    });
    const what = [r.targetActorId, ...r.objectIds].filter(Boolean).join(' ');
    await this.d.notices.notifyModerators(
      r.groupName,
      `New report ${id} from ${r.reporterId}: ${r.reason || '(no reason)'} — ${what}. Answer "resolve ${id}" when handled.`,
      `report:${id}`,
    );
    return ok(filed);
  }

  /** Marks a report handled; a Flag's sender is told with Resolve. */
  async resolveReport(
    group: string,
    id: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    const report = await this.d.store.reports.getReport(id);
    if (!report || report.groupName !== group) return err({ type: 'not-found' });
    if (report.state === 'resolved') return this.nothingLeft(group, 'resolve-report', id, o);
    const basis = this.basisOf(o);
    if (report.flagId) {
      const reporter = await this.d.actors.getActor(report.reporterId);
      if (reporter) {
        await this.d.events.emit({
          type: 'ReportResolved',
          group,
          basis,
          flagId: report.flagId,
          reporter: report.reporterId,
          reporterInbox: reporter.sharedInbox ?? reporter.inbox,
          objectIds: report.objectIds,
        });
      }
    }
    await this.audit(group, o.by, 'resolve-report', id, { ...o, basis });
    await this.d.store.reports.resolveReport(id, o.by, this.now());
    return ok(true);
  }

  /** No held post: done when this same basis took it (a retry after the last step), else not found. */
  private async doneOr(
    group: string,
    action: string,
    objectId: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    return (await this.recorded(group, action, objectId, this.basisOf(o)))
      ? ok(true)
      : err({ type: 'not-found' });
  }
}
