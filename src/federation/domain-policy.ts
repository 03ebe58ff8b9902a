/**
 * The instance's federation policy for remote hosts: blocked domains (no activities, no fetches, no
 * deliveries), and, in allow-list mode, only listed domains. Lookups sit on the inbox and delivery hot paths, so
 * the whole (small) policy table is kept in memory and read again at most every `ttlMs`: a fan-out to thousands
 * of hosts asks the store once, not once per host. Changes made by another process apply within `ttlMs`.
 */
import type { DomainPolicy, DomainPolicyRepository } from '../storage/moderation.store.ts';

export type FederationMode = 'open' | 'allowlist';

/** Policies read per round trip when the table is loaded. */
const LOAD_PAGE = 1000;

export class DomainPolicies {
  private snapshot: { policies: Map<string, DomainPolicy>; until: number } | null = null;
  private loading: Promise<Map<string, DomainPolicy>> | null = null;

  constructor(
    private readonly repo: DomainPolicyRepository,
    private readonly mode: FederationMode,
    private readonly ttlMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The policy of a host (port ignored), from the table in memory. */
  async policyOf(host: string): Promise<DomainPolicy | null> {
    return (await this.table()).get(hostnameOf(host)) ?? null;
  }

  /** True when this server does not federate with the host. */
  async isBlocked(host: string): Promise<boolean> {
    const p = await this.policyOf(host);
    if (p?.policy === 'block') return true;
    return this.mode === 'allowlist' && p?.policy !== 'allow';
  }

  /** Forgets the table (after the admin changed a policy in this process): the next lookup reads it again. */
  invalidate(): void {
    this.snapshot = null;
    this.loading = null;
  }

  /** Every policy by domain: the one in memory while fresh, else read once for all the callers waiting. */
  private async table(): Promise<Map<string, DomainPolicy>> {
    const t = this.now();
    if (this.snapshot && this.snapshot.until > t) return this.snapshot.policies;
    if (this.loading === null) {
      const loading = this.load(t).finally(() => {
        if (this.loading === loading) this.loading = null;
      });
      this.loading = loading;
    }
    return this.loading;
  }

  private async load(startedAt: number): Promise<Map<string, DomainPolicy>> {
    const policies = new Map<string, DomainPolicy>();
    let after: string | null = null;
    for (;;) {
      const page = await this.repo.listDomainPolicies(null, after, LOAD_PAGE);
      for (const p of page) policies.set(p.domain, p);
      const last = page[page.length - 1];
      if (page.length < LOAD_PAGE || last === undefined) break;
      after = last.domain;
    }
    // A table read before an invalidate() is not kept: the change it missed would hide for ttlMs.
    if (this.loading !== null) this.snapshot = { policies, until: startedAt + this.ttlMs };
    return policies;
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
