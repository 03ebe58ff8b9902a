/**
 * Decoding of remote actor documents and their public keys (`unknown` in, checked values out). A key is only
 * taken when its owner is the actor, its id is on the actor's origin and its PEM is a public RSA key.
 */
import type { RemoteActor } from '../storage/store.ts';
import { parseRsaPublicKey } from './http-signature.ts';
import { isJsonObject } from './json-limits.ts';

/** ActivityStreams actor types accepted for remote actors. */
export const ACTOR_TYPES: ReadonlySet<string> = new Set([
  'Person',
  'Service',
  'Application',
  'Group',
  'Organization',
]);

/** A public key as published in a `publicKey` entry or a key document. */
export interface ApPublicKey {
  id: string;
  /** `owner`, or `controller` when there is no owner. */
  owner: string;
  publicKeyPem: string;
}

/** Longest URL or text field kept from a remote document. */
const MAX_FIELD_LENGTH = 2048;

/** The value as an absolute http(s) URL string, or null. */
export function httpUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_FIELD_LENGTH) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : null;
  } catch {
    return null;
  }
}

/** True when both are URLs on the same origin (scheme, host and port). */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** Decodes a key object (`id`, `owner` or `controller`, `publicKeyPem`); the PEM is not checked here. */
export function decodePublicKey(value: unknown): ApPublicKey | null {
  if (!isJsonObject(value)) return null;
  const id = httpUrl(value['id']);
  const owner = httpUrl(value['owner'] ?? value['controller']);
  const pem = value['publicKeyPem'];
  if (id === null || owner === null || typeof pem !== 'string' || pem.length > 16_384) return null;
  return { id, owner, publicKeyPem: pem };
}

/** True when `key` may stand for `actorId`: owned by it, on its origin, an RSA public key. */
export function isValidActorKey(key: ApPublicKey, actorId: string): boolean {
  return key.owner === actorId && sameOrigin(key.id, actorId) && parseRsaPublicKey(key.publicKeyPem) !== null;
}

/**
 * How an actor document lists the key `keyId`: `{ pem }` for a valid embedded key, `{ pem: null }` for a
 * reference by id, null when it does not list it (or lists it with a wrong owner, origin or PEM).
 */
export function listedKey(
  doc: Record<string, unknown>,
  actorId: string,
  keyId: string,
): { pem: string | null } | null {
  for (const entry of keyEntries(doc)) {
    if (typeof entry === 'string') {
      if (entry === keyId && sameOrigin(entry, actorId)) return { pem: null };
      continue;
    }
    const key = decodePublicKey(entry);
    if (key === null || key.id !== keyId) continue;
    return isValidActorKey(key, actorId) ? { pem: key.publicKeyPem } : null;
  }
  return null;
}

/** Options of {@link fromApActor}. */
export interface DecodeActorOptions {
  /** Take this key when the actor lists it validly; otherwise the first valid key. */
  preferKeyId?: string;
  /** The fetch time to record; defaults to now. */
  fetchedAt?: number;
}

/**
 * Decodes an actor document into a {@link RemoteActor}, or null when `id`, an actor `type` or an http(s)
 * `inbox` on the actor's origin is missing. A shared inbox on another origin is ignored (deliveries go to the
 * inbox): an actor never directs this server's deliveries to someone else's server. Keys that fail the
 * ownership, origin or PEM checks are dropped (the actor keeps no key).
 */
export function fromApActor(doc: Record<string, unknown>, opts: DecodeActorOptions = {}): RemoteActor | null {
  const id = httpUrl(doc['id']);
  const type = actorType(doc['type']);
  const inbox = httpUrl(doc['inbox']);
  if (id === null || type === null || inbox === null || !sameOrigin(inbox, id)) return null;
  const endpoints = doc['endpoints'];
  const shared = isJsonObject(endpoints) ? httpUrl(endpoints['sharedInbox']) : null;
  const sharedInbox = shared !== null && sameOrigin(shared, id) ? shared : null;
  const keys = keyEntries(doc)
    .map(decodePublicKey)
    .filter((key): key is ApPublicKey => key !== null && isValidActorKey(key, id));
  const key = keys.find((k) => k.id === opts.preferKeyId) ?? keys[0] ?? null;
  return {
    id,
    type,
    inbox,
    sharedInbox,
    preferredUsername: shortText(doc['preferredUsername']),
    name: shortText(doc['name']),
    url: linkHref(doc['url']),
    keyId: key?.id ?? null,
    publicKeyPem: key?.publicKeyPem ?? null,
    fetchedAt: opts.fetchedAt ?? Date.now(),
  };
}

/** True when a document looks like an actor rather than a key (it has an actor type). */
export function isActorDocument(doc: Record<string, unknown>): boolean {
  return actorType(doc['type']) !== null;
}

function keyEntries(doc: Record<string, unknown>): unknown[] {
  const value = doc['publicKey'];
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).slice(0, 16);
}

function actorType(value: unknown): string | null {
  const types = Array.isArray(value) ? value : [value];
  for (const type of types) if (typeof type === 'string' && ACTOR_TYPES.has(type)) return type;
  return null;
}

function shortText(value: unknown): string | null {
  return typeof value === 'string' && value.length <= MAX_FIELD_LENGTH ? value : null;
}

/** The first http(s) URL of a `url` value: a string, a Link object, or an array of those. */
function linkHref(value: unknown): string | null {
  for (const entry of Array.isArray(value) ? value.slice(0, 16) : [value]) {
    const href = isJsonObject(entry) ? httpUrl(entry['href']) : httpUrl(entry);
    if (href !== null) return href;
  }
  return null;
}
