/**
 * Inbox POSTs are served here, before the express application: they are most of a busy server's requests, and
 * routing them through express costs about as much as verifying their signatures. The behaviour is the same as
 * any other route's: a request id, a body size limit (413), 404 for an unknown group, JSON answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { InboxReceiver } from '../federation/inbox.receiver.ts';
import type { Metrics } from '../federation/metrics.ts';
import type { GroupService } from '../groups/group.service.ts';
import type { Logger } from '../log.ts';

const GROUP_INBOX = /^\/groups\/([a-z0-9_]{1,64})\/inbox$/;
/**
 * A group found live is taken as live for this long without asking the store again: most POSTs go to a few
 * groups, and a lookup each would be one store round trip per POST. A POST to a group deleted meanwhile is then
 * queued, and dropped when processed (the group is looked up again there).
 */
const LIVE_GROUP_TTL_MS = 5_000;
/** Live groups remembered at most; beyond, the memory starts afresh. */
const MAX_LIVE_GROUPS = 10_000;

export interface InboxFastPathDeps {
  receiver: InboxReceiver;
  groups: GroupService;
  metrics: Metrics;
  log: Logger;
  maxBodyBytes: number;
}

/** Returns a request listener that serves inbox POSTs and returns false for every other request. */
export function inboxFastPath(d: InboxFastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const liveUntil = new Map<string, number>();
  const isLive = async (group: string): Promise<boolean> => {
    const now = Date.now();
    if ((liveUntil.get(group) ?? 0) > now) return true;
    if (!(await d.groups.get(group))) {
      liveUntil.delete(group);
      return false;
    }
    if (liveUntil.size >= MAX_LIVE_GROUPS) liveUntil.clear();
    liveUntil.set(group, now + LIVE_GROUP_TTL_MS);
    return true;
  };
  return (req, res) => {
    if (req.method !== 'POST' || req.url === undefined) return false;
    const q = req.url.indexOf('?');
    const path = q === -1 ? req.url : req.url.slice(0, q);
    let group: string | null = null;
    if (path !== '/inbox') {
      const m = GROUP_INBOX.exec(path);
      if (!m) return false;
      group = m[1] ?? null;
    }
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' ? header.slice(0, 64) : randomUUID();
    void serve(d, isLive, req, res, path, group, requestId).catch((e: unknown) => {
      // Most often the store is unavailable: the sender tries again later, and nothing is lost.
      d.log.error('request failed', { method: 'POST', path, err: e });
      answer(res, requestId, 503, { error: 'try again later' }, false, 30);
    });
    return true;
  };
}

async function serve(
  d: InboxFastPathDeps,
  isLive: (group: string) => Promise<boolean>,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  group: string | null,
  requestId: string,
): Promise<void> {
  const body = await readBody(req, d.maxBodyBytes);
  if (body === 'too-large') {
    answer(res, requestId, 413, { error: 'request body too large' }, true);
    return;
  }
  if (body === 'aborted') return;
  if (group !== null && !(await isLive(group))) {
    answer(res, requestId, 404, { error: 'no such group' });
    return;
  }
  const started = process.hrtime.bigint();
  const result = await d.receiver.receive({
    method: 'POST',
    path: req.url ?? path,
    headers: req.headers,
    rawBody: body,
    inboxGroup: group,
    requestId,
    client: clientAddress(req),
  });
  d.metrics.inboxRequests.inc({ status: String(result.status) });
  d.metrics.inboxSeconds.observe({}, Number(process.hrtime.bigint() - started) / 1e9);
  answer(
    res,
    requestId,
    result.status,
    result.status < 300 ? { status: result.message } : { error: result.message },
    false,
    result.retryAfterSeconds,
  );
}

/**
 * The client's address: the peer's, or, when the peer is a proxy on loopback (as express's `trust proxy
 * loopback` takes it), the last address of `X-Forwarded-For` that is not loopback.
 */
export function clientAddress(req: IncomingMessage): string {
  let address = req.socket.remoteAddress ?? 'unknown';
  const forwarded = req.headers['x-forwarded-for'];
  if (typeof forwarded !== 'string') return address;
  const hops = forwarded
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  while (isLoopback(address) && hops.length > 0) address = hops.pop() ?? address;
  return address;
}

function isLoopback(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

/** The whole body, or why not: longer than `max` (checked on Content-Length first), or the client went away. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    return Promise.resolve('too-large');
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (v: Buffer | 'too-large' | 'aborted'): void => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        settle('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => settle(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    req.on('error', () => settle('aborted'));
    req.on('close', () => {
      if (!req.complete) settle('aborted');
    });
  });
}

function answer(
  res: ServerResponse,
  requestId: string,
  status: number,
  json: Record<string, string>,
  close = false,
  retryAfterSeconds?: number,
): void {
  if (res.headersSent) return;
  const text = JSON.stringify(json);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'X-Request-Id': requestId,
  };
  if (retryAfterSeconds !== undefined) headers['Retry-After'] = String(retryAfterSeconds);
  // The rest of a refused body is not read: the connection cannot carry another request.
  if (close) headers['Connection'] = 'close';
  res.writeHead(status, headers).end(text);
}
