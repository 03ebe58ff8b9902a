/**
 * Cross-checks the cavage signatures with fedify, an independent implementation used by many servers:
 * fedify's signatures verify with ours, and ours verify with fedify's verifier.
 */
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { expect } from 'chai';
import { signRequest as fedifySign, verifyRequest as fedifyVerify } from '@fedify/fedify';
import { digestOf, signRequest, verifyRequest } from '../../src/federation/http-signature.ts';

const ACTOR = 'https://remote.example/users/alice';
const KEY_ID = `${ACTOR}#main-key`;
const BODY = JSON.stringify({ type: 'Follow', actor: ACTOR, object: 'https://guild.example/groups/cats' });

describe('signature interoperability with fedify', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  async function webPrivateKey(): Promise<CryptoKey> {
    return webcrypto.subtle.importKey(
      'pkcs8',
      privateKey.export({ type: 'pkcs8', format: 'der' }),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      true,
      ['sign'],
    ) as Promise<CryptoKey>;
  }

  it('verifies a POST signed by fedify', async () => {
    const request = new Request('https://guild.example/groups/cats/inbox', {
      method: 'POST',
      headers: { 'Content-Type': 'application/activity+json' },
      body: BODY,
    });
    const signed = await fedifySign(request, await webPrivateKey(), new URL(KEY_ID));
    const headers: Record<string, string> = {};
    signed.headers.forEach((value, name) => {
      headers[name] = value;
    });
    expect(headers['signature']).to.contain('digest');
    // fedify signs the Host it derives from the URL; a server receives it as the host header.
    headers['host'] ??= 'guild.example';
    const result = await verifyRequest({
      method: 'POST',
      path: '/groups/cats/inbox',
      headers,
      rawBody: Buffer.from(await signed.text()),
      now: new Date(),
      resolveKey: async (id) => (id === KEY_ID ? { publicKeyPem, ownerId: ACTOR } : null),
    });
    expect(result).to.deep.equal({ ok: true, keyId: KEY_ID, ownerId: ACTOR });
  });

  it('produces POST signatures that fedify verifies, and fedify refuses a changed body', async () => {
    const actor = {
      '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
      id: ACTOR,
      type: 'Person',
      inbox: `${ACTOR}/inbox`,
      publicKey: { id: KEY_ID, owner: ACTOR, publicKeyPem },
    };
    const documentLoader = async (url: string) => {
      if (url !== ACTOR && url !== KEY_ID) throw new Error(`unexpected fetch of ${url}`);
      return { contextUrl: null, documentUrl: ACTOR, document: actor };
    };
    const url = 'https://guild.example/groups/cats/inbox';
    const headers = signRequest({
      method: 'POST',
      url,
      headers: { 'Content-Type': 'application/activity+json' },
      body: BODY,
      keyId: KEY_ID,
      privateKeyPem,
    });
    expect(headers['Digest']).to.equal(digestOf(BODY));
    const good = await fedifyVerify(new Request(url, { method: 'POST', headers, body: BODY }), {
      documentLoader,
    });
    expect(good?.id?.href).to.equal(KEY_ID);
    const tampered = await fedifyVerify(
      new Request(url, { method: 'POST', headers, body: BODY.replace('Follow', 'Block') }),
      {
        documentLoader,
      },
    );
    expect(tampered).to.equal(null);
  });
});
