/**
 * A circuit breaker per destination host (in this process): after `threshold` failed deliveries in a row
 * the host's circuit opens for `openMs`, and its jobs stay queued (not attempted, no attempt counted) until it
 * half-opens; one success closes it, one failure while half-open opens it again.
 */
export interface CircuitOptions {
  threshold?: number;
  openMs?: number;
  now?: () => number;
  /** Told when a host's circuit opens or closes (metrics). */
  onChange?: (host: string, open: boolean) => void;
}

/** Hosts remembered at once; beyond that the oldest healthy entries are forgotten. */
const MAX_HOSTS = 50_000;

export class CircuitBreaker {
  private readonly hosts = new Map<string, { failures: number; openUntil: number }>();
  private readonly threshold: number;
  private readonly openMs: number;
  private readonly now: () => number;

  constructor(private readonly o: CircuitOptions = {}) {
    this.threshold = o.threshold ?? 10;
    this.openMs = o.openMs ?? 60_000;
    this.now = o.now ?? Date.now;
  }

  /** True when deliveries to the host should wait. */
  isOpen(host: string): boolean {
    const h = this.hosts.get(host);
    return h !== undefined && h.openUntil > this.now();
  }

  /** Hosts whose circuit is open now (at most `limit`), to leave their jobs unclaimed. */
  openHosts(limit = 500): string[] {
    const t = this.now();
    const out: string[] = [];
    for (const [host, h] of this.hosts) {
      if (h.openUntil > t) out.push(host);
      if (out.length >= limit) break;
    }
    return out;
  }

  success(host: string): void {
    const h = this.hosts.get(host);
    if (!h) return;
    this.hosts.delete(host);
    if (h.failures >= this.threshold) this.o.onChange?.(host, false);
  }

  failure(host: string): void {
    const h = this.hosts.get(host) ?? { failures: 0, openUntil: 0 };
    h.failures++;
    if (h.failures >= this.threshold) {
      const wasOpen = h.openUntil > this.now();
      h.openUntil = this.now() + this.openMs;
      if (!wasOpen) this.o.onChange?.(host, true);
    }
    if (!this.hosts.has(host) && this.hosts.size >= MAX_HOSTS) {
      const first = this.hosts.keys().next();
      if (!first.done) this.hosts.delete(first.value);
    }
    this.hosts.set(host, h);
  }
}
