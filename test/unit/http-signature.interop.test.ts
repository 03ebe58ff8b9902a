/** HTTP signatures against an independent implementation, the `http-signature` package. */
import { expect } from 'chai';
import { digestOf } from '../../src/federation/http-signature.ts';
import {
  ACTOR,
  KEY_ID,
  BODY,
  alice,
  other,
  signedPost,
  verifyPost,
  oracle,
  type OracleRequest,
} from './http-signature.fixtures.ts';

describe('http-signature', () => {
  describe('interoperability with the http-signature package', () => {
    function oracleRequest(method: string, path: string, headers: Record<string, string>): OracleRequest {
      return {
        method,
        path,
        getHeader: (name) => headers[name.toLowerCase()],
        setHeader: (name, value) => {
          headers[name.toLowerCase()] = value;
        },
      };
    }

    it('verifies a POST signed by http-signature', async () => {
      const now = new Date();
      const headers: Record<string, string> = {
        host: 'guild.example',
        date: now.toUTCString(),
        digest: digestOf(BODY),
        'content-type': 'application/activity+json',
      };
      oracle.sign(oracleRequest('POST', '/groups/cats/inbox', headers), {
        keyId: KEY_ID,
        key: alice.privateKeyPem,
        algorithm: 'rsa-sha256',
        headers: ['(request-target)', 'host', 'date', 'digest', 'content-type'],
      });
      // The package writes `Authorization: Signature ...`; ActivityPub carries the same value in `Signature`.
      const { authorization, ...rest } = headers;
      expect(authorization).to.match(/^Signature /);
      const result = await verifyPost({ ...rest, signature: authorization ?? '' }, { now });
      expect(result).to.deep.equal({ ok: true, keyId: KEY_ID, ownerId: ACTOR });
    });

    it('produces signatures http-signature verifies, and only for the signed values', () => {
      const now = new Date();
      const h = signedPost(BODY, now);
      const request = { method: 'POST', url: '/groups/cats/inbox', httpVersion: '1.1', headers: h };
      const parsed = oracle.parse(request, { clockSkew: 300 });
      expect(oracle.verifySignature(parsed, alice.publicKeyPem)).to.equal(true);
      expect(oracle.verifySignature(parsed, other.publicKeyPem)).to.equal(false);
      const tampered = oracle.parse(
        { ...request, headers: { ...h, 'content-type': 'text/html' } },
        { clockSkew: 300 },
      );
      expect(oracle.verifySignature(tampered, alice.publicKeyPem)).to.equal(false);
    });
  });
});
