/**
 * Limits of the HTTP server against clients that hold connections or send slowly: a request's headers and body
 * must arrive within `requestTimeoutMs` (else Node answers 408 and closes the connection), and connections are
 * capped per client address and in total (more are closed as they are accepted). Without them, a few hundred
 * slow inbox bodies pinned up to 256 KB each for as long as they liked.
 */
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpLimits } from '../config/config.ts';
import type { Logger } from '../log.ts';

/** How often Node looks for requests past their deadline (its default, 30 s, would stretch the deadline). */
const CHECK_INTERVAL_MS = 1_000;
/** Refusals are logged at most this often per reason, with how many there were since the last line. */
const LOG_EVERY_MS = 10_000;

export type RefusalReason = 'client-connection-cap' | 'total-connection-cap';

/** Options of `createServer`: the request deadline and the headers deadline within it. */
export function httpServerOptions(limits: HttpLimits): ServerOptions {
  return {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: Math.min(10_000, limits.requestTimeoutMs),
    connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, limits.requestTimeoutMs),
  };
}

/** Caps the connections of `server`, in total and per client; each refusal is counted and logged. */
export function limitConnections(
  server: Server,
  limits: HttpLimits,
  o: { log: Logger; onRefused?: (reason: RefusalReason) => void },
): void {
  server.maxConnections = limits.maxConnections;
  const open = new Map<string, number>();
  const refused = refusalLog(o.log);
  const refuse = (reason: RefusalReason, client: string): void => {
    o.onRefused?.(reason);
    refused(reason, client);
  };
  server.on('connection', (socket: Socket) => {
    const client = clientKey(socket.remoteAddress ?? '');
    const count = (open.get(client) ?? 0) + 1;
    if (count > limits.maxConnectionsPerClient) {
      socket.destroy();
      refuse('client-connection-cap', client);
      return;
    }
    open.set(client, count);
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1;
      if (left <= 0) open.delete(client);
      else open.set(client, left);
    });
  });
  // Node closes connections beyond `maxConnections` itself, before any 'connection' event.
  server.on('drop', (data?: { remoteAddress?: string }) =>
    refuse('total-connection-cap', clientKey(data?.remoteAddress ?? '')),
  );
}

/** Logs refusals without flooding the log: the first of each reason, then at most one line per interval. */
function refusalLog(log: Logger): (reason: RefusalReason, client: string) => void {
  const last = new Map<RefusalReason, { at: number; since: number }>();
  return (reason, client) => {
    const now = Date.now();
    const l = last.get(reason) ?? { at: 0, since: 0 };
    l.since++;
    if (now - l.at >= LOG_EVERY_MS) {
      log.warn('connection refused', { reason, client, refused: l.since });
      l.at = now;
      l.since = 0;
    }
    last.set(reason, l);
  };
}

/**
 * The address a connection limit applies to: an IPv4 address (IPv4-mapped IPv6 included), or the /64 network
 * of an IPv6 address (one host usually has a whole /64).
 */
export function clientKey(address: string): string {
  const plain = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(plain);
  if (mapped?.[1]) return mapped[1];
  if (!plain.includes(':')) return plain;
  const [head = '', tail] = plain.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
