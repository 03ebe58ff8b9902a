/**
 * The synchronous part of an inbox POST: check the signature's structure and digest, read the body (JSON with a
 * depth limit, contexts checked, never processed as JSON-LD), verify the signature with the sender's key, check
 * that the signer is the actor, admit the activity (it concerns something here, its sender is within its stored
 * bytes) and store it durably in the intake queue. Processing happens later, from the queue. Small and fast:
 * nothing here costs more than parsing the body and one RSA verification.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import type { Logger } from '../log.ts';
import { idOf, sameOrigin, str, httpUrl, type ApObject } from '../activitypub/vocab.ts';
import { checkContexts } from '../activitypub/context-policy.ts';
import { canonicalAuthority } from '../activitypub/hosts.ts';
import { parseInbound } from '../activitypub/inbound.parser.ts';
import { parseJsonObject } from './json-limits.ts';
import { prepareSignature, verifyPrepared } from './http-signature.ts';
import { TokenBuckets } from './token-bucket.ts';
import type { KeyLookup, KeyLookupOptions } from './actor-resolver.ts';
import { BURST_SECONDS, type InboxConfig } from '../config/config.ts';
import type { IntakePayload } from './job-handlers.ts';
import type { QueueSignal } from './publisher.ts';
import type { IntakeAdmission } from './intake-admission.ts';

export interface InboxRequest {
  method: string;
  /** Path with query, as in the request line. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  /** The group whose inbox was posted to, or null for the shared inbox. */
  inboxGroup: string | null;
  /** Carried into every log line about this request. */
  requestId?: string;
  /** The client's address (key fetches are limited per client); unknown when absent. */
  client?: string;
}

export interface InboxAnswer {
  status: number;
  message: string;
  /** Sent as `Retry-After` (429, 503). */
  retryAfterSeconds?: number;
}

/** What one sender may make the inbox do (see {@link inboxLimits}). */
export interface InboxLimits {
  /** Activities per signing key; charged once the signature verified. */
  perKey: TokenBuckets;
  /** Activities per sending host (`host[:port]`, canonical); charged once the signature verified. */
  perHost: TokenBuckets;
  /** Fetches of unknown keys per client address. */
  keyFetchesPerClient: TokenBuckets;
}

/** The inbox limits of a configuration: each rate per second, with bursts of {@link BURST_SECONDS} of it. */
export function inboxLimits(
  c: Pick<InboxConfig, 'ratePerKey' | 'ratePerHost' | 'keyFetchRate'>,
): InboxLimits {
  const buckets = (perSecond: number) => new TokenBuckets({ perSecond, burst: perSecond * BURST_SECONDS });
  return {
    perKey: buckets(c.ratePerKey),
    perHost: buckets(c.ratePerHost),
    keyFetchesPerClient: buckets(c.keyFetchRate),
  };
}

export interface InboxReceiverDeps {
  store: Store;
  /** The key a signature names (see {@link ActorResolver.lookupKey}). */
  resolveKey: (keyId: string, opts: KeyLookupOptions & { refresh: boolean }) => Promise<KeyLookup>;
  /** Per-sender limits; none when absent. */
  limits?: InboxLimits;
  signal: QueueSignal;
  log: Logger;
  /** Scheme of the public origin (the request target of RFC 9421 signatures). */
  scheme: 'http' | 'https';
  /** `host[:port]` of the public origin: requests must be signed for it. */
  authority: string;
  /** Whether an activity is stored at all (concerns something here, its sender within its cap). */
  admission?: IntakeAdmission;
  /** True when activities from this host are refused. */
  isBlockedHost?: (host: string) => Promise<boolean> | boolean;
  now?: () => number;
}

export function intakeJobId(activityId: string): string {
  return 'intake:' + createHash('sha256').update(activityId).digest('base64url');
}

export class InboxReceiver {
  private readonly now: () => number;
  constructor(private readonly d: InboxReceiverDeps) {
    this.now = d.now ?? Date.now;
  }

  async receive(req: InboxRequest): Promise<InboxAnswer> {
    const log = req.requestId ? this.d.log.child({ requestId: req.requestId }) : this.d.log;
    const answer = await this.check(req, log);
    if (answer.status === 400) log.debug('inbox: malformed activity', { reason: answer.message });
    return answer;
  }

  private async check(req: InboxRequest, log: Logger): Promise<InboxAnswer> {
    const prepared = prepareSignature({
      method: req.method,
      path: req.path,
      headers: req.headers,
      rawBody: req.rawBody,
      now: new Date(this.now()),
      scheme: this.d.scheme,
      authority: this.d.authority,
    });
    if (!prepared.ok) {
      log.info('inbox: signature refused', { reason: prepared.reason, detail: prepared.detail });
      return { status: 401, message: `signature refused: ${prepared.reason}` };
    }
    const keyId = prepared.value.keyId;
    const keyUrl = httpUrl(keyId);
    if (keyUrl === null)
      return { status: 401, message: 'signature refused: the keyId is not an http(s) URL' };
    // Keys of blocked hosts are never fetched.
    if (this.d.isBlockedHost && (await this.d.isBlockedHost(keyUrl.host))) {
      log.info('inbox: blocked host', { host: keyUrl.host });
      return { status: 403, message: 'this server does not federate with your host' };
    }
    // A sender over its rate is refused before anything else is spent on it (only verified requests count).
    const senderHost = canonicalAuthority(keyUrl);
    const limits = this.d.limits;
    const wait = limits
      ? Math.max(limits.perKey.retryAfter(keyId), limits.perHost.retryAfter(senderHost))
      : 0;
    if (wait > 0) {
      log.info('inbox: sender over its rate', { keyId, host: senderHost, retryAfterSeconds: wait });
      return { status: 429, message: 'too many activities from this sender', retryAfterSeconds: wait };
    }
    // The body is read before the key is resolved: what it may not say costs no fetch.
    const text = req.rawBody.toString('utf8');
    // No real activity carries U+0000, and stores on PostgreSQL (FerretDB's backend) cannot hold it.
    if (hasNulEscape(text)) return { status: 400, message: 'the activity contains the character U+0000' };
    const parsed = parseJsonObject(text);
    if (!parsed.ok) return { status: 400, message: parsed.detail };
    const doc: ApObject = parsed.value;
    const id = str(doc.id);
    const type = str(doc.type);
    const actorId = idOf(doc.actor);
    if (!id || !httpUrl(id)) return { status: 400, message: 'the activity needs an http(s) id' };
    if (!type) return { status: 400, message: 'the activity needs a type' };
    if (!actorId || !httpUrl(actorId)) return { status: 400, message: 'the activity needs an actor' };
    const contexts = checkContexts(doc, { senderOrigin: new URL(actorId).origin });
    if (!contexts.ok) {
      log.info('inbox: context refused', { reason: contexts.reason, activityId: id });
      return { status: 400, message: contexts.reason };
    }
    if (!sameOrigin(keyId, actorId)) {
      // Fetching a key that cannot be the actor's would only make this server request someone else's URL.
      log.info('inbox: key not on the actor origin', { keyId, actorId, activityId: id });
      return { status: 403, message: "the signing key is not on the actor's origin" };
    }
    let throttled = 0;
    const client = req.client ?? 'unknown';
    const verified = await verifyPrepared(prepared.value, async (kid, opts) => {
      const lookup = await this.d.resolveKey(kid, {
        ...opts,
        ...(limits ? { fetchBudget: () => limits.keyFetchesPerClient.tryTake(client) } : {}),
      });
      if (lookup.kind === 'throttled') throttled = lookup.retryAfterSeconds;
      return lookup.kind === 'found' ? lookup.key : null;
    });
    if (throttled > 0 && !verified.ok) {
      log.info('inbox: key fetches over their rate', { keyId, client, retryAfterSeconds: throttled });
      return {
        status: 429,
        message: 'too many new keys to fetch; retry later',
        retryAfterSeconds: throttled,
      };
    }
    if (!verified.ok) {
      if (verified.reason === 'key-not-found' && isSelfDelete(doc, req.rawBody)) {
        // Servers announce deleted accounts, signed by a key that is gone: nothing to verify, nothing to do.
        return { status: 202, message: 'accepted' };
      }
      log.info('inbox: signature refused', { reason: verified.reason, detail: verified.detail });
      return { status: 401, message: `signature refused: ${verified.reason}` };
    }
    if (verified.ownerId !== actorId) {
      log.info('inbox: signer is not the actor', { signer: verified.ownerId, actorId, activityId: id });
      return { status: 403, message: 'the signer is not the actor of the activity' };
    }
    limits?.perKey.take(keyId);
    limits?.perHost.take(senderHost);
    if (!sameOrigin(id, actorId))
      return { status: 400, message: "the activity id is not on the actor's origin" };
    // The key's host was checked against the domain policy above; a key and its actor share an origin. The
    // intake job's key is the sender's canonical host (with its port), whatever form the id writes it in.
    const host = canonicalAuthority(new URL(actorId));
    // The one parse of inbound activities: what does not parse is not handled by any group.
    const inbound = parseInbound(doc);
    if (!inbound.ok) {
      if (inbound.error.type === 'malformed') return { status: 400, message: inbound.error.detail };
      log.debug('inbox: activity refused', { reason: inbound.error.detail, type, activityId: id });
      return { status: 202, message: 'accepted' };
    }
    const admission = await this.d.admission?.admit(doc, { actorId, host, bytes: req.rawBody.length });
    if (admission?.kind === 'unrelated') {
      log.debug('inbox: not stored', { reason: admission.reason, type, activityId: id });
      return { status: 202, message: 'accepted' };
    }
    if (admission?.kind === 'over-quota') {
      log.info('inbox: sender over its stored bytes', { host, activityId: id });
      const retryAfterSeconds = admission.retryAfterSeconds;
      return { status: 429, message: 'too much stored for your server; try again later', retryAfterSeconds };
    }
    const payload: IntakePayload = { activity: doc, actorId, inboxGroup: req.inboxGroup };
    let inserted: number;
    try {
      const t = this.now();
      inserted = await this.d.store.jobs.enqueue(
        [{ id: intakeJobId(id), queue: 'intake', key: host, payload, runAt: t }],
        t,
      );
    } catch (e) {
      log.error('inbox: could not store the activity', { err: e, activityId: id });
      return { status: 503, message: 'try again later' };
    }
    if (inserted === 0) log.debug('inbox: duplicate activity', { activityId: id });
    else this.d.signal.notify('intake');
    return { status: 202, message: 'accepted' };
  }
}

/**
 * True when JSON text has the character U+0000 in a string or a key: only as the escape `\u0000` (a raw control
 * character is not valid JSON), not preceded by an escaping backslash.
 */
export function hasNulEscape(text: string): boolean {
  return text.includes('\\u0000') && /(?:^|[^\\])(?:\\\\)*\\u0000/.test(text);
}

function isSelfDelete(doc: ApObject, raw: Buffer): boolean {
  return (
    raw.length <= 16 * 1024 &&
    doc.type === 'Delete' &&
    typeof doc.actor === 'string' &&
    idOf(doc.object) === doc.actor
  );
}
