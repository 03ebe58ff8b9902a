/**
 * Counts requests per key in fixed windows, in memory: `take` answers whether one more request fits. Used for
 * the sign-in requests (per handle, per host, per client address). Memory is bounded: beyond `maxKeys` the
 * least recently used key is forgotten. Each process counts on its own, as the inbox's sender caps do.
 */
export interface RateLimit {
  /** Requests allowed per window. */
  limit: number;
  windowMs: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly now: () => number,
    private readonly maxKeys = 100_000,
  ) {}

  /**
   * Takes one request from every `[key, limit]` pair at once when all of them have room; otherwise takes none
   * and returns the milliseconds until the fullest of them has room again.
   */
  take(keys: Array<[string, RateLimit]>): { ok: true } | { ok: false; retryAfterMs: number } {
    const t = this.now();
    let wait = 0;
    for (const [key, rule] of keys) {
      const w = this.windows.get(key);
      if (w && t - w.start < rule.windowMs && w.count >= rule.limit)
        wait = Math.max(wait, w.start + rule.windowMs - t);
    }
    if (wait > 0) return { ok: false, retryAfterMs: wait };
    for (const [key, rule] of keys) {
      const w = this.windows.get(key);
      this.windows.delete(key);
      const fresh = !w || t - w.start >= rule.windowMs;
      this.windows.set(key, fresh ? { start: t, count: 1 } : { start: w.start, count: w.count + 1 });
    }
    while (this.windows.size > this.maxKeys) {
      const oldest = this.windows.keys().next().value;
      if (oldest === undefined) break;
      this.windows.delete(oldest);
    }
    return { ok: true };
  }
}
