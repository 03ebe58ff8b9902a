/**
 * HTTP signatures: signing outbound requests with draft-cavage-http-signatures-12 (the dialect the fediverse
 * speaks) and verifying inbound ones (cavage, or RFC 9421) at least as strictly as Mastodon does.
 */
import {
  createHash,
  createPublicKey,
  sign as rsaSign,
  verify as rsaVerify,
  type KeyObject,
} from 'node:crypto';
import { prepareCavageSignature } from './cavage-signature.ts';
import { prepareMessageSignature } from './message-signature.ts';
import { quoteParam } from './signature-header.ts';

export { parseSignatureHeader, type ParsedSignature, type ParseSignatureResult } from './signature-header.ts';

/** Clock skew tolerated on either side of a signature's validity window. */
export const SIGNATURE_CLOCK_SKEW_MS = 60 * 60 * 1000;
/** Validity of a signature that names no `expires`. */
export const SIGNATURE_DEFAULT_LIFETIME_MS = 5 * 60 * 1000;
/** Longest validity honoured, whatever `expires` says. */
export const SIGNATURE_MAX_LIFETIME_MS = 12 * 60 * 60 * 1000;

/** `SHA-256=<base64>` of a body, the value of a `Digest` header. */
export function digestOf(body: Uint8Array | string): string {
  return `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
}

/** What {@link signRequest} needs. */
export interface SignRequestInput {
  method: string;
  url: string | URL;
  /** Other headers to send; `Content-Type` and `Accept` are signed when present. */
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  keyId: string;
  /** PEM text, or a key parsed once with `createPrivateKey` (much faster when signing many requests). */
  privateKeyPem: string | KeyObject;
  now?: Date;
  /** The body's `Digest` header value when already computed (the same body is sent to many inboxes). */
  digest?: string;
}

/**
 * Signs a request with RSA-SHA256 and returns every header to send: the given ones plus `Host`, `Date`,
 * `Digest` (POST or with a body) and `Signature`. A POST signs `(request-target) host date digest` and
 * `content-type` when given; a GET signs `(request-target) host date` and `accept` when given.
 */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const { headers, signingString, names } = prepareSignedRequest(input);
  const signature = rsaSign('sha256', Buffer.from(signingString), input.privateKeyPem).toString('base64');
  return withSignature(headers, input.keyId, names, signature);
}

/**
 * {@link signRequest} with the RSA operation on libuv's thread pool: the calling thread stays free for other
 * work while the signature is computed, and several signatures are computed at once on several cores.
 */
export function signRequestAsync(input: SignRequestInput): Promise<Record<string, string>> {
  const { headers, signingString, names } = prepareSignedRequest(input);
  return new Promise((resolve, reject) => {
    rsaSign('sha256', Buffer.from(signingString), input.privateKeyPem, (error, signature) => {
      if (error) reject(error);
      else resolve(withSignature(headers, input.keyId, names, signature.toString('base64')));
    });
  });
}

/** The headers of a request to sign, its signing string and the names of the signed headers. */
export function prepareSignedRequest(input: SignRequestInput): {
  headers: Record<string, string>;
  signingString: string;
  names: string[];
} {
  const url = typeof input.url === 'string' ? new URL(input.url) : input.url;
  const method = input.method.toUpperCase();
  const out: Record<string, string> = {};
  const given = new Map<string, string>();
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'date' || lower === 'digest' || lower === 'signature') continue;
    out[name] = value;
    given.set(lower, value);
  }
  out['Host'] = url.host;
  out['Date'] = (input.now ?? new Date()).toUTCString();
  const lines = [`(request-target): ${method.toLowerCase()} ${url.pathname}${url.search}`];
  lines.push(`host: ${url.host}`, `date: ${out['Date']}`);
  const names = ['(request-target)', 'host', 'date'];
  if (input.body !== undefined || method === 'POST') {
    out['Digest'] = input.digest ?? digestOf(input.body ?? '');
    lines.push(`digest: ${out['Digest']}`);
    names.push('digest');
    const contentType = given.get('content-type');
    if (contentType !== undefined) {
      lines.push(`content-type: ${contentType}`);
      names.push('content-type');
    }
  } else {
    const accept = given.get('accept');
    if (accept !== undefined) {
      lines.push(`accept: ${accept}`);
      names.push('accept');
    }
  }
  return { headers: out, signingString: lines.join('\n'), names };
}

/** Adds the `Signature` header (cavage, rsa-sha256) made of a base64 signature to prepared headers. */
export function withSignature(
  headers: Record<string, string>,
  keyId: string,
  names: string[],
  signature: string,
): Record<string, string> {
  headers['Signature'] = [
    `keyId=${quoteParam(keyId)}`,
    'algorithm="rsa-sha256"',
    `headers=${quoteParam(names.join(' '))}`,
    `signature=${quoteParam(signature)}`,
  ].join(',');
  return headers;
}

/** Why a request's signature was refused. */
export type VerifyFailureReason =
  | 'missing-signature'
  | 'malformed-signature'
  | 'unsupported-algorithm'
  | 'missing-required-header'
  | 'digest-mismatch'
  | 'missing-digest'
  | 'expired'
  | 'not-yet-valid'
  | 'key-not-found'
  | 'bad-signature'
  | 'wrong-host';

/** Outcome of {@link verifyRequest}: the verified key and its owner, or why verification failed. */
export type VerifyResult =
  { ok: true; keyId: string; ownerId: string } | { ok: false; reason: VerifyFailureReason; detail: string };

/** A public key and the actor that owns it. */
export interface ResolvedKey {
  publicKeyPem: string;
  ownerId: string;
}

/** Finds the key named by a signature; `refresh` asks to bypass caches (the key may have been rotated). */
export type ResolveKey = (keyId: string, opts: { refresh: boolean }) => Promise<ResolvedKey | null>;

/** An inbound signed request, as the checks that need no key see it. */
export interface SignedRequestInput {
  method: string;
  /** Path with the query string, as received. */
  path: string;
  /** Headers with lowercased names, as node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The body bytes exactly as received, or null when there is none. */
  rawBody: Uint8Array | null;
  now: Date;
  /** Scheme of the URL the request was sent to (this server's public origin), for RFC 9421 `@target-uri`. */
  scheme?: 'http' | 'https';
  /**
   * This server's `host[:port]`: when given, the request's (signed) `Host` must name it, so that a request
   * signed for another server is not accepted here.
   */
  authority?: string;
}

/** An inbound request as {@link verifyRequest} sees it. */
export interface VerifyRequestInput extends SignedRequestInput {
  resolveKey: ResolveKey;
}

/** A signature checked for structure and digest, ready for the time window and key. */
export interface PreparedSignature {
  keyId: string;
  signature: Buffer;
  /** Encodings of the signed data to try (a signer may have left the query out of the request target). */
  candidates: Buffer[];
  /** Start of validity: the signed creation time, or the signed Date. */
  createdMs: number;
  /** Signed end of validity, or null for the default lifetime. */
  expiresMs: number | null;
}

/** Outcome of {@link prepareSignature}: a signature ready for its key, or why the request is refused. */
export type PrepareResult =
  { ok: true; value: PreparedSignature } | { ok: false; reason: VerifyFailureReason; detail: string };

/**
 * Every check of an inbound signature that needs no key: draft-cavage (`Signature`), or RFC 9421 when
 * `Signature-Input` is present. Cavage requires rsa-sha256 or hs2019 (RSA PKCS#1 v1.5 with SHA-256);
 * `date` or `(created)` signed; `(request-target)` or `digest` signed; `host` signed on GET; `digest` signed
 * and matching the raw body on POST or when there is a body; `host` and `(request-target)` signed on POST. Both
 * require a current validity window (1 h of skew, 5 min default lifetime, 12 h at most), and, when `authority`
 * is given, a `Host` naming this server (it is signed: cavage signs `host`, RFC 9421 covers `@target-uri`).
 */
export function prepareSignature(input: SignedRequestInput): PrepareResult {
  if (input.authority !== undefined && !namesAuthority(input, input.authority)) {
    const host = input.headers['host'];
    return failure('wrong-host', `the request was signed for ${String(host)}, not for ${input.authority}`);
  }
  const prepared =
    input.headers['signature-input'] !== undefined
      ? prepareMessageSignature(input)
      : prepareCavageSignature(input);
  if (!prepared.ok) return prepared;
  const { createdMs } = prepared.value;
  const expiresMs = Math.min(
    prepared.value.expiresMs ?? createdMs + SIGNATURE_DEFAULT_LIFETIME_MS,
    createdMs + SIGNATURE_MAX_LIFETIME_MS,
  );
  const now = input.now.getTime();
  if (createdMs > now + SIGNATURE_CLOCK_SKEW_MS) {
    return failure('not-yet-valid', `signature created ${new Date(createdMs).toISOString()}`);
  }
  if (now > expiresMs + SIGNATURE_CLOCK_SKEW_MS) {
    return failure('expired', `signature expired ${new Date(expiresMs).toISOString()}`);
  }
  return prepared;
}

/**
 * Checks a prepared signature with the key its `keyId` names; retries once with a refreshed key when it does
 * not verify (the key may have been rotated).
 */
export async function verifyPrepared(
  prepared: PreparedSignature,
  resolveKey: ResolveKey,
): Promise<VerifyResult> {
  const { keyId, signature, candidates } = prepared;
  const key = await resolveKey(keyId, { refresh: false });
  if (key === null) return failure('key-not-found', `no key ${keyId}`);
  if (verifyWith(key.publicKeyPem, candidates, signature)) return { ok: true, keyId, ownerId: key.ownerId };
  const fresh = await resolveKey(keyId, { refresh: true });
  if (fresh !== null && verifyWith(fresh.publicKeyPem, candidates, signature)) {
    return { ok: true, keyId, ownerId: fresh.ownerId };
  }
  return failure('bad-signature', `signature does not verify with key ${keyId}`);
}

/** Verifies the signature of an inbound request: {@link prepareSignature}, then {@link verifyPrepared}. */
export async function verifyRequest(input: VerifyRequestInput): Promise<VerifyResult> {
  const prepared = prepareSignature(input);
  if (!prepared.ok) return prepared;
  return verifyPrepared(prepared.value, input.resolveKey);
}

/** True when the request's `Host` header names `authority` (case and default ports aside). */
function namesAuthority(input: SignedRequestInput, authority: string): boolean {
  const host = input.headers['host'];
  if (typeof host !== 'string') return false;
  const scheme = input.scheme ?? 'https';
  try {
    return new URL(`${scheme}://${host.trim()}`).host === new URL(`${scheme}://${authority}`).host;
  } catch {
    return false;
  }
}

function verifyWith(publicKeyPem: string, candidates: Buffer[], signature: Buffer): boolean {
  const key = parseRsaPublicKey(publicKeyPem);
  if (key === null) return false;
  return candidates.some((data) => rsaVerify('sha256', data, key, signature));
}

/** Parses a PEM public key; null unless it is an RSA key of at least 1024 bits. */
/** Parsed public keys by PEM text: the same few keys sign most inbound requests. */
const parsedKeys = new Map<string, KeyObject | null>();
const PARSED_KEYS_MAX = 10_000;

export function parseRsaPublicKey(pem: string): KeyObject | null {
  const hit = parsedKeys.get(pem);
  if (hit !== undefined) return hit;
  const key = parseRsaPublicKeyUncached(pem);
  if (parsedKeys.size >= PARSED_KEYS_MAX) parsedKeys.clear();
  parsedKeys.set(pem, key);
  return key;
}

function parseRsaPublicKeyUncached(pem: string): KeyObject | null {
  // createPublicKey would also derive a public key from a private one: insist on a public key PEM.
  if (!/^\s*-----BEGIN (?:RSA )?PUBLIC KEY-----/.test(pem)) return null;
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    if (key.type !== 'public' || key.asymmetricKeyType !== 'rsa') return null;
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 1024) return null;
    return key;
  } catch {
    return null;
  }
}

function failure(
  reason: VerifyFailureReason,
  detail: string,
): { ok: false; reason: VerifyFailureReason; detail: string } {
  return { ok: false, reason, detail };
}
