/**
 * The moderation of a group, one service for every surface (admin CLI, admin API, DM commands, moderators'
 * activities from their servers): moderators, bans, join requests and members, settings, and (in
 * `post-moderation.service.ts`) posts, held posts and reports. Every action is checked (`by` must be the admin
 * or a moderator), told to the members per FEP-1b12 (an event), recorded in the audit log with who did it, and
 * applied. Actions are idempotent: repeating one changes nothing and records nothing new.
 */
import type { Member } from '../storage/store.ts';
import { err, ok, type Result } from './ports.ts';
import type { MembershipError } from './membership.service.ts';
import type {
  SettingsField,
  SettingsPatch,
  SettingsUpdated,
  UpdateSettingsError,
} from './settings.service.ts';
import { PostModeration } from './post-moderation.service.ts';
import type { ActionOptions, ModerationError } from './moderation.base.ts';

export type { Actor, ActionOptions, ModerationError, ModerationDeps } from './moderation.base.ts';

/** Why a join request or a membership decision is refused. */
export type MemberDecisionError = ModerationError | MembershipError;

export type SettingsChangeError = ModerationError | UpdateSettingsError;

export class ModerationService extends PostModeration {
  async addModerator(
    group: string,
    actorId: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    if (!(await this.canManageModerators(group, o.by))) return err({ type: 'not-allowed' });
    if (!/^https?:\/\//.test(actorId) || this.d.urls.isLocal(actorId))
      return err({ type: 'invalid', detail: 'a moderator is a remote actor, named by its http(s) id' });
    if (await this.d.store.moderators.isModerator(group, actorId))
      return this.nothingLeft(group, 'add-moderator', actorId, o);
    const basis = this.basisOf(o);
    await this.d.events.emit({
      type: 'ModeratorAdded',
      group,
      basis,
      source: o.source ?? null,
      moderator: actorId,
    });
    await this.audit(group, o.by, 'add-moderator', actorId, { ...o, basis });
    await this.d.store.moderators.addModerator({
      groupName: group,
      actorId,
      addedBy: o.by,
      addedAt: this.now(),
    });
    return ok(true);
  }

  async removeModerator(
    group: string,
    actorId: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    if (!(await this.canManageModerators(group, o.by))) return err({ type: 'not-allowed' });
    if (!(await this.d.store.moderators.isModerator(group, actorId)))
      return this.nothingLeft(group, 'remove-moderator', actorId, o);
    if ((await this.d.store.owners.getOwner(group))?.actorId === actorId)
      return err({ type: 'invalid', detail: 'the owner stays a moderator; transfer the ownership first' });
    const basis = this.basisOf(o);
    await this.d.events.emit({
      type: 'ModeratorRemoved',
      group,
      basis,
      source: o.source ?? null,
      moderator: actorId,
    });
    await this.audit(group, o.by, 'remove-moderator', actorId, { ...o, basis });
    await this.d.store.moderators.removeModerator(group, actorId);
    return ok(true);
  }

  /**
   * Bans a user: their membership ends, their Follows are refused, their posts are dropped (and, with
   * `removePosts`, their earlier posts removed). Their own server is told too, so that it lifts its copy of the
   * ban when it ends.
   */
  async ban(
    group: string,
    actorId: string,
    o: ActionOptions & { expiresAt?: number | null; removePosts?: boolean },
  ): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    if (o.by !== 'admin' && o.by === actorId)
      return err({ type: 'invalid', detail: 'moderators cannot ban themselves' });
    const basis = this.basisOf(o);
    if (await this.d.store.moderators.isModerator(group, actorId)) {
      if (o.by !== 'admin') return err({ type: 'invalid', detail: 'remove the moderator first' });
      // The admin's ban also ends the moderator role, and the ownership when the banned moderator owns it.
      const owner = await this.d.store.owners.getOwner(group);
      if (owner?.actorId === actorId && (await this.d.store.owners.clearOwner(group)))
        await this.audit(group, 'admin', 'clear-owner', actorId, {
          reason: 'banned',
          basis: `${basis}#owner`,
        });
      await this.removeModerator(group, actorId, {
        by: 'admin',
        reason: o.reason ?? 'banned',
        basis: `${basis}#unmod`,
      });
    }
    const expiresAt = o.expiresAt ?? null;
    const existing = await this.d.store.bans.getActiveBan(group, actorId, this.now());
    const member = await this.d.store.members.getMember(group, actorId);
    if (existing && existing.expiresAt === expiresAt && !member && !o.removePosts)
      return this.nothingLeft(group, 'ban', actorId, { ...o, basis });
    await this.d.events.emit({
      type: 'MemberBanned',
      group,
      basis,
      source: o.source ?? null,
      user: actorId,
      userInbox: await this.inboxOf(actorId, member, o),
      reason: o.reason ?? '',
      expiresAt,
      removeData: o.removePosts === true,
    });
    await this.audit(group, o.by, 'ban', actorId, { ...o, basis });
    await this.d.store.bans.putBan({
      groupName: group,
      actorId,
      reason: o.reason ?? '',
      by: o.by,
      createdAt: this.now(),
      expiresAt,
    });
    if (member) await this.d.store.members.removeMember(group, actorId);
    if (o.removePosts) {
      let after: string | null = null;
      for (;;) {
        const ids: string[] = await this.d.store.postFlags.listPostsByAuthor(group, actorId, after, 100);
        if (ids.length === 0) break;
        for (const id of ids)
          await this.removePost(group, id, {
            by: o.by,
            reason: o.reason ?? 'banned',
            basis: `${basis}#remove:${id}`,
          });
        after = ids[ids.length - 1] ?? null;
      }
    }
    return ok(true);
  }

  async unban(group: string, actorId: string, o: ActionOptions): Promise<Result<boolean, ModerationError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    const ban = await this.d.store.bans.getActiveBan(group, actorId, this.now());
    if (!ban) return this.nothingLeft(group, 'unban', actorId, o);
    const basis = this.basisOf(o);
    await this.d.events.emit({
      type: 'MemberUnbanned',
      group,
      basis,
      source: o.source ?? null,
      user: actorId,
      userInbox: await this.inboxOf(actorId, null, o),
      reason: o.reason ?? ban.reason,
    });
    await this.audit(group, o.by, 'unban', actorId, { ...o, basis });
    await this.d.store.bans.removeBan(group, actorId);
    return ok(true);
  }

  /** Accepts a pending join request: the requester's server is sent Accept. Gives the member. */
  async approveMember(
    group: string,
    actorId: string,
    o: ActionOptions,
  ): Promise<Result<Member, MemberDecisionError>> {
    const r = await this.decide(group, actorId, o, 'approve-member', (basis) =>
      this.d.membership.approve(group, actorId, basis),
    );
    if (!r.ok) return r;
    return r.value ? ok(r.value) : this.d.membership.existing(group, actorId);
  }

  /**
   * Refuses a pending join request: the requester's server is sent Reject. Gives the request, or null when this
   * same basis had refused it already (a retry after the last step).
   */
  async rejectMember(
    group: string,
    actorId: string,
    o: ActionOptions,
  ): Promise<Result<Member | null, MemberDecisionError>> {
    return this.decide(group, actorId, o, 'reject-member', (basis) =>
      this.d.membership.reject(group, actorId, basis),
    );
  }

  /**
   * Ends a membership (or a pending request): the member's server is sent Reject. Gives the membership, or null
   * when this same basis had ended it already.
   */
  async removeMember(
    group: string,
    actorId: string,
    o: ActionOptions,
  ): Promise<Result<Member | null, MemberDecisionError>> {
    return this.decide(group, actorId, o, 'remove-member', (basis) =>
      this.d.membership.remove(group, actorId, basis),
    );
  }

  /**
   * Changes the group's profile and settings (see SettingsService): validated, recorded with the fields that
   * changed, and sent to members. Changing nothing records nothing.
   */
  async changeSettings(
    group: string,
    patch: SettingsPatch,
    o: ActionOptions,
  ): Promise<Result<SettingsUpdated, SettingsChangeError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    const prepared = await this.d.settings.prepare(group, patch);
    if (!prepared.ok) return prepared;
    const basis = this.basisOf(o);
    if (prepared.value.changed.length > 0)
      await this.audit(group, o.by, 'update-settings', prepared.value.changed.join(','), { ...o, basis });
    const r = await this.d.settings.commit(prepared.value, basis);
    if (!r.ok || r.value.changed.length > 0) return r;
    // Nothing changed now, but this same basis changed these fields (a retry after the group was stored).
    const asked = Object.keys(patch) as SettingsField[];
    const done = asked.length > 0 && (await this.recorded(group, 'update-settings', asked.join(','), basis));
    return done ? ok({ ...r.value, changed: asked }) : r;
  }

  /** The decision taken, or null when this same basis had taken it already (nothing left to do). */
  private async decide(
    group: string,
    actorId: string,
    o: ActionOptions,
    action: string,
    apply: (basis: string) => Promise<Result<Member, MembershipError>>,
  ): Promise<Result<Member | null, MemberDecisionError>> {
    const c = await this.check(group, o.by);
    if (!c.ok) return c;
    const found =
      action === 'remove-member'
        ? await this.d.membership.existing(group, actorId)
        : await this.d.membership.pending(group, actorId);
    const basis = this.basisOf(o);
    if (!found.ok) return (await this.recorded(group, action, actorId, basis)) ? ok(null) : found;
    await this.audit(group, o.by, action, actorId, { ...o, basis });
    return apply(basis);
  }

  /**
   * The inbox of the person a ban concerns, where the Service actor's Block or Undo goes too; none for a
   * moderator's own activity (their server sends it) or when the actor cannot be had.
   */
  private async inboxOf(actorId: string, member: Member | null, o: ActionOptions): Promise<string | null> {
    if (o.source) return null;
    if (member) return member.inbox;
    return (await this.d.actors.getActor(actorId))?.inbox ?? null;
  }
}
