/**
 * Configuration: `config/default.json`, then an optional JSON file named by GUILD_CONFIG, then GUILD_*
 * environment variables. Parsed and validated once at start-up; nothing else reads the environment.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseSelfServiceConfig, type SelfServiceConfig } from './self-service.config.ts';
import { parseBrakesConfig, type BrakesConfig } from './brakes.config.ts';
import {
  bool,
  deepMerge,
  obj,
  oneOf,
  parseInt_,
  parseListen,
  parseOrigin,
  parseThreads,
  readJson,
  str,
} from './config-values.ts';

export type StoreKind = 'sqlite' | 'mongodb';
export type Role = 'all' | 'web' | 'worker';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface DeliveryConfig {
  /** Deliveries in flight at once, over all hosts. */
  concurrency: number;
  /** Deliveries in flight at once to one host. */
  perHostConcurrency: number;
  /** Attempts before a delivery is given up. */
  maxAttempts: number;
  /** First retry delay; doubles each attempt, with jitter. */
  retryBaseMs: number;
  /** Retry delay cap. */
  retryMaxMs: number;
  /** Timeout of one delivery request. */
  timeoutMs: number;
}

/** What one sender may make the inbox do. Rates are per second; each allows a burst of {@link BURST_SECONDS}. */
export interface InboxConfig {
  /** Largest body accepted. */
  maxBodyBytes: number;
  /** Activities accepted per signing key (0: no limit). */
  ratePerKey: number;
  /** Activities accepted per sending host (0: no limit). */
  ratePerHost: number;
  /** Fetches of unknown keys per client address, and per key host (0: no limit). */
  keyFetchRate: number;
  /**
   * Bytes of activities one sending host may have stored in the intake queue within a retention period of
   * finished jobs (more: 429); 0 = no cap.
   */
  maxStoredBytesPerSender: number;
}

/** A rate limit's burst: this many seconds of its rate at once. */
export const BURST_SECONDS = 30;

/** Limits of the HTTP server, against clients that hold connections open or send slowly. */
export interface HttpLimits {
  /** Connections open at once, over all clients; more are closed as they come. */
  maxConnections: number;
  /** Connections open at once from one client address (an IPv6 client: its /64); more are closed. */
  maxConnectionsPerClient: number;
  /** Time for a request's headers and body to arrive; then 408 and the connection is closed. */
  requestTimeoutMs: number;
}

export interface MaintenanceConfig {
  /** Time between two passes. */
  intervalMs: number;
  /** Done jobs (and the payload of done intake jobs) are deleted this long after they finished. */
  doneRetentionMs: number;
  /**
   * How long the id of a received activity is remembered after the activity was first received: a replay of it
   * within this time is recognised and dropped. Keep it above a signature's longest validity plus clock skew.
   */
  replayWindowMs: number;
}

export interface Config {
  /** Public origin, no trailing slash, e.g. https://guild.example */
  origin: string;
  /** host[:port] of the origin, as used in handles. */
  domain: string;
  /**
   * preferredUsername of the instance's Service actor (`ORIGIN/actor`, `@NAME@HOST`), which signs fetches and
   * authors what the admin and DM commands do. No group may take this name.
   */
  serviceActor: string;
  host: string;
  port: number;
  store: StoreKind;
  sqlitePath: string;
  mongodbUrl: string;
  role: Role;
  /**
   * Background threads that run the queues (intake, fan-out, delivery) in the `all` and `worker` roles, each with
   * its own store connection; 0 runs them on the main thread.
   */
  workerThreads: number;
  /** Niceness (CPU priority, 0-19) of the background threads on Linux: the web side is served first. */
  workerNice: number;
  logLevel: LogLevel;
  allowPrivateAddresses: boolean;
  /** Refuse unsigned GETs of ActivityPub documents (secure mode). */
  requireSignedFetch: boolean;
  /** Bearer token of the admin API, or null when the API is off. */
  adminToken: string | null;
  delivery: DeliveryConfig;
  http: HttpLimits;
  /** A second listener that serves `/metrics` without a token (keep it off the public network), or null. */
  metricsListen: { host: string; port: number } | null;
  inbox: InboxConfig;
  /** The maintenance loop of the worker role: what it purges and when. */
  maintenance: MaintenanceConfig;
  /** `open`: federate with every domain not blocked; `allowlist`: only with domains allowed by the admin. */
  federationMode: 'open' | 'allowlist';
  /** Lease of an intake or fan-out job; a crashed worker's jobs are taken over when it ends. */
  queueLeaseMs: number;
  /** Answers to non-members, reports and report digests (brakes.config.ts). */
  brakes: BrakesConfig;
  /** Group creation by anyone, sign-in by direct message, sessions (self-service.config.ts). */
  selfService: SelfServiceConfig;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_FILE = path.join(ROOT, 'config', 'default.json');

type Env = Record<string, string | undefined>;

/** Loads and validates configuration; throws {@link ConfigError} listing every problem found. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const base = readJson(DEFAULT_FILE, problems);
  const extra = env.GUILD_CONFIG ? readJson(path.resolve(env.GUILD_CONFIG), problems) : {};
  const raw = deepMerge(base, extra);
  const delivery = obj(raw.delivery);
  const inbox = obj(raw.inbox);
  const http = obj(raw.http);
  const maintenance = obj(raw.maintenance);

  const origin = parseOrigin(env.GUILD_ORIGIN ?? str(raw.origin), problems);
  const port = parseInt_(env.GUILD_PORT ?? raw.port, 'GUILD_PORT', 0, 65535, problems);
  const store = oneOf(env.GUILD_STORE ?? raw.store, ['sqlite', 'mongodb'] as const, 'GUILD_STORE', problems);
  const role = oneOf(env.GUILD_ROLE ?? raw.role, ['all', 'web', 'worker'] as const, 'GUILD_ROLE', problems);
  const logLevel = oneOf(
    env.GUILD_LOG_LEVEL ?? raw.logLevel,
    ['debug', 'info', 'warn', 'error', 'silent'] as const,
    'GUILD_LOG_LEVEL',
    problems,
  );
  const mongodbUrl = str(env.GUILD_MONGODB_URL ?? raw.mongodbUrl);
  if (store === 'mongodb' && !/^mongodb(\+srv)?:\/\/[^/\s]+/.test(mongodbUrl)) {
    problems.push(`GUILD_MONGODB_URL must be a mongodb:// or mongodb+srv:// URL (got "${mongodbUrl}")`);
  }
  const sqlitePath = str(env.GUILD_SQLITE_PATH ?? raw.sqlitePath);
  if (store === 'sqlite' && sqlitePath === '') problems.push('GUILD_SQLITE_PATH must not be empty');
  const host = str(env.GUILD_HOST ?? raw.host);
  if (host === '') problems.push('GUILD_HOST must not be empty');
  const serviceActor = str(env.GUILD_SERVICE_ACTOR ?? raw.serviceActor);
  if (!/^[a-z0-9_]{1,64}$/.test(serviceActor))
    problems.push(
      `GUILD_SERVICE_ACTOR must be 1 to 64 lowercase letters, digits or underscores (got "${serviceActor}")`,
    );
  const adminToken = env.GUILD_ADMIN_TOKEN ?? (raw.adminToken === null ? null : str(raw.adminToken));
  if (adminToken !== null && adminToken !== '' && adminToken.length < 16) {
    problems.push('GUILD_ADMIN_TOKEN must be at least 16 characters');
  }

  const config: Config = {
    origin: origin?.origin ?? '',
    domain: origin?.host ?? '',
    serviceActor,
    host,
    port,
    store: store ?? 'sqlite',
    sqlitePath: path.resolve(ROOT, sqlitePath),
    mongodbUrl,
    role: role ?? 'all',
    workerThreads: parseThreads(env.GUILD_WORKER_THREADS ?? raw.workerThreads, problems),
    workerNice: parseInt_(env.GUILD_WORKER_NICE ?? raw.workerNice, 'GUILD_WORKER_NICE', 0, 19, problems),
    logLevel: logLevel ?? 'info',
    allowPrivateAddresses: bool(
      env.GUILD_ALLOW_PRIVATE_ADDRESSES ?? raw.allowPrivateAddresses,
      'GUILD_ALLOW_PRIVATE_ADDRESSES',
      problems,
    ),
    requireSignedFetch: bool(
      env.GUILD_REQUIRE_SIGNED_FETCH ?? raw.requireSignedFetch,
      'GUILD_REQUIRE_SIGNED_FETCH',
      problems,
    ),
    adminToken: adminToken === '' ? null : adminToken,
    delivery: {
      concurrency: parseInt_(
        env.GUILD_DELIVERY_CONCURRENCY ?? delivery.concurrency,
        'GUILD_DELIVERY_CONCURRENCY',
        1,
        1024,
        problems,
      ),
      perHostConcurrency: parseInt_(
        env.GUILD_DELIVERY_PER_HOST ?? delivery.perHostConcurrency,
        'GUILD_DELIVERY_PER_HOST',
        1,
        256,
        problems,
      ),
      maxAttempts: parseInt_(
        env.GUILD_DELIVERY_MAX_ATTEMPTS ?? delivery.maxAttempts,
        'GUILD_DELIVERY_MAX_ATTEMPTS',
        1,
        100,
        problems,
      ),
      retryBaseMs: parseInt_(
        env.GUILD_DELIVERY_RETRY_BASE_MS ?? delivery.retryBaseMs,
        'GUILD_DELIVERY_RETRY_BASE_MS',
        1,
        86_400_000,
        problems,
      ),
      retryMaxMs: parseInt_(
        env.GUILD_DELIVERY_RETRY_MAX_MS ?? delivery.retryMaxMs,
        'GUILD_DELIVERY_RETRY_MAX_MS',
        1,
        7 * 86_400_000,
        problems,
      ),
      timeoutMs: parseInt_(
        env.GUILD_DELIVERY_TIMEOUT_MS ?? delivery.timeoutMs,
        'GUILD_DELIVERY_TIMEOUT_MS',
        100,
        600_000,
        problems,
      ),
    },
    federationMode:
      oneOf(
        env.GUILD_FEDERATION_MODE ?? raw.federationMode,
        ['open', 'allowlist'] as const,
        'GUILD_FEDERATION_MODE',
        problems,
      ) ?? 'open',
    queueLeaseMs: parseInt_(
      env.GUILD_QUEUE_LEASE_MS ?? raw.queueLeaseMs,
      'GUILD_QUEUE_LEASE_MS',
      1000,
      3_600_000,
      problems,
    ),
    inbox: {
      maxBodyBytes: parseInt_(
        env.GUILD_INBOX_MAX_BODY_BYTES ?? inbox.maxBodyBytes,
        'GUILD_INBOX_MAX_BODY_BYTES',
        1024,
        16 * 1024 * 1024,
        problems,
      ),
      ratePerKey: parseInt_(
        env.GUILD_INBOX_RATE_PER_KEY ?? inbox.ratePerKey,
        'GUILD_INBOX_RATE_PER_KEY',
        0,
        1_000_000,
        problems,
      ),
      ratePerHost: parseInt_(
        env.GUILD_INBOX_RATE_PER_HOST ?? inbox.ratePerHost,
        'GUILD_INBOX_RATE_PER_HOST',
        0,
        1_000_000,
        problems,
      ),
      keyFetchRate: parseInt_(
        env.GUILD_KEY_FETCH_RATE ?? inbox.keyFetchRate,
        'GUILD_KEY_FETCH_RATE',
        0,
        100_000,
        problems,
      ),
      maxStoredBytesPerSender: parseInt_(
        env.GUILD_INBOX_MAX_STORED_BYTES_PER_SENDER ?? inbox.maxStoredBytesPerSender,
        'GUILD_INBOX_MAX_STORED_BYTES_PER_SENDER',
        0,
        1024 * 1024 * 1024,
        problems,
      ),
    },
    maintenance: {
      intervalMs: parseInt_(
        env.GUILD_MAINTENANCE_INTERVAL_MS ?? maintenance.intervalMs,
        'GUILD_MAINTENANCE_INTERVAL_MS',
        100,
        86_400_000,
        problems,
      ),
      doneRetentionMs: parseInt_(
        env.GUILD_DONE_JOBS_RETENTION_MS ?? maintenance.doneRetentionMs,
        'GUILD_DONE_JOBS_RETENTION_MS',
        0,
        30 * 86_400_000,
        problems,
      ),
      replayWindowMs: parseInt_(
        env.GUILD_REPLAY_WINDOW_MS ?? maintenance.replayWindowMs,
        'GUILD_REPLAY_WINDOW_MS',
        1000,
        30 * 86_400_000,
        problems,
      ),
    },
    http: {
      maxConnections: parseInt_(
        env.GUILD_MAX_CONNECTIONS ?? http.maxConnections,
        'GUILD_MAX_CONNECTIONS',
        1,
        1_000_000,
        problems,
      ),
      maxConnectionsPerClient: parseInt_(
        env.GUILD_CONNECTIONS_PER_CLIENT ?? http.maxConnectionsPerClient,
        'GUILD_CONNECTIONS_PER_CLIENT',
        1,
        1_000_000,
        problems,
      ),
      requestTimeoutMs: parseInt_(
        env.GUILD_REQUEST_TIMEOUT_MS ?? http.requestTimeoutMs,
        'GUILD_REQUEST_TIMEOUT_MS',
        500,
        600_000,
        problems,
      ),
    },
    selfService: parseSelfServiceConfig(env, obj(raw.selfService), problems),
    brakes: parseBrakesConfig(env, obj(raw.brakes), problems),
    metricsListen: parseListen(
      env.GUILD_METRICS_LISTEN ?? (raw.metricsListen === null ? '' : str(raw.metricsListen)),
      'GUILD_METRICS_LISTEN',
      problems,
    ),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
