/**
 * Hosts in one canonical form (lowercase, IDNA as punycode, no trailing dot, one text form per IP address,
 * IPv4-mapped and IPv4-compatible IPv6 as IPv4), and the one matcher of domain policies: a policy on a domain
 * covers its sub-domains (the most specific entry wins, as Mastodon's `DomainBlock.rule_for` walks the parents);
 * IP addresses match exact entries and CIDR ranges. Pure: the federation layer applies it to every check (inbox
 * keys, fetches, deliveries, limit holds), the instance service to member purges.
 */
import type { DomainPolicy } from '../storage/moderation.store.ts';
import { canonicalIp, inIpRange, parseIpRange, type IpRange } from './ip-address.ts';

/**
 * The canonical host of a URL, `host[:port]` or bare host (port dropped), or null when it is none. IPv6
 * addresses come without brackets.
 */
export function canonicalHost(hostOrUrl: string): string | null {
  const text = hostOrUrl.trim();
  const bareIp = canonicalIp(text);
  if (bareIp !== null) return bareIp;
  let hostname: string;
  try {
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? new URL(text) : new URL(`http://${text}`);
    hostname = url.hostname;
  } catch {
    return null;
  }
  if (hostname.startsWith('[')) return canonicalIp(hostname);
  const name = hostname.replace(/\.+$/, '');
  if (name === '') return null;
  return canonicalIp(name) ?? name;
}

/**
 * `host[:port]` of a URL with the host in canonical form (IPv6 in brackets): one name per sender, for rate
 * limits and queue keys.
 */
export function canonicalAuthority(url: URL): string {
  const host = canonicalHost(url.hostname) ?? url.hostname;
  const shown = host.includes(':') ? `[${host}]` : host;
  return url.port ? `${shown}:${url.port}` : shown;
}

/** How the policies bear on one host: the most specific block or limit, and the most specific allow. */
export interface HostRule {
  /** `block` or `limit` entry covering the host, the most specific one; null when none. */
  restriction: DomainPolicy | null;
  /** `allow` entry covering the host, the most specific one; null when none. */
  allowed: DomainPolicy | null;
}

/** A set of policies, indexed for matching. Pure. */
export class DomainRules {
  private readonly names = new Map<string, DomainPolicy>();
  private readonly ranges: Array<{ range: IpRange; policy: DomainPolicy }> = [];

  constructor(policies: Iterable<DomainPolicy>) {
    for (const p of policies) {
      const range = p.domain.includes('/') ? parseIpRange(p.domain) : null;
      if (range !== null) this.ranges.push({ range, policy: p });
      else this.names.set(canonicalHost(p.domain) ?? p.domain, p);
    }
    // Most specific first.
    this.ranges.sort((a, b) => b.range.prefix - a.range.prefix);
  }

  /** The entries covering a host, most specific first; null when the host cannot be read. */
  covering(host: string): DomainPolicy[] | null {
    const h = canonicalHost(host);
    if (h === null) return null;
    const out: DomainPolicy[] = [];
    if (canonicalIp(h) !== null) {
      const exact = this.names.get(h);
      if (exact) out.push(exact);
      for (const { range, policy } of this.ranges) if (inIpRange(h, range)) out.push(policy);
      return out;
    }
    const labels = h.split('.');
    for (let i = 0; i < labels.length; i++) {
      const p = this.names.get(labels.slice(i).join('.'));
      if (p) out.push(p);
    }
    return out;
  }

  /** The rule for a host; a host that cannot be read is treated as blocked. */
  ruleFor(host: string): HostRule {
    const covering = this.covering(host);
    if (covering === null) return { restriction: UNREADABLE, allowed: null };
    return {
      restriction: covering.find((p) => p.policy !== 'allow') ?? null,
      allowed: covering.find((p) => p.policy === 'allow') ?? null,
    };
  }
}

const UNREADABLE: DomainPolicy = { domain: '', policy: 'block', reason: 'unreadable host', createdAt: 0 };
