/**
 * Owners of groups. Whoever creates a group by direct message or from the dashboard owns it: a moderator whom
 * the other moderators cannot remove, and the only one (with the admin) who appoints and removes moderators
 * (`ModerationService`), hands the ownership to someone else, or deletes the group. Every change is recorded
 * in the audit log with who made it. A group the admin created has no owner until the admin names one.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Group, Store } from '../storage/store.ts';
import { err, ok, type Result } from './ports.ts';
import type { GroupService } from './group.service.ts';
import type { ActionOptions, Actor, ModerationError, ModerationService } from './moderation.service.ts';
import { auditEntryId } from './moderation.base.ts';

/** What someone is in a group: its owner, one of its moderators, or nothing. */
export type GroupRole = 'owner' | 'moderator';

/** How long the code that confirms a group's deletion works. */
export const DELETE_CODE_TTL_MS = 15 * 60_000;
/** Groups shown to one person at most (dashboard, `groups` command). */
export const MAX_GROUPS_LISTED = 200;

export interface OwnershipDeps {
  store: Store;
  groups: GroupService;
  moderation: ModerationService;
  now?: () => number;
  random?: (n: number) => Buffer;
}

export class OwnershipService {
  private readonly now: () => number;
  private readonly random: (n: number) => Buffer;

  constructor(private readonly d: OwnershipDeps) {
    this.now = d.now ?? Date.now;
    this.random = d.random ?? randomBytes;
  }

  /** The owner's actor id, or null. */
  async ownerOf(group: string): Promise<string | null> {
    return (await this.d.store.owners.getOwner(group))?.actorId ?? null;
  }

  /**
   * What `actorId` is in the live group `group`, read from the store each time (never cached): nothing in a
   * group that has banned it, whatever its role there.
   */
  async roleIn(group: string, actorId: string): Promise<GroupRole | null> {
    if (!(await this.d.groups.get(group))) return null;
    if (!(await this.d.store.moderators.isModerator(group, actorId))) return null;
    if (await this.d.store.bans.getActiveBan(group, actorId, this.now())) return null;
    return (await this.ownerOf(group)) === actorId ? 'owner' : 'moderator';
  }

  /**
   * The live groups an actor owns or moderates and is not banned from, by name (at most
   * {@link MAX_GROUPS_LISTED}).
   */
  async groupsOf(actorId: string): Promise<Array<{ group: Group; role: GroupRole }>> {
    const names = await this.d.store.moderators.listGroupsOfModerator(actorId, null, MAX_GROUPS_LISTED);
    const out: Array<{ group: Group; role: GroupRole }> = [];
    for (const name of names) {
      const group = await this.d.groups.get(name);
      if (!group || (await this.d.store.bans.getActiveBan(name, actorId, this.now()))) continue;
      out.push({ group, role: (await this.ownerOf(name)) === actorId ? 'owner' : 'moderator' });
    }
    return out;
  }

  /**
   * Makes `to` the owner, by the admin or the current owner; `to` becomes a moderator first when not one yet
   * (members' servers are told). The former owner stays a moderator. False when `to` already owns it.
   */
  async transfer(group: string, to: string, o: ActionOptions): Promise<Result<boolean, ModerationError>> {
    const allowed = await this.ownerOnly(group, o.by);
    if (!allowed.ok) return allowed;
    if ((await this.ownerOf(group)) === to) return ok(false);
    const basis = o.basis ?? `transfer:${group}:${to}:${this.now()}`;
    if (!(await this.d.store.moderators.isModerator(group, to))) {
      const added = await this.d.moderation.addModerator(group, to, { ...o, basis: `${basis}#mod` });
      if (!added.ok) return added;
    }
    await this.audit(group, o.by, 'transfer-owner', to, o.reason ?? '', basis);
    await this.d.store.owners.setOwner({ groupName: group, actorId: to, since: this.now() });
    return ok(true);
  }

  /** Leaves the group without an owner (the admin only). False when it had none. */
  async clearOwner(group: string, o: ActionOptions): Promise<Result<boolean, ModerationError>> {
    if (!(await this.d.groups.get(group))) return err({ type: 'group-not-found' });
    if (o.by !== 'admin') return err({ type: 'not-allowed' });
    const owner = await this.ownerOf(group);
    if (owner === null) return ok(false);
    await this.audit(
      group,
      'admin',
      'clear-owner',
      owner,
      o.reason ?? '',
      o.basis ?? `clear-owner:${this.now()}`,
    );
    return ok(await this.d.store.owners.clearOwner(group));
  }

  /** Deletes the group, by the admin or its owner: members are told, the name is never used again. */
  async deleteGroup(group: string, o: ActionOptions): Promise<Result<boolean, ModerationError>> {
    const allowed = await this.ownerOnly(group, o.by);
    if (!allowed.ok) return allowed;
    await this.audit(group, o.by, 'delete-group', group, o.reason ?? '', o.basis ?? `delete-group:${group}`);
    const deleted = await this.d.groups.delete(group);
    return deleted.ok ? ok(true) : ok(false);
  }

  /**
   * A code that confirms the deletion of `group` by `by` (its owner), for {@link deleteWithCode}: eight letters
   * and digits, kept only as a hash bound to the group and to `by`, usable once within 15 minutes.
   */
  async issueDeleteCode(group: string, by: Actor): Promise<Result<string, ModerationError>> {
    const allowed = await this.ownerOnly(group, by);
    if (!allowed.ok) return allowed;
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    const code = [...this.random(8)].map((b) => alphabet[b % alphabet.length]).join('');
    const t = this.now();
    await this.d.store.codes.putCode({
      hash: deleteCodeHash(group, by, code),
      purpose: 'delete-group',
      actorId: by,
      subject: group,
      createdAt: t,
      expiresAt: t + DELETE_CODE_TTL_MS,
      usedAt: null,
    });
    return ok(code);
  }

  /** Deletes the group when `code` is a live deletion code issued for this group to `by`. */
  async deleteWithCode(
    group: string,
    code: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError | { type: 'bad-code' }>> {
    const allowed = await this.ownerOnly(group, o.by);
    if (!allowed.ok) return allowed;
    const used = await this.d.store.codes.useCode(deleteCodeHash(group, o.by, code), this.now());
    if (!used || used.purpose !== 'delete-group' || used.subject !== group || used.actorId !== o.by)
      return err({ type: 'bad-code' });
    return this.deleteGroup(group, o);
  }

  /** The group is live and `by` is the admin or its owner. */
  private async ownerOnly(group: string, by: Actor): Promise<Result<void, ModerationError>> {
    if (!(await this.d.groups.get(group))) return err({ type: 'group-not-found' });
    if (by !== 'admin' && (await this.ownerOf(group)) !== by) return err({ type: 'not-allowed' });
    return ok(undefined);
  }

  private async audit(
    group: string,
    by: Actor,
    action: string,
    target: string,
    reason: string,
    basis: string,
  ): Promise<void> {
    await this.d.store.audit.appendAudit({
      id: auditEntryId(basis, action, group, target),
      groupName: group,
      actorId: by,
      action,
      target,
      reason,
      at: this.now(),
    });
  }
}

function deleteCodeHash(group: string, by: string, code: string): string {
  return createHash('sha256')
    .update(`delete-group\n${by}\n${group}\n${code.trim().toUpperCase()}`)
    .digest('hex');
}
