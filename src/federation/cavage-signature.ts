/**
 * Inbound draft-cavage signatures (`Signature` header): the structural rules Mastodon enforces, the body
 * digest, and the signing string.
 */
import { createHash } from 'node:crypto';
import type { PreparedSignature, VerifyFailureReason, SignedRequestInput } from './http-signature.ts';
import { parseSignatureHeader, type ParsedSignature } from './signature-header.ts';

type Failure = { ok: false; reason: VerifyFailureReason; detail: string };

/**
 * Parses and checks a cavage signature: algorithm rsa-sha256 or hs2019, the headers that must be signed, every
 * signed header present, the `Digest` against the raw body, and the validity start (the signed `(created)`, or
 * else the signed `Date`; unsigned `created`/`expires` parameters are ignored so they cannot stretch the
 * window of a replayed request).
 */
export function prepareCavageSignature(
  input: SignedRequestInput,
): { ok: true; value: PreparedSignature } | Failure {
  const header = headerValue(input.headers, 'signature');
  if (header === undefined || header === '') return failure('missing-signature', 'no Signature header');
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
  const signed = new Set(sig.headers);
  let createdMs: number;
  if (signed.has('(created)') && sig.created !== null) {
    createdMs = Number(sig.created) * 1000;
  } else {
    const date = headerValue(input.headers, 'date') ?? '';
    createdMs = Date.parse(date);
    if (!Number.isFinite(createdMs)) return failure('malformed-signature', `unparseable Date ${date}`);
  }
  const expiresMs = signed.has('(expires)') && sig.expires !== null ? Number(sig.expires) * 1000 : null;
  const method = input.method.toLowerCase();
  const candidates = [signingString(input, sig, `${method} ${input.path}`)];
  const query = input.path.indexOf('?');
  if (query !== -1 && signed.has('(request-target)')) {
    // Mastodon before 4.3 signs the path without its query string; accept that form too, as Mastodon does.
    candidates.push(signingString(input, sig, `${method} ${input.path.slice(0, query)}`));
  }
  return {
    ok: true,
    value: {
      keyId: sig.keyId,
      signature: Buffer.from(sig.signature, 'base64'),
      candidates,
      createdMs,
      expiresMs,
    },
  };
}

/** Checks which headers are signed, that they are present, and the body digest. */
function checkStructure(input: SignedRequestInput, sig: ParsedSignature): Failure | null {
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
  if (method === 'POST' && (!signed.has('host') || !signed.has('(request-target)'))) {
    // Otherwise a POST signed for another server, or another inbox, would verify here.
    return failure('missing-required-header', 'host and (request-target) must be signed on POST');
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
function checkDigest(header: string, body: Uint8Array): Failure | null {
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

function signingString(input: SignedRequestInput, sig: ParsedSignature, target: string): Buffer {
  const lines = sig.headers.map((name) => {
    if (name === '(request-target)') return `(request-target): ${target}`;
    if (name === '(created)') return `(created): ${sig.created ?? ''}`;
    if (name === '(expires)') return `(expires): ${sig.expires ?? ''}`;
    return `${name}: ${headerValue(input.headers, name) ?? ''}`;
  });
  return Buffer.from(lines.join('\n'));
}

/** A header's value; repeated headers are joined with `, ` as draft-cavage prescribes. */
function headerValue(headers: SignedRequestInput['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

function failure(reason: VerifyFailureReason, detail: string): Failure {
  return { ok: false, reason, detail };
}
