/** The three kinds of queued work: processing an inbound activity, fanning an activity out, delivering it. */
import type { Job, Store } from '../storage/store.ts';
import { isObject, type ApObject } from '../activitypub/vocab.ts';
import { parseInbound, type InboundActivity } from '../activitypub/inbound.parser.ts';
import type { DeliveryConfig } from '../config/config.ts';
import type { Urls } from '../activitypub/urls.ts';
import { INSTANCE_KEY_OWNER } from '../activitypub/urls.ts';
import type { JobHandler, JobResult } from './queue-runner.ts';
import {
  deliveryJobId,
  hostOf,
  localIntake,
  type DeliverPayload,
  type FanoutPayload,
  type QueueSignal,
} from './publisher.ts';
import type { DeliveryClient } from './delivery.client.ts';
import type { DomainPolicies } from './domain-policy.ts';
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { digestOf } from './http-signature.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { Metrics } from './metrics.ts';
import type { SoftwareLookup } from './peer-software.service.ts';
import { originOf } from './peer-software.ts';

/** Payload of an intake job: an activity whose signature was verified when it was received. */
export interface IntakePayload extends Record<string, unknown> {
  activity: ApObject;
  actorId: string;
  inboxGroup: string | null;
}

/** One effect an inbound activity had, or why it had none. */
export type InboundOutcome = { applied: true; what: string } | { applied: false; reason: string };

/**
 * Port: what applies a parsed inbound activity (the groups' inbox). The intake queue depends on this, not on
 * the domain.
 */
export interface InboundActivityProcessor {
  /**
   * Applies the activity, received at the inbox of `inboxGroup` (null: the shared inbox), and tells, group by
   * group, what was done or why not; throws only on failures (the job is then retried).
   */
  handle(activity: InboundActivity, inboxGroup: string | null): Promise<InboundOutcome[]>;
}

export function intakeHandler(inbox: InboundActivityProcessor): JobHandler {
  return async (job, { log }) => {
    const p = job.payload as IntakePayload;
    if (!isObject(p.activity) || typeof p.actorId !== 'string')
      return { kind: 'fail', error: 'malformed intake job' };
    const id = typeof p.activity.id === 'string' ? p.activity.id : '';
    const type = typeof p.activity.type === 'string' ? p.activity.type : '';
    const parsed = parseInbound(p.activity);
    if (!parsed.ok) {
      log.info(`not applied: ${parsed.error.detail}`, { activityId: id, type, actorId: p.actorId });
      return { kind: 'done' };
    }
    if (parsed.value.actor !== p.actorId) {
      log.info('not applied: the actor is not the signer', { activityId: id, type, actorId: p.actorId });
      return { kind: 'done' };
    }
    const outcomes = await inbox.handle(parsed.value, p.inboxGroup ?? null);
    for (const o of outcomes) {
      if (o.applied) log.info(o.what, { activityId: id, type });
      else log.info(`not applied: ${o.reason}`, { activityId: id, type, actorId: p.actorId });
    }
    return { kind: 'done' };
  };
}

/** Inboxes read and queued per page of a fan-out pass. */
export const FANOUT_PAGE = 1_000;
/**
 * Inboxes a fan-out keeps of its first pass for the passes of the activities that follow it (a post's Announce of
 * the Create, then of the Note): a group of up to this many inboxes is read once per post, not once per activity.
 */
const FANOUT_KEPT_INBOXES = 20_000;
/** Deliveries queued together as one pack (on MongoDB one document: docs/adr/0010-delivery-packs.md). */
export const DELIVERY_PACK = 50;

/**
 * The pack of the deliveries of `activityId` to `inboxes`, named after them: the same page queued again (a
 * fan-out resumed after a crash) names the same packs, which are not queued twice; a pack whose inboxes differ
 * the second time (the software of a member server learned meanwhile) is another pack, and no inbox is left out.
 */
export function deliveryPackId(activityId: string, inboxes: string[]): string {
  const h = createHash('sha256').update(activityId);
  for (const inbox of inboxes) h.update('\n').update(inbox);
  return 'pack:' + h.digest('base64url');
}

/**
 * Deliveries of one page in packs: by the inboxes' places in the page (before those left out), so that a page
 * queued again with one inbox more or less changes one pack, not every pack after it.
 */
export function deliveryPacksOf(page: string[], inboxes: string[]): string[][] {
  const place = new Map(page.map((inbox, i) => [inbox, i]));
  const packs = new Map<number, string[]>();
  for (const inbox of inboxes) {
    const n = Math.floor((place.get(inbox) ?? 0) / DELIVERY_PACK);
    packs.set(n, [...(packs.get(n) ?? []), inbox]);
  }
  return [...packs.values()];
}

/** Queues for intake here an activity a group here sends to a group here (see `localIntake`). */
async function takeInLocally(
  store: Store,
  signal: QueueSignal,
  activityId: string,
  now: number,
): Promise<void> {
  const stored = await store.activities.getActivity(activityId);
  if (!stored) return;
  const doc: unknown = JSON.parse(stored.json);
  const job = isObject(doc) ? localIntake(doc, now) : null;
  if (job && (await store.jobs.enqueue([job], now)) > 0) signal.notify('intake');
}

/**
 * The inboxes among `inboxes` whose servers are of the families in `reach` (servers not known are `unknown`).
 */
export async function inboxesReached(
  inboxes: string[],
  reach: string[],
  software: Pick<SoftwareLookup, 'softwareOfAll'> | null,
): Promise<string[]> {
  const known = software ? await software.softwareOfAll(inboxes) : new Map();
  return inboxes.filter((inbox) => reach.includes(known.get(originOf(inbox) ?? '')?.family ?? 'unknown'));
}

/**
 * Streams the member inboxes of a group in pages and enqueues one delivery per distinct inbox; an activity
 * meant for some families of servers only (`reach`) goes only to theirs, as `software` knows them. A group
 * here among the members (a group that follows this one) takes the activity in directly, and inboxes whose
 * members all get it from the group it came from (`except`) are left out.
 */
export function fanoutHandler(
  store: Store,
  signal: QueueSignal,
  leaseMs: number,
  localOrigin: string | null = null,
  now: () => number = Date.now,
  software: Pick<SoftwareLookup, 'softwareOfAll'> | null = null,
): JobHandler {
  /** One page of inboxes of the current activity; `next` null when it is the last one. */
  const pageOf = async (p: FanoutPayload): Promise<{ inboxes: string[]; next: string | null }> => {
    // Inboxes whose members all get the activities from the group they came from are left out.
    if (p.except)
      return store.groupFollows.listDeliveryInboxesExcept(p.groupName, p.except, p.after, FANOUT_PAGE);
    const inboxes = await store.members.listDeliveryInboxes(p.groupName, p.after, FANOUT_PAGE);
    return { inboxes, next: inboxes[inboxes.length - 1] ?? null };
  };
  return async (job, { owner }) => {
    let p = job.payload as FanoutPayload;
    // Pages read in this run, by where they start, for the passes that follow (FANOUT_KEPT_INBOXES).
    const kept = new Map<string, { inboxes: string[]; next: string | null }>();
    let keptInboxes = 0;
    const keptPageOf = async (q: FanoutPayload): Promise<{ inboxes: string[]; next: string | null }> => {
      const at = JSON.stringify([q.groupName, q.except ?? null, q.after]);
      const known = kept.get(at);
      if (known) return known;
      const page = await pageOf(q);
      if (keptInboxes + page.inboxes.length <= FANOUT_KEPT_INBOXES) {
        kept.set(at, page);
        keptInboxes += page.inboxes.length;
      }
      return page;
    };
    for (;;) {
      const { inboxes: page, next } = await keptPageOf(p);
      if (page.length > 0) {
        const t = now();
        // Never deliver to this server itself: a group here that follows this one takes it in directly.
        const isLocal = (inbox: string) => localOrigin !== null && inbox.startsWith(`${localOrigin}/`);
        let inboxes = page.filter((inbox) => !isLocal(inbox));
        if (inboxes.length < page.length) await takeInLocally(store, signal, p.activityId, t);
        const reach = p.reach?.[p.activityId];
        if (reach) inboxes = await inboxesReached(inboxes, reach, software);
        const activityId = p.activityId;
        await store.jobs.enqueue(
          deliveryPacksOf(page, inboxes).flatMap((pack) => {
            const id = deliveryPackId(activityId, pack);
            return pack.map((inbox) => ({
              id: deliveryJobId(activityId, inbox),
              queue: 'deliver' as const,
              key: hostOf(inbox),
              payload: { activityId, inbox, signer: `group:${p.groupName}` } satisfies DeliverPayload,
              runAt: t,
              pack: id,
            }));
          }),
          t,
        );
        signal.notify('deliver');
      }
      if (next === null) {
        // One pass per activity, in order: every inbox is queued the first before any is queued the next.
        const [following, ...rest] = Array.isArray(p.more) ? p.more : [];
        if (following === undefined) return { kind: 'done' };
        const { more: _done, ...base } = p;
        p = { ...base, activityId: following, after: null, ...(rest.length > 0 ? { more: rest } : {}) };
      } else {
        p = { ...p, after: next };
      }
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
  private readonly map = new Map<string, Promise<V>>();
  constructor(private readonly max: number) {}
  /**
   * The value of `k`, loaded once for all the callers that ask while it loads. A failed load, or one that found
   * nothing (null), is not kept: the next caller loads again.
   */
  async get(k: string, load: () => Promise<V | null>): Promise<V | null> {
    let p = this.map.get(k) as Promise<V | null> | undefined;
    if (p === undefined) {
      p = load();
      if (this.map.size >= this.max) {
        const first = this.map.keys().next();
        if (!first.done) this.map.delete(first.value);
      }
      this.map.set(k, p as Promise<V>);
    }
    try {
      const v = await p;
      if (v === null && this.map.get(k) === p) this.map.delete(k);
      return v;
    } catch (e) {
      if (this.map.get(k) === p) this.map.delete(k);
      throw e;
    }
  }
}

export function deliverHandler(d: DeliverDeps): JobHandler {
  // The deliveries started together share one read of the activity and one parse of the key.
  const bodies = new Bounded<{ body: string; digest: string }>(64);
  const keys = new Bounded<KeyObject>(256);
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

  /** The body of a stored activity and its digest. */
  const bodyOf = (activityId: string) =>
    bodies.get(activityId, async () => {
      const stored = await d.store.activities.getActivity(activityId);
      return stored ? { body: stored.json, digest: digestOf(stored.json) } : null;
    });

  /** The signer's private key, parsed once: parsing the PEM costs as much as signing. */
  const keyOf = (signer: string) =>
    keys.get(signer, async () => {
      const pem = await d.store.keys.getPrivateKey(signer);
      return pem ? createPrivateKey(pem) : null;
    });

  return async (job, { log }) => {
    const p = job.payload as DeliverPayload;
    const host = hostOf(p.inbox);
    /** A delivery given up is logged with the destination, the status and what the peer answered. */
    const outcome = (r: JobResult, status: number | null = null, answer = ''): JobResult => {
      if (r.kind === 'fail')
        log.warn('delivery failed for good', {
          host,
          inbox: p.inbox,
          activityId: p.activityId,
          status,
          answer,
          attempts: job.attempts + 1,
          reason: r.error,
        });
      return r;
    };
    if (d.domains && (await d.domains.isBlocked(host)))
      return outcome({ kind: 'fail', error: 'the destination domain is blocked' });
    const [body, pem] = await Promise.all([bodyOf(p.activityId), keyOf(p.signer)]);
    if (!body) return outcome({ kind: 'fail', error: `activity ${p.activityId} is not stored` });
    if (!pem) return outcome({ kind: 'fail', error: `no key for ${p.signer}` });
    const keyId =
      p.signer === INSTANCE_KEY_OWNER
        ? d.urls.instanceKeyId()
        : d.urls.groupKeyId(p.signer.slice('group:'.length));
    const res = await d.client.post(p.inbox, body.body, { keyId, privateKeyPem: pem }, body.digest);
    if (res.kind === 'network') return outcome(backoff(job, res.error, null, await hostFailed(host)));
    const s = res.status;
    if (s >= 200 && s < 300) {
      d.breaker?.success(host);
      if (failing.delete(host) || job.attempts > 0) await d.store.hosts.recordSuccess(host, now());
      return { kind: 'done' };
    }
    const answer = answerExcerpt(res.body);
    const error = answer === '' ? `HTTP ${s}` : `HTTP ${s}: ${answer}`;
    if (s === 429 || s >= 500 || s === 408)
      return outcome(backoff(job, error, res.retryAfterMs, await hostFailed(host)), s, answer);
    return outcome({ kind: 'fail', error }, s, answer);
  };
}

/** Longest excerpt of a peer's answer kept in logs and in the job's last error. */
const ANSWER_EXCERPT_CHARS = 300;

/** The start of a peer's answer on one line, control characters replaced, at most {@link ANSWER_EXCERPT_CHARS}. */
export function answerExcerpt(body: string): string {
  // eslint-disable-next-line no-control-regex
  const line = body.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > ANSWER_EXCERPT_CHARS ? `${line.slice(0, ANSWER_EXCERPT_CHARS)}…` : line;
}
