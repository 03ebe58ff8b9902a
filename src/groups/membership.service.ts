/**
 * Memberships and join requests: listing them, and the effects of a decision (approving or refusing a join
 * request of an `approval` group, removing a member). The requester's server is told with an `Accept` or
 * `Reject` of the original Follow. Who may decide, and the audit log, are the moderation service's.
 */
import type { Member, MemberState, Store } from '../storage/store.ts';
import { err, ok, type Result } from './ports.ts';
import type { EventSink, FollowRef } from './events.ts';

export type MembershipError =
  /** No live group of that name. */
  | { type: 'group-not-found' }
  /** The actor has no pending join request in the group. */
  | { type: 'no-such-request'; isMember: boolean }
  /** The actor is neither a member nor a pending requester. */
  | { type: 'not-a-member' };

export type HandleLookupError =
  | { type: 'group-not-found' }
  /** Not of the form `@user@host`. */
  | { type: 'invalid-handle' }
  /** No stored member or request matches; the actor id is needed. */
  | { type: 'unknown-handle' }
  /** Several stored actors match; the actor id is needed. */
  | { type: 'ambiguous-handle'; candidates: string[] };

export interface MembershipServiceDeps {
  store: Store;
  events: EventSink;
  now?: () => number;
}

/** Largest page a caller may ask for. */
export const MAX_PAGE = 500;
/** Members scanned when looking a handle up (only those on the handle's host are read). */
const HANDLE_SCAN_LIMIT = 10_000;

export class MembershipService {
  private readonly now: () => number;
  constructor(private readonly deps: MembershipServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Pending join requests ordered by actor id, actor ids strictly greater than `after`. */
  listPending(
    group: string,
    after: string | null,
    limit: number,
  ): Promise<Result<Member[], { type: 'group-not-found' }>> {
    return this.list(group, 'pending', after, limit);
  }

  /** Accepted members ordered by actor id, actor ids strictly greater than `after`. */
  listMembers(
    group: string,
    after: string | null,
    limit: number,
  ): Promise<Result<Member[], { type: 'group-not-found' }>> {
    return this.list(group, 'accepted', after, limit);
  }

  /** Counts of accepted members and pending requests. */
  async counts(
    group: string,
  ): Promise<Result<{ accepted: number; pending: number }, { type: 'group-not-found' }>> {
    if (!(await this.liveGroup(group))) return err({ type: 'group-not-found' });
    const [accepted, pending] = await Promise.all([
      this.deps.store.members.countMembers(group, 'accepted'),
      this.deps.store.members.countMembers(group, 'pending'),
    ]);
    return ok({ accepted, pending });
  }

  /**
   * Turns a pending request into a membership and sends `Accept{Follow}` to the requester's inbox. The answer
   * is queued first: if storing the state fails, approving again (same `basis`) queues nothing new.
   */
  async approve(group: string, actorId: string, basis: string): Promise<Result<Member, MembershipError>> {
    const member = await this.pending(group, actorId);
    if (!member.ok) return member;
    await this.deps.events.emit({ type: 'MemberJoined', group, basis, follow: followOf(member.value) });
    const accepted: Member = { ...member.value, state: 'accepted', updatedAt: this.now() };
    await this.deps.store.members.upsertMember(accepted);
    return ok(accepted);
  }

  /** Refuses a pending request: sends `Reject{Follow}` to the requester's inbox, then removes the request. */
  async reject(group: string, actorId: string, basis: string): Promise<Result<Member, MembershipError>> {
    const member = await this.pending(group, actorId);
    if (!member.ok) return member;
    await this.deps.events.emit({ type: 'JoinRejected', group, basis, follow: followOf(member.value) });
    await this.deps.store.members.removeMember(group, actorId);
    return ok(member.value);
  }

  /**
   * Removes a member (or a pending request) and sends `Reject{Follow}` to its inbox, which servers such as
   * Mastodon take as the end of the follow.
   */
  async remove(group: string, actorId: string, basis: string): Promise<Result<Member, MembershipError>> {
    const member = await this.existing(group, actorId);
    if (!member.ok) return member;
    await this.deps.events.emit({ type: 'JoinRejected', group, basis, follow: followOf(member.value) });
    await this.deps.store.members.removeMember(group, actorId);
    return ok(member.value);
  }

  /** The pending request of `actorId`, or why there is none. Reads only. */
  async pending(group: string, actorId: string): Promise<Result<Member, MembershipError>> {
    if (!(await this.liveGroup(group))) return err({ type: 'group-not-found' });
    const member = await this.deps.store.members.getMember(group, actorId);
    if (!member) return err({ type: 'no-such-request', isMember: false });
    if (member.state !== 'pending') return err({ type: 'no-such-request', isMember: true });
    return ok(member);
  }

  /** The membership or request of `actorId`, or why there is none. Reads only. */
  async existing(group: string, actorId: string): Promise<Result<Member, MembershipError>> {
    if (!(await this.liveGroup(group))) return err({ type: 'group-not-found' });
    const member = await this.deps.store.members.getMember(group, actorId);
    return member ? ok(member) : err({ type: 'not-a-member' });
  }

  /**
   * The actor id of the stored member or requester (in `state`) known by `@user@host`: an actor on that host
   * whose cached profile has that preferredUsername. Servers whose handles use another domain than their
   * actor ids are not found this way; give the actor id instead.
   */
  async resolveHandle(
    group: string,
    handle: string,
    state: MemberState,
  ): Promise<Result<string, HandleLookupError>> {
    if (!(await this.liveGroup(group))) return err({ type: 'group-not-found' });
    const m = /^@?([^@\s/]+)@([^@\s/]+)$/.exec(handle.trim());
    if (!m || !m[1] || !m[2]) return err({ type: 'invalid-handle' });
    const user = m[1].toLowerCase();
    const host = m[2].toLowerCase();
    const found: string[] = [];
    for (const scheme of ['https', 'http']) {
      const prefix = `${scheme}://${host}/`;
      let after: string | null = prefix;
      let scanned = 0;
      while (after !== null && scanned < HANDLE_SCAN_LIMIT) {
        const page: Member[] = await this.deps.store.members.listMembers(group, state, after, 200);
        after = null;
        for (const member of page) {
          if (!member.actorId.toLowerCase().startsWith(prefix)) break;
          scanned++;
          after = member.actorId;
          const actor = await this.deps.store.remoteActors.getRemoteActor(member.actorId);
          if (actor?.preferredUsername?.toLowerCase() === user) found.push(member.actorId);
        }
        if (page.length < 200) break;
      }
    }
    if (found.length === 0) return err({ type: 'unknown-handle' });
    if (found.length > 1) return err({ type: 'ambiguous-handle', candidates: found });
    return ok(found[0] as string);
  }

  private async list(
    group: string,
    state: MemberState,
    after: string | null,
    limit: number,
  ): Promise<Result<Member[], { type: 'group-not-found' }>> {
    if (!(await this.liveGroup(group))) return err({ type: 'group-not-found' });
    const n = Math.max(1, Math.min(MAX_PAGE, Math.floor(limit)));
    return ok(await this.deps.store.members.listMembers(group, state, after, n));
  }

  private async liveGroup(name: string): Promise<boolean> {
    const g = await this.deps.store.groups.getGroup(name);
    return g !== null && g.deletedAt === null;
  }
}

/** The Follow a member joined with, as an answer refers to it. */
function followOf(m: Member): FollowRef {
  return { id: m.followId, follower: m.actorId, inbox: m.inbox };
}
