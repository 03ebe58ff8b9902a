/**
 * Inbound HTTP Message Signatures (RFC 9421, `Signature-Input` + `Signature`, body bound by
 * `Content-Digest`), held to the rules Mastodon applies: `keyid` and `created` present, `@method` and
 * `@target-uri` covered, `content-digest` covered on POST, RSA PKCS#1 v1.5 with SHA-256 only.
 */
import { createHash } from 'node:crypto';
import type { PreparedSignature, VerifyFailureReason, SignedRequestInput } from './http-signature.ts';
import {
  bytesOf,
  integerOf,
  isInnerList,
  parseDictionary,
  serializeInnerList,
  stringOf,
  textOf,
  type InnerList,
} from './structured-fields.ts';

type Prepared =
  { ok: true; value: PreparedSignature } | { ok: false; reason: VerifyFailureReason; detail: string };

/** The request parts a signature base is built from. */
export interface SignedRequestParts {
  method: string;
  /** Path with query, as received. */
  path: string;
  scheme: 'http' | 'https';
  headers: SignedRequestInput['headers'];
}

/**
 * Builds the signature base (RFC 9421 section 2.5) for the components and parameters of `list`. Returns an
 * error text when a component is absent or not supported (component parameters are not).
 */
export function signatureBase(
  req: SignedRequestParts,
  list: InnerList,
): { ok: true; base: string } | { ok: false; error: string } {
  const lines: string[] = [];
  const query = req.path.indexOf('?');
  const path = query === -1 ? req.path : req.path.slice(0, query);
  const authority = (header(req.headers, 'host') ?? '').toLowerCase();
  for (const [component, params] of list[0]) {
    const name = stringOf(component);
    if (name === null) return { ok: false, error: 'component names must be strings' };
    if (params.size > 0) return { ok: false, error: 'component parameters are not supported' };
    let value: string | undefined;
    switch (name) {
      case '@method':
        value = req.method.toUpperCase();
        break;
      case '@authority':
        value = authority;
        break;
      case '@scheme':
        value = req.scheme;
        break;
      case '@target-uri':
        value = `${req.scheme}://${authority}${req.path}`;
        break;
      case '@request-target':
        value = req.path;
        break;
      case '@path':
        value = path === '' ? '/' : path;
        break;
      case '@query':
        value = query === -1 ? '?' : req.path.slice(query);
        break;
      default:
        if (name.startsWith('@')) return { ok: false, error: `unsupported component ${name}` };
        if (name !== name.toLowerCase()) return { ok: false, error: `field name ${name} is not lowercase` };
        value = header(req.headers, name);
    }
    if (value === undefined) return { ok: false, error: `covered field ${name} is absent` };
    lines.push(`"${name}": ${value}`);
  }
  lines.push(`"@signature-params": ${serializeInnerList(list)}`);
  return { ok: true, base: lines.join('\n') };
}

/** Checks an RFC 9421 signature's structure and digest, and prepares it for key lookup. */
export function prepareMessageSignature(input: SignedRequestInput): Prepared {
  const signatureText = header(input.headers, 'signature');
  if (signatureText === undefined) return fail('missing-signature', 'Signature-Input without Signature');
  const inputs = parseDictionary(header(input.headers, 'signature-input') ?? '');
  const signatures = parseDictionary(signatureText);
  if (inputs === null || signatures === null)
    return fail('malformed-signature', 'unparseable Signature-Input or Signature');
  let label: string | null = null;
  let list: InnerList | null = null;
  let signature: Buffer | null = null;
  for (const [name, member] of inputs) {
    const sig = signatures.get(name);
    const bytes = sig === undefined || isInnerList(sig) ? null : bytesOf(sig[0]);
    if (isInnerList(member) && bytes !== null) {
      [label, list, signature] = [name, member, bytes];
      break;
    }
  }
  if (label === null || list === null || signature === null)
    return fail('malformed-signature', 'no usable signature label');
  const params = list[1];
  const keyId = stringOf(params.get('keyid'));
  const created = integerOf(params.get('created'));
  const expires = params.has('expires') ? integerOf(params.get('expires')) : undefined;
  const alg = params.has('alg') ? textOf(params.get('alg')) : undefined;
  if (keyId === null || keyId === '') return fail('malformed-signature', 'keyid is missing');
  if (created === null) return fail('malformed-signature', 'created is missing');
  if (expires === null) return fail('malformed-signature', 'expires is not an integer');
  if (alg !== undefined && alg !== 'rsa-v1_5-sha256') {
    return fail('unsupported-algorithm', `alg is not rsa-v1_5-sha256`);
  }
  const names = list[0].map(([value]) => stringOf(value) ?? '');
  if (new Set(names).size !== names.length)
    return fail('malformed-signature', 'a component is covered twice');
  if (!names.includes('@method') || !names.includes('@target-uri')) {
    return fail('missing-required-header', '@method and @target-uri must be covered');
  }
  const method = input.method.toUpperCase();
  const hasBody = method === 'POST' || (input.rawBody !== null && input.rawBody.length > 0);
  const digestHeader = header(input.headers, 'content-digest');
  if (hasBody && digestHeader === undefined) return fail('missing-digest', 'no Content-Digest header');
  if (hasBody && !names.includes('content-digest'))
    return fail('missing-required-header', 'content-digest must be covered');
  const base = signatureBase(
    { method, path: input.path, scheme: input.scheme ?? 'https', headers: input.headers },
    list,
  );
  if (!base.ok) {
    const absent = base.error.startsWith('covered field');
    return fail(absent ? 'missing-required-header' : 'malformed-signature', base.error);
  }
  if (names.includes('content-digest') && digestHeader !== undefined) {
    const digest = checkContentDigest(digestHeader, input.rawBody ?? new Uint8Array(0));
    if (digest !== null) return digest;
  }
  return {
    ok: true,
    value: {
      keyId,
      signature,
      candidates: [Buffer.from(base.base)],
      createdMs: created * 1000,
      expiresMs: expires === undefined ? null : expires * 1000,
    },
  };
}

/** Checks a `Content-Digest` (RFC 9530) dictionary: its `sha-256` member must hash the body. */
function checkContentDigest(value: string, body: Uint8Array): Prepared | null {
  const dict = parseDictionary(value);
  if (dict === null) return fail('digest-mismatch', 'unparseable Content-Digest');
  const sha256 = dict.get('sha-256');
  if (sha256 === undefined) return fail('missing-digest', 'Content-Digest has no sha-256 value');
  const claimed = isInnerList(sha256) ? null : bytesOf(sha256[0]);
  if (claimed === null) return fail('digest-mismatch', 'malformed sha-256 value');
  const expected = createHash('sha256').update(body).digest();
  if (!expected.equals(claimed)) {
    return fail('digest-mismatch', `body SHA-256 is ${expected.toString('base64')}`);
  }
  return null;
}

function header(headers: SignedRequestInput['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value.trim();
}

function fail(reason: VerifyFailureReason, detail: string): Prepared {
  return { ok: false, reason, detail };
}
