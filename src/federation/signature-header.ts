/**
 * Strict parser of the draft-cavage `Signature` header (draft-cavage-http-signatures-12, section 4):
 * a comma-separated list of `name=value` parameters whose values are tokens or quoted strings.
 */

/** The parameters of a `Signature` header, after validation. */
export interface ParsedSignature {
  keyId: string;
  /** Lowercased; `hs2019` when the header names none. */
  algorithm: string;
  /** Signed header names, lowercased, in signing order. */
  headers: string[];
  /** The signature, base64 as sent. */
  signature: string;
  /** The `created` parameter as sent (Unix seconds), or null. */
  created: string | null;
  /** The `expires` parameter as sent (Unix seconds, maybe with a fraction), or null. */
  expires: string | null;
}

/** Result of {@link parseSignatureHeader}; `error` explains what is wrong. */
export type ParseSignatureResult = { ok: true; value: ParsedSignature } | { ok: false; error: string };

const TOKEN_CHAR = /[0-9A-Za-z!#$%&'*+.^_`|~-]/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INTEGER = /^\d{1,12}$/;
const DECIMAL = /^\d{1,12}(?:\.\d{1,9})?$/;
/** Longest header accepted; real ones are well under 2 KiB. */
const MAX_LENGTH = 8192;

/**
 * Parses a `Signature` header value. Tolerates the `Signature ` prefix some old libraries add; rejects empty
 * or repeated parameters (names compared case-insensitively), unterminated or control-character strings,
 * missing `keyId` or `signature`, a signature that is not base64, non-numeric `created`/`expires`, and an
 * empty or repetitive `headers` list.
 */
export function parseSignatureHeader(value: string): ParseSignatureResult {
  if (value.length > MAX_LENGTH) return fail('header too long');
  const params = new Map<string, string>();
  let i = 0;
  const n = value.length;
  const skipSpace = (): void => {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  skipSpace();
  if (/^signature[ \t]+/i.test(value.slice(i)) && !/^signature[ \t]*=/i.test(value.slice(i))) {
    i += 'signature'.length;
    skipSpace();
  }
  for (;;) {
    const nameStart = i;
    while (i < n && TOKEN_CHAR.test(value[i] ?? '')) i++;
    const name = value.slice(nameStart, i);
    if (name === '') return fail(`expected a parameter name at offset ${i}`);
    skipSpace();
    if (value[i] !== '=') return fail(`expected "=" after ${name}`);
    i++;
    skipSpace();
    let paramValue = '';
    if (value[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = value[i] ?? '';
        const code = c.charCodeAt(0);
        if ((code < 0x20 && c !== '\t') || code === 0x7f) return fail(`control character in ${name}`);
        if (c === '\\') {
          const next = value[i + 1];
          if (next === undefined) break;
          paramValue += next;
          i += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        paramValue += c;
        i++;
      }
      if (!closed) return fail(`unterminated quoted string in ${name}`);
    } else {
      const valueStart = i;
      while (i < n && TOKEN_CHAR.test(value[i] ?? '')) i++;
      paramValue = value.slice(valueStart, i);
      if (paramValue === '') return fail(`empty value for ${name}`);
    }
    const key = name.toLowerCase();
    if (params.has(key)) return fail(`duplicate parameter ${name}`);
    params.set(key, paramValue);
    skipSpace();
    if (i === n) break;
    if (value[i] !== ',') return fail(`unexpected character at offset ${i}`);
    i++;
    skipSpace();
  }
  return validate(params);
}

function validate(params: Map<string, string>): ParseSignatureResult {
  const keyId = params.get('keyid');
  if (keyId === undefined || keyId === '') return fail('keyId is missing');
  const signature = params.get('signature');
  if (signature === undefined || signature === '') return fail('signature is missing');
  if (!BASE64.test(signature)) return fail('signature is not base64');
  const algorithm = (params.get('algorithm') ?? 'hs2019').toLowerCase();
  if (algorithm === '') return fail('algorithm is empty');
  const created = params.get('created') ?? null;
  if (created !== null && !INTEGER.test(created)) return fail('created is not an integer');
  const expires = params.get('expires') ?? null;
  if (expires !== null && !DECIMAL.test(expires)) return fail('expires is not a number');
  const headersParam = params.get('headers');
  let headers: string[];
  if (headersParam === undefined) {
    headers = algorithm === 'hs2019' ? ['(created)'] : ['date'];
  } else {
    headers = headersParam
      .toLowerCase()
      .split(/[ \t]+/)
      .filter((h) => h !== '');
    if (headers.length === 0) return fail('headers is empty');
    if (new Set(headers).size !== headers.length) return fail('headers names a header twice');
    if (headers.some((h) => !/^(?:\([a-z-]+\)|[!#$%&'*+.^_`|~0-9a-z-]+)$/.test(h))) {
      return fail('headers holds an invalid name');
    }
  }
  return { ok: true, value: { keyId, algorithm, headers, signature, created, expires } };
}

function fail(error: string): ParseSignatureResult {
  return { ok: false, error };
}

/** Quotes a value for a `Signature` header parameter. */
export function quoteParam(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
