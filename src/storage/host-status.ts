/**
 * How a failed delivery changes a {@link HostStatus}: the arithmetic both adapters share, so that they keep the
 * same failure days.
 */
import { HOST_FAILURE_DAYS_KEPT, type HostStatus } from './moderation.store.ts';

const DAY_MS = 86_400_000;

/** The UTC day of an epoch-milliseconds time, as `YYYY-MM-DD`. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/**
 * The status after one more failure at `at`, from the status before it (null when the host had none). Days are
 * kept sorted and distinct, and only those of the {@link HOST_FAILURE_DAYS_KEPT} days ending on the day of the
 * latest failure; a failure reported late (before lastFailureAt) still counts.
 */
export function withFailure(before: HostStatus | null, host: string, at: number): HostStatus {
  const lastFailureAt = Math.max(before?.lastFailureAt ?? at, at);
  const oldestKept = utcDay(lastFailureAt - (HOST_FAILURE_DAYS_KEPT - 1) * DAY_MS);
  const days = new Set(before?.failureDays ?? []);
  days.add(utcDay(at));
  return {
    host,
    firstFailureAt: Math.min(before?.firstFailureAt ?? at, at),
    lastFailureAt,
    consecutiveFailures: (before?.consecutiveFailures ?? 0) + 1,
    failureDays: [...days].filter((day) => day >= oldestKept).sort(),
  };
}
