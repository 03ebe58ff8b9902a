/**
 * Instance-level controls of the admin: what this server does with remote domains. `block` stops federation
 * with a domain and ends its actors' memberships in every group; `limit` holds its members' posts for a
 * moderator's approval; `allow` admits a domain in allow-list mode. Every change is recorded in the audit log
 * (with no group); setting the policy a domain already has changes and records nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import { DomainRules, canonicalHost } from '../activitypub/hosts.ts';
import { canonicalIp, formatIpRange, parseIpRange } from '../activitypub/ip-address.ts';
import type { DomainPolicy, DomainPolicyKind } from '../storage/moderation.store.ts';
import { err, ok, type Result } from './ports.ts';

export type DomainError =
  /** Not a plain host name (a scheme, path, port, wildcard or bad characters), with a message to show. */
  | { type: 'invalid-domain'; detail: string }
  /** This server's own domain cannot be blocked or limited. */
  | { type: 'own-domain' }
  | { type: 'invalid-reason'; detail: string };

/** The result of setting or clearing a domain's policy. */
export interface DomainChange {
  /** The normalised entry: a domain (lowercase, IDN as punycode), an IP address or a CIDR range. */
  domain: string;
  /** The policy in force afterwards, or null when none. */
  policy: DomainPolicy | null;
  /** The policy before, or null. */
  previous: DomainPolicy | null;
  /** False when the domain already had this policy (nothing was stored or recorded). */
  changed: boolean;
  /** Memberships and join requests removed (blocks only). */
  removedMembers: number;
}

/** The domain policies as the federation layer of this process matches them. */
export interface PolicyCache {
  /** Forgets cached policies so the next lookup reads the store. */
  invalidate(): void;
  /** True when the host's (or URL's) most specific block or limit is a block. */
  isSuspended(host: string): Promise<boolean>;
}

export interface InstanceServiceDeps {
  store: Store;
  /**
   * The federation layer's policies in this process, invalidated after each change and used to find the
   * members a block removes.
   */
  policies: PolicyCache;
  /** This server's host[:port]; its host name cannot be blocked or limited. */
  localDomain: string;
  /** In `open` mode an `allow` entry is stored but has no effect. */
  federationMode: 'open' | 'allowlist';
  now?: () => number;
}

export const MAX_REASON_LENGTH = 1000;
/** Largest page of domain policies a caller may ask for. */
export const MAX_DOMAIN_PAGE = 500;

const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Members read per page when a block removes the members it covers. */
const PURGE_PAGE = 500;

/**
 * The normalised form of a policy entry as an admin typed it: a domain name trimmed, lowercased, without a
 * trailing dot, internationalised names as punycode (it covers its sub-domains); an IP address in its one text
 * form (IPv6 compressed, IPv4-mapped IPv6 as IPv4, brackets dropped); or a CIDR range (`10.0.0.0/8`,
 * `2001:db8::/32`) reduced to its network address. Refuses schemes, paths, ports, credentials, wildcards and
 * malformed labels.
 */
export function normalizeDomain(input: string): Result<string, DomainError> {
  const text = input.trim();
  const bad = (detail: string) => err<DomainError>({ type: 'invalid-domain', detail });
  if (text === '') return bad('the domain is empty');
  if (text.length > 253) return bad('a domain is at most 253 characters');
  const ip = canonicalIp(text);
  if (ip !== null) return ok(ip);
  if (/^[\d.:[\]a-f]+\/\d+$/i.test(text)) {
    const range = parseIpRange(text);
    if (range === null) return bad(`"${text}" is not a valid address range`);
    const full = range.prefix === (range.family === 4 ? 32 : 128);
    return ok(full ? (canonicalIp(formatIpRange(range).split('/')[0] ?? '') ?? text) : formatIpRange(range));
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    return bad(`give the domain alone, without a scheme (e.g. ${hostOf(text) ?? 'example.social'})`);
  if (/[/?#]/.test(text)) return bad('give the domain alone, without a path');
  if (text.includes('@')) return bad('give a domain, not an account handle');
  if (text.includes(':') || text.startsWith('[')) return bad('give the domain without a port');
  if (text.includes('*')) return bad('wildcards are not supported: give each domain');
  if (/\s/.test(text)) return bad('a domain contains no spaces');
  const ascii = canonicalHost(text);
  if (ascii === null || ascii === '' || ascii.length > 253)
    return bad(`"${text}" is not a valid domain name`);
  if (canonicalIp(ascii) !== null) return ok(ascii);
  const labels = ascii.split('.');
  if (labels.some((l) => !LABEL_RE.test(l))) return bad(`"${text}" is not a valid domain name`);
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return bad(`"${text}" is not a valid domain name`);
  return ok(ascii);
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname || null;
  } catch {
    return null;
  }
}

export class InstanceService {
  private readonly now: () => number;
  private readonly localHost: string;
  private readonly policies: PolicyCache;

  constructor(private readonly d: InstanceServiceDeps) {
    this.now = d.now ?? Date.now;
    this.localHost = canonicalHost(d.localDomain) ?? d.localDomain.toLowerCase();
    this.policies = d.policies;
  }

  /** The federation mode the server runs in. */
  get federationMode(): 'open' | 'allowlist' {
    return this.d.federationMode;
  }

  /**
   * Blocks a domain: no activities, fetches or deliveries; its actors' memberships and join requests in every
   * group are removed (also when it was blocked already, in case some slipped in meanwhile).
   */
  async blockDomain(domain: string, reason = ''): Promise<Result<DomainChange, DomainError>> {
    return this.setPolicy(domain, 'block', reason);
  }

  /** Limits a domain: posts of its members wait for a moderator's approval. */
  async limitDomain(domain: string, reason = ''): Promise<Result<DomainChange, DomainError>> {
    return this.setPolicy(domain, 'limit', reason);
  }

  /** Allows a domain (effective in allow-list mode, where only allowed domains federate). */
  async allowDomain(domain: string, reason = ''): Promise<Result<DomainChange, DomainError>> {
    return this.setPolicy(domain, 'allow', reason);
  }

  /** Removes a domain's policy. Removed memberships are not restored. */
  async clearDomain(domain: string, reason = ''): Promise<Result<DomainChange, DomainError>> {
    const name = normalizeDomain(domain);
    if (!name.ok) return name;
    const why = checkReason(reason);
    if (!why.ok) return why;
    const previous = await this.d.store.domains.getDomainPolicy(name.value);
    if (previous === null || !(await this.d.store.domains.removeDomainPolicy(name.value))) {
      return ok({ domain: name.value, policy: null, previous, changed: false, removedMembers: 0 });
    }
    this.policies.invalidate();
    await this.audit(`clear-domain`, name.value, why.value || `was ${previous.policy}`);
    return ok({ domain: name.value, policy: null, previous, changed: true, removedMembers: 0 });
  }

  /** The policy of one domain, or null. */
  async getDomain(domain: string): Promise<Result<DomainPolicy | null, DomainError>> {
    const name = normalizeDomain(domain);
    if (!name.ok) return name;
    return ok(await this.d.store.domains.getDomainPolicy(name.value));
  }

  /** Policies of one kind (or all when null) ordered by domain, domains strictly after `after`. */
  async listDomains(
    kind: DomainPolicyKind | null,
    after: string | null,
    limit: number,
  ): Promise<Result<DomainPolicy[], DomainError>> {
    const n = Math.max(1, Math.min(MAX_DOMAIN_PAGE, Math.floor(Number.isFinite(limit) ? limit : 1)));
    return ok(await this.d.store.domains.listDomainPolicies(kind, after, n));
  }

  private async setPolicy(
    domain: string,
    policy: DomainPolicyKind,
    reason: string,
  ): Promise<Result<DomainChange, DomainError>> {
    const name = normalizeDomain(domain);
    if (!name.ok) return name;
    const entry = name.value;
    const coversLocal =
      (new DomainRules([{ domain: entry, policy, reason: '', createdAt: 0 }]).covering(this.localHost) ?? [])
        .length > 0;
    if (policy !== 'allow' && coversLocal) return err({ type: 'own-domain' });
    const why = checkReason(reason);
    if (!why.ok) return why;
    const previous = await this.d.store.domains.getDomainPolicy(name.value);
    // The same policy again changes nothing; an empty reason keeps the one stored.
    const same = previous?.policy === policy && (why.value === '' || why.value === previous.reason);
    let next = previous;
    if (!same) {
      next = {
        domain: name.value,
        policy,
        reason: why.value || (previous?.reason ?? ''),
        createdAt: this.now(),
      };
      if (previous?.policy === policy) next.createdAt = previous.createdAt;
      await this.d.store.domains.putDomainPolicy(next);
      this.policies.invalidate();
    }
    const removedMembers = policy === 'block' ? await this.removeMembersBlockedBy(entry) : 0;
    if (!same) await this.audit(`${policy}-domain`, name.value, why.value);
    return ok({ domain: name.value, policy: next, previous, changed: !same, removedMembers });
  }

  /**
   * Removes, in every group, the memberships and requests of the actors that `entry` covers and whose host is
   * now blocked (a more specific entry may still limit or allow a sub-domain). Reads the members in pages.
   */
  private async removeMembersBlockedBy(entry: string): Promise<number> {
    const rules = new DomainRules([{ domain: entry, policy: 'block', reason: '', createdAt: 0 }]);
    let removed = 0;
    let after: string | null = null;
    for (;;) {
      const page: string[] = await this.d.store.members.listMemberActors(after, PURGE_PAGE);
      if (page.length === 0) return removed;
      for (const actorId of page) {
        if ((rules.covering(actorId) ?? []).length === 0 || !(await this.policies.isSuspended(actorId)))
          continue;
        removed += await this.removeEverywhere(actorId);
      }
      after = page[page.length - 1] ?? null;
    }
  }

  /** Removes an actor's memberships and requests in every group; how many. */
  private async removeEverywhere(actorId: string): Promise<number> {
    let removed = 0;
    for (;;) {
      const groups = await this.d.store.members.listGroupsOfActor(actorId);
      if (groups.length === 0) return removed;
      let now = 0;
      for (const group of groups) if (await this.d.store.members.removeMember(group, actorId)) now++;
      if (now === 0) return removed;
      removed += now;
    }
  }

  private async audit(action: string, target: string, reason: string): Promise<void> {
    await this.d.store.audit.appendAudit({
      id: randomUUID(),
      groupName: null,
      actorId: 'admin',
      action,
      target,
      reason,
      at: this.now(),
    });
  }
}

function checkReason(reason: string): Result<string, DomainError> {
  const text = reason.trim();
  if (text.length > MAX_REASON_LENGTH)
    return err({ type: 'invalid-reason', detail: `a reason is at most ${MAX_REASON_LENGTH} characters` });
  return ok(text);
}
