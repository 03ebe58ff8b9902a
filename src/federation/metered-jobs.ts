/** Counts, in the metrics, the jobs a store's queue takes in and the claims made on it. */
import type { JobQueue, Store } from '../storage/store.ts';
import type { Metrics } from './metrics.ts';

export function meteredJobs(jobs: JobQueue, metrics: Metrics): JobQueue {
  return {
    async enqueue(list, now) {
      const inserted = await jobs.enqueue(list, now);
      const first = list[0];
      if (first !== undefined && inserted > 0) metrics.enqueued.inc({ queue: first.queue }, inserted);
      return inserted;
    },
    async claim(queue, owner, now, leaseMs, limit, excludeKeys) {
      const started = performance.now();
      const claimed = await jobs.claim(queue, owner, now, leaseMs, limit, excludeKeys);
      metrics.claims.inc({ queue });
      metrics.claimed.inc({ queue }, claimed.length);
      if (claimed.length === 0) metrics.emptyClaims.inc({ queue });
      metrics.claimSeconds.inc({ queue }, (performance.now() - started) / 1000);
      return claimed;
    },
    complete: (...a) => jobs.complete(...a),
    retry: (...a) => jobs.retry(...a),
    fail: (...a) => jobs.fail(...a),
    finish: (outcomes) => jobs.finish(outcomes),
    updatePayload: (...a) => jobs.updatePayload(...a),
    extendLease: (...a) => jobs.extendLease(...a),
    getJob: (id) => jobs.getJob(id),
    stats: (queue, now) => jobs.stats(queue, now),
    purgeFinished: (...a) => jobs.purgeFinished(...a),
    forgetPurgedIds: (...a) => jobs.forgetPurgedIds(...a),
    listLeaseOwners: (...a) => jobs.listLeaseOwners(...a),
    releaseLeases: (...a) => jobs.releaseLeases(...a),
  };
}

/** The store with its job queue metered; everything else is the store itself. */
export function withMeteredJobs(store: Store, metrics: Metrics): Store {
  const jobs = meteredJobs(store.jobs, metrics);
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'jobs') return jobs;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
