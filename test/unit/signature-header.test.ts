import { expect } from 'chai';
import { parseSignatureHeader } from '../../src/federation/http-signature.ts';

describe('parseSignatureHeader', () => {
  const SIG = 'c2lnbmF0dXJl';

  function parse(value: string): ReturnType<typeof parseSignatureHeader> {
    return parseSignatureHeader(value);
  }

  it('reads quoted and token values, with optional whitespace', () => {
    const result = parse(
      ` keyId = "https://a.example/u#k" ,algorithm=RSA-SHA256,\theaders="(Request-Target)  Host date", signature="${SIG}"`,
    );
    expect(result).to.deep.equal({
      ok: true,
      value: {
        keyId: 'https://a.example/u#k',
        algorithm: 'rsa-sha256',
        headers: ['(request-target)', 'host', 'date'],
        signature: SIG,
        created: null,
        expires: null,
      },
    });
  });

  it('tolerates the "Signature " prefix old libraries add', () => {
    const result = parse(`Signature keyId="k",algorithm="rsa-sha256",signature="${SIG}"`);
    expect(result.ok && result.value.keyId).to.equal('k');
  });

  it('unescapes quoted pairs', () => {
    const result = parse(`keyId="a\\"b\\\\c",signature="${SIG}"`);
    expect(result.ok && result.value.keyId).to.equal('a"b\\c');
  });

  it('defaults algorithm to hs2019 with (created), and headers to date for rsa-sha256', () => {
    const hs = parse(`keyId="k",signature="${SIG}",created=1700000000`);
    expect(hs.ok && hs.value).to.include({ algorithm: 'hs2019', created: '1700000000' });
    expect(hs.ok && hs.value.headers).to.deep.equal(['(created)']);
    const rsa = parse(`keyId="k",algorithm="rsa-sha256",signature="${SIG}"`);
    expect(rsa.ok && rsa.value.headers).to.deep.equal(['date']);
  });

  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['no equals', 'keyId'],
    ['missing keyId', `signature="${SIG}"`],
    ['empty keyId', `keyId="",signature="${SIG}"`],
    ['missing signature', 'keyId="k"'],
    ['duplicate parameter', `keyId="k",keyId="j",signature="${SIG}"`],
    ['duplicate parameter, other case', `keyId="k",keyid="j",signature="${SIG}"`],
    ['trailing comma', `keyId="k",signature="${SIG}",`],
    ['double comma', `keyId="k",,signature="${SIG}"`],
    ['unterminated string', `keyId="k,signature="${SIG}`],
    ['garbage after a value', `keyId="k"x,signature="${SIG}"`],
    ['missing separator', `keyId="k" signature="${SIG}"`],
    ['signature not base64', 'keyId="k",signature="not base64!"'],
    ['created not an integer', `keyId="k",signature="${SIG}",created="soon"`],
    ['expires not a number', `keyId="k",signature="${SIG}",expires="1e9"`],
    ['empty headers', `keyId="k",signature="${SIG}",headers=""`],
    ['repeated header name', `keyId="k",signature="${SIG}",headers="date Date"`],
    ['control character', `keyId="k\u0001",signature="${SIG}"`],
    ['oversized', `keyId="${'k'.repeat(9000)}",signature="${SIG}"`],
  ];
  for (const [name, value] of bad) {
    it(`rejects ${name}`, () => {
      expect(parse(value).ok).to.equal(false);
    });
  }
});
