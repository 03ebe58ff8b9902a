/** The web side of a process: the HTTP server (inbox fast path, then express), built on the service graph. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request } from 'express';
import { InboxReceiver, inboxLimits } from '../federation/inbox.receiver.ts';
import { IntakeAdmission } from '../federation/intake-admission.ts';
import type { KeyLookupOptions } from '../federation/actor-resolver.ts';
import { FetchAuthorizer, type FetchAuthorization } from '../federation/signed-fetch.ts';
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
  const scheme = config.origin.startsWith('https:') ? 'https' : 'http';
  const limits = inboxLimits(config.inbox);
  const lookupKey = (keyId: string, opts: KeyLookupOptions) => resolver.lookupKey(keyId, opts);
  const receiver = new InboxReceiver({
    store,
    resolveKey: lookupKey,
    limits,
    signal: s.signal,
    scheme,
    authority: config.domain,
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
  // Signed GETs: the signature is checked for this server, and a host this server does not federate with is
  // refused before any request is made for its key. One check per request, shared by secure mode and by the
  // audience check of documents that are not public.
  const fetchAuthorizer = new FetchAuthorizer({
    lookupKey,
    keyFetchesPerClient: limits.keyFetchesPerClient,
    isBlockedHost: (host) => domains.isBlocked(host),
    scheme,
    authority: config.domain,
    now: s.clock,
  });
  const verdicts = new WeakMap<Request, Promise<FetchAuthorization>>();
  const authorize = (req: Request): Promise<FetchAuthorization> => {
    let verdict = verdicts.get(req);
    if (verdict === undefined) {
      verdict = fetchAuthorizer.authorize({
        path: req.originalUrl,
        headers: req.headers,
        ...(req.ip ? { client: req.ip } : {}),
      });
      verdicts.set(req, verdict);
    }
    return verdict;
  };
  const authorizeFetch = config.requireSignedFetch ? authorize : null;
  // Who signed a GET, in every mode: documents that are not public are served to their audience only.
  const fetchSigner = async (req: Request): Promise<string | null> => {
    if (req.headers['signature'] === undefined && req.headers['signature-input'] === undefined) return null;
    const verdict = await authorize(req);
    return verdict.ok ? verdict.signer : null;
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
      dashboard: {
        signIn: s.signIn,
        sessionTtlMs: config.selfService.sessionTtlMs,
        ownership: s.ownership,
        creation: s.creation,
        moderation: s.moderation,
        moves: s.moves,
        groupFollows: s.groupFollows,
        handles: resolver,
      },
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
              ownership: s.ownership,
              creation: s.creation,
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
