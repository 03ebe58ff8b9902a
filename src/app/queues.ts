/** The queue side of a process: the intake, fan-out and delivery runners, started from the service graph. */
import { availableParallelism } from 'node:os';
import type { Job } from '../storage/store.ts';
import { QueueRunner } from '../federation/queue-runner.ts';
import { deliverHandler, fanoutHandler, intakeHandler } from '../federation/job-handlers.ts';
import { DeliveryClient } from '../federation/delivery.client.ts';
import { CircuitBreaker } from '../federation/circuit-breaker.ts';
import { SignerPool } from '../federation/signer-pool.ts';
import { leaseOwnerName, thisProcess } from '../federation/lease-owner.ts';
import { Maintenance } from '../federation/maintenance.ts';
import type { Services } from './compose.ts';

/**
 * Deliveries a runner claims ahead of its free slots, in multiples of its concurrency, by store: a claim costs
 * SQLite a fraction of a millisecond, a MongoDB-wire server round trips and tens of milliseconds on FerretDB.
 * A crashed worker's deliveries sent and not yet recorded are sent again (at least once): at most its
 * concurrency times one plus this factor.
 */
export const DELIVERY_PREFETCH_FACTOR = { sqlite: 2, mongodb: 8 } as const;

export interface QueueOptions {
  /** Poll interval of the runners when nothing wakes them (default 500 ms). */
  pollMs?: number;
  /**
   * Set in a background thread (see threads/): this thread's position and how many there are. Each thread
   * takes its share of the configured concurrency and signs on signer threads of its own.
   */
  thread?: { index: number; count: number };
}

/** Running queue runners. */
export interface Queues {
  /** Every runner is running. */
  readonly ready: boolean;
  /** Stops taking work and finishes the jobs in flight; closes the delivery client and the signer threads. */
  stop(): Promise<void>;
}

export function startQueues(s: Services, o: QueueOptions = {}): Queues {
  const { config, store, urls, signal, metrics, domains, log } = s;
  // This instance's share of the configured concurrency when the queues are split over threads.
  const share = (n: number): number => Math.max(1, Math.ceil(n / (o.thread?.count ?? 1)));
  // A background thread signs on signer threads of its own, at its own low priority (its share of the cores);
  // elsewhere signatures go to libuv's thread pool.
  const signers = o.thread
    ? new SignerPool(Math.max(1, Math.ceil(availableParallelism() / o.thread.count)), config.workerNice)
    : null;
  const breaker = new CircuitBreaker({
    onChange: (host, open) => metrics.circuitOpen.set({ host }, open ? 1 : 0),
  });
  const onOutcome = (job: Job, result: { kind: string }, ms: number): void => {
    metrics.jobs.inc({ outcome: result.kind, queue: job.queue });
    metrics.jobSeconds.observe({ queue: job.queue }, ms / 1000);
  };
  const client = new DeliveryClient({
    allowPrivateAddresses: config.allowPrivateAddresses,
    timeoutMs: config.delivery.timeoutMs,
    userAgent: s.userAgent,
    connectionsPerOrigin: share(config.delivery.perHostConcurrency),
    signers,
  });
  const me = thisProcess();
  const owner = leaseOwnerName(me, o.thread ? `t${o.thread.index}` : 'main');
  const base = { jobs: store.jobs, owner, signal, pollMs: o.pollMs ?? 500, onOutcome, now: s.clock };
  const runners = [
    new QueueRunner({
      ...base,
      queue: 'intake',
      handler: intakeHandler(s.inbox),
      log: log.child({ loop: 'intake' }),
      concurrency: share(8),
      prefetch: share(8),
      // Intake jobs carry the sender's host as key: one busy sender takes a quarter of the slots, and the
      // others' activities are claimed past its backlog.
      perKeyConcurrency: share(2),
      leaseMs: config.queueLeaseMs,
    }),
    new QueueRunner({
      ...base,
      queue: 'fanout',
      handler: fanoutHandler(store, signal, config.queueLeaseMs, urls.origin, s.clock, s.software),
      log: log.child({ loop: 'fanout' }),
      concurrency: 2,
      leaseMs: config.queueLeaseMs,
    }),
    new QueueRunner({
      ...base,
      queue: 'deliver',
      handler: deliverHandler({
        store,
        client,
        urls,
        config: config.delivery,
        domains,
        breaker,
        metrics,
        now: s.clock,
      }),
      skipKeys: () => breaker.openHosts(),
      log: log.child({ loop: 'deliver' }),
      concurrency: share(config.delivery.concurrency),
      // Deliveries claimed ahead (up to 500 a claim), so that a claim's round trips are shared by many of them
      // and the next claim is made while the jobs of the last one still keep every slot busy. Leases last far
      // longer than such a backlog.
      prefetch: DELIVERY_PREFETCH_FACTOR[store.kind] * share(config.delivery.concurrency),
      perKeyConcurrency: share(config.delivery.perHostConcurrency),
      // Longer than one attempt can take; a crashed worker's deliveries are retried when it runs out.
      leaseMs: config.delivery.timeoutMs * 2 + 5_000,
    }),
  ];
  for (const r of runners) r.start();
  // One maintenance loop per process: in its first background thread, or here when there are none.
  const maintenance =
    !o.thread || o.thread.index === 0
      ? new Maintenance({
          store,
          config: config.maintenance,
          me,
          log: log.child({ loop: 'maintenance' }),
          digests: s.reports,
          peers: s.peering,
          refreshPeers: () => s.software.refreshDue(),
        })
      : null;
  maintenance?.start();
  return {
    get ready() {
      return runners.every((r) => r.active);
    },
    async stop() {
      await maintenance?.stop();
      await Promise.all(runners.map((r) => r.stop()));
      await client.close();
      await signers?.close();
    },
  };
}
