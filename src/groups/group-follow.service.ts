/**
 * Groups following groups (FEP-d36d): a group's moderators (or the admin) make it follow another group on any
 * server; once the other group accepts, what it announces is re-shared to this group's members (the re-share
 * handler), except to those who get it from the other group already. To know those, the other group's members
 * are read from its followers collection when the follow is accepted and again when they are older than
 * {@link MEMBERS_REFRESH_MS}.
 */
import type { Store } from '../storage/store.ts';
import type { GroupFollow } from '../storage/links.store.ts';
import type { Urls } from '../activitypub/urls.ts';
import { err, ok, type ActorLookup, type RemoteDocuments, type Result } from './ports.ts';
import type { EventSink } from './events.ts';
import { auditEntryId, type Actor } from './moderation.base.ts';

export type GroupFollowError =
  | { type: 'group-not-found' }
  | { type: 'not-allowed' }
  /** The target is not a group that can be had, or is this group. */
  | { type: 'invalid-target'; detail: string }
  /** Unfollow of a group not followed. */
  | { type: 'not-following' };

export interface GroupFollowDeps {
  store: Store;
  urls: Urls;
  events: EventSink;
  actors: ActorLookup;
  remote: RemoteDocuments;
  now?: () => number;
}

/** How old the known members of a followed remote group may get before they are read again. */
export const MEMBERS_REFRESH_MS = 10 * 60_000;
const PAGE = 200;

export class GroupFollowService {
  private readonly now: () => number;
  /** When the members of each followed remote group were last read by this process. */
  private readonly membersReadAt = new Map<string, number>();

  constructor(private readonly d: GroupFollowDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Makes `group` follow `target` (an actor id or `@name@host`); following it already changes nothing. */
  async follow(group: string, target: string, by: Actor): Promise<Result<GroupFollow, GroupFollowError>> {
    const allowed = await this.allowed(group, by);
    if (!allowed.ok) return allowed;
    const targetId = await this.targetId(target);
    if (!targetId) return err({ type: 'invalid-target', detail: `${target} could not be found` });
    if (targetId === this.d.urls.group(group))
      return err({ type: 'invalid-target', detail: 'a group cannot follow itself' });
    const existing = await this.d.store.groupFollows.getGroupFollow(group, targetId);
    if (existing) {
      // A Follow not answered yet is sent again, under its own id.
      if (existing.state === 'pending') await this.emitFollow(existing, 'GroupFollowRequested');
      return ok(existing);
    }
    const local = this.d.urls.groupNameOf(targetId);
    let inbox: string;
    if (local !== null) {
      if (!(await this.live(local)))
        return err({ type: 'invalid-target', detail: `there is no group ${targetId}` });
      inbox = this.d.urls.inbox(local);
    } else {
      const actor = await this.d.actors.getActor(targetId);
      if (!actor) return err({ type: 'invalid-target', detail: `${targetId} could not be fetched` });
      if (actor.type !== 'Group')
        return err({ type: 'invalid-target', detail: `${targetId} is a ${actor.type}, not a group` });
      inbox = actor.inbox;
    }
    const t = this.now();
    const f: GroupFollow = {
      groupName: group,
      targetId,
      targetInbox: inbox,
      followId: this.d.urls.derivedActivity(group, `follow:${targetId}:${t}`, 'follow'),
      state: 'pending',
      createdAt: t,
      updatedAt: t,
    };
    await this.d.store.groupFollows.putGroupFollow(f);
    await this.emitFollow(f, 'GroupFollowRequested');
    await this.audit(group, by, 'follow-group', targetId, f.followId);
    return ok(f);
  }

  /** Stops following: the other group is sent `Undo{Follow}`, and nothing it announces is re-shared any more. */
  async unfollow(group: string, target: string, by: Actor): Promise<Result<GroupFollow, GroupFollowError>> {
    const allowed = await this.allowed(group, by);
    if (!allowed.ok) return allowed;
    const targetId = (await this.targetId(target)) ?? target;
    const f = await this.d.store.groupFollows.getGroupFollow(group, targetId);
    if (!f) return err({ type: 'not-following' });
    await this.emitFollow(f, 'GroupUnfollowed');
    await this.audit(group, by, 'unfollow-group', targetId, f.followId);
    await this.d.store.groupFollows.removeGroupFollow(group, targetId);
    return ok(f);
  }

  /** The groups `group` follows (or asked to), by actor id, after the cursor. */
  async list(group: string, after: string | null, limit: number): Promise<GroupFollow[]> {
    return this.d.store.groupFollows.listGroupFollows(group, after, Math.max(1, Math.min(PAGE, limit)));
  }

  /** The other group accepted: what it announces is re-shared from now on. */
  async accepted(f: GroupFollow): Promise<void> {
    if (f.state !== 'accepted')
      await this.d.store.groupFollows.putGroupFollow({ ...f, state: 'accepted', updatedAt: this.now() });
    await this.refreshMembers(f.targetId, true);
  }

  /** The other group refused (or ended) the follow. */
  async rejected(f: GroupFollow): Promise<void> {
    await this.d.store.groupFollows.removeGroupFollow(f.groupName, f.targetId);
  }

  /**
   * Reads the members of a followed remote group again when this process has not read them for a while (or
   * when `force`); a group that lists none keeps what was known.
   */
  async refreshMembers(targetId: string, force = false): Promise<void> {
    if (this.d.urls.isLocal(targetId)) return;
    const at = this.membersReadAt.get(targetId);
    if (!force && at !== undefined && this.now() - at < MEMBERS_REFRESH_MS) return;
    this.membersReadAt.set(targetId, this.now());
    const members = await this.d.remote.readMembers(targetId);
    if (members !== null) await this.d.store.groupFollows.replaceKnownMembers(targetId, members);
  }

  private emitFollow(f: GroupFollow, type: 'GroupFollowRequested' | 'GroupUnfollowed'): Promise<void> {
    return this.d.events.emit({
      type,
      group: f.groupName,
      basis: `${type}:${f.followId}`,
      target: f.targetId,
      targetInbox: f.targetInbox,
      followId: f.followId,
    });
  }

  private async allowed(group: string, by: Actor): Promise<Result<void, GroupFollowError>> {
    if (!(await this.live(group))) return err({ type: 'group-not-found' });
    if (by !== 'admin' && !(await this.d.store.moderators.isModerator(group, by)))
      return err({ type: 'not-allowed' });
    return ok(undefined);
  }

  private async live(name: string): Promise<boolean> {
    const g = await this.d.store.groups.getGroup(name);
    return g !== null && g.deletedAt === null;
  }

  private async targetId(target: string): Promise<string | null> {
    if (/^https?:\/\//.test(target)) return target;
    const m = /^@?([^@\s]+)@([^@\s]+)$/.exec(target);
    if (!m) return null;
    const [, name, host] = m;
    // A group of this instance is found without asking the network.
    if (name && host && new URL(this.d.urls.origin).host === host.toLowerCase())
      return this.d.urls.group(name.toLowerCase());
    return this.d.remote.resolveHandle(target);
  }

  private async audit(
    group: string,
    by: Actor,
    action: string,
    target: string,
    basis: string,
  ): Promise<void> {
    await this.d.store.audit.appendAudit({
      id: auditEntryId(basis, action, group, target),
      groupName: group,
      actorId: by,
      action,
      target,
      reason: '',
      at: this.now(),
    });
  }
}

/** A refusal of a group follow as one line (CLI, admin API, DM answers). */
export function followErrorText(e: GroupFollowError, name: string, target: string): string {
  switch (e.type) {
    case 'group-not-found':
      return `no group named "${name}"`;
    case 'not-allowed':
      return 'only the admin and the group’s moderators may do that';
    case 'invalid-target':
      return e.detail;
    case 'not-following':
      return `${name} does not follow ${target}`;
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}
