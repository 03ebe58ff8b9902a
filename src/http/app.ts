/** The express application: routes and middleware only; everything else is passed in. */
import express from 'express';
import { randomUUID } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import type { Urls } from '../activitypub/urls.ts';
import type { GroupService } from '../groups/group.service.ts';
import type { Logger } from '../log.ts';
import { discoveryRoutes } from './discovery.routes.ts';
import { actorRoutes } from './actor.routes.ts';
import { errorMiddleware } from './http-error.ts';
import { webRoutes } from '../web/web.routes.ts';
import type { Metrics, MetricsSnapshot } from '../federation/metrics.ts';
import { METRICS_CONTENT_TYPE, metricsText } from './metrics.route.ts';
import { bearerAuth } from './admin-auth.ts';
import { ADMIN_API_PREFIX, adminRoutes, type AdminApiDeps } from './admin.routes.ts';
import type { AuthorizeFetch, FetchSigner } from './fetch-access.ts';
import { signInRoutes } from '../web/dashboard/sign-in.routes.ts';
import { dashboardRoutes, type DashboardDeps } from '../web/dashboard/dashboard.routes.ts';
import { allResponseHeaders, cookieNames } from '../web/dashboard/web-security.ts';
import type { SignInService } from '../groups/sign-in.service.ts';

export interface AppDeps {
  store: Store;
  urls: Urls;
  domain: string;
  /** preferredUsername of the instance's Service actor (`@NAME@HOST`). */
  serviceActor: string;
  groups: GroupService;
  log: Logger;
  software: { name: string; version: string };
  /** Checks a GET's signature when signed fetches are required; null lets every GET through. */
  authorizeFetch: AuthorizeFetch;
  /** Who signed a GET (verified), or null: non-public documents are served only to their audience. */
  fetchSigner: FetchSigner;
  /** Directory of uploaded group images served at /media, or null. */
  mediaDir: string | null;
  metrics: Metrics;
  /** The latest metrics of this process's background threads, added to `metrics` in `/metrics`. */
  threadMetrics?: () => Promise<MetricsSnapshot[]>;
  /** Readiness beyond the store: e.g. the worker loops of this process are running. */
  isReady: () => boolean;
  /** The admin API's token and services; the API is not mounted when null. */
  admin?: AdminApiDeps | null;
  /** Sign-in by direct message and the moderation dashboard; not mounted when null. */
  dashboard?:
    | (Omit<DashboardDeps, 'store' | 'urls' | 'domain' | 'names' | 'log' | 'signIn'> & {
        signIn: SignInService;
        sessionTtlMs: number;
      })
    | null;
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
  // Every response, HTML or not, error or not, carries the strict Content-Security-Policy and its companions.
  app.use(allResponseHeaders);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Metrics name member hosts and their outages: only with the admin token here (or GUILD_METRICS_LISTEN).
  if (d.admin) {
    app.get('/metrics', bearerAuth(d.admin.token), async (_req, res) => {
      res.type(METRICS_CONTENT_TYPE).send(await metricsText(d));
    });
  }
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
      serviceActor: d.serviceActor,
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
      serviceActor: d.serviceActor,
      groups: d.groups,
      authorizeFetch: d.authorizeFetch,
      fetchSigner: d.fetchSigner,
      log: d.log,
    }),
  );
  if (d.dashboard) {
    const names = cookieNames(d.urls.origin);
    const { sessionTtlMs, ...services } = d.dashboard;
    app.use(
      signInRoutes({
        signIn: services.signIn,
        origin: d.urls.origin,
        serviceHandle: `@${d.serviceActor}@${d.domain}`,
        names,
        sessionTtlMs,
        log: d.log,
      }),
    );
    app.use(
      dashboardRoutes({ ...services, store: d.store, urls: d.urls, domain: d.domain, names, log: d.log }),
    );
  }
  app.use(webRoutes({ store: d.store, urls: d.urls, domain: d.domain, mediaDir: d.mediaDir }));

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(errorMiddleware(d.log));
  return app;
}
