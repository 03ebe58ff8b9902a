/**
 * The instance's federation policy for remote hosts: blocked domains (no activities, no fetches, no
 * deliveries), and, in allow-list mode, only listed domains. Lookups are cached briefly: they sit on the
 * inbox and delivery hot paths.
 */
import type { DomainPolicy, DomainPolicyRepository } from '../storage/moderation.store.ts';

export type FederationMode = 'open' | 'allowlist';

export class DomainPolicies {
  private readonly cache = new Map<string, { policy: DomainPolicy | null; until: number }>();

  constructor(
    private readonly repo: DomainPolicyRepository,
    private readonly mode: FederationMode,
    private readonly ttlMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The policy of a host (port ignored), from a short-lived cache. */
  async policyOf(host: string): Promise<DomainPolicy | null> {
    const domain = hostnameOf(host);
    const hit = this.cache.get(domain);
    const t = this.now();
    if (hit && hit.until > t) return hit.policy;
    const policy = await this.repo.getDomainPolicy(domain);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(domain, { policy, until: t + this.ttlMs });
    return policy;
  }

  /** True when this server does not federate with the host. */
  async isBlocked(host: string): Promise<boolean> {
    const p = await this.policyOf(host);
    if (p?.policy === 'block') return true;
    return this.mode === 'allowlist' && p?.policy !== 'allow';
  }

  /** Forgets cached answers (after the admin changed a policy in this process). */
  invalidate(): void {
    this.cache.clear();
  }
}

/** `host[:port]` or a URL to a lowercase host name without port. */
export function hostnameOf(hostOrUrl: string): string {
  try {
    if (/^[a-z]+:\/\//i.test(hostOrUrl)) return new URL(hostOrUrl).hostname.toLowerCase();
    return new URL(`http://${hostOrUrl}`).hostname.toLowerCase();
  } catch {
    return hostOrUrl.toLowerCase();
  }
}
