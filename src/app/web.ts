/** The web side of a process: the HTTP server (inbox fast path, then express), built on the service graph. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request } from 'express';
import { InboxReceiver } from '../federation/inbox.receiver.ts';
import { IntakeAdmission } from '../federation/intake-admission.ts';
import { verifyRequest } from '../federation/http-signature.ts';
import type { MetricsSnapshot } from '../federation/metrics.ts';
import { httpServerOptions, limitConnections } from '../http/connection-limits.ts';
import { httpHandler } from '../http/serve.ts';
import { mediaDirFor } from '../web/media.store.ts';
import { SOFTWARE, type Services } from './compose.ts';

export interface WebOptions {
  /** Readiness beyond the store (the queues of this process are running). */
  isReady: () => boolean;
  /** The latest metrics of this process's background threads, added to its own in `/metrics`. */
  threadMetrics: () => Promise<MetricsSnapshot[]>;
}

/** A listening HTTP server. */
export interface Web {
  server: Server;
  /** The port listened on (the configured one, or the one the system chose for port 0). */
  port: number;
  /** Stops accepting connections, closes idle ones and waits for the requests in flight. */
  stop(): Promise<void>;
}

export async function startWeb(s: Services, o: WebOptions): Promise<Web> {
  const { config, store, urls, groups, metrics, log, resolver, domains } = s;
  const resolveKey = (keyId: string, opts: { refresh: boolean }) => resolver.getKey(keyId, opts);
  const receiver = new InboxReceiver({
    store,
    resolveKey,
    signal: s.signal,
    scheme: config.origin.startsWith('https:') ? 'https' : 'http',
    log: log.child({ part: 'inbox' }),
    isBlockedHost: (host) => domains.isBlocked(host),
    admission: new IntakeAdmission({
      store,
      origin: urls.origin,
      maxStoredBytesPerSender: config.inbox.maxStoredBytesPerSender,
      windowMs: config.maintenance.doneRetentionMs,
    }),
    now: s.clock,
  });
  const authorizeFetch = config.requireSignedFetch
    ? async (req: Request): Promise<boolean> => {
        const v = await verifyRequest({
          method: 'GET',
          path: req.originalUrl,
          headers: req.headers,
          rawBody: null,
          now: new Date(s.clock()),
          resolveKey,
        });
        return v.ok;
      }
    : null;
  // Who signed a GET, in every mode: documents that are not public are served to their audience only.
  const fetchSigner = async (req: Request): Promise<string | null> => {
    if (req.headers['signature'] === undefined && req.headers['signature-input'] === undefined) return null;
    const v = await verifyRequest({
      method: 'GET',
      path: req.originalUrl,
      headers: req.headers,
      rawBody: null,
      now: new Date(s.clock()),
      resolveKey,
      scheme: config.origin.startsWith('https:') ? 'https' : 'http',
    });
    if (!v.ok || !URL.canParse(v.ownerId)) return null;
    return (await domains.isBlocked(new URL(v.ownerId).hostname)) ? null : v.ownerId;
  };
  const handler = httpHandler(
    {
      store,
      urls,
      domain: config.domain,
      serviceActor: config.serviceActor,
      groups,
      log,
      software: SOFTWARE,
      mediaDir: mediaDirFor(config),
      authorizeFetch,
      fetchSigner,
      isReady: o.isReady,
      metrics,
      threadMetrics: o.threadMetrics,
      admin:
        config.adminToken === null
          ? null
          : {
              token: config.adminToken,
              settings: s.settings,
              membership: s.membership,
              moderation: s.moderation,
              instance: s.instance,
              moves: s.moves,
              groupFollows: s.groupFollows,
              peering: s.peering,
              handles: resolver,
            },
    },
    { receiver, groups, metrics, log, maxBodyBytes: config.inbox.maxBodyBytes },
  );
  const server = createServer(httpServerOptions(config.http), handler);
  limitConnections(server, config.http, {
    log: log.child({ part: 'http' }),
    onRefused: (reason) => metrics.connectionsRefused.inc({ reason }),
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info('listening', {
    origin: config.origin,
    host: config.host,
    port,
    store: store.kind,
    role: config.role,
  });
  return {
    server,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
