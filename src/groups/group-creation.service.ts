/**
 * Groups created by anyone on the fediverse (a direct message to the Service actor, or the dashboard), under
 * the admin's policy:
 *
 * - `GUILD_GROUP_CREATION`: `open` creates at once, `approval` queues every request for the admin, `closed`
 *   refuses (the admin still creates groups with the CLI or the API);
 * - a blocked domain cannot ask; a limited domain's requests wait for the admin's approval;
 * - at most so many requests per account and per domain within a window (refused requests count too);
 * - reserved names: the Service actor's, `admin`, `www`, `api`, those the admin adds, and deleted groups'.
 *
 * The creator becomes the owner and first moderator. A queued request is decided by the admin, and the
 * requester is told by direct message from the Service actor either way. Joining groups is never limited.
 */
import { createHash } from 'node:crypto';
import type { Group, Store } from '../storage/store.ts';
import type { GroupRequest, GroupRequestState } from '../storage/self-service.store.ts';
import { GROUP_NAME_RE } from '../activitypub/urls.ts';
import { err, ok, type DomainPolicyLookup, type FederationGate, type Result } from './ports.ts';
import type { GroupService } from './group.service.ts';
import type { ServiceMessenger } from './service-messages.ts';

export type GroupCreationMode = 'open' | 'approval' | 'closed';

export interface CreationPolicy {
  mode: GroupCreationMode;
  /** Requests per account within the window; 0 = no limit. */
  perAccount: number;
  /** Requests per domain within the window; 0 = no limit. */
  perDomain: number;
  windowMs: number;
  /** Names nobody may take. */
  reservedNames: readonly string[];
}

/** Names never given to a group, whatever the configuration adds. */
export const ALWAYS_RESERVED = ['admin', 'www', 'api'] as const;

export type CreationRefusal =
  | { type: 'closed' }
  | { type: 'blocked' }
  | { type: 'invalid-name'; detail: string }
  | { type: 'invalid-title'; detail: string }
  | { type: 'name-taken' }
  | { type: 'rate-limited'; scope: 'account' | 'domain' };

export type CreationOutcome = { kind: 'created'; group: Group } | { kind: 'pending'; request: GroupRequest };

export type DecisionError = { type: 'not-found' } | { type: 'not-pending' } | { type: 'name-taken' };

export interface GroupCreationDeps {
  store: Store;
  groups: GroupService;
  policies: DomainPolicyLookup & FederationGate;
  messenger: ServiceMessenger;
  policy: CreationPolicy;
  /** host[:port] of this server, for handles in messages. */
  domain: string;
  now?: () => number;
}

export class GroupCreationService {
  private readonly now: () => number;

  constructor(private readonly d: GroupCreationDeps) {
    this.now = d.now ?? Date.now;
  }

  get mode(): GroupCreationMode {
    return this.d.policy.mode;
  }

  /** Why `name` cannot be asked for, or null. */
  async nameProblem(name: string): Promise<CreationRefusal | null> {
    if (!GROUP_NAME_RE.test(name))
      return {
        type: 'invalid-name',
        detail: 'a group name is 1 to 64 lowercase letters, digits or underscores',
      };
    if ((ALWAYS_RESERVED as readonly string[]).includes(name) || this.d.policy.reservedNames.includes(name))
      return { type: 'name-taken' };
    if ((await this.d.store.groups.getGroup(name)) !== null) return { type: 'name-taken' };
    if ((await this.d.store.groupRequests.getPendingByName(name)) !== null) return { type: 'name-taken' };
    return null;
  }

  /**
   * Asks for a group `name` for `requester`: created at once (they own it), or queued for the admin. `basis`
   * names what asked (a direct message's id, a form's submission): asking again with the same basis gives the
   * same outcome and creates nothing twice.
   */
  async request(
    requester: string,
    name: string,
    title: string | undefined,
    basis: string,
  ): Promise<Result<CreationOutcome, CreationRefusal>> {
    const id = createHash('sha256').update(`group-request\n${basis}`).digest('base64url').slice(0, 22);
    const earlier = await this.d.store.groupRequests.getGroupRequest(id);
    if (earlier) return this.outcomeOf(earlier);
    const p = this.d.policy;
    if (p.mode === 'closed') return err({ type: 'closed' });
    const host = new URL(requester).hostname.toLowerCase();
    if (await this.d.policies.isBlocked(host)) return err({ type: 'blocked' });
    const t = (title ?? name).trim();
    if (t.length === 0 || t.length > 200)
      return err({ type: 'invalid-title', detail: 'a title is 1 to 200 characters' });
    const problem = await this.nameProblem(name);
    if (problem) return err(problem);
    const since = this.now() - p.windowMs;
    if (
      p.perAccount > 0 &&
      (await this.d.store.groupRequests.countGroupRequestsSince({ requesterId: requester }, since)) >=
        p.perAccount
    )
      return err({ type: 'rate-limited', scope: 'account' });
    if (
      p.perDomain > 0 &&
      (await this.d.store.groupRequests.countGroupRequestsSince({ requesterHost: host }, since)) >=
        p.perDomain
    )
      return err({ type: 'rate-limited', scope: 'domain' });
    const limited = (await this.d.policies.policyOf(host))?.policy === 'limit';
    const waits = p.mode === 'approval' || limited;
    const request: GroupRequest = {
      id,
      name,
      title: t,
      requesterId: requester,
      requesterHost: host,
      state: waits ? 'pending' : 'created',
      createdAt: this.now(),
      decidedAt: null,
      decidedBy: null,
      reason: waits ? (limited ? 'your domain is limited here' : 'new groups are approved by the admin') : '',
    };
    // The request is stored first: after a failure, the same request (same basis) finishes what it started.
    await this.d.store.groupRequests.putGroupRequest(request);
    return this.outcomeOf(request);
  }

  /** Requests in a state, oldest first, after the cursor. */
  list(
    state: GroupRequestState,
    after: { createdAt: number; id: string } | null,
    limit: number,
  ): Promise<GroupRequest[]> {
    return this.d.store.groupRequests.listGroupRequests(state, after, limit);
  }

  get(id: string): Promise<GroupRequest | null> {
    return this.d.store.groupRequests.getGroupRequest(id);
  }

  /** The admin approves a queued request: the group is created, owned by the requester, who is told. */
  async approve(id: string, reason = ''): Promise<Result<Group, DecisionError>> {
    const r = await this.d.store.groupRequests.getGroupRequest(id);
    if (!r) return err({ type: 'not-found' });
    if (r.state !== 'pending') return err({ type: 'not-pending' });
    if ((await this.d.store.groups.getGroup(r.name)) !== null) return err({ type: 'name-taken' });
    if (
      !(await this.d.store.groupRequests.decideGroupRequest(id, {
        state: 'approved',
        by: 'admin',
        at: this.now(),
        reason,
      }))
    )
      return err({ type: 'not-pending' });
    const group = await this.establish({ ...r, state: 'approved' });
    if (!group) return err({ type: 'name-taken' });
    await this.d.messenger.send(
      r.requesterId,
      `Your group ${this.handle(r.name)} was approved and created: you own it. Send me "help" to see what you can do.`,
      { basis: `group-request:${id}:decided` },
    );
    return ok(group);
  }

  /** The admin refuses a queued request; the requester is told, with the reason. */
  async reject(id: string, reason = ''): Promise<Result<GroupRequest, DecisionError>> {
    const r = await this.d.store.groupRequests.getGroupRequest(id);
    if (!r) return err({ type: 'not-found' });
    if (
      !(await this.d.store.groupRequests.decideGroupRequest(id, {
        state: 'rejected',
        by: 'admin',
        at: this.now(),
        reason,
      }))
    )
      return err({ type: 'not-pending' });
    await this.d.messenger.send(
      r.requesterId,
      `Your request for the group ${this.handle(r.name)} was declined${reason ? `: ${reason}` : '.'}`,
      { basis: `group-request:${id}:decided` },
    );
    return ok({ ...r, state: 'rejected', decidedAt: this.now(), decidedBy: 'admin', reason });
  }

  private async outcomeOf(r: GroupRequest): Promise<Result<CreationOutcome, CreationRefusal>> {
    if (r.state === 'pending') return ok({ kind: 'pending', request: r });
    if (r.state === 'rejected') return err({ type: 'name-taken' });
    const group = await this.establish(r);
    return group ? ok({ kind: 'created', group }) : err({ type: 'name-taken' });
  }

  /**
   * Creates the group of a request (unless it exists already from an earlier attempt of the same request) and
   * makes the requester its owner and first moderator. Null when the name went to someone else meanwhile.
   */
  private async establish(r: GroupRequest): Promise<Group | null> {
    const existing = await this.d.store.groups.getGroup(r.name);
    const owner = existing ? await this.d.store.owners.getOwner(r.name) : null;
    // An existing group is this request's own only when an earlier attempt created it: not deleted, created
    // after the request, and owned by nobody else.
    if (
      existing &&
      (existing.deletedAt !== null ||
        existing.createdAt < r.createdAt ||
        (owner !== null && owner.actorId !== r.requesterId))
    )
      return null;
    let group = existing;
    if (!group) {
      const created = await this.d.groups.create(r.name, { title: r.title });
      if (!created.ok) return null;
      group = created.value;
    }
    const t = this.now();
    await this.d.store.moderators.addModerator({
      groupName: r.name,
      actorId: r.requesterId,
      addedBy: r.requesterId,
      addedAt: t,
    });
    if (!owner) await this.d.store.owners.setOwner({ groupName: r.name, actorId: r.requesterId, since: t });
    await this.d.store.audit.appendAudit({
      id: createHash('sha256').update(`create-group\n${r.id}`).digest('base64url'),
      groupName: r.name,
      actorId: r.requesterId,
      action: 'create-group',
      target: r.name,
      reason: r.state === 'approved' ? 'approved by the admin' : '',
      at: t,
    });
    return group;
  }

  private handle(name: string): string {
    return `@${name}@${this.d.domain}`;
  }
}
