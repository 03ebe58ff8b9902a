/**
 * `/metrics` (Prometheus): this process's metrics, the queue gauges read from the store, and the values of its
 * background threads. They name member hosts and their outages, so they are not public: the main listener
 * serves them only with the admin token (see app.ts), and `GUILD_METRICS_LISTEN` adds a listener of their own,
 * without a token, meant for a loopback or private address.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpLimits } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../storage/store.ts';
import { METRICS_CONTENT_TYPE, type Metrics, type MetricsSnapshot } from '../federation/metrics.ts';
import { httpServerOptions, limitConnections } from './connection-limits.ts';

export interface MetricsSource {
  store: Store;
  metrics: Metrics;
  /** The latest metrics of this process's background threads, added to `metrics`. */
  threadMetrics?: () => Promise<MetricsSnapshot[]>;
}

/** The text exposition of every metric of this process. */
export async function metricsText(d: MetricsSource): Promise<string> {
  const now = Date.now();
  for (const queue of ['intake', 'fanout', 'deliver'] as const) {
    try {
      const s = await d.store.jobs.stats(queue, now);
      d.metrics.queueDepth.set({ queue }, s.queued);
      d.metrics.queueLeased.set({ queue }, s.leased);
      d.metrics.queueFailed.set({ queue }, s.failed);
      d.metrics.queueAge.set({ queue }, s.oldestCreatedAt === null ? 0 : (now - s.oldestCreatedAt) / 1000);
    } catch {
      // The store is unreachable: /readyz says so; the process metrics are still worth serving.
    }
  }
  return d.metrics.render((await d.threadMetrics?.()) ?? []);
}

export { METRICS_CONTENT_TYPE };

/** Serves `GET /metrics` alone on `host:port`; resolves once listening. */
export async function startMetricsListener(
  d: MetricsSource & { host: string; port: number; limits: HttpLimits; log: Logger },
): Promise<Server> {
  const server = createServer(httpServerOptions(d.limits), (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    metricsText(d).then(
      (text) => res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE }).end(text),
      (e: unknown) => {
        d.log.error('rendering metrics failed', { err: e });
        res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"internal error"}');
      },
    );
  });
  limitConnections(server, d.limits, { log: d.log });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(d.port, d.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  d.log.info('serving metrics', { host: address, port });
  return server;
}
