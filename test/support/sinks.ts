/**
 * Loopback destinations for delivery tests: HTTP servers that record every POST they get (path, activity id,
 * headers, raw body) and answer with a chosen status after an optional delay; a server that accepts connections
 * and never answers; an origin where nothing listens. Recorded POSTs can be checked against the signer's key.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { verifyRequest, type VerifyResult } from '../../src/federation/http-signature.ts';
import { freePort } from './net.ts';

/** One POST as a sink received it. */
export interface SinkPost {
  /** Path with query, e.g. `/users/m3/inbox`. */
  path: string;
  /** Full URL of the inbox posted to (`origin` + `path`). */
  inbox: string;
  /** The `id` of the posted JSON document, or null when it has none or is not JSON. */
  activityId: string | null;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the whole body had arrived. */
  at: number;
}

export interface SinkOptions {
  /** The status of every answer (default 202), or one chosen per request path. */
  status?: number | ((path: string) => number);
  /** Milliseconds to wait before answering (default 0): a slow destination. */
  delayMs?: number;
  /** Answers wait until this settles (each POST is recorded when it arrives): a destination held by the test. */
  gate?: Promise<void>;
}

/** A loopback HTTP server recording POSTs. */
export interface Sink {
  origin: string;
  /** Every POST received, in order of arrival. */
  readonly posts: SinkPost[];
  /** POSTs of `activityId`, to `inbox` when given (a full URL), else to any path of this sink. */
  count(activityId: string, inbox?: string): number;
  /** Closes the server, cutting open connections. */
  close(): Promise<void>;
}

function idOfBody(body: string): string | null {
  try {
    const doc: unknown = JSON.parse(body);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return null;
    const id: unknown = (doc as Record<string, unknown>)['id'];
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/** Starts a sink on 127.0.0.1 with a free port. */
export async function startSink(opts: SinkOptions = {}): Promise<Sink> {
  const posts: SinkPost[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let origin = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    // The sender may be killed in the middle of a request: a reset connection is not an error here.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    req.on('end', () => {
      const path = req.url ?? '/';
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST') {
        posts.push({
          path,
          inbox: `${origin}${path}`,
          activityId: idOfBody(body),
          headers: req.headers,
          body,
          at: Date.now(),
        });
      }
      const status =
        req.method !== 'POST'
          ? 404
          : typeof opts.status === 'function'
            ? opts.status(path)
            : (opts.status ?? 202);
      let answer = (): void => {
        if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      };
      if (opts.gate) {
        const delayed = answer;
        answer = (): void => void opts.gate?.then(delayed);
      }
      if (!opts.delayMs) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, opts.delayMs);
      timers.add(timer);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    posts,
    count: (activityId, inbox) =>
      posts.filter((p) => p.activityId === activityId && (inbox === undefined || p.inbox === inbox)).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Starts `n` sinks with the same options. */
export async function startSinks(n: number, opts: SinkOptions = {}): Promise<Sink[]> {
  const sinks: Sink[] = [];
  try {
    for (let i = 0; i < n; i++) sinks.push(await startSink(opts));
  } catch (e) {
    await closeAll(sinks);
    throw e;
  }
  return sinks;
}

/** Closes every sink (or hanging server) given; ignores the undefined ones. */
export async function closeAll(servers: Array<{ close(): Promise<void> } | undefined>): Promise<void> {
  await Promise.all(servers.map((s) => s?.close()));
}

/** How often each (inbox, activity id) pair was posted, over many sinks. */
export function deliveryCounts(sinks: Sink[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sink of sinks) {
    for (const p of sink.posts) {
      const key = `${p.inbox} ${p.activityId ?? '(no id)'}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** Total POSTs over many sinks, distinct (inbox, activity id) pairs among them, and the excess (duplicates). */
export function deliveryTotals(sinks: Sink[]): { total: number; distinct: number; duplicates: number } {
  const counts = deliveryCounts(sinks);
  let total = 0;
  for (const n of counts.values()) total += n;
  return { total, distinct: counts.size, duplicates: total - counts.size };
}

/** Checks a recorded POST's HTTP signature against the given key and owner. */
export function verifySinkPost(
  post: SinkPost,
  key: { publicKeyPem: string; ownerId: string },
): Promise<VerifyResult> {
  return verifyRequest({
    method: 'POST',
    path: post.path,
    headers: post.headers,
    rawBody: Buffer.from(post.body, 'utf8'),
    now: new Date(),
    resolveKey: async () => key,
  });
}

/** A destination that accepts TCP connections, reads what is sent and never answers. */
export interface HangingServer {
  origin: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections that sent at least one byte (a request) and are still open. */
  openWithRequest(): number;
  close(): Promise<void>;
}

export async function startHangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  const spoke = new WeakSet<Socket>();
  let accepted = 0;
  const server = createTcpServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('data', () => spoke.add(socket));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get accepted() {
      return accepted;
    },
    openWithRequest: () => [...sockets].filter((s) => spoke.has(s)).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An origin on a loopback port where nothing listens: connections to it are refused. */
export async function refusingOrigin(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}
