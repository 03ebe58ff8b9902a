/** Secure mode (GUILD_REQUIRE_SIGNED_FETCH): ActivityPub GETs need a valid signature; pages and keys do not. */
import { expect } from 'chai';
import { randomUUID, sign as rsaSign } from 'node:crypto';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { signRequest } from '../../src/federation/http-signature.ts';
import { InstanceService } from '../../src/groups/instance.service.ts';

const ACCEPT = 'application/activity+json';

describe('signed fetches', function () {
  this.timeout(30_000);
  let g: TestGuild;
  let reader: RawActor;
  let group: string;

  before(async function () {
    g = await startTestGuild({ GUILD_REQUIRE_SIGNED_FETCH: 'true' });
    reader = await startRawActor('reader');
    group = await g.createGroup('secure');
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await g?.close();
    await reader?.close();
  });

  const signedGet = (url: string) =>
    fetch(url, {
      headers: signRequest({
        method: 'GET',
        url,
        headers: { Accept: ACCEPT },
        keyId: reader.keyId,
        privateKeyPem: reader.privateKeyPem,
      }),
    });

  it('refuses unsigned ActivityPub GETs of the group, its collections and activities', async function () {
    for (const url of [group, `${group}/outbox`, `${group}/followers`, `${group}/moderators`]) {
      expect((await fetch(url, { headers: { accept: ACCEPT } })).status, url).to.equal(401);
    }
  });

  it('answers signed GETs', async function () {
    const res = await signedGet(group);
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { type: string }).type).to.equal('Group');
    expect((await signedGet(`${group}/outbox`)).status).to.equal(200);
  });

  it('refuses a GET signed for another URL', async function () {
    const headers = signRequest({
      method: 'GET',
      url: `${group}/outbox`,
      headers: { Accept: ACCEPT },
      keyId: reader.keyId,
      privateKeyPem: reader.privateKeyPem,
    });
    expect((await fetch(group, { headers })).status).to.equal(401);
  });

  it('still serves the page to browsers, WebFinger, and the application actor (needed to verify its own signatures)', async function () {
    expect((await fetch(group, { headers: { accept: 'text/html' } })).status).to.equal(200);
    expect(
      (await fetch(`${g.origin}/.well-known/webfinger?resource=acct:secure@${new URL(g.origin).host}`))
        .status,
    ).to.equal(200);
    expect((await fetch(`${g.origin}/actor`, { headers: { accept: ACCEPT } })).status).to.equal(200);
  });

  it("answers a GET signed with RFC 9421 for this server's http origin", async function () {
    const res = await fetch(group, { headers: rfc9421Get(group, reader) });
    expect(res.status).to.equal(200);
  });

  it('answers 403 to a blocked domain without fetching its key, in every form of its host', async function () {
    const blockedReader = await startRawActor('blocked', { host: '127.0.0.5', urlHost: '[::ffff:7f00:5]' });
    try {
      const instance = new InstanceService({
        store: g.store,
        policies: g.guild.domains,
        localDomain: g.config.domain,
        federationMode: 'open',
      });
      expect((await instance.blockDomain('127.0.0.5')).ok).to.equal(true);
      const headers = signRequest({
        method: 'GET',
        url: group,
        headers: { Accept: ACCEPT },
        keyId: blockedReader.keyId,
        privateKeyPem: blockedReader.privateKeyPem,
      });
      const res = await fetch(group, { headers });
      expect(res.status).to.equal(403);
      const nineFour = await fetch(group, { headers: rfc9421Get(group, blockedReader) });
      expect(nineFour.status).to.equal(403);
      expect(blockedReader.requests, 'requests to the blocked host').to.deep.equal([]);
    } finally {
      await blockedReader.close();
    }
  });

  it('lets an independent peer, which signs its fetches, join', async function () {
    let peer: FedifyPeer | null = null;
    try {
      peer = await startFedifyPeer({ username: `p${randomUUID().slice(0, 6)}` });
      await peer.follow(group);
      await peer.waitFor((a) => a.type === 'Accept', { what: 'Accept in secure mode' });
    } finally {
      await peer?.close();
    }
  });
});

/**
 * Headers of a GET signed with RFC 9421 (`Signature-Input` covering `@method` and `@target-uri`, RSA PKCS#1
 * v1.5 SHA-256), the signature base written out as section 2.5 of the RFC gives it.
 */
function rfc9421Get(url: string, actor: RawActor): Record<string, string> {
  const created = Math.floor(Date.now() / 1000);
  const params = `("@method" "@target-uri");created=${created};keyid="${actor.keyId}";alg="rsa-v1_5-sha256"`;
  const base = [
    `"@method": GET`,
    `"@target-uri": ${new URL(url).href}`,
    `"@signature-params": ${params}`,
  ].join('\n');
  const signature = rsaSign('sha256', Buffer.from(base), actor.privateKeyPem).toString('base64');
  return { Accept: ACCEPT, 'Signature-Input': `sig1=${params}`, Signature: `sig1=:${signature}:` };
}
