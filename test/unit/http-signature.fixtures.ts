/** Keys, constants and helpers shared by the tests of src/federation/http-signature.ts. */
import { createRequire } from 'node:module';
import { generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import { expect } from 'chai';
import {
  signRequest,
  verifyRequest,
  type ResolvedKey,
  type VerifyRequestInput,
  type VerifyResult,
} from '../../src/federation/http-signature.ts';

/** The independent implementation used as an oracle (the `http-signature` package, CommonJS, untyped). */
export interface OracleRequest {
  method: string;
  path: string;
  getHeader(name: string): string | undefined;
  setHeader(name: string, value: string): void;
}
interface HttpSignatureLib {
  sign(
    req: OracleRequest,
    opts: { keyId: string; key: string; headers: string[]; algorithm?: string },
  ): boolean;
  parse(
    req: { method: string; url: string; httpVersion: string; headers: Record<string, string> },
    opts?: { clockSkew?: number },
  ): unknown;
  verifySignature(parsed: unknown, publicKeyPem: string): boolean;
}
export const oracle = createRequire(import.meta.url)('http-signature') as HttpSignatureLib;

export function rsaPair(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export const ACTOR = 'https://remote.example/users/alice';
export const KEY_ID = `${ACTOR}#main-key`;
export const INBOX = 'https://guild.example/groups/cats/inbox';
export const NOW = new Date('2025-03-01T12:00:00Z');
export const BODY = JSON.stringify({
  type: 'Follow',
  actor: ACTOR,
  object: 'https://guild.example/groups/cats',
});

export const alice = rsaPair();
export const other = rsaPair();

/** Lowercases header names as node does for incoming requests. */
export function nodeHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

export function signedPost(body = BODY, now = NOW): Record<string, string> {
  return nodeHeaders(
    signRequest({
      method: 'POST',
      url: INBOX,
      headers: { 'Content-Type': 'application/activity+json' },
      body,
      keyId: KEY_ID,
      privateKeyPem: alice.privateKeyPem,
      now,
    }),
  );
}

export function keys(...pems: string[]): { resolveKey: VerifyRequestInput['resolveKey']; calls: boolean[] } {
  const calls: boolean[] = [];
  return {
    calls,
    resolveKey: async (keyId, opts): Promise<ResolvedKey | null> => {
      calls.push(opts.refresh);
      if (keyId !== KEY_ID) return null;
      const pem = pems[Math.min(calls.length - 1, pems.length - 1)];
      return pem === undefined ? null : { publicKeyPem: pem, ownerId: ACTOR };
    },
  };
}

export function verifyPost(
  headers: Record<string, string>,
  opts: { body?: string; now?: Date; pems?: string[]; path?: string; method?: string } = {},
): Promise<VerifyResult> {
  return verifyRequest({
    method: opts.method ?? 'POST',
    path: opts.path ?? '/groups/cats/inbox',
    headers,
    rawBody: Buffer.from(opts.body ?? BODY),
    now: opts.now ?? NOW,
    resolveKey: keys(...(opts.pems ?? [alice.publicKeyPem])).resolveKey,
  });
}

/** Signs an arbitrary signing string the way a remote server would, for hand-built headers. */
export function rawSignature(lines: string[], privateKeyPem = alice.privateKeyPem): string {
  return rsaSign('sha256', Buffer.from(lines.join('\n')), privateKeyPem).toString('base64');
}

export function expectFailure(result: VerifyResult, reason: string): void {
  expect(result.ok, JSON.stringify(result)).to.equal(false);
  if (!result.ok) expect(result.reason, result.detail).to.equal(reason);
}
