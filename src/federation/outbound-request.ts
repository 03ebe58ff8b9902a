/**
 * The low-level half of safe remote fetching: URL checks, name resolution with an address check, and one HTTP
 * exchange over a connection pinned to the checked address, with a deadline and a body size limit.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';

/** Resolves a host name to its IP addresses. */
export type LookupHost = (hostname: string) => Promise<string[]>;

/** Resolves with the operating system's resolver (as a connection would), every address. */
export const systemLookup: LookupHost = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => entry.address);
};

/** Failures that happen before or while talking to the remote server. */
export type OutboundError = 'bad-url' | 'forbidden-address' | 'timeout' | 'too-large' | 'network';

export type OutboundFailure = { ok: false; error: OutboundError; detail: string };

/** Parses a URL a remote fetch may target: http or https, a host, no credentials. */
export function parseRemoteUrl(input: string | URL, base?: URL): { ok: true; url: URL } | OutboundFailure {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    return { ok: false, error: 'bad-url', detail: `not a URL: ${String(input).slice(0, 200)}` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, error: 'bad-url', detail: `scheme ${url.protocol} is not allowed` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, error: 'bad-url', detail: 'credentials in URL' };
  }
  if (url.hostname === '') return { ok: false, error: 'bad-url', detail: 'no host' };
  url.hash = '';
  return { ok: true, url };
}

/**
 * Resolves the URL's host and checks every address it resolves to with `isForbidden` (null: no check).
 * Returns the address to connect to; refuses when any address is forbidden, so a name cannot mix one in.
 */
export async function resolveTarget(
  url: URL,
  lookup: LookupHost,
  isForbidden: ((ip: string) => boolean) | null,
): Promise<{ ok: true; address: string } | OutboundFailure> {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: string[];
  if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    try {
      addresses = await lookup(host);
    } catch (err) {
      return { ok: false, error: 'network', detail: `cannot resolve ${host}: ${errorText(err)}` };
    }
  }
  const valid = addresses.filter((address) => isIP(address) !== 0);
  const first = valid[0];
  if (first === undefined || valid.length !== addresses.length) {
    return { ok: false, error: 'network', detail: `no usable address for ${host}` };
  }
  if (isForbidden !== null) {
    const forbidden = valid.find((address) => isForbidden(address));
    if (forbidden !== undefined) {
      return { ok: false, error: 'forbidden-address', detail: `${host} resolves to ${forbidden}` };
    }
  }
  return { ok: true, address: first };
}

/** One request to send over a connection to `address`. */
export interface PinnedRequest {
  method: 'GET' | 'POST';
  url: URL;
  /** The checked IP address the connection goes to, whatever the host name resolves to now. */
  address: string;
  headers: Record<string, string>;
  body?: string;
  /** Deadline for the whole exchange: connect, headers and body. */
  timeoutMs: number;
  /** Largest body read; a longer one fails with `too-large`. */
  maxBytes: number;
  /** Read the body of 2xx answers (other bodies are discarded). */
  readBody: boolean;
}

export type PinnedResponse =
  | { ok: true; status: number; headers: Record<string, string | string[] | undefined>; body: Buffer | null }
  | OutboundFailure;

/**
 * Sends one request and never follows redirects. The connection goes to the pinned address (TLS still checks
 * the certificate against the host name), so a second DNS answer cannot redirect it.
 */
export async function sendPinned(req: PinnedRequest): Promise<PinnedResponse> {
  const family = isIP(req.address);
  const agent = new Agent({
    connect: {
      timeout: req.timeoutMs,
      lookup: (
        _hostname: string,
        options: LookupOptions,
        callback: (
          err: NodeJS.ErrnoException | null,
          address: string | LookupAddress[],
          family?: number,
        ) => void,
      ) => {
        if (options.all === true) callback(null, [{ address: req.address, family }]);
        else callback(null, req.address, family);
      },
    },
    headersTimeout: req.timeoutMs,
    bodyTimeout: req.timeoutMs,
    connections: 1,
  });
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);
  try {
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      dispatcher: agent,
      signal: controller.signal,
    });
    const status = res.statusCode;
    if (!req.readBody || status < 200 || status > 299) {
      discard(res.body);
      return { ok: true, status, headers: res.headers, body: null };
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > req.maxBytes) {
      discard(res.body);
      return { ok: false, error: 'too-large', detail: `Content-Length ${declared} exceeds ${req.maxBytes}` };
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      total += buf.length;
      if (total > req.maxBytes) {
        discard(res.body);
        return { ok: false, error: 'too-large', detail: `body exceeds ${req.maxBytes} bytes` };
      }
      chunks.push(buf);
    }
    return { ok: true, status, headers: res.headers, body: Buffer.concat(chunks, total) };
  } catch (err) {
    if (timedOut || isTimeoutError(err)) {
      return {
        ok: false,
        error: 'timeout',
        detail: `no complete answer from ${req.url.host} in ${req.timeoutMs} ms`,
      };
    }
    return { ok: false, error: 'network', detail: `${req.url.host}: ${errorText(err)}` };
  } finally {
    clearTimeout(timer);
    agent.destroy().catch(() => undefined);
  }
}

/** Drops a response body we will not read (the connection is closed with the agent). */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => undefined);
  body.destroy();
}

function isTimeoutError(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  return (
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  );
}

/** A short description of a caught value for error details. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
