/**
 * HTTP client for deliveries: pooled keep-alive connections (undici), signed POSTs, and the same address rules
 * as every other outbound request (no loopback, private or link-local destinations unless allowed).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { KeyObject } from 'node:crypto';
import { Agent, request } from 'undici';
import { isForbiddenAddress } from './ip-address.ts';
import { signRequest } from './http-signature.ts';

export type DeliveryResponse =
  { kind: 'status'; status: number; retryAfterMs: number | null } | { kind: 'network'; error: string };

export interface DeliveryClientOptions {
  allowPrivateAddresses: boolean;
  timeoutMs: number;
  userAgent: string;
  /** Connections kept per destination origin. */
  connectionsPerOrigin: number;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export class DeliveryClient {
  private readonly agent: Agent;

  constructor(private readonly o: DeliveryClientOptions) {
    const allow = o.allowPrivateAddresses;
    const guardedLookup = (hostname: string, options: object, cb: LookupCallback): void => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return cb(err, []);
        const list = addresses as LookupAddress[];
        const bad = list.find((a) => isForbiddenAddress(a.address));
        if (!allow && (bad || list.length === 0)) {
          const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to a forbidden address`);
          e.code = 'EFORBIDDEN';
          return cb(e, []);
        }
        const wantsAll = (options as { all?: boolean }).all === true;
        const first = list[0];
        if (wantsAll) return cb(null, list);
        if (!first) return cb(new Error(`${hostname} did not resolve`), []);
        cb(null, first.address, first.family);
      });
    };
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      connections: o.connectionsPerOrigin,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      connect: { timeout: Math.min(o.timeoutMs, 10_000), lookup: guardedLookup },
    });
  }

  async post(
    inbox: string,
    body: string,
    signer: { keyId: string; privateKeyPem: string | KeyObject },
  ): Promise<DeliveryResponse> {
    let url: URL;
    try {
      url = new URL(inbox);
    } catch {
      return { kind: 'network', error: `bad inbox URL ${inbox}` };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return { kind: 'network', error: 'inbox is not http(s)' };
    const headers = signRequest({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/activity+json', 'user-agent': this.o.userAgent, accept: '*/*' },
      body,
      keyId: signer.keyId,
      privateKeyPem: signer.privateKeyPem,
    });
    try {
      const res = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      // Drain a bounded amount so the connection can be reused.
      await res.body.dump({ limit: 64 * 1024 });
      return {
        kind: 'status',
        status: res.statusCode,
        retryAfterMs: parseRetryAfter(res.headers['retry-after']),
      };
    } catch (e) {
      return { kind: 'network', error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function parseRetryAfter(v: string | string[] | undefined): number | null {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return null;
  const n = Number(s);
  if (Number.isFinite(n)) return Math.max(0, n * 1000);
  const t = Date.parse(s);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : null;
}
