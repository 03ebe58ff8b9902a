/** Signing and verifying HTTP signatures (draft-cavage): digests, signed headers, every refusal. */
import { expect } from 'chai';
import { digestOf, signRequest, verifyRequest } from '../../src/federation/http-signature.ts';
import {
  ACTOR,
  KEY_ID,
  INBOX,
  NOW,
  BODY,
  alice,
  other,
  nodeHeaders,
  signedPost,
  keys,
  verifyPost,
  rawSignature,
  expectFailure,
} from './http-signature.fixtures.ts';

describe('http-signature', () => {
  describe('digestOf', () => {
    it('is SHA-256 of the bytes, base64', () => {
      expect(digestOf('')).to.equal('SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
      expect(digestOf(Buffer.from('hello'))).to.equal(digestOf('hello'));
    });
  });

  describe('signRequest', () => {
    it('signs a POST with (request-target) host date digest content-type', () => {
      const h = signedPost();
      expect(h['host']).to.equal('guild.example');
      expect(h['date']).to.equal('Sat, 01 Mar 2025 12:00:00 GMT');
      expect(h['digest']).to.equal(digestOf(BODY));
      expect(h['content-type']).to.equal('application/activity+json');
      expect(h['signature']).to.match(
        /^keyId="https:\/\/remote\.example\/users\/alice#main-key",algorithm="rsa-sha256"/,
      );
      expect(h['signature']).to.contain('headers="(request-target) host date digest content-type"');
    });

    it('signs a GET with accept, keeping the port in Host', () => {
      const h = signRequest({
        method: 'GET',
        url: 'http://127.0.0.1:8001/users/bob?page=2',
        headers: { Accept: 'application/activity+json' },
        keyId: KEY_ID,
        privateKeyPem: alice.privateKeyPem,
        now: NOW,
      });
      expect(h['Host']).to.equal('127.0.0.1:8001');
      expect(h['Digest']).to.equal(undefined);
      expect(h['Signature']).to.contain('headers="(request-target) host date accept"');
    });
  });

  describe('verifyRequest', () => {
    it('accepts its own POST signature and names the key owner', async () => {
      const result = await verifyPost(signedPost());
      expect(result).to.deep.equal({ ok: true, keyId: KEY_ID, ownerId: ACTOR });
    });

    it('binds a request to this server: host and (request-target) signed on POST, Host naming it', async () => {
      const h = signedPost();
      const bound = (headers: Record<string, string>, authority: string) =>
        verifyRequest({
          method: 'POST',
          path: '/groups/cats/inbox',
          headers,
          rawBody: Buffer.from(BODY),
          now: NOW,
          scheme: 'https',
          authority,
          ...keys(alice.publicKeyPem),
        });
      expect((await bound(h, 'guild.example')).ok).to.equal(true);
      expect((await bound(h, 'GUILD.example:443')).ok, 'same authority, default port').to.equal(true);
      expectFailure(await bound(h, 'other.example'), 'wrong-host');
      // Signed without host, or without (request-target): valid for any server or any inbox.
      for (const names of [
        ['(request-target)', 'date', 'digest'],
        ['host', 'date', 'digest'],
      ]) {
        const lines = names.map((n) =>
          n === '(request-target)' ? '(request-target): post /groups/cats/inbox' : `${n}: ${h[n] ?? ''}`,
        );
        const signature = `keyId="${KEY_ID}",algorithm="rsa-sha256",headers="${names.join(' ')}",signature="${rawSignature(lines)}"`;
        expectFailure(await bound({ ...h, signature }, 'guild.example'), 'missing-required-header');
      }
    });

    it('accepts a signed GET with a query string', async () => {
      const headers = signRequest({
        method: 'GET',
        url: 'https://guild.example/groups/cats/outbox?page=true',
        headers: { Accept: 'application/activity+json' },
        keyId: KEY_ID,
        privateKeyPem: alice.privateKeyPem,
        now: NOW,
      });
      const base = { headers: nodeHeaders(headers), rawBody: null, now: NOW, method: 'GET' };
      const ok = await verifyRequest({
        ...base,
        path: '/groups/cats/outbox?page=true',
        ...keys(alice.publicKeyPem),
      });
      expect(ok.ok).to.equal(true);
      const otherPath = await verifyRequest({
        ...base,
        path: '/groups/cats/outbox?page=2',
        ...keys(alice.publicKeyPem),
      });
      expectFailure(otherPath, 'bad-signature');
    });

    it('accepts a request-target signed without its query string (older Mastodon)', async () => {
      const headers = nodeHeaders(
        signRequest({
          method: 'GET',
          url: 'https://guild.example/groups/cats',
          keyId: KEY_ID,
          privateKeyPem: alice.privateKeyPem,
          now: NOW,
        }),
      );
      const result = await verifyRequest({
        method: 'GET',
        path: '/groups/cats?x=1',
        headers,
        rawBody: null,
        now: NOW,
        ...keys(alice.publicKeyPem),
      });
      expect(result.ok).to.equal(true);
    });

    it('accepts hs2019 with signed (created) and (expires)', async () => {
      const created = Math.floor(NOW.getTime() / 1000) - 30;
      const expires = created + 3600;
      const digest = digestOf(BODY);
      const lines = [
        '(request-target): post /groups/cats/inbox',
        `(created): ${created}`,
        `(expires): ${expires}`,
        'host: guild.example',
        `digest: ${digest}`,
      ];
      const signature =
        `keyId="${KEY_ID}",algorithm="hs2019",created=${created},expires=${expires},` +
        `headers="(request-target) (created) (expires) host digest",signature="${rawSignature(lines)}"`;
      const headers = { host: 'guild.example', digest, signature };
      expect(await verifyPost(headers)).to.deep.equal({ ok: true, keyId: KEY_ID, ownerId: ACTOR });
      // The signed expiry is honoured: 2 h after it (beyond the 1 h skew) the signature is expired.
      expectFailure(await verifyPost(headers, { now: new Date((expires + 7200) * 1000) }), 'expired');
    });

    it('caps a far expiry at 12 hours after creation', async () => {
      const created = Math.floor(NOW.getTime() / 1000);
      const expires = created + 48 * 3600;
      const digest = digestOf(BODY);
      const host = new URL(INBOX).host;
      const lines = [
        '(request-target): post /groups/cats/inbox',
        `host: ${host}`,
        `(created): ${created}`,
        `(expires): ${expires}`,
        `digest: ${digest}`,
      ];
      const headers = {
        host,
        digest,
        signature: `keyId="${KEY_ID}",algorithm="hs2019",created="${created}",expires="${expires}",headers="(request-target) host (created) (expires) digest",signature="${rawSignature(lines)}"`,
      };
      expect((await verifyPost(headers, { now: new Date((created + 12 * 3600) * 1000) })).ok).to.equal(true);
      expectFailure(
        await verifyPost(headers, { now: new Date((created + 13 * 3600 + 1) * 1000) }),
        'expired',
      );
    });

    it('refuses a missing signature', async () => {
      const h = signedPost();
      delete h['signature'];
      expectFailure(await verifyPost(h), 'missing-signature');
    });

    it('refuses a malformed signature header', async () => {
      expectFailure(await verifyPost({ ...signedPost(), signature: 'garbage' }), 'malformed-signature');
      const h = signedPost();
      expectFailure(
        await verifyPost({ ...h, signature: `${h['signature']},keyId="x"` }),
        'malformed-signature',
      );
    });

    it('refuses other algorithms', async () => {
      const h = signedPost();
      for (const algorithm of ['rsa-sha512', 'hmac-sha256', 'ed25519']) {
        const signature = (h['signature'] ?? '').replace('rsa-sha256', algorithm);
        expectFailure(await verifyPost({ ...h, signature }), 'unsupported-algorithm');
      }
    });

    it('refuses a signature covering only the date', async () => {
      const h = signedPost();
      const signature = `keyId="${KEY_ID}",algorithm="rsa-sha256",headers="date",signature="${rawSignature([`date: ${h['date']}`])}"`;
      expectFailure(await verifyPost({ ...h, signature }), 'missing-required-header');
    });

    it('refuses a POST whose digest is not signed', async () => {
      const h = signedPost();
      const lines = [
        '(request-target): post /groups/cats/inbox',
        'host: guild.example',
        `date: ${h['date']}`,
      ];
      const signature = `keyId="${KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host date",signature="${rawSignature(lines)}"`;
      expectFailure(await verifyPost({ ...h, signature }), 'missing-required-header');
    });

    it('refuses a GET without a signed host', async () => {
      const date = NOW.toUTCString();
      const lines = ['(request-target): get /groups/cats', `date: ${date}`];
      const result = await verifyRequest({
        method: 'GET',
        path: '/groups/cats',
        headers: {
          host: 'guild.example',
          date,
          signature: `keyId="${KEY_ID}",algorithm="rsa-sha256",headers="(request-target) date",signature="${rawSignature(lines)}"`,
        },
        rawBody: null,
        now: NOW,
        ...keys(alice.publicKeyPem),
      });
      expectFailure(result, 'missing-required-header');
    });

    it('refuses when a signed header is absent', async () => {
      const h = signedPost();
      delete h['content-type'];
      expectFailure(await verifyPost(h), 'missing-required-header');
    });

    it('refuses a POST without a Digest header, or with no SHA-256 in it', async () => {
      const h = signedPost();
      delete h['digest'];
      expectFailure(await verifyPost(h), 'missing-digest');
      expectFailure(await verifyPost({ ...signedPost(), digest: 'SHA-512=abcd' }), 'missing-digest');
    });

    it('refuses a body changed after signing', async () => {
      expectFailure(
        await verifyPost(signedPost(), { body: BODY.replace('Follow', 'Block') }),
        'digest-mismatch',
      );
    });

    it('checks SHA-256 among several digest algorithms', async () => {
      const h = signedPost();
      const multi = `SHA-512=AAAA,${h['digest']}`;
      const lines = [
        '(request-target): post /groups/cats/inbox',
        `host: ${h['host']}`,
        `date: ${h['date']}`,
        `digest: ${multi}`,
      ];
      const signature = `keyId="${KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="${rawSignature(lines)}"`;
      expect((await verifyPost({ ...h, digest: multi, signature })).ok).to.equal(true);
    });

    it('enforces the time window with one hour of skew', async () => {
      const h = signedPost();
      const t = NOW.getTime();
      const limit = t + 5 * 60_000 + 3600_000;
      expect((await verifyPost(h, { now: new Date(limit) })).ok).to.equal(true);
      expectFailure(await verifyPost(h, { now: new Date(limit + 1000) }), 'expired');
      expect((await verifyPost(h, { now: new Date(t - 3600_000) })).ok).to.equal(true);
      expectFailure(await verifyPost(h, { now: new Date(t - 3600_000 - 1000) }), 'not-yet-valid');
    });

    it('ignores unsigned created/expires parameters (no replay window stretching)', async () => {
      const h = signedPost();
      const later = new Date(NOW.getTime() + 3 * 3600_000);
      const fresh = Math.floor(later.getTime() / 1000);
      const signature = (h['signature'] ?? '').replace(
        'algorithm="rsa-sha256"',
        `algorithm="rsa-sha256",created=${fresh}`,
      );
      expectFailure(await verifyPost({ ...h, signature }, { now: later }), 'expired');
    });

    it('refuses an unknown key', async () => {
      expectFailure(await verifyPost(signedPost(), { pems: [] }), 'key-not-found');
    });

    it('refuses a signature by another key, after one refresh', async () => {
      const { resolveKey, calls } = keys(other.publicKeyPem);
      const result = await verifyRequest({
        method: 'POST',
        path: '/groups/cats/inbox',
        headers: signedPost(),
        rawBody: Buffer.from(BODY),
        now: NOW,
        resolveKey,
      });
      expectFailure(result, 'bad-signature');
      expect(calls).to.deep.equal([false, true]);
    });

    it('accepts after a refresh when the key was rotated', async () => {
      const { resolveKey, calls } = keys(other.publicKeyPem, alice.publicKeyPem);
      const result = await verifyRequest({
        method: 'POST',
        path: '/groups/cats/inbox',
        headers: signedPost(),
        rawBody: Buffer.from(BODY),
        now: NOW,
        resolveKey,
      });
      expect(result.ok).to.equal(true);
      expect(calls).to.deep.equal([false, true]);
    });

    it('refuses a signed header changed in transit', async () => {
      expectFailure(await verifyPost({ ...signedPost(), 'content-type': 'text/plain' }), 'bad-signature');
      expectFailure(await verifyPost(signedPost(), { path: '/groups/dogs/inbox' }), 'bad-signature');
    });
  });
});
