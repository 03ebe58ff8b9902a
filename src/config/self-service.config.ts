/**
 * The self-service part of the configuration: who may create groups and how often, the names nobody may take,
 * sign-in sessions and the limits on sign-in requests. Read by `loadConfig` from the `selfService` block of the
 * configuration file and GUILD_* variables, with every problem named.
 */

/** `open`: anyone may create a group; `approval`: the admin approves each; `closed`: only the admin creates. */
export type GroupCreationMode = 'open' | 'approval' | 'closed';

export interface SelfServiceConfig {
  groupCreation: GroupCreationMode;
  /** Groups one account may ask for within `creationWindowMs` (0: no limit). */
  creationsPerAccount: number;
  /** Groups the accounts of one domain may ask for within `creationWindowMs` (0: no limit). */
  creationsPerDomain: number;
  creationWindowMs: number;
  /** Names no group may take, besides the Service actor's, `admin`, `www`, `api` and deleted groups' names. */
  reservedNames: string[];
  /** How long a sign-in session lasts. */
  sessionTtlMs: number;
  /** Sign-in links asked for one handle, one host and one client address within `signInWindowMs`. */
  signInPerHandle: number;
  signInPerHost: number;
  signInPerClient: number;
  signInWindowMs: number;
}

type Env = Record<string, string | undefined>;

/** Parses the block; every problem is pushed to `problems`. */
export function parseSelfServiceConfig(
  env: Env,
  raw: Record<string, unknown>,
  problems: string[],
): SelfServiceConfig {
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
  const modeText = String(env.GUILD_GROUP_CREATION ?? raw.groupCreation ?? '');
  const modes: readonly GroupCreationMode[] = ['open', 'approval', 'closed'];
  const mode = modes.find((m) => m === modeText);
  if (!mode) problems.push(`GUILD_GROUP_CREATION must be one of ${modes.join(', ')} (got "${modeText}")`);
  const reservedRaw = env.GUILD_RESERVED_GROUP_NAMES ?? raw.reservedNames ?? '';
  const reservedList = Array.isArray(reservedRaw)
    ? reservedRaw.map(String)
    : String(reservedRaw)
        .split(',')
        .filter((x) => x.trim() !== '');
  const reservedNames = reservedList.map((n) => n.trim().toLowerCase());
  for (const n of reservedNames)
    if (!/^[a-z0-9_]{1,64}$/.test(n))
      problems.push(`GUILD_RESERVED_GROUP_NAMES: "${n}" is not a group name (lowercase letters, digits, _)`);
  const day = 86_400_000;
  return {
    groupCreation: mode ?? 'open',
    creationsPerAccount: int('GUILD_GROUP_CREATION_PER_ACCOUNT', 'creationsPerAccount', 0, 10_000),
    creationsPerDomain: int('GUILD_GROUP_CREATION_PER_DOMAIN', 'creationsPerDomain', 0, 1_000_000),
    creationWindowMs: int('GUILD_GROUP_CREATION_WINDOW_MS', 'creationWindowMs', 60_000, 365 * day),
    reservedNames,
    sessionTtlMs: int('GUILD_SESSION_TTL_MS', 'sessionTtlMs', 60_000, 90 * day),
    signInPerHandle: int('GUILD_SIGN_IN_PER_HANDLE', 'signInPerHandle', 1, 1000),
    signInPerHost: int('GUILD_SIGN_IN_PER_HOST', 'signInPerHost', 1, 100_000),
    signInPerClient: int('GUILD_SIGN_IN_PER_CLIENT', 'signInPerClient', 1, 100_000),
    signInWindowMs: int('GUILD_SIGN_IN_WINDOW_MS', 'signInWindowMs', 1000, day),
  };
}
