/**
 * Fetching documents from other servers without letting them reach into ours: only public addresses (unless
 * configured otherwise), connections pinned to the checked address, redirects re-checked hop by hop, bounded
 * time, size and JSON depth, and the origin rule for ActivityPub documents.
 */
import { signRequest } from './http-signature.ts';
import { DEFAULT_MAX_JSON_DEPTH, parseJsonObject } from './json-limits.ts';
import {
  parseRemoteUrl,
  resolveTarget,
  sendPinned,
  systemLookup,
  type LookupHost,
  type OutboundError,
} from './outbound-request.ts';

import { isForbiddenAddress } from './ip-address.ts';

export { isForbiddenAddress };

/** The `Accept` header sent for ActivityPub documents. */
export const ACTIVITYPUB_ACCEPT =
  'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"';

/** Why a fetch failed. */
export type FetchError =
  | OutboundError
  | 'refused-host'
  | 'http-error'
  | 'bad-json'
  | 'too-deep'
  | 'bad-content-type'
  | 'origin-mismatch';

/** A fetched JSON object and the URL it finally came from (after redirects), or why there is none. */
export type FetchResult =
  | { ok: true; doc: Record<string, unknown>; url: string }
  | { ok: false; error: FetchError; status?: number; detail: string };

/** Outcome of a POST: the status the remote answered (any status), or why no answer came. */
export type PostResult =
  { ok: true; status: number } | { ok: false; error: OutboundError | 'refused-host'; detail: string };

/** A key to sign requests with. */
export interface RequestSigner {
  keyId: string;
  privateKeyPem: string;
}

export interface SafeFetcherOptions {
  /** Allow loopback, private and link-local addresses (local development and tests only). */
  allowPrivateAddresses: boolean;
  /** Deadline of each request, connect to last body byte. Default 10 s. */
  timeoutMs?: number;
  /** Largest body accepted. Default 1 MiB. */
  maxBytes?: number;
  /** Largest JSON nesting accepted. Default 32. */
  maxJsonDepth?: number;
  userAgent: string;
  /** Signs GET requests (the server's application actor), for servers that require signed fetches. */
  signer?: RequestSigner;
  /** Host name resolution; defaults to the system resolver. */
  lookup?: LookupHost;
  /** Address policy when private addresses are not allowed; defaults to {@link isForbiddenAddress}. */
  isForbiddenAddress?: (ip: string) => boolean;
  /** True for hosts this server does not federate with (domain policy): never contacted, redirects included. */
  isRefusedHost?: (host: string) => Promise<boolean> | boolean;
}

const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export class SafeFetcher {
  readonly allowPrivateAddresses: boolean;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxJsonDepth: number;
  private readonly userAgent: string;
  private readonly signer: RequestSigner | null;
  private readonly lookup: LookupHost;
  private readonly isForbidden: ((ip: string) => boolean) | null;
  private readonly isRefusedHost: (host: string) => Promise<boolean> | boolean;

  constructor(options: SafeFetcherOptions) {
    this.allowPrivateAddresses = options.allowPrivateAddresses;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxBytes = options.maxBytes ?? 1024 * 1024;
    this.maxJsonDepth = options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
    this.userAgent = options.userAgent;
    this.signer = options.signer ?? null;
    this.lookup = options.lookup ?? systemLookup;
    this.isForbidden = options.allowPrivateAddresses
      ? null
      : (options.isForbiddenAddress ?? isForbiddenAddress);
    this.isRefusedHost = options.isRefusedHost ?? (() => false);
  }

  /** A failure when the domain policy refuses the URL's host, else null. */
  private async refused(url: URL): Promise<{ ok: false; error: 'refused-host'; detail: string } | null> {
    if (!(await this.isRefusedHost(url.host))) return null;
    return { ok: false, error: 'refused-host', detail: `${url.host} is refused by the domain policy` };
  }

  /**
   * GETs a JSON object, following up to 3 redirects (each hop checked like the first). The answer must be a
   * JSON media type (`application/json` or `*+json`).
   */
  async getJson(url: string, opts: { accept?: string } = {}): Promise<FetchResult> {
    return this.get(url, opts.accept ?? ACTIVITYPUB_ACCEPT, isJsonMediaType);
  }

  /**
   * GETs an ActivityPub document: `application/activity+json` or `application/ld+json` with the
   * ActivityStreams profile, whose `id` is on the same origin as the URL it finally came from.
   */
  async getActivityPubObject(url: string): Promise<FetchResult> {
    const result = await this.get(url, ACTIVITYPUB_ACCEPT, isActivityPubMediaType);
    if (!result.ok) return result;
    const id = result.doc['id'];
    if (typeof id !== 'string') return { ok: false, error: 'origin-mismatch', detail: 'document has no id' };
    let idOrigin: string;
    try {
      idOrigin = new URL(id).origin;
    } catch {
      return { ok: false, error: 'origin-mismatch', detail: `document id ${id.slice(0, 200)} is not a URL` };
    }
    if (idOrigin !== new URL(result.url).origin) {
      return { ok: false, error: 'origin-mismatch', detail: `document id ${id} was served by ${result.url}` };
    }
    return result;
  }

  /**
   * POSTs an activity (`Content-Type: application/activity+json`) signed with `signer`. Redirects are not
   * followed; the answer's status is returned whatever it is.
   */
  async postJson(url: string, body: string, signer: RequestSigner): Promise<PostResult> {
    const parsed = parseRemoteUrl(url);
    if (!parsed.ok) return parsed;
    const refused = await this.refused(parsed.url);
    if (refused) return refused;
    const target = await resolveTarget(parsed.url, this.lookup, this.isForbidden);
    if (!target.ok) return target;
    const headers = signRequest({
      method: 'POST',
      url: parsed.url,
      headers: { 'Content-Type': 'application/activity+json', 'User-Agent': this.userAgent },
      body,
      keyId: signer.keyId,
      privateKeyPem: signer.privateKeyPem,
    });
    const res = await sendPinned({
      method: 'POST',
      url: parsed.url,
      address: target.address,
      headers,
      body,
      timeoutMs: this.timeoutMs,
      maxBytes: this.maxBytes,
      readBody: false,
    });
    if (!res.ok) return res;
    return { ok: true, status: res.status };
  }

  private async get(
    url: string,
    accept: string,
    acceptable: (contentType: string) => boolean,
  ): Promise<FetchResult> {
    const first = parseRemoteUrl(url);
    if (!first.ok) return first;
    let current = first.url;
    for (let hop = 0; ; hop++) {
      const refused = await this.refused(current);
      if (refused) return refused;
      const target = await resolveTarget(current, this.lookup, this.isForbidden);
      if (!target.ok) return target;
      const res = await sendPinned({
        method: 'GET',
        url: current,
        address: target.address,
        headers: this.getHeaders(current, accept),
        timeoutMs: this.timeoutMs,
        maxBytes: this.maxBytes,
        readBody: true,
      });
      if (!res.ok) return res;
      const location = res.headers['location'];
      if (REDIRECT_STATUSES.has(res.status) && typeof location === 'string') {
        if (hop >= MAX_REDIRECTS) {
          return { ok: false, error: 'http-error', status: res.status, detail: 'too many redirects' };
        }
        const next = parseRemoteUrl(location, current);
        if (!next.ok) return next;
        current = next.url;
        continue;
      }
      if (res.status < 200 || res.status > 299 || res.body === null) {
        return {
          ok: false,
          error: 'http-error',
          status: res.status,
          detail: `${current.href} answered ${res.status}`,
        };
      }
      const contentType = res.headers['content-type'];
      if (typeof contentType !== 'string' || !acceptable(contentType)) {
        return {
          ok: false,
          error: 'bad-content-type',
          detail: `${current.href} answered with content type ${String(contentType)}`,
        };
      }
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(res.body);
      } catch {
        return { ok: false, error: 'bad-json', detail: 'body is not UTF-8' };
      }
      const parsed = parseJsonObject(text, this.maxJsonDepth);
      if (!parsed.ok) return parsed;
      return { ok: true, doc: parsed.value, url: current.href };
    }
  }

  private getHeaders(url: URL, accept: string): Record<string, string> {
    const headers = { Accept: accept, 'User-Agent': this.userAgent };
    if (this.signer === null) return headers;
    return signRequest({
      method: 'GET',
      url,
      headers,
      keyId: this.signer.keyId,
      privateKeyPem: this.signer.privateKeyPem,
    });
  }
}

/** Splits a Content-Type into its lowercased media type and parameter strings. */
function mediaType(contentType: string): { type: string; params: string[] } {
  const [type = '', ...params] = contentType.split(';').map((part) => part.trim());
  return { type: type.toLowerCase(), params };
}

function isJsonMediaType(contentType: string): boolean {
  const { type } = mediaType(contentType);
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** The rule Mastodon applies to fetched ActivityPub documents. */
function isActivityPubMediaType(contentType: string): boolean {
  const { type, params } = mediaType(contentType);
  if (type === 'application/activity+json') return true;
  if (type !== 'application/ld+json') return false;
  return params.some((param) => {
    const match = /^profile\s*=\s*"?([^"]*)"?$/i.exec(param);
    return match?.[1]?.split(/\s+/).includes('https://www.w3.org/ns/activitystreams') ?? false;
  });
}
