/**
 * Composition: builds the store, the federation layer, the domain services, the web app and the worker loops
 * from a validated configuration. `main.ts` and the tests start Guild through {@link startGuild}.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Request } from 'express';
import type { Config } from './config/config.ts';
import type { Logger } from './log.ts';
import type { Store } from './storage/store.ts';
import { openStore } from './storage/open-store.ts';
import { Urls, INSTANCE_KEY_OWNER } from './groups/urls.ts';
import { GroupService } from './groups/group.service.ts';
import { GroupInbox } from './groups/inbox.handlers.ts';
import type { KeyPairGenerator, Publisher } from './groups/ports.ts';
import { StorePublisher } from './federation/publisher.ts';
import { LocalQueueSignal, QueueRunner } from './federation/queue-runner.ts';
import { deliverHandler, fanoutHandler, intakeHandler } from './federation/job-handlers.ts';
import { DeliveryClient } from './federation/delivery.client.ts';
import { SafeFetcher } from './federation/safe-fetch.ts';
import { ActorResolver } from './federation/actor-resolver.ts';
import { InboxReceiver } from './federation/inbox.receiver.ts';
import { verifyRequest } from './federation/http-signature.ts';
import { Metrics } from './federation/metrics.ts';
import { CircuitBreaker } from './federation/circuit-breaker.ts';
import type { Job } from './storage/store.ts';
import { DomainPolicies } from './federation/domain-policy.ts';
import { MembershipService } from './groups/membership.service.ts';
import { SettingsService } from './groups/settings.service.ts';
import { ModerationService } from './groups/moderation.service.ts';
import { ModerationInbox } from './groups/moderation.handlers.ts';
import { CommandService } from './groups/commands.service.ts';
import { InstanceService } from './groups/instance.service.ts';
import { FileMediaStore } from './web/media.store.ts';
import { BackgroundThreads } from './worker/background.ts';
import { SignerPool } from './federation/signer-pool.ts';
import { availableParallelism } from 'node:os';
import { withMeteredJobs } from './federation/metered-jobs.ts';
import { mediaDirFor } from './web/media.store.ts';

export const SOFTWARE = { name: 'guild', version: '0.1.0' };

const generateKeyPairAsync = promisify(generateKeyPair);

export const rsaKeyPairs: KeyPairGenerator = {
  async generate() {
    const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    return { publicKeyPem: publicKey, privateKeyPem: privateKey };
  },
};

export interface Guild {
  config: Config;
  store: Store;
  urls: Urls;
  groups: GroupService;
  publisher: Publisher;
  moderation: ModerationService;
  membership: MembershipService;
  settings: SettingsService;
  domains: DomainPolicies;
  /** The listening HTTP server (web role), or null. */
  server: Server | null;
  /** Actual port listened on (useful with port 0), or null. */
  port: number | null;
  /** This process's metrics, with those of its background threads. */
  metrics(): Promise<Metrics>;
  /** Stops taking work, finishes in-flight jobs, closes the HTTP server and the store. */
  close(): Promise<void>;
}

export interface StartOptions {
  log: Logger;
  /** Use this store instead of opening the configured one (it is closed by close()). */
  store?: Store;
  keys?: KeyPairGenerator;
  /** Poll interval of the worker loops when nothing wakes them. */
  pollMs?: number;
  /** Set when this instance is one of the background threads of a process (see worker/background.ts). */
  thread?: { index: number; count: number; channel: string };
}

/** Opens the store the configuration names; on MongoDB, `metrics` counts the commands sent. */
export function openConfiguredStore(config: Config, metrics?: Metrics): Promise<Store> {
  return config.store === 'sqlite'
    ? openStore({ kind: 'sqlite', path: config.sqlitePath })
    : openStore({
        kind: 'mongodb',
        url: config.mongodbUrl,
        ...(metrics ? { onCommand: (command: string) => metrics.storeCommands.inc({ command }) } : {}),
      });
}

/** Opens the configured store and builds the services shared by the CLI and the server. */
export async function buildCore(
  config: Config,
  opts: { log: Logger; store?: Store; keys?: KeyPairGenerator },
) {
  const store = opts.store ?? (await openConfiguredStore(config));
  const keys = opts.keys ?? rsaKeyPairs;
  if ((await store.keys.getPublicKey(INSTANCE_KEY_OWNER)) === null) {
    await store.keys.putKeyPairIfAbsent({ owner: INSTANCE_KEY_OWNER, ...(await keys.generate()) });
  }
  const urls = new Urls(config.origin);
  const signal = new LocalQueueSignal();
  const publisher = new StorePublisher(store, signal, Date.now, urls.origin);
  const groups = new GroupService({ store, urls, publisher, keys });
  const userAgent = `${SOFTWARE.name}/${SOFTWARE.version} (+${config.origin})`;
  const instanceKey = await store.keys.getPrivateKey(INSTANCE_KEY_OWNER);
  if (!instanceKey) throw new Error('the application actor has no key');
  const fetcher = new SafeFetcher({
    allowPrivateAddresses: config.allowPrivateAddresses,
    userAgent,
    signer: { keyId: urls.instanceKeyId(), privateKeyPem: instanceKey },
  });
  const resolver = new ActorResolver({ fetcher, cache: store.remoteActors, localOrigin: urls.origin });
  const domains = new DomainPolicies(store.domains, config.federationMode);
  const membership = new MembershipService({ store, urls, publisher });
  const settings = new SettingsService({
    store,
    urls,
    publisher,
    domain: config.domain,
    media: new FileMediaStore(mediaDirFor(config), config.origin),
    membership,
  });
  const moderation = new ModerationService({ store, urls, publisher, actors: resolver });
  const instance = new InstanceService({
    store,
    policies: domains,
    localDomain: config.domain,
    federationMode: config.federationMode,
  });
  return {
    store,
    urls,
    signal,
    publisher,
    groups,
    userAgent,
    fetcher,
    resolver,
    domains,
    membership,
    settings,
    moderation,
    instance,
  };
}

export type Core = Awaited<ReturnType<typeof buildCore>>;

export async function startGuild(config: Config, opts: StartOptions): Promise<Guild> {
  const log = opts.log;
  const metrics = new Metrics();
  const core = await buildCore(config, {
    ...opts,
    store: withMeteredJobs(opts.store ?? (await openConfiguredStore(config, metrics)), metrics),
  });
  const {
    store,
    urls,
    signal,
    publisher,
    groups,
    userAgent,
    resolver,
    domains,
    membership,
    settings,
    moderation,
  } = core;
  const resolveKey = (keyId: string, o: { refresh: boolean }) => resolver.getKey(keyId, o);

  // The queues run in background threads, unless this is one of them, the role has no queues, or the store was
  // handed over by the caller (a thread could not share it).
  const threadCount =
    config.role === 'web' || opts.thread || opts.store ? 0 : Math.max(0, config.workerThreads);
  const channel = opts.thread?.channel ?? `guild-queues-${randomUUID()}`;
  if (threadCount > 0 || opts.thread) signal.bridge(channel);
  // This instance's share of the configured concurrency when the queues are split over threads.
  const share = (n: number): number => Math.max(1, Math.ceil(n / (opts.thread?.count ?? 1)));

  const runners: QueueRunner[] = [];
  const breaker = new CircuitBreaker({
    onChange: (host, open) => metrics.circuitOpen.set({ host }, open ? 1 : 0),
  });
  const onOutcome = (job: Job, result: { kind: string }, ms: number): void => {
    metrics.jobs.inc({ queue: job.queue, outcome: result.kind });
    metrics.jobSeconds.observe({ queue: job.queue }, ms / 1000);
  };
  let client: DeliveryClient | null = null;
  let background: BackgroundThreads | null = null;
  // A background thread signs on signer threads of its own, at its own low priority (its share of the cores);
  // elsewhere signatures go to libuv's thread pool.
  const signers = opts.thread
    ? new SignerPool(Math.max(1, Math.ceil(availableParallelism() / opts.thread.count)), config.workerNice)
    : null;
  if (threadCount > 0) {
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
      signal.close();
      await store.close();
      throw e;
    }
  } else if (config.role !== 'web') {
    const owner = `${process.pid}-${opts.thread ? `t${opts.thread.index}-` : ''}${randomUUID().slice(0, 8)}`;
    client = new DeliveryClient({
      allowPrivateAddresses: config.allowPrivateAddresses,
      timeoutMs: config.delivery.timeoutMs,
      userAgent,
      connectionsPerOrigin: share(config.delivery.perHostConcurrency),
      signers,
    });
    const moderationInbox = new ModerationInbox({ store, urls, moderation, membership, settings });
    let groupInbox: GroupInbox | null = null;
    const commands = new CommandService({
      store,
      moderation,
      membership,
      handles: resolver,
      releaseHeld: (group, objectId) => groupInbox?.releaseHeld(group, objectId) ?? Promise.resolve(false),
    });
    groupInbox = new GroupInbox({
      store,
      urls,
      publisher,
      actors: resolver,
      moderationInbox,
      moderation,
      commands,
      domains,
    });
    const pollMs = opts.pollMs ?? 500;
    const base = { jobs: store.jobs, owner, signal, pollMs, onOutcome };
    runners.push(
      new QueueRunner({
        ...base,
        queue: 'intake',
        handler: intakeHandler(groupInbox),
        log: log.child({ loop: 'intake' }),
        concurrency: share(8),
        prefetch: share(8),
        leaseMs: config.queueLeaseMs,
      }),
      new QueueRunner({
        ...base,
        queue: 'fanout',
        handler: fanoutHandler(store, signal, config.queueLeaseMs, urls.origin),
        log: log.child({ loop: 'fanout' }),
        concurrency: 2,
        leaseMs: config.queueLeaseMs,
      }),
      new QueueRunner({
        ...base,
        queue: 'deliver',
        handler: deliverHandler({ store, client, urls, config: config.delivery, domains, breaker, metrics }),
        skipKeys: () => breaker.openHosts(),
        log: log.child({ loop: 'deliver' }),
        concurrency: share(config.delivery.concurrency),
        // Up to twice the concurrency claimed ahead: claims of about one and a half times the concurrency (up to
        // 100), so that a claim's round trips are shared by many deliveries.
        prefetch: 2 * share(config.delivery.concurrency),
        perKeyConcurrency: share(config.delivery.perHostConcurrency),
        // Longer than one attempt can take; a crashed worker's deliveries are retried when it runs out.
        leaseMs: config.delivery.timeoutMs * 2 + 5_000,
      }),
    );
    for (const r of runners) r.start();
  }

  const collectMetrics = async (): Promise<Metrics> =>
    background ? metrics.combinedWith(await background.metrics()) : metrics;

  let server: Server | null = null;
  let port: number | null = null;
  if (config.role !== 'worker') {
    const scheme = config.origin.startsWith('https:') ? 'https' : 'http';
    const receiver = new InboxReceiver({
      store,
      resolveKey,
      signal,
      scheme,
      log: log.child({ part: 'inbox' }),
      isBlockedHost: (host) => domains.isBlocked(host),
    });
    const authorizeFetch = config.requireSignedFetch
      ? async (req: Request): Promise<boolean> => {
          const v = await verifyRequest({
            method: 'GET',
            path: req.originalUrl,
            headers: req.headers,
            rawBody: null,
            now: new Date(),
            resolveKey,
          });
          return v.ok;
        }
      : null;
    const { httpHandler } = await import('./http/serve.ts');
    const handler = httpHandler(
      {
        store,
        urls,
        domain: config.domain,
        groups,
        log,
        software: SOFTWARE,
        mediaDir: mediaDirFor(config),
        authorizeFetch,
        isReady: () =>
          config.role === 'web' || (background ? background.ready : runners.every((r) => r.active)),
        metrics,
        collectMetrics,
        admin:
          config.adminToken === null
            ? null
            : {
                token: config.adminToken,
                settings,
                membership,
                moderation,
                instance: core.instance,
                handles: resolver,
              },
      },
      { receiver, groups, metrics, log, maxBodyBytes: config.inbox.maxBodyBytes },
    );
    server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, handler);
    server.keepAliveTimeout = 5_000;
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(config.port, config.host, () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    log.info('listening', {
      origin: config.origin,
      host: config.host,
      port,
      store: store.kind,
      role: config.role,
    });
  }
  if (runners.length > 0 && !opts.thread)
    log.info('worker running', { store: store.kind, role: config.role });
  if (background) log.info('worker running', { store: store.kind, role: config.role, threads: threadCount });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeIdleConnections();
        });
      }
      await Promise.all(runners.map((r) => r.stop()));
      await background?.stop();
      await client?.close();
      await signers?.close();
      signal.close();
      await store.close();
    })();
    return closing;
  };
  return {
    config,
    store,
    urls,
    groups,
    publisher,
    moderation,
    membership,
    settings,
    domains,
    server,
    port,
    metrics: collectMetrics,
    close,
  };
}
