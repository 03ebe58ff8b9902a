/**
 * Resolution of remote actors, their signing keys and their WebFinger handles, with a cache in the store.
 * Every document comes through {@link SafeFetcher} (address checks, origin rule); nothing is cached unless the
 * document is the one its id names.
 */
import type { RemoteActor, RemoteActorRepository } from '../storage/store.ts';
import {
  decodePublicKey,
  fromApActor,
  httpUrl,
  isActorDocument,
  listedKey,
  sameOrigin,
} from './actor-decoder.ts';
import type { ResolvedKey } from './http-signature.ts';
import { parseRsaPublicKey } from './http-signature.ts';
import type { FetchResult, SafeFetcher } from './safe-fetch.ts';
import { resolveWebfinger } from './webfinger-client.ts';
import { canonicalHost } from '../activitypub/hosts.ts';
import { TokenBuckets } from './token-bucket.ts';

export interface ActorResolverOptions {
  fetcher: SafeFetcher;
  cache: RemoteActorRepository;
  /** How long a cached actor is used without refetching. Default 24 h. */
  ttlMs?: number;
  /** Clock in epoch milliseconds. */
  now?: () => number;
  /** Least time between two network fetches of the same key, forced refreshes included. Default 60 s. */
  minRefreshIntervalMs?: number;
  /** This server's own origin: its ids are never remote actors or keys (no fetching ourselves). */
  localOrigin?: string;
  /**
   * Key fetches allowed per destination host (its canonical name): `perSecond` sustained, `burst` at once.
   * Default 10/s and 300; `perSecond` 0 turns the limit off.
   */
  keyFetchesPerHost?: { perSecond: number; burst: number };
}

/** How a key lookup ended: the key, no such (valid) key, or not fetched because a fetch budget is spent. */
export type KeyLookup =
  { kind: 'found'; key: ResolvedKey } | { kind: 'none' } | { kind: 'throttled'; retryAfterSeconds: number };

/** Options of {@link ActorResolver.lookupKey}. */
export interface KeyLookupOptions {
  /** Bypass caches (the key may have been rotated). */
  refresh?: boolean;
  /**
   * Asked before a network fetch, after the per-host budget allowed it: 0 to go on (and count the fetch), else
   * the seconds the caller's own budget needs (the requesting client's).
   */
  fetchBudget?: () => number;
}

/** A key fetch outcome: the key, a definite "no such valid key", or no answer (keep what we had). */
type KeyFetch = { kind: 'found'; key: ResolvedKey } | { kind: 'invalid' } | { kind: 'unreachable' };

/** Bound on the per-key fetch-time memory. */
const MAX_TRACKED_KEYS = 10_000;

/** Keys verified recently are kept in memory this long: the inbox reads them on every POST. */
const HOT_KEYS_TTL_MS = 5 * 60_000;
const HOT_KEYS_MAX = 20_000;

export class ActorResolver {
  private readonly hotKeys = new Map<string, { key: ResolvedKey; until: number }>();
  private readonly fetcher: SafeFetcher;
  private readonly cache: RemoteActorRepository;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly minRefreshIntervalMs: number;
  private readonly lastKeyFetch = new Map<string, number>();
  private readonly keyFetches = new Map<string, Promise<KeyFetch>>();
  private readonly fetchesPerHost: TokenBuckets;

  constructor(options: ActorResolverOptions) {
    this.fetcher = options.fetcher;
    this.cache = options.cache;
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
    this.now = options.now ?? Date.now;
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 60_000;
    this.localOrigin = options.localOrigin ?? null;
    this.fetchesPerHost = new TokenBuckets({
      ...(options.keyFetchesPerHost ?? { perSecond: 10, burst: 300 }),
      now: this.now,
    });
  }

  private readonly localOrigin: string | null;

  /** A usable remote id: http(s) and not on this server's origin. */
  private isRemote(id: string): boolean {
    const u = httpUrl(id);
    return u !== null && new URL(u).origin !== this.localOrigin;
  }

  /** Decodes an actor document (see {@link fromApActor}), stamped with this resolver's clock. */
  fromApActor(doc: Record<string, unknown>): RemoteActor | null {
    return fromApActor(doc, { fetchedAt: this.now() });
  }

  /**
   * The actor with this id: from the cache while fresh, else fetched (and cached) when the document's id is
   * exactly `id`. When a refetch fails the stale cached actor is returned; null when there is none.
   */
  async getActor(id: string, opts: { refresh?: boolean } = {}): Promise<RemoteActor | null> {
    if (!this.isRemote(id)) return null;
    const cached = await this.cache.getRemoteActor(id);
    if (cached !== null && opts.refresh !== true && this.isFresh(cached)) return cached;
    const res = await this.fetcher.getActivityPubObject(id);
    if (!res.ok) return isUnreachable(res) ? cached : null;
    const actor = fromApActor(res.doc, {
      fetchedAt: this.now(),
      ...(cached?.keyId ? { preferKeyId: cached.keyId } : {}),
    });
    if (actor === null || actor.id !== id) return null;
    await this.cache.putRemoteActor(actor);
    return actor;
  }

  /**
   * The public key `keyId` and the actor owning it; the `resolveKey` of signature verification. `keyId` is a
   * fragment of the actor (`actor#main-key`) or a key document whose owner actor must list it. Fetches when
   * the cache has no fresh entry or on `refresh`; never fetches one key twice within the minimum interval
   * (then the cached key, if any, is returned).
   */
  async getKey(keyId: string, opts: { refresh?: boolean } = {}): Promise<ResolvedKey | null> {
    const lookup = await this.lookupKey(keyId, opts);
    return lookup.kind === 'found' ? lookup.key : null;
  }

  /**
   * {@link getKey} with the reason when there is no key: a network fetch is counted against a budget per
   * destination host and, through `fetchBudget`, the caller's; when one is spent nothing is fetched and the
   * cached key (if any) is used, else the lookup is `throttled`.
   */
  async lookupKey(keyId: string, opts: KeyLookupOptions = {}): Promise<KeyLookup> {
    if (!this.isRemote(keyId)) return { kind: 'none' };
    if (opts.refresh !== true) {
      const hot = this.hotKeys.get(keyId);
      if (hot !== undefined && hot.until > this.now()) return { kind: 'found', key: hot.key };
    }
    const lookup = await this.getKeyFromCacheOrRemote(keyId, opts);
    if (lookup.kind === 'found') {
      if (this.hotKeys.size >= HOT_KEYS_MAX) this.hotKeys.clear();
      this.hotKeys.set(keyId, { key: lookup.key, until: this.now() + HOT_KEYS_TTL_MS });
    } else if (lookup.kind === 'none') {
      this.hotKeys.delete(keyId);
    }
    return lookup;
  }

  /** 0 when a fetch of `keyId` may start now (and counts it), else the seconds to wait. */
  private mayFetch(keyId: string, opts: KeyLookupOptions): number {
    const host = canonicalHost(keyId) ?? keyId;
    const hostWait = this.fetchesPerHost.retryAfter(host);
    if (hostWait > 0) return hostWait;
    const callerWait = opts.fetchBudget?.() ?? 0;
    if (callerWait > 0) return callerWait;
    this.fetchesPerHost.take(host);
    return 0;
  }

  private async getKeyFromCacheOrRemote(keyId: string, opts: KeyLookupOptions): Promise<KeyLookup> {
    const cached = await this.cache.getRemoteActorByKeyId(keyId);
    const cachedKey: ResolvedKey | null =
      cached?.publicKeyPem != null && cached.keyId === keyId
        ? { publicKeyPem: cached.publicKeyPem, ownerId: cached.id }
        : null;
    const fromCache = (): KeyLookup => (cachedKey ? { kind: 'found', key: cachedKey } : { kind: 'none' });
    if (cachedKey !== null && cached !== null && opts.refresh !== true && this.isFresh(cached))
      return fromCache();
    const last = this.lastKeyFetch.get(keyId);
    if (last !== undefined && this.now() - last < this.minRefreshIntervalMs && !this.keyFetches.has(keyId)) {
      return fromCache();
    }
    let pending = this.keyFetches.get(keyId);
    if (pending === undefined) {
      const wait = this.mayFetch(keyId, opts);
      if (wait > 0) return cachedKey ? fromCache() : { kind: 'throttled', retryAfterSeconds: wait };
      this.recordKeyFetch(keyId);
      pending = this.fetchKey(keyId).finally(() => this.keyFetches.delete(keyId));
      this.keyFetches.set(keyId, pending);
    }
    const outcome = await pending;
    if (outcome.kind === 'found') return { kind: 'found', key: outcome.key };
    return outcome.kind === 'unreachable' ? fromCache() : { kind: 'none' };
  }

  /**
   * The actor id behind a handle (`@alice@host`, `alice@host`, `acct:alice@host`, host may carry a port) by
   * WebFinger: https first, then http when private addresses are allowed (local peers). A `self` link on
   * another host counts only when that host's WebFinger names the actor by this handle (see
   * {@link resolveWebfinger}). Null when unknown or unconfirmed: the id returned is the account the handle names.
   */
  async resolveHandle(handle: string): Promise<string | null> {
    return resolveWebfinger(this.fetcher, handle, {
      usernameOf: async (id) => (await this.getActor(id))?.preferredUsername ?? null,
    });
  }

  private async fetchKey(keyId: string): Promise<KeyFetch> {
    const url = new URL(keyId);
    url.hash = '';
    const res = await this.fetcher.getActivityPubObject(url.href);
    if (!res.ok) return isUnreachable(res) ? { kind: 'unreachable' } : { kind: 'invalid' };
    const doc = res.doc;
    if (isActorDocument(doc) && doc['id'] !== url.href) return this.fetchKeyOfActorAt(keyId, doc);
    if (isActorDocument(doc)) {
      // keyId is a fragment of the actor document.
      const actor = fromApActor(doc, { preferKeyId: keyId, fetchedAt: this.now() });
      if (actor === null || actor.keyId !== keyId || actor.publicKeyPem === null) return { kind: 'invalid' };
      await this.cache.putRemoteActor(actor);
      return { kind: 'found', key: { publicKeyPem: actor.publicKeyPem, ownerId: actor.id } };
    }
    // keyId names a key document; its owner must be on the same origin and list the key.
    const key = decodePublicKey(doc);
    if (key === null || key.id !== keyId || parseRsaPublicKey(key.publicKeyPem) === null) {
      return { kind: 'invalid' };
    }
    if (!sameOrigin(key.owner, keyId)) return { kind: 'invalid' };
    const ownerRes = await this.fetcher.getActivityPubObject(key.owner);
    if (!ownerRes.ok) return isUnreachable(ownerRes) ? { kind: 'unreachable' } : { kind: 'invalid' };
    const actor = fromApActor(ownerRes.doc, { preferKeyId: keyId, fetchedAt: this.now() });
    if (actor === null || actor.id !== key.owner) return { kind: 'invalid' };
    const listing = listedKey(ownerRes.doc, actor.id, keyId);
    if (listing === null) return { kind: 'invalid' };
    if (listing.pem !== null && !samePublicKey(listing.pem, key.publicKeyPem)) return { kind: 'invalid' };
    await this.cache.putRemoteActor({ ...actor, keyId, publicKeyPem: key.publicKeyPem });
    return { kind: 'found', key: { publicKeyPem: key.publicKeyPem, ownerId: actor.id } };
  }

  /**
   * The key URL answered with an actor document of another id: GoToSocial serves, unsigned at
   * `/users/NAME/main-key`, a minimal actor (id, type, preferredUsername, publicKey) and the full actor only to
   * signed GETs (`internal/processing/fedi/user.go`). As Mastodon does (`fetch_remote_key_service.rb`, which
   * refetches a document by its own id), the actor is fetched by its id, signed; it is used when it is on the
   * key's origin and lists `keyId` with the same key as the minimal document.
   */
  private async fetchKeyOfActorAt(keyId: string, minimal: Record<string, unknown>): Promise<KeyFetch> {
    const actorId = httpUrl(minimal['id']);
    if (actorId === null || !sameOrigin(actorId, keyId) || !this.isRemote(actorId))
      return { kind: 'invalid' };
    const listed = listedKey(minimal, actorId, keyId);
    if (listed === null) return { kind: 'invalid' };
    const res = await this.fetcher.getActivityPubObject(actorId);
    if (!res.ok) return isUnreachable(res) ? { kind: 'unreachable' } : { kind: 'invalid' };
    const actor = fromApActor(res.doc, { preferKeyId: keyId, fetchedAt: this.now() });
    if (actor === null || actor.id !== actorId || actor.keyId !== keyId || actor.publicKeyPem === null)
      return { kind: 'invalid' };
    if (listed.pem !== null && !samePublicKey(listed.pem, actor.publicKeyPem)) return { kind: 'invalid' };
    await this.cache.putRemoteActor(actor);
    return { kind: 'found', key: { publicKeyPem: actor.publicKeyPem, ownerId: actor.id } };
  }

  private isFresh(actor: RemoteActor): boolean {
    return this.now() - actor.fetchedAt < this.ttlMs;
  }

  private recordKeyFetch(keyId: string): void {
    const now = this.now();
    this.lastKeyFetch.delete(keyId);
    this.lastKeyFetch.set(keyId, now);
    if (this.lastKeyFetch.size <= MAX_TRACKED_KEYS) return;
    // Entries are in fetch order: drop the oldest ones, which no longer limit anything or are the least recent.
    for (const [id, at] of this.lastKeyFetch) {
      if (this.lastKeyFetch.size <= MAX_TRACKED_KEYS && now - at < this.minRefreshIntervalMs) break;
      this.lastKeyFetch.delete(id);
    }
  }
}

/** Failures that say nothing about the document (the server did not answer properly). */
function isUnreachable(res: Extract<FetchResult, { ok: false }>): boolean {
  if (res.error === 'timeout' || res.error === 'network') return true;
  return res.error === 'http-error' && (res.status === undefined || res.status >= 500 || res.status === 429);
}

function samePublicKey(a: string, b: string): boolean {
  const ka = parseRsaPublicKey(a);
  const kb = parseRsaPublicKey(b);
  return ka !== null && kb !== null && ka.equals(kb);
}
