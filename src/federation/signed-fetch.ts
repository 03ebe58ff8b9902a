/**
 * Secure mode (`GUILD_REQUIRE_SIGNED_FETCH`): which signed GETs of ActivityPub documents are answered. The
 * signature is checked as inbox signatures are (structure, time window, this server's scheme for RFC 9421), and
 * the domain policy is applied to the key's host before its key is fetched: a blocked host, or one not allowed in
 * allow-list mode, gets 403 without a single request to it.
 */
import { canonicalHost } from '../activitypub/hosts.ts';
import { prepareSignature, verifyPrepared } from './http-signature.ts';
import type { KeyLookup, KeyLookupOptions } from './actor-resolver.ts';
import type { TokenBuckets } from './token-bucket.ts';

/** A GET as the authorizer sees it. */
export interface SignedGet {
  /** Path with query, as received. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The client's address (key fetches are limited per client). */
  client?: string;
}

/** Whether a signed GET is answered: the signer, or the status and message of the refusal. */
export type FetchAuthorization =
  | { ok: true; signer: string }
  | { ok: false; status: 401 | 403; message: string }
  | { ok: false; status: 429; message: string; retryAfterSeconds: number };

export interface FetchAuthorizerDeps {
  /** The key a signature names (see {@link ActorResolver.lookupKey}). */
  lookupKey: (keyId: string, opts: KeyLookupOptions & { refresh: boolean }) => Promise<KeyLookup>;
  /** Fetches of unknown keys per client address; no limit when absent. */
  keyFetchesPerClient?: TokenBuckets;
  /** True when this server does not federate with the host (blocked, or not allowed in allow-list mode). */
  isBlockedHost: (host: string) => Promise<boolean> | boolean;
  /** Scheme of the public origin (the request target of RFC 9421 signatures). */
  scheme: 'http' | 'https';
  /** `host[:port]` of the public origin: requests must be signed for it. */
  authority: string;
  now?: () => number;
}

export class FetchAuthorizer {
  private readonly now: () => number;
  constructor(private readonly d: FetchAuthorizerDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Checks a GET's signature and its signer's host; fetches the key only for hosts this server federates with. */
  async authorize(req: SignedGet): Promise<FetchAuthorization> {
    const prepared = prepareSignature({
      method: 'GET',
      path: req.path,
      headers: req.headers,
      rawBody: null,
      now: new Date(this.now()),
      scheme: this.d.scheme,
      authority: this.d.authority,
    });
    if (!prepared.ok) return { ok: false, status: 401, message: `signature refused: ${prepared.reason}` };
    const host = canonicalHost(prepared.value.keyId);
    if (host === null || !/^https?:\/\//i.test(prepared.value.keyId))
      return { ok: false, status: 401, message: 'signature refused: the keyId is not an http(s) URL' };
    if (await this.d.isBlockedHost(host))
      return { ok: false, status: 403, message: 'this server does not federate with your host' };
    let throttled = 0;
    const budget = this.d.keyFetchesPerClient;
    const client = req.client ?? 'unknown';
    const verified = await verifyPrepared(prepared.value, async (keyId, opts) => {
      const lookup = await this.d.lookupKey(keyId, {
        ...opts,
        ...(budget ? { fetchBudget: () => budget.tryTake(client) } : {}),
      });
      if (lookup.kind === 'throttled') throttled = lookup.retryAfterSeconds;
      return lookup.kind === 'found' ? lookup.key : null;
    });
    if (!verified.ok && throttled > 0)
      return { ok: false, status: 429, message: 'too many new keys to fetch', retryAfterSeconds: throttled };
    if (!verified.ok) return { ok: false, status: 401, message: `signature refused: ${verified.reason}` };
    return { ok: true, signer: verified.ownerId };
  }
}
