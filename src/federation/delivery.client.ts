/**
 * HTTP client for deliveries: signed POSTs over pooled keep-alive connections (node:http and node:https agents,
 * a bounded number of sockets per destination and overall), with the same address rules as every other
 * outbound request (no loopback, private or link-local destinations unless allowed) and a deadline per request.
 *
 * node:http is used rather than undici here: a fan-out opens connections to thousands of distinct servers, and
 * an agent's socket per origin costs far less than undici's pool and client objects per origin.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { isForbiddenAddress } from './ip-address.ts';
import {
  prepareSignedRequest,
  signRequestAsync,
  withSignature,
  type SignRequestInput,
} from './http-signature.ts';
import type { SignerPool } from './signer-pool.ts';

export type DeliveryResponse =
  | {
      kind: 'status';
      status: number;
      retryAfterMs: number | null;
      /** The start of the answer's body (at most {@link BODY_EXCERPT_BYTES} bytes), as text. */
      body: string;
    }
  | { kind: 'network'; error: string };

export interface DeliveryClientOptions {
  allowPrivateAddresses: boolean;
  timeoutMs: number;
  userAgent: string;
  /** Connections kept per destination origin. */
  connectionsPerOrigin: number;
  /**
   * Where signatures are computed: on these low-priority signer threads, else on libuv's thread pool (either
   * way the calling thread keeps sending and receiving meanwhile).
   */
  signers?: SignerPool | null;
}

/** Most of an answer's body read (and dropped) before the connection is given up instead of reused. */
const MAX_DRAIN_BYTES = 64 * 1024;
/** The start of an answer's body that is kept, to tell why a delivery was refused. */
export const BODY_EXCERPT_BYTES = 1024;

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export class DeliveryClient {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;
  private readonly lookup: (hostname: string, options: object, cb: LookupCallback) => void;

  constructor(private readonly o: DeliveryClientOptions) {
    const allow = o.allowPrivateAddresses;
    this.lookup = (hostname, options, cb) => {
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
    const agentOptions = {
      keepAlive: true,
      keepAliveMsecs: 1_000,
      maxSockets: o.connectionsPerOrigin,
      // The most recently used socket first: the others time out and close when traffic drops.
      scheduling: 'lifo' as const,
      // Idle connections close after this long (a fan-out to thousands of servers leaves as many open).
      timeout: 10_000,
    };
    this.http = new HttpAgent(agentOptions);
    this.https = new HttpsAgent(agentOptions);
  }

  async post(
    inbox: string,
    body: string,
    signer: { keyId: string; privateKeyPem: string | KeyObject },
    digest?: string,
  ): Promise<DeliveryResponse> {
    let url: URL;
    try {
      url = new URL(inbox);
    } catch {
      return { kind: 'network', error: `bad inbox URL ${inbox}` };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return { kind: 'network', error: 'inbox is not http(s)' };
    if (url.username !== '' || url.password !== '')
      return { kind: 'network', error: 'credentials in inbox URL' };
    // Names are checked when they resolve; an address written in the URL is checked here.
    const literal = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (isIP(literal) !== 0 && !this.o.allowPrivateAddresses && isForbiddenAddress(literal))
      return { kind: 'network', error: `EFORBIDDEN: ${literal} is a forbidden address` };
    const input: SignRequestInput = {
      method: 'POST',
      url,
      headers: { 'Content-Type': 'application/activity+json', 'User-Agent': this.o.userAgent, Accept: '*/*' },
      body,
      keyId: signer.keyId,
      privateKeyPem: signer.privateKeyPem,
      ...(digest !== undefined ? { digest } : {}),
    };
    const headers = await this.sign(input);
    headers['Content-Length'] = String(Buffer.byteLength(body));
    return this.send(url, headers, body);
  }

  private async sign(input: SignRequestInput): Promise<Record<string, string>> {
    const signers = this.o.signers;
    if (!signers || typeof input.privateKeyPem === 'string') return signRequestAsync(input);
    const { headers, signingString, names } = prepareSignedRequest(input);
    return withSignature(headers, input.keyId, names, await signers.sign(input.privateKeyPem, signingString));
  }

  private send(url: URL, headers: Record<string, string>, body: string): Promise<DeliveryResponse> {
    const secure = url.protocol === 'https:';
    return new Promise<DeliveryResponse>((resolve) => {
      let done = false;
      const finish = (r: DeliveryResponse): void => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        resolve(r);
      };
      const req = (secure ? httpsRequest : httpRequest)(
        {
          protocol: url.protocol,
          hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
          port: url.port === '' ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers,
          agent: secure ? this.https : this.http,
          lookup: this.lookup,
          ...(secure ? { servername: isIP(url.hostname) === 0 ? url.hostname : undefined } : {}),
        },
        (res) =>
          drain(res, (complete, excerpt) => {
            // A body that could not be read whole leaves the connection in an unknown state: it is not reused.
            if (!complete) req.destroy();
            finish({
              kind: 'status',
              status: res.statusCode ?? 0,
              retryAfterMs: parseRetryAfter(res.headers['retry-after']),
              body: excerpt.toString('utf8'),
            });
          }),
      );
      const deadline = setTimeout(() => {
        req.destroy(new Error(`no complete answer in ${this.o.timeoutMs} ms`));
      }, this.o.timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        finish({ kind: 'network', error: `${e.code ?? e.name}: ${e.message}` });
      });
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.http.destroy();
    this.https.destroy();
  }
}

/**
 * Reads an answer's body (at most {@link MAX_DRAIN_BYTES}), keeping its first {@link BODY_EXCERPT_BYTES} bytes;
 * `complete` says whether it ended.
 */
function drain(res: IncomingMessage, then: (complete: boolean, excerpt: Buffer) => void): void {
  let read = 0;
  let called = false;
  const kept: Buffer[] = [];
  let keptBytes = 0;
  const end = (complete: boolean): void => {
    if (called) return;
    called = true;
    then(complete, Buffer.concat(kept));
  };
  res.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (keptBytes < BODY_EXCERPT_BYTES) {
      const part = chunk.subarray(0, BODY_EXCERPT_BYTES - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
    if (read > MAX_DRAIN_BYTES) end(false);
  });
  res.on('end', () => end(true));
  res.on('error', () => end(false));
  res.on('aborted', () => end(false));
}

function parseRetryAfter(v: string | string[] | undefined): number | null {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return null;
  const n = Number(s);
  if (Number.isFinite(n)) return Math.max(0, n * 1000);
  const t = Date.parse(s);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : null;
}
