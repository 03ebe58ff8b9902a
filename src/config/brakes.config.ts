/**
 * The brakes on what one outsider or member makes the server send: answers to actors who are not members of a
 * group, reports per reporter and per host, and how often moderators are told of new reports. Read by
 * `loadConfig` from the `brakes` block of the configuration file and GUILD_* variables, with every problem
 * named. (The per-group brakes on posts, votes and edits are group settings.)
 */

export interface BrakesConfig {
  /** Answers (command answers, refusals) to one actor who is not a member, per hour, all groups together. */
  answersPerActor: number;
  /** The same to all the non-member actors of one host. */
  answersPerHost: number;
  /** Reports one reporter may file per hour, in every group. */
  reportsPerReporter: number;
  /** Reports the actors of one host may file per hour, in every group. */
  reportsPerHost: number;
  /** Moderators of a group get at most one digest of new reports in this time. */
  reportDigestIntervalMs: number;
}

type Env = Record<string, string | undefined>;

/** Parses the block; every problem is pushed to `problems`. */
export function parseBrakesConfig(env: Env, raw: Record<string, unknown>, problems: string[]): BrakesConfig {
  const int = (name: string, key: string, min: number, max: number): number => {
    const value = env[name] ?? raw[key];
    const s = value === undefined || value === null ? '' : String(value).trim();
    const n = Number(s);
    if (s === '' || !Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${s}")`);
      return min;
    }
    return n;
  };
  return {
    answersPerActor: int('GUILD_ANSWERS_PER_ACTOR', 'answersPerActor', 1, 10_000),
    answersPerHost: int('GUILD_ANSWERS_PER_HOST', 'answersPerHost', 1, 10_000),
    reportsPerReporter: int('GUILD_REPORTS_PER_REPORTER', 'reportsPerReporter', 1, 10_000),
    reportsPerHost: int('GUILD_REPORTS_PER_HOST', 'reportsPerHost', 1, 10_000),
    reportDigestIntervalMs: int(
      'GUILD_REPORT_DIGEST_INTERVAL_MS',
      'reportDigestIntervalMs',
      1000,
      86_400_000,
    ),
  };
}
