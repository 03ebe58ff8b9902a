/**
 * Rate limits on what one member or outsider makes a group do: each use of a limit is a hit in a named bucket,
 * counted durably in the store (a restart does not give a flood its allowance back) over a sliding window.
 * A hit carries the id of what caused it, so that a step done again after a failure is not counted twice.
 */
import { MAX_RATE_WINDOW_MS, type RateLimitRepository } from '../storage/brakes.store.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

/** How many hits a bucket allows per window. */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

export interface RateLimiterDeps {
  limits: RateLimitRepository;
  now?: () => number;
}

export class RateLimiter {
  private readonly now: () => number;
  constructor(private readonly d: RateLimiterDeps) {
    this.now = d.now ?? Date.now;
  }

  /**
   * Counts `hitId` against `bucket` and tells whether it is allowed: false once `limit.limit` hits fell in the
   * last `limit.windowMs`. The same hit again is allowed and counted once.
   */
  async take(bucket: string, hitId: string, limit: RateLimit): Promise<boolean> {
    if (limit.windowMs <= 0 || limit.windowMs > MAX_RATE_WINDOW_MS)
      throw new Error(`a rate limit's window is more than 0 and at most a day (got ${limit.windowMs} ms)`);
    return this.d.limits.tryHit(bucket, hitId, this.now(), limit.windowMs, limit.limit);
  }

  /**
   * Takes every limit in order and stops at the first that refuses; returns its index, or -1 when all allow.
   * The limits before a refusing one keep the hit counted.
   */
  async takeAll(hitId: string, limits: Array<{ bucket: string; limit: RateLimit }>): Promise<number> {
    for (const [i, l] of limits.entries()) if (!(await this.take(l.bucket, hitId, l.limit))) return i;
    return -1;
  }
}
