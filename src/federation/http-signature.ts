/**
 * HTTP signatures (draft-cavage-http-signatures-12, the dialect the fediverse speaks): signing outbound requests
 * and verifying inbound ones at least as strictly as Mastodon does.
 */
import {
  createHash,
  createPublicKey,
  sign as rsaSign,
  verify as rsaVerify,
  type KeyObject,
} from 'node:crypto';
import { parseSignatureHeader, quoteParam, type ParsedSignature } from './signature-header.ts';

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
  privateKeyPem: string;
  now?: Date;
}

/**
 * Signs a request with RSA-SHA256 and returns every header to send: the given ones plus `Host`, `Date`,
 * `Digest` (POST or with a body) and `Signature`. A POST signs `(request-target) host date digest` and
 * `content-type` when given; a GET signs `(request-target) host date` and `accept` when given.
 */
export function signRequest(input: SignRequestInput): Record<string, string> {
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
    out['Digest'] = digestOf(input.body ?? '');
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
  const signature = rsaSign('sha256', Buffer.from(lines.join('\n')), input.privateKeyPem).toString('base64');
  out['Signature'] = [
    `keyId=${quoteParam(input.keyId)}`,
    'algorithm="rsa-sha256"',
    `headers=${quoteParam(names.join(' '))}`,
    `signature=${quoteParam(signature)}`,
  ].join(',');
  return out;
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
  | 'bad-signature';

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

/** An inbound request as {@link verifyRequest} sees it. */
export interface VerifyRequestInput {
  method: string;
  /** Path with the query string, as received. */
  path: string;
  /** Headers with lowercased names, as node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The body bytes exactly as received, or null when there is none. */
  rawBody: Uint8Array | null;
  now: Date;
  resolveKey: ResolveKey;
}

/**
 * Verifies the draft-cavage signature of an inbound request. Requires rsa-sha256 or hs2019 (RSA PKCS#1 v1.5
 * with SHA-256); `date` or `(created)` signed; `(request-target)` or `digest` signed; `host` signed on GET;
 * `digest` signed and matching the raw body on POST or when there is a body; a current validity window.
 * Retries once with a refreshed key when the signature does not verify.
 */
export async function verifyRequest(input: VerifyRequestInput): Promise<VerifyResult> {
  const header = headerValue(input.headers, 'signature');
  if (header === undefined || header === '') {
    return failure('missing-signature', 'no Signature header');
  }
  if (Array.isArray(input.headers['signature'])) {
    return failure('malformed-signature', 'more than one Signature header');
  }
  const parsed = parseSignatureHeader(header);
  if (!parsed.ok) return failure('malformed-signature', parsed.error);
  const sig = parsed.value;
  if (sig.algorithm !== 'rsa-sha256' && sig.algorithm !== 'hs2019') {
    return failure('unsupported-algorithm', `algorithm ${sig.algorithm} is not supported`);
  }
  const structural = checkStructure(input, sig);
  if (structural !== null) return structural;
  const window = checkTimeWindow(input, sig);
  if (window !== null) return window;

  const method = input.method.toLowerCase();
  const candidates = [signingString(input, sig, `${method} ${input.path}`)];
  const query = input.path.indexOf('?');
  if (query !== -1 && sig.headers.includes('(request-target)')) {
    // Mastodon before 4.3 signs the path without its query string; accept that form too, as Mastodon does.
    candidates.push(signingString(input, sig, `${method} ${input.path.slice(0, query)}`));
  }
  const signature = Buffer.from(sig.signature, 'base64');

  const key = await input.resolveKey(sig.keyId, { refresh: false });
  if (key === null) return failure('key-not-found', `no key ${sig.keyId}`);
  if (verifyWith(key.publicKeyPem, candidates, signature)) {
    return { ok: true, keyId: sig.keyId, ownerId: key.ownerId };
  }
  const fresh = await input.resolveKey(sig.keyId, { refresh: true });
  if (fresh !== null && verifyWith(fresh.publicKeyPem, candidates, signature)) {
    return { ok: true, keyId: sig.keyId, ownerId: fresh.ownerId };
  }
  return failure('bad-signature', `signature does not verify with key ${sig.keyId}`);
}

/** Checks which headers are signed, that they are present, and the body digest. */
function checkStructure(input: VerifyRequestInput, sig: ParsedSignature): VerifyResult | null {
  const signed = new Set(sig.headers);
  const method = input.method.toUpperCase();
  for (const pseudo of ['(created)', '(expires)'] as const) {
    if (!signed.has(pseudo)) continue;
    if (sig.algorithm !== 'hs2019') return failure('malformed-signature', `${pseudo} needs algorithm hs2019`);
    if ((pseudo === '(created)' ? sig.created : sig.expires) === null) {
      return failure('malformed-signature', `${pseudo} is signed but its parameter is missing`);
    }
  }
  for (const name of sig.headers) {
    if (name.startsWith('(') && !['(request-target)', '(created)', '(expires)'].includes(name)) {
      return failure('malformed-signature', `unsupported pseudo-header ${name}`);
    }
  }
  if (!signed.has('date') && !signed.has('(created)')) {
    return failure('missing-required-header', 'date or (created) must be signed');
  }
  if (!signed.has('(request-target)') && !signed.has('digest')) {
    return failure('missing-required-header', '(request-target) or digest must be signed');
  }
  if ((method === 'GET' || method === 'HEAD') && !signed.has('host')) {
    return failure('missing-required-header', 'host must be signed on GET');
  }
  const hasBody = method === 'POST' || (input.rawBody !== null && input.rawBody.length > 0);
  const digestHeader = headerValue(input.headers, 'digest');
  if (hasBody && digestHeader === undefined) return failure('missing-digest', 'no Digest header');
  if (hasBody && !signed.has('digest')) return failure('missing-required-header', 'digest must be signed');
  for (const name of sig.headers) {
    if (name.startsWith('(')) continue;
    if (headerValue(input.headers, name) === undefined) {
      return failure('missing-required-header', `signed header ${name} is absent`);
    }
  }
  if (signed.has('digest') && digestHeader !== undefined) {
    return checkDigest(digestHeader, input.rawBody ?? new Uint8Array(0));
  }
  return null;
}

/** Checks a `Digest` header (maybe listing several algorithms) against the body; SHA-256 must be there. */
function checkDigest(header: string, body: Uint8Array): VerifyResult | null {
  const expected = createHash('sha256').update(body).digest();
  let found = false;
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) return failure('digest-mismatch', 'malformed Digest header');
    if (part.slice(0, eq).trim().toLowerCase() !== 'sha-256') continue;
    found = true;
    const value = part.slice(eq + 1).trim();
    const given = /^[A-Za-z0-9+/]{43}=$/.test(value) ? Buffer.from(value, 'base64') : null;
    if (given === null || !given.equals(expected)) {
      return failure(
        'digest-mismatch',
        `body SHA-256 is ${expected.toString('base64')}, Digest says ${value}`,
      );
    }
  }
  return found ? null : failure('missing-digest', 'Digest header has no SHA-256 value');
}

/**
 * Checks the validity window. The start is the signed `(created)` or else the signed `Date`; the end is the
 * signed `(expires)` or start + 5 minutes, never more than start + 12 hours. Unsigned `created`/`expires`
 * parameters are ignored, so they cannot stretch the window of a replayed request.
 */
function checkTimeWindow(input: VerifyRequestInput, sig: ParsedSignature): VerifyResult | null {
  const signed = new Set(sig.headers);
  let createdMs: number;
  if (signed.has('(created)') && sig.created !== null) {
    createdMs = Number(sig.created) * 1000;
  } else {
    const date = headerValue(input.headers, 'date') ?? '';
    createdMs = Date.parse(date);
    if (!Number.isFinite(createdMs)) return failure('malformed-signature', `unparseable Date ${date}`);
  }
  let expiresMs = createdMs + SIGNATURE_DEFAULT_LIFETIME_MS;
  if (signed.has('(expires)') && sig.expires !== null) expiresMs = Number(sig.expires) * 1000;
  expiresMs = Math.min(expiresMs, createdMs + SIGNATURE_MAX_LIFETIME_MS);
  const now = input.now.getTime();
  if (createdMs > now + SIGNATURE_CLOCK_SKEW_MS) {
    return failure('not-yet-valid', `signature created ${new Date(createdMs).toISOString()}`);
  }
  if (now > expiresMs + SIGNATURE_CLOCK_SKEW_MS) {
    return failure('expired', `signature expired ${new Date(expiresMs).toISOString()}`);
  }
  return null;
}

function signingString(input: VerifyRequestInput, sig: ParsedSignature, target: string): Buffer {
  const lines = sig.headers.map((name) => {
    if (name === '(request-target)') return `(request-target): ${target}`;
    if (name === '(created)') return `(created): ${sig.created ?? ''}`;
    if (name === '(expires)') return `(expires): ${sig.expires ?? ''}`;
    return `${name}: ${headerValue(input.headers, name) ?? ''}`;
  });
  return Buffer.from(lines.join('\n'));
}

function verifyWith(publicKeyPem: string, candidates: Buffer[], signature: Buffer): boolean {
  const key = parseRsaPublicKey(publicKeyPem);
  if (key === null) return false;
  return candidates.some((data) => rsaVerify('sha256', data, key, signature));
}

/** Parses a PEM public key; null unless it is an RSA key of at least 1024 bits. */
export function parseRsaPublicKey(pem: string): KeyObject | null {
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

/** A header's value; repeated headers are joined with `, ` as draft-cavage prescribes. */
function headerValue(headers: VerifyRequestInput['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

function failure(reason: VerifyFailureReason, detail: string): VerifyResult {
  return { ok: false, reason, detail };
}
