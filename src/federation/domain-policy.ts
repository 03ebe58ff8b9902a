/**
 * The instance's federation policy for remote hosts, as every check applies it (inbox keys, fetches,
 * deliveries, limit holds): the store's policies matched by the one matcher of `activitypub/hosts.ts` (canonical
 * hosts, sub-domains, IP ranges). The policies are held in memory and reloaded from the store when older than a
 * few seconds (other processes' changes) or when this process changed one.
 */
import type { DomainPolicy, DomainPolicyRepository } from '../storage/moderation.store.ts';
import { DomainRules, type HostRule } from '../activitypub/hosts.ts';

export type FederationMode = 'open' | 'allowlist';

/** Policies read per store call when loading. */
const LOAD_PAGE = 500;

export class DomainPolicies {
  private rules: DomainRules | null = null;
  private loadedAt = 0;
  private loading: Promise<DomainRules> | null = null;

  constructor(
    private readonly repo: DomainPolicyRepository,
    private readonly mode: FederationMode,
    private readonly ttlMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The rule for a host (any form: URL, host[:port], IP literal). */
  async ruleFor(host: string): Promise<HostRule> {
    return (await this.current()).ruleFor(host);
  }

  /** The policy in force for a host: its block or limit when there is one, else its allow entry, else null. */
  async policyOf(host: string): Promise<DomainPolicy | null> {
    const rule = await this.ruleFor(host);
    return rule.restriction ?? rule.allowed;
  }

  /** True when this server does not federate with the host (blocked, or not allowed in allow-list mode). */
  async isBlocked(host: string): Promise<boolean> {
    const rule = await this.ruleFor(host);
    if (rule.restriction?.policy === 'block') return true;
    return this.mode === 'allowlist' && rule.allowed === null;
  }

  /** True when the host's most specific block or limit is a block (its members are purged). */
  async isSuspended(host: string): Promise<boolean> {
    return (await this.ruleFor(host)).restriction?.policy === 'block';
  }

  /** Forgets the loaded policies (after the admin changed one in this process): the next lookup reloads. */
  invalidate(): void {
    this.rules = null;
    this.loading = null;
  }

  private async current(): Promise<DomainRules> {
    if (this.rules !== null && this.now() - this.loadedAt < this.ttlMs) return this.rules;
    if (this.loading === null) {
      const started = this.now();
      const loading = this.load().then(
        (rules) => {
          if (this.loading === loading) {
            this.rules = rules;
            this.loadedAt = started;
            this.loading = null;
          }
          return rules;
        },
        (e: unknown) => {
          if (this.loading === loading) this.loading = null;
          throw e;
        },
      );
      this.loading = loading;
    }
    return this.loading;
  }

  private async load(): Promise<DomainRules> {
    const all: DomainPolicy[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await this.repo.listDomainPolicies(null, after, LOAD_PAGE);
      all.push(...page);
      if (page.length < LOAD_PAGE) return new DomainRules(all);
      after = page[page.length - 1]?.domain ?? null;
    }
  }
}
