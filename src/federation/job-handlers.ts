/** The three kinds of queued work: processing an inbound activity, fanning an activity out, delivering it. */
import type { Job, Store } from '../storage/store.ts';
import { isObject, type ApObject } from '../activitypub/vocab.ts';
import type { GroupInbox } from '../groups/inbox.handlers.ts';
import type { DeliveryConfig } from '../config/config.ts';
import type { Urls } from '../groups/urls.ts';
import { INSTANCE_KEY_OWNER } from '../groups/urls.ts';
import type { JobHandler, JobResult } from './queue-runner.ts';
import {
  deliveryJobId,
  hostOf,
  type DeliverPayload,
  type FanoutPayload,
  type QueueSignal,
} from './publisher.ts';
import type { DeliveryClient } from './delivery.client.ts';
import type { DomainPolicies } from './domain-policy.ts';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { digestOf } from './http-signature.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { Metrics } from './metrics.ts';

/** Payload of an intake job: an activity whose signature was verified when it was received. */
export interface IntakePayload extends Record<string, unknown> {
  activity: ApObject;
  actorId: string;
  inboxGroup: string | null;
}

export function intakeHandler(inbox: GroupInbox): JobHandler {
  return async (job, { log }) => {
    const p = job.payload as IntakePayload;
    if (!isObject(p.activity) || typeof p.actorId !== 'string')
      return { kind: 'fail', error: 'malformed intake job' };
    const id = typeof p.activity.id === 'string' ? p.activity.id : '';
    const type = typeof p.activity.type === 'string' ? p.activity.type : '';
    const outcomes = await inbox.handle({
      id,
      type,
      actorId: p.actorId,
      json: p.activity,
      inboxGroup: p.inboxGroup ?? null,
    });
    for (const o of outcomes) {
      if (o.applied) log.info(o.what, { activityId: id, type });
      else log.info(`not applied: ${o.reason}`, { activityId: id, type, actorId: p.actorId });
    }
    return { kind: 'done' };
  };
}

const FANOUT_PAGE = 500;

/** Streams the member inboxes of a group in pages and enqueues one delivery per distinct inbox. */
export function fanoutHandler(
  store: Store,
  signal: QueueSignal,
  leaseMs: number,
  localOrigin: string | null = null,
  now: () => number = Date.now,
): JobHandler {
  return async (job, { owner }) => {
    let p = job.payload as FanoutPayload;
    for (;;) {
      const page = await store.members.listDeliveryInboxes(p.groupName, p.after, FANOUT_PAGE);
      if (page.length === 0) {
        // One pass per activity, in order: every inbox is queued the first before any is queued the next.
        const [next, ...rest] = Array.isArray(p.more) ? p.more : [];
        if (next === undefined) return { kind: 'done' };
        const { more: _done, ...base } = p;
        p = { ...base, activityId: next, after: null, ...(rest.length > 0 ? { more: rest } : {}) };
        if (!(await store.jobs.updatePayload(job.id, owner, p, now())))
          return { kind: 'retry', delayMs: 0, error: 'lease lost during fan-out' };
        continue;
      }
      const t = now();
      // Never deliver to this server itself (an actor document may name an inbox here).
      const inboxes = localOrigin ? page.filter((inbox) => !inbox.startsWith(`${localOrigin}/`)) : page;
      await store.jobs.enqueue(
        inboxes.map((inbox) => ({
          id: deliveryJobId(p.activityId, inbox),
          queue: 'deliver' as const,
          key: hostOf(inbox),
          payload: {
            activityId: p.activityId,
            inbox,
            signer: `group:${p.groupName}`,
          } satisfies DeliverPayload,
          runAt: t,
        })),
        t,
      );
      signal.notify('deliver');
      p = { ...p, after: page[page.length - 1] ?? null };
      // Progress is saved after the page is queued: a restart re-queues at most one page (ids are idempotent).
      if (!(await store.jobs.updatePayload(job.id, owner, p, now()))) {
        return { kind: 'retry', delayMs: 0, error: 'lease lost during fan-out' };
      }
      await store.jobs.extendLease(job.id, owner, now() + leaseMs);
    }
  };
}

export interface DeliverDeps {
  store: Store;
  /** Deliveries to blocked hosts are dropped. */
  domains?: DomainPolicies;
  breaker?: CircuitBreaker;
  metrics?: Metrics;
  client: DeliveryClient;
  urls: Urls;
  config: DeliveryConfig;
  random?: () => number;
  now?: () => number;
}

/** A host that failed on this many distinct days (of the last 14) is unreachable: retried rarely. */
export const UNREACHABLE_AFTER_DAYS = 7;
/** Delay between attempts to an unreachable host. */
export const UNREACHABLE_RETRY_MS = 12 * 3_600_000;

/** Small bounded caches: the same activity and key are used by thousands of deliveries in a row. */
class Bounded<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    return this.map.get(k);
  }
  set(k: string, v: V): void {
    if (this.map.size >= this.max) {
      const first = this.map.keys().next();
      if (!first.done) this.map.delete(first.value);
    }
    this.map.set(k, v);
  }
  delete(k: string): void {
    this.map.delete(k);
  }
}

export function deliverHandler(d: DeliverDeps): JobHandler {
  // Promises are cached, not values: the deliveries started together share one read and one key parse.
  const bodies = new Bounded<Promise<{ body: string; digest: string } | null>>(64);
  const keys = new Bounded<Promise<KeyObject | null>>(256);
  const random = d.random ?? Math.random;
  const now = d.now ?? Date.now;
  /** Hosts with recorded failures, as far as this process knows: a success there clears the record. */
  const failing = new Set<string>();

  const backoff = (job: Job, error: string, retryAfterMs: number | null, unreachable: boolean): JobResult => {
    if (job.attempts + 1 >= d.config.maxAttempts)
      return { kind: 'fail', error: `${error} (gave up after ${job.attempts + 1} attempts)` };
    const exp = Math.min(d.config.retryMaxMs, d.config.retryBaseMs * 2 ** job.attempts);
    const delay = Math.max(retryAfterMs ?? 0, Math.round(exp * (0.5 + random() * 0.5)));
    if (unreachable)
      return {
        kind: 'retry',
        delayMs: Math.max(delay, UNREACHABLE_RETRY_MS),
        error: `${error} (host unreachable)`,
      };
    return { kind: 'retry', delayMs: Math.min(delay, d.config.retryMaxMs), error };
  };

  /** Records a failed attempt; true when the host has failed on enough distinct days to be unreachable. */
  const hostFailed = async (host: string): Promise<boolean> => {
    d.breaker?.failure(host);
    d.metrics?.hostFailures.inc({ host });
    if (failing.size > 100_000) failing.clear();
    failing.add(host);
    const status = await d.store.hosts.recordFailure(host, now());
    return status.failureDays.length >= UNREACHABLE_AFTER_DAYS;
  };

  /** The body of a stored activity and its digest, read once for all the deliveries started together. */
  const bodyOf = async (activityId: string): Promise<{ body: string; digest: string } | null> => {
    let load = bodies.get(activityId);
    if (load === undefined) {
      load = d.store.activities
        .getActivity(activityId)
        .then((stored) => (stored ? { body: stored.json, digest: digestOf(stored.json) } : null));
      bodies.set(activityId, load);
    }
    try {
      const body = await load;
      if (!body && bodies.get(activityId) === load) bodies.delete(activityId);
      return body;
    } catch (e) {
      // A failed read is not cached: the next attempt reads again.
      if (bodies.get(activityId) === load) bodies.delete(activityId);
      throw e;
    }
  };

  /** The signer's private key, parsed once: parsing the PEM costs as much as signing. */
  const keyOf = async (signer: string): Promise<KeyObject | null> => {
    let load = keys.get(signer);
    if (load === undefined) {
      load = d.store.keys.getPrivateKey(signer).then((k) => (k ? createPrivateKey(k) : null));
      keys.set(signer, load);
    }
    try {
      const key = await load;
      if (!key && keys.get(signer) === load) keys.delete(signer);
      return key;
    } catch (e) {
      if (keys.get(signer) === load) keys.delete(signer);
      throw e;
    }
  };

  return async (job) => {
    const p = job.payload as DeliverPayload;
    const host = hostOf(p.inbox);
    if (d.domains && (await d.domains.isBlocked(host)))
      return { kind: 'fail', error: 'the destination domain is blocked' };
    const [body, pem] = await Promise.all([bodyOf(p.activityId), keyOf(p.signer)]);
    if (!body) return { kind: 'fail', error: `activity ${p.activityId} is not stored` };
    if (!pem) return { kind: 'fail', error: `no key for ${p.signer}` };
    const keyId =
      p.signer === INSTANCE_KEY_OWNER
        ? d.urls.instanceKeyId()
        : d.urls.groupKeyId(p.signer.slice('group:'.length));
    const res = await d.client.post(p.inbox, body.body, { keyId, privateKeyPem: pem }, body.digest);
    if (res.kind === 'network') return backoff(job, res.error, null, await hostFailed(host));
    const s = res.status;
    if (s >= 200 && s < 300) {
      d.breaker?.success(host);
      if (failing.delete(host) || job.attempts > 0) await d.store.hosts.recordSuccess(host, now());
      return { kind: 'done' };
    }
    if (s === 429 || s >= 500 || s === 408)
      return backoff(job, `HTTP ${s}`, res.retryAfterMs, await hostFailed(host));
    return { kind: 'fail', error: `HTTP ${s}` };
  };
}
