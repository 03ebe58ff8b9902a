/**
 * Starts the roles of one process from the configuration: builds the service graph (compose.ts), runs the
 * queues in background threads or in this thread (queues.ts), and serves HTTP (web.ts) unless the role is
 * `worker`. `main.ts`, the tests and the bench start Guild through {@link startGuild}.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../storage/store.ts';
import type { KeyPairGenerator } from '../groups/ports.ts';
import type { MetricsSnapshot } from '../federation/metrics.ts';
import { startMetricsListener } from '../http/metrics.route.ts';
import { compose, type Services } from './compose.ts';
import { startQueues, type Queues } from './queues.ts';
import { BackgroundThreads } from './threads/background.ts';
import type { Web } from './web.ts';
import { thisProcess } from '../federation/lease-owner.ts';
import { releaseLeasesOfGoneProcesses } from '../federation/maintenance.ts';
import { registerRunningServer } from '../storage/sqlite/running-servers.sqlite.ts';

export interface StartOptions {
  log: Logger;
  /** Use this store instead of the configured one (closed by close()); the queues then run in this thread. */
  store?: Store;
  keys?: KeyPairGenerator;
  /** Poll interval of the queue runners when nothing wakes them. */
  pollMs?: number;
}

/** A running Guild: its services, its HTTP server, and how to stop it. */
export interface Guild {
  config: Config;
  services: Services;
  /** The listening HTTP server (web role), or null. */
  server: Server | null;
  /** Actual port listened on (useful with port 0), or null. */
  port: number | null;
  /** This process's metrics, with those of its background threads, as plain data. */
  metrics(): Promise<MetricsSnapshot>;
  /** Stops taking work, finishes in-flight jobs, closes the HTTP server and the store. */
  close(): Promise<void>;
}

export async function startGuild(config: Config, opts: StartOptions): Promise<Guild> {
  const { log } = opts;
  const s = await compose(config, opts);
  const me = thisProcess();
  // `guild restore` refuses while a server runs on the SQLite file.
  const unregister =
    config.store === 'sqlite' && !opts.store ? registerRunningServer(config.sqlitePath, me) : null;
  // A restarted process takes back at once the jobs its previous start held (and those of gone siblings).
  if (config.role !== 'web')
    await releaseLeasesOfGoneProcesses(s.store.jobs, me, s.clock(), log.child({ loop: 'maintenance' }));

  // The queues run in background threads, unless the role has no queues or the store was handed over by the
  // caller (a thread could not share it).
  const threadCount = config.role === 'web' || opts.store ? 0 : Math.max(0, config.workerThreads);
  let background: BackgroundThreads | null = null;
  let queues: Queues | null = null;
  if (threadCount > 0) {
    const channel = `guild-queues-${randomUUID()}`;
    s.signal.bridge(channel);
    background = new BackgroundThreads({
      config,
      count: threadCount,
      channel,
      pollMs: opts.pollMs ?? null,
      log,
    });
    try {
      await background.start();
    } catch (e) {
      await background.stop();
      await s.close();
      unregister?.();
      throw e;
    }
  } else if (config.role !== 'web') {
    queues = startQueues(s, opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {});
  }

  const threadMetrics = async (): Promise<MetricsSnapshot[]> => (background ? background.metrics() : []);

  let web: Web | null = null;
  if (config.role !== 'worker') {
    // Loaded only here: worker processes never load express or the web pages.
    const { startWeb } = await import('./web.ts');
    const bg = background;
    const q = queues;
    web = await startWeb(s, {
      isReady: () => config.role === 'web' || (bg ? bg.ready : (q?.ready ?? false)),
      threadMetrics,
    });
  }
  if (queues) log.info('worker running', { store: s.store.kind, role: config.role });
  if (background)
    log.info('worker running', { store: s.store.kind, role: config.role, threads: threadCount });

  let metricsServer: Server | null = null;
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await web?.stop();
      if (metricsServer) {
        const m = metricsServer;
        await new Promise<void>((resolve) => {
          m.close(() => resolve());
          m.closeIdleConnections();
        });
      }
      await queues?.stop();
      await background?.stop();
      await s.close();
      unregister?.();
    })();
    return closing;
  };
  // Metrics on a listener of their own, in every role (worker processes have no other).
  if (config.metricsListen) {
    const at = { ...config.metricsListen, limits: config.http, store: s.store, metrics: s.metrics, log };
    metricsServer = await startMetricsListener({ ...at, threadMetrics }).catch(async (e: unknown) => {
      await close();
      throw e;
    });
  }
  return {
    config,
    services: s,
    server: web?.server ?? null,
    port: web?.port ?? null,
    metrics: async () => s.metrics.snapshot(await threadMetrics()),
    close,
  };
}
