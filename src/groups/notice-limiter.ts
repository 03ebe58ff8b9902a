/**
 * How often a group answers people who are not its members (a refused post is told to its author): a few notices
 * an hour, so that nobody is flooded with them and nobody can make a group send many. Counted in memory, per
 * process, in fixed windows; replaceable (see `NoticeLimiter`).
 */

/** Port: whether one more notice may go to a sender about a group. */
export interface NoticeLimiter {
  /** True when a notice to `sender` about `group` may go at `now`; the notice is then counted. */
  allow(group: string, sender: string, now: number): boolean;
}

export interface NoticeLimits {
  /** Notices to one sender about one group per {@link NoticeLimits.pairWindowMs}. */
  perSenderAndGroup: number;
  pairWindowMs: number;
  /** Notices to one sender, all groups together, per hour. */
  perSenderPerHour: number;
  /** Notices about one group, all senders together, per hour. */
  perGroupPerHour: number;
}

export const DEFAULT_NOTICE_LIMITS: NoticeLimits = {
  perSenderAndGroup: 1,
  pairWindowMs: 86_400_000,
  perSenderPerHour: 3,
  perGroupPerHour: 20,
};

const HOUR_MS = 3_600_000;
/** Keys remembered at once; the least recently counted is forgotten beyond. */
const MAX_KEYS = 50_000;

/** Fixed windows in memory: per sender and group, per sender, per group. */
export class WindowNoticeLimiter implements NoticeLimiter {
  private readonly counts = new Map<string, { window: number; n: number }>();

  constructor(private readonly limits: NoticeLimits = DEFAULT_NOTICE_LIMITS) {}

  allow(group: string, sender: string, now: number): boolean {
    const checks: Array<[string, number, number]> = [
      [`pair ${group} ${sender}`, this.limits.pairWindowMs, this.limits.perSenderAndGroup],
      [`sender ${sender}`, HOUR_MS, this.limits.perSenderPerHour],
      [`group ${group}`, HOUR_MS, this.limits.perGroupPerHour],
    ];
    const windows = checks.map(([key, ms, max]) => ({ key, max, window: Math.floor(now / ms) }));
    for (const w of windows) {
      const c = this.counts.get(w.key);
      if (c && c.window === w.window && c.n >= w.max) return false;
    }
    for (const w of windows) {
      const c = this.counts.get(w.key);
      this.counts.delete(w.key);
      this.counts.set(w.key, { window: w.window, n: c && c.window === w.window ? c.n + 1 : 1 });
    }
    while (this.counts.size > MAX_KEYS) {
      const oldest = this.counts.keys().next();
      if (oldest.done) break;
      this.counts.delete(oldest.value);
    }
    return true;
  }
}
