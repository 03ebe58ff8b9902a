import { createHash, createPublicKey, generateKeyPairSync, sign as rsaSign, verify } from 'node:crypto';
import { expect } from 'chai';
import { verifyRequest, type VerifyResult } from '../../src/federation/http-signature.ts';
import { signatureBase } from '../../src/federation/message-signature.ts';
import { Token } from 'structured-headers';
import { isInnerList, parseDictionary, type InnerList } from '../../src/federation/structured-fields.ts';

function innerList(signatureInput: string, label: string): InnerList {
  const member = parseDictionary(signatureInput)?.get(label);
  if (member === undefined || !isInnerList(member)) throw new Error(`no inner list ${label}`);
  return member;
}

describe('RFC 9421 message signatures', () => {
  describe('signature base', () => {
    // RFC 9421 appendix B.2 test request and B.2.6 (test-key-ed25519, from appendix B.1.4).
    const headers = {
      host: 'example.com',
      date: 'Tue, 20 Apr 2021 02:07:55 GMT',
      'content-type': 'application/json',
      'content-digest':
        'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
      'content-length': '18',
    };
    const signatureInput =
      'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"';
    const rfcSignature =
      'wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==';
    const rfcKey = createPublicKey(
      '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n',
    );

    it('reproduces the RFC example byte for byte (its published signature verifies)', () => {
      const result = signatureBase(
        { method: 'POST', path: '/foo?param=Value&Pet=dog', scheme: 'https', headers },
        innerList(signatureInput, 'sig-b26'),
      );
      if (!result.ok) throw new Error(result.error);
      expect(result.base).to.equal(
        [
          '"date": Tue, 20 Apr 2021 02:07:55 GMT',
          '"@method": POST',
          '"@path": /foo',
          '"@authority": example.com',
          '"content-type": application/json',
          '"content-length": 18',
          '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
        ].join('\n'),
      );
      expect(verify(null, Buffer.from(result.base), rfcKey, Buffer.from(rfcSignature, 'base64'))).to.equal(
        true,
      );
    });

    it('derives @target-uri, @request-target, @query and @scheme', () => {
      const list = innerList('s=("@target-uri" "@request-target" "@query" "@scheme");created=1', 's');
      const result = signatureBase(
        { method: 'GET', path: '/a/b?c=d', scheme: 'http', headers: { host: 'Example.COM:8080' } },
        list,
      );
      expect(result.ok && result.base.split('\n').slice(0, 4)).to.deep.equal([
        '"@target-uri": http://example.com:8080/a/b?c=d',
        '"@request-target": /a/b?c=d',
        '"@query": ?c=d',
        '"@scheme": http',
      ]);
    });
  });

  describe('verifyRequest with Signature-Input', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const keyId = 'https://remote.example/users/alice#main-key';
    const owner = 'https://remote.example/users/alice';
    const now = new Date('2025-03-01T12:00:00Z');
    const created = Math.floor(now.getTime() / 1000);
    const body = '{"type":"Like"}';
    const contentDigest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
    const postComponents = '"@method" "@target-uri" "@authority" "content-digest"';

    interface Options {
      components?: string;
      params?: string;
      digest?: string;
      key?: typeof privateKey;
      label?: string;
    }

    function signedPost(opts: Options = {}): Record<string, string> {
      const headers: Record<string, string> = {
        host: 'guild.example',
        'content-type': 'application/activity+json',
        'content-digest': opts.digest ?? contentDigest,
      };
      const label = opts.label ?? 'sig1';
      const input = `${label}=(${opts.components ?? postComponents})${opts.params ?? `;created=${created};keyid="${keyId}";alg="rsa-v1_5-sha256"`}`;
      const base = signatureBase(
        { method: 'POST', path: '/inbox', scheme: 'https', headers },
        innerList(input, label),
      );
      if (!base.ok) throw new Error(base.error);
      const signature = rsaSign('sha256', Buffer.from(base.base), opts.key ?? privateKey).toString('base64');
      return { ...headers, 'signature-input': input, signature: `${label}=:${signature}:` };
    }

    function check(
      headers: Record<string, string>,
      extra: { body?: string; at?: Date; scheme?: 'http' | 'https' } = {},
    ): Promise<VerifyResult> {
      return verifyRequest({
        method: 'POST',
        path: '/inbox',
        headers,
        rawBody: Buffer.from(extra.body ?? body),
        now: extra.at ?? now,
        scheme: extra.scheme ?? 'https',
        resolveKey: async (id) => (id === keyId ? { publicKeyPem, ownerId: owner } : null),
      });
    }

    function expectFailure(result: VerifyResult, reason: string): void {
      expect(result.ok, JSON.stringify(result)).to.equal(false);
      if (!result.ok) expect(result.reason, result.detail).to.equal(reason);
    }

    it('accepts a valid rsa-v1_5-sha256 signature', async () => {
      expect(await check(signedPost())).to.deep.equal({ ok: true, keyId, ownerId: owner });
      expect((await check(signedPost({ params: `;keyid="${keyId}";created=${created}` }))).ok).to.equal(true);
    });

    it('refuses a body changed after signing', async () => {
      expectFailure(await check(signedPost(), { body: '{"type":"Block"}' }), 'digest-mismatch');
    });

    it('refuses a Content-Digest without sha-256', async () => {
      expectFailure(await check(signedPost({ digest: 'sha-512=:AAAA:' })), 'missing-digest');
    });

    it('requires @method, @target-uri and content-digest to be covered', async () => {
      expectFailure(
        await check(signedPost({ components: '"@method" "@authority" "content-digest"' })),
        'missing-required-header',
      );
      expectFailure(
        await check(signedPost({ components: '"@method" "@target-uri"' })),
        'missing-required-header',
      );
    });

    it('requires keyid and created, refuses other algorithms', async () => {
      expectFailure(await check(signedPost({ params: `;keyid="${keyId}"` })), 'malformed-signature');
      expectFailure(await check(signedPost({ params: `;created=${created}` })), 'malformed-signature');
      expectFailure(
        await check(signedPost({ params: `;created=${created};keyid="${keyId}";alg="rsa-pss-sha512"` })),
        'unsupported-algorithm',
      );
    });

    it('refuses component parameters and unknown derived components', async () => {
      for (const extra of ['"content-type";sf', '"@status"', '"Content-Type"']) {
        const input = `sig1=(${postComponents} ${extra});created=${created};keyid="${keyId}"`;
        expectFailure(await check({ ...signedPost(), 'signature-input': input }), 'malformed-signature');
      }
    });

    it('enforces the validity window', async () => {
      expectFailure(await check(signedPost(), { at: new Date(now.getTime() + 66 * 60_000) }), 'expired');
      expectFailure(
        await check(signedPost(), { at: new Date(now.getTime() - 61 * 60_000) }),
        'not-yet-valid',
      );
      const expires = created + 600;
      const longer = signedPost({ params: `;created=${created};expires=${expires};keyid="${keyId}"` });
      expect((await check(longer, { at: new Date((expires + 3500) * 1000) })).ok).to.equal(true);
    });

    it('refuses another key, another scheme and malformed fields', async () => {
      expectFailure(await check(signedPost({ key: other })), 'bad-signature');
      expectFailure(await check(signedPost(), { scheme: 'http' }), 'bad-signature');
      expectFailure(await check({ ...signedPost(), signature: 'sig1=notbytes' }), 'malformed-signature');
      expectFailure(await check({ ...signedPost(), signature: 'other=:AAAA:' }), 'malformed-signature');
      expectFailure(
        await check({
          ...signedPost(),
          'signature-input': `sig1=(${postComponents});created=${created};keyid="${keyId}", sig1=()`,
        }),
        'malformed-signature',
      );
    });
  });
});

describe('parseDictionary', () => {
  it('parses inner lists, parameters and byte sequences', () => {
    const dict = parseDictionary('a=("x" "y";p=1);created=5;keyid="k", b=:AQI=:, c, d=tok;q=?0');
    const a = dict?.get('a');
    expect(a && isInnerList(a) && a[0].map(([v]) => v)).to.deep.equal(['x', 'y']);
    expect(a?.[1].get('created')).to.equal(5);
    const b = dict?.get('b');
    expect(b && !isInnerList(b) && [...new Uint8Array(b[0] as ArrayBuffer)]).to.deep.equal([1, 2]);
    expect(dict?.get('c')).to.deep.equal([true, new Map()]);
    const d = dict?.get('d');
    expect(d && !isInnerList(d) && d[0]).to.deep.equal(new Token('tok'));
    expect(d?.[1].get('q')).to.equal(false);
  });

  it('keeps the last value of a repeated key, as RFC 8941 says', () => {
    expect(parseDictionary('a=1, a=2')?.get('a')).to.deep.equal([2, new Map()]);
  });

  it('refuses values longer than 16 KiB', () => {
    expect(parseDictionary(`a="${'x'.repeat(16_384)}"`)).to.equal(null);
  });

  for (const bad of [
    ' ,',
    'A=1',
    'a=1,',
    'a=1,,b=2',
    'a=("x"',
    'a="unterminated',
    'a=:AQI',
    'a=("x""y")',
    'a=1;',
    'a=?2',
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => expect(parseDictionary(bad)).to.equal(null));
  }
});
