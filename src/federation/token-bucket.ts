/**
 * Token buckets by key (a signing key, a host, a client address): each holds up to `burst` tokens and refills at
 * `perSecond`. Used to bound what one sender can make this server do. In memory, per process, bounded in size:
 * buckets that have refilled completely carry no state and are dropped first.
 */
export interface TokenBucketOptions {
  /** Tokens added per second; 0 turns the limit off. */
  perSecond: number;
  /** Largest number of tokens a bucket holds (the burst allowed after a quiet period). */
  burst: number;
  /** Most keys tracked at once. Default 50,000. */
  maxKeys?: number;
  /** Clock in epoch milliseconds. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly o: TokenBucketOptions) {
    this.maxKeys = o.maxKeys ?? 50_000;
    this.now = o.now ?? Date.now;
  }

  /** False when the limit is off. */
  get enabled(): boolean {
    return this.o.perSecond > 0;
  }

  /** Seconds (rounded up, at least 1) until `key` has a token again; 0 when it has one now. Takes nothing. */
  retryAfter(key: string): number {
    if (!this.enabled) return 0;
    const tokens = this.level(key);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.o.perSecond));
  }

  /**
   * Takes one token from `key`. The level may go below zero (requests already let in count in full): the key
   * then waits longer.
   */
  take(key: string): void {
    if (!this.enabled) return;
    const t = this.now();
    const tokens = this.level(key, t);
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: tokens - 1, at: t });
    if (this.buckets.size > this.maxKeys) this.prune(t);
  }

  /** Takes a token when there is one; returns 0, or the seconds to wait (nothing taken). */
  tryTake(key: string): number {
    const wait = this.retryAfter(key);
    if (wait === 0) this.take(key);
    return wait;
  }

  private level(key: string, t = this.now()): number {
    const b = this.buckets.get(key);
    if (b === undefined) return this.o.burst;
    return Math.min(this.o.burst, b.tokens + ((t - b.at) / 1000) * this.o.perSecond);
  }

  /** Drops the buckets that are full again, then the least recently used ones, to 90% of the bound. */
  private prune(t: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.o.perSecond >= this.o.burst) this.buckets.delete(key);
    }
    const target = Math.floor(this.maxKeys * 0.9);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= target) break;
      this.buckets.delete(key);
    }
  }
}
