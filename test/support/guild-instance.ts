/**
 * A real Guild server for tests: real HTTP on a loopback port, the store selected by GUILD_TEST_STORE, real
 * keys, fast retries. Logs are kept in memory and printed when a test fails (see `printLogsOnFailure`).
 */
import { loadConfig, type Config } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { startGuild, type Guild } from '../../src/app/start.ts';
import type { Store } from '../../src/storage/store.ts';
import type { StoreOptions } from '../../src/storage/open-store.ts';
import { intakeJobId } from '../../src/federation/inbox.receiver.ts';
import { openTestStoreAt } from './test-store.ts';
import { freePort, waitUntil } from './net.ts';

export interface TestGuild {
  guild: Guild;
  config: Config;
  origin: string;
  store: Store;
  /** Where the store keeps its data (the SQLite file, or the MongoDB database); null for a store given. */
  storeOptions: StoreOptions | null;
  logs: string[];
  groupUrl(name: string): string;
  /** Creates an open group and returns its actor id. */
  createGroup(name: string, fields?: { title?: string; summary?: string }): Promise<string>;
  /** Waits until the intake job of this activity id has been processed. */
  processed(activityId: string): Promise<void>;
  /** Waits until no intake, fan-out or delivery job is queued or leased. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a Guild on a free port. `opts.store` replaces the fresh test store (it is closed by close());
 * `opts.pollMs` is how often idle queue loops look for work they were not told about (default 100 ms).
 */
export async function startTestGuild(
  env: Record<string, string> = {},
  opts: { store?: Store; pollMs?: number } = {},
): Promise<TestGuild> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    GUILD_ORIGIN: origin,
    GUILD_HOST: '127.0.0.1',
    GUILD_PORT: String(port),
    GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
    GUILD_LOG_LEVEL: 'debug',
    GUILD_DELIVERY_RETRY_BASE_MS: '100',
    GUILD_DELIVERY_RETRY_MAX_MS: '1000',
    GUILD_DELIVERY_TIMEOUT_MS: '5000',
    ...env,
  });
  const logs: string[] = [];
  const log = createLogger('debug', { service: 'guild-test' }, (line) => logs.push(line));
  const located = opts.store ? null : await openTestStoreAt();
  const store = opts.store ?? located?.store;
  if (!store) throw new Error('no store');
  const guild = await startGuild(config, { log, store, pollMs: opts.pollMs ?? 100 });
  const t: TestGuild = {
    guild,
    config,
    origin,
    store,
    storeOptions: located?.options ?? null,
    logs,
    groupUrl: (name) => guild.services.urls.group(name),
    async createGroup(name, fields = {}) {
      const r = await guild.services.groups.create(name, fields);
      if (!r.ok) throw new Error(`could not create ${name}: ${JSON.stringify(r.error)}`);
      return guild.services.urls.group(name);
    },
    async processed(activityId) {
      await waitUntil(
        async () => {
          const job = await store.jobs.getJob(intakeJobId(activityId));
          return job !== null && job.state !== 'queued';
        },
        { what: `processing of ${activityId}` },
      );
    },
    async idle() {
      await waitUntil(
        async () => {
          const now = Date.now();
          for (const q of ['intake', 'fanout', 'deliver'] as const) {
            const s = await store.jobs.stats(q, now);
            if (s.queued > 0 || s.leased > 0) return false;
          }
          return true;
        },
        { what: 'all queues to drain' },
      );
    },
    close: () => guild.close(),
  };
  return t;
}

/** Mocha hook body: prints an instance's logs when the current test failed. */
export function printLogsOnFailure(ctx: Mocha.Context, instances: Array<TestGuild | undefined>): void {
  if (ctx.currentTest?.state !== 'failed') return;
  for (const i of instances) {
    if (!i) continue;
    process.stderr.write(`---- logs of ${i.origin} ----\n${i.logs.slice(-200).join('\n')}\n`);
  }
}
