/** The express application: routes and middleware only; everything else is passed in. */
import express, { type Request } from 'express';
import { randomUUID } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import type { Urls } from '../groups/urls.ts';
import type { GroupService } from '../groups/group.service.ts';
import type { Logger } from '../log.ts';
import { discoveryRoutes } from './discovery.routes.ts';
import { actorRoutes } from './actor.routes.ts';
import { errorMiddleware } from './http-error.ts';
import { webRoutes } from '../web/web.routes.ts';
import type { Metrics } from '../federation/metrics.ts';
import type { FetchAuthorization } from '../federation/signed-fetch.ts';
import { ADMIN_API_PREFIX, adminRoutes, type AdminApiDeps } from './admin.routes.ts';

export interface AppDeps {
  store: Store;
  urls: Urls;
  domain: string;
  groups: GroupService;
  log: Logger;
  software: { name: string; version: string };
  authorizeFetch: ((req: Request) => Promise<FetchAuthorization>) | null;
  /** Directory of uploaded group images served at /media, or null. */
  mediaDir: string | null;
  metrics: Metrics;
  /** This process's metrics with those of its background threads; `metrics` alone when absent. */
  collectMetrics?: () => Promise<Metrics>;
  /** Readiness beyond the store: e.g. the worker loops of this process are running. */
  isReady: () => boolean;
  /** The admin API's token and services; the API is not mounted when null. */
  admin?: AdminApiDeps | null;
}

export function createApp(d: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use((req, res, next) => {
    const id =
      typeof req.headers['x-request-id'] === 'string'
        ? req.headers['x-request-id'].slice(0, 64)
        : randomUUID();
    res.locals.requestId = id;
    res.set('X-Request-Id', id);
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (_req, res) => {
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
    const all = d.collectMetrics ? await d.collectMetrics() : d.metrics;
    res.type('text/plain; version=0.0.4').send(all.render());
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await d.store.ping();
    } catch {
      res.status(503).json({ status: 'store unreachable' });
      return;
    }
    if (!d.isReady()) {
      res.status(503).json({ status: 'worker not running' });
      return;
    }
    res.json({ status: 'ready' });
  });

  if (d.admin) {
    const admin = { ...d.admin, store: d.store, urls: d.urls, domain: d.domain, groups: d.groups };
    app.use(ADMIN_API_PREFIX, adminRoutes(admin));
  }

  app.use(
    discoveryRoutes({
      urls: d.urls,
      domain: d.domain,
      groups: d.groups,
      store: d.store,
      software: d.software,
    }),
  );

  // Inbox POSTs are served before this application (inbox.fast-path.ts).

  app.use(
    actorRoutes({
      store: d.store,
      urls: d.urls,
      domain: d.domain,
      groups: d.groups,
      authorizeFetch: d.authorizeFetch,
    }),
  );
  app.use(webRoutes({ store: d.store, urls: d.urls, domain: d.domain, mediaDir: d.mediaDir }));

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(errorMiddleware(d.log));
  return app;
}
