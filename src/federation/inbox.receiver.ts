/**
 * The synchronous part of an inbox POST: verify the signature, decode, check that the signer is the actor, and
 * store the activity durably in the intake queue. Processing happens later, from the queue. Small and fast.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import type { Logger } from '../log.ts';
import { idOf, sameOrigin, str, httpUrl, type ApObject } from '../activitypub/vocab.ts';
import { toCompactedAs2, UnknownContextError } from '../activitypub/json-ld.ts';
import { parseInbound } from '../activitypub/inbound.parser.ts';
import { parseJsonObject } from './json-limits.ts';
import { verifyRequest } from './http-signature.ts';
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
}

export interface InboxAnswer {
  status: number;
  message: string;
  /** Sent as `Retry-After` (429, 503). */
  retryAfterSeconds?: number;
}

export interface InboxReceiverDeps {
  store: Store;
  resolveKey: (
    keyId: string,
    opts: { refresh: boolean },
  ) => Promise<{ publicKeyPem: string; ownerId: string } | null>;
  signal: QueueSignal;
  log: Logger;
  /** Scheme of the public origin (the request target of RFC 9421 signatures). */
  scheme: 'http' | 'https';
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
    let blockedKeyHost: string | null = null;
    const verified = await verifyRequest({
      method: req.method,
      path: req.path,
      headers: req.headers,
      rawBody: req.rawBody,
      now: new Date(this.now()),
      // Keys of blocked hosts are never fetched.
      resolveKey: async (keyId, opts) => {
        const host = httpUrl(keyId)?.host ?? '';
        if (this.d.isBlockedHost && (await this.d.isBlockedHost(host))) {
          blockedKeyHost = host;
          return null;
        }
        return this.d.resolveKey(keyId, opts);
      },
      scheme: this.d.scheme,
    });
    if (blockedKeyHost !== null) {
      log.info('inbox: blocked host', { host: blockedKeyHost });
      return { status: 403, message: 'this server does not federate with your host' };
    }
    if (!verified.ok) {
      if (verified.reason === 'key-not-found' && isSelfDelete(req.rawBody)) {
        // Servers announce deleted accounts, signed by a key that is gone: nothing to verify, nothing to do.
        return { status: 202, message: 'accepted' };
      }
      log.info('inbox: signature refused', { reason: verified.reason, detail: verified.detail });
      return { status: 401, message: `signature refused: ${verified.reason}` };
    }
    const text = req.rawBody.toString('utf8');
    // No real activity carries U+0000, and stores on PostgreSQL (FerretDB's backend) cannot hold it.
    if (hasNulEscape(text)) return { status: 400, message: 'the activity contains the character U+0000' };
    const parsed = parseJsonObject(text);
    if (!parsed.ok) return { status: 400, message: parsed.detail };
    let doc: ApObject;
    try {
      doc = await toCompactedAs2(parsed.value);
    } catch (e) {
      if (e instanceof UnknownContextError) return { status: 400, message: e.message };
      return { status: 400, message: 'the document is not valid JSON-LD' };
    }
    const id = str(doc.id);
    const type = str(doc.type);
    const actorId = idOf(doc.actor);
    if (!id || !httpUrl(id)) return { status: 400, message: 'the activity needs an http(s) id' };
    if (!type) return { status: 400, message: 'the activity needs a type' };
    if (!actorId || !httpUrl(actorId)) return { status: 400, message: 'the activity needs an actor' };
    if (verified.ownerId !== actorId) {
      log.info('inbox: signer is not the actor', { signer: verified.ownerId, actorId, activityId: id });
      return { status: 403, message: 'the signer is not the actor of the activity' };
    }
    if (!sameOrigin(id, actorId))
      return { status: 400, message: "the activity id is not on the actor's origin" };
    // The key's host was checked against the domain policy above; a key and its actor share an origin.
    const host = new URL(actorId).host;
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

function isSelfDelete(raw: Buffer): boolean {
  if (raw.length > 16 * 1024) return false;
  const p = parseJsonObject(raw.toString('utf8'), 8);
  return (
    p.ok &&
    p.value.type === 'Delete' &&
    typeof p.value.actor === 'string' &&
    idOf(p.value.object) === p.value.actor
  );
}
