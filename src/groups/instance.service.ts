/**
 * Instance-level controls of the admin: what this server does with remote domains. `block` stops federation
 * with a domain and ends its actors' memberships in every group; `limit` holds its members' posts for a
 * moderator's approval; `allow` admits a domain in allow-list mode. Every change is recorded in the audit log
 * (with no group); setting the policy a domain already has changes and records nothing.
 */
import { randomUUID } from 'node:crypto';
import { domainToASCII } from 'node:url';
import type { Store } from '../storage/store.ts';
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
  /** The normalised domain (lowercase, IDN as punycode). */
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

/** The cache of domain policies kept by the federation layer of this process. */
export interface PolicyCache {
  /** Forgets cached policies so the next lookup reads the store. */
  invalidate(): void;
}

export interface InstanceServiceDeps {
  store: Store;
  /** The federation layer's policy cache in this process, invalidated after each change. */
  policies?: PolicyCache | null;
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
const IPV4_RE = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * The normalised form of a domain as an admin typed it: trimmed, lowercase, an internationalised name turned
 * into punycode. Refuses schemes, paths, ports, credentials, wildcards, IPv6 literals and malformed labels.
 */
export function normalizeDomain(input: string): Result<string, DomainError> {
  const text = input.trim();
  const bad = (detail: string) => err<DomainError>({ type: 'invalid-domain', detail });
  if (text === '') return bad('the domain is empty');
  if (text.length > 253) return bad('a domain is at most 253 characters');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    return bad(`give the domain alone, without a scheme (e.g. ${hostOf(text) ?? 'example.social'})`);
  if (/[/?#]/.test(text)) return bad('give the domain alone, without a path');
  if (text.includes('@')) return bad('give a domain, not an account handle');
  if (text.includes(':') || text.startsWith('[')) return bad('give the domain without a port');
  if (text.includes('*')) return bad('wildcards are not supported: give each domain');
  if (/\s/.test(text)) return bad('a domain contains no spaces');
  if (text.endsWith('.')) return bad('give the domain without a trailing dot');
  const ascii = domainToASCII(text.toLowerCase());
  if (ascii === '' || ascii.length > 253) return bad(`"${text}" is not a valid domain name`);
  if (IPV4_RE.test(ascii)) return ok(ascii);
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

  constructor(private readonly d: InstanceServiceDeps) {
    this.now = d.now ?? Date.now;
    this.localHost = hostOf(`http://${d.localDomain}`) ?? d.localDomain.toLowerCase();
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
    this.d.policies?.invalidate();
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
    if (policy !== 'allow' && name.value === this.localHost) return err({ type: 'own-domain' });
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
      this.d.policies?.invalidate();
    }
    const removedMembers =
      policy === 'block' ? await this.d.store.domains.removeMembersOfDomain(name.value) : 0;
    if (!same) await this.audit(`${policy}-domain`, name.value, why.value);
    return ok({ domain: name.value, policy: next, previous, changed: !same, removedMembers });
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
