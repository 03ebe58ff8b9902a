/**
 * Membership decisions taken here (by an admin or moderator): approving or refusing join requests of groups
 * whose membership policy is `approval`, and removing members. The requester's server is told with an
 * `Accept` or `Reject` of the original Follow.
 */
import type { Member, MemberState, Store } from '../storage/store.ts';
import type { ApObject } from '../activitypub/vocab.ts';
import type { Urls } from '../activitypub/urls.ts';
import { followAnswer } from './follow-answer.ts';
import { err, ok, type Publisher, type Result } from './ports.ts';

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
  urls: Urls;
  publisher: Publisher;
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

  /** Turns a pending request into a membership and sends `Accept{Follow}` to the requester's inbox. */
  async approve(group: string, actorId: string): Promise<Result<Member, MembershipError>> {
    if (!(await this.liveGroup(group))) return err({ type: 'group-not-found' });
    const member = await this.deps.store.members.getMember(group, actorId);
    if (!member) return err({ type: 'no-such-request', isMember: false });
    if (member.state !== 'pending') return err({ type: 'no-such-request', isMember: true });
    // The answer is queued first: if storing the state fails, approving again only repeats the Accept.
    await this.deps.publisher.sendTo(group, this.answer(group, 'Accept', member), member.inbox);
    const accepted: Member = { ...member, state: 'accepted', updatedAt: this.now() };
    await this.deps.store.members.upsertMember(accepted);
    return ok(accepted);
  }

  /** Refuses a pending request: removes it and sends `Reject{Follow}` to the requester's inbox. */
  async reject(group: string, actorId: string): Promise<Result<Member, MembershipError>> {
    if (!(await this.liveGroup(group))) return err({ type: 'group-not-found' });
    const member = await this.deps.store.members.getMember(group, actorId);
    if (!member) return err({ type: 'no-such-request', isMember: false });
    if (member.state !== 'pending') return err({ type: 'no-such-request', isMember: true });
    await this.deps.publisher.sendTo(group, this.answer(group, 'Reject', member), member.inbox);
    await this.deps.store.members.removeMember(group, actorId);
    return ok(member);
  }

  /**
   * Removes a member (or a pending request) and sends `Reject{Follow}` to its inbox, which servers such as
   * Mastodon take as the end of the follow.
   */
  async remove(group: string, actorId: string): Promise<Result<Member, MembershipError>> {
    if (!(await this.liveGroup(group))) return err({ type: 'group-not-found' });
    const member = await this.deps.store.members.getMember(group, actorId);
    if (!member) return err({ type: 'not-a-member' });
    await this.deps.publisher.sendTo(group, this.answer(group, 'Reject', member), member.inbox);
    await this.deps.store.members.removeMember(group, actorId);
    return ok(member);
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

  /** Accept or Reject whose object is the requester's Follow, rebuilt from what was stored. */
  private answer(group: string, type: 'Accept' | 'Reject', member: Member): ApObject {
    const follow: ApObject = { type: 'Follow', actor: member.actorId, object: this.deps.urls.group(group) };
    if (member.followId !== null) follow.id = member.followId;
    return followAnswer(this.deps.urls, group, type, follow, member.actorId);
  }
}
