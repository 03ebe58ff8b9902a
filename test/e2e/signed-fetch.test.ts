/** Secure mode (GUILD_REQUIRE_SIGNED_FETCH): ActivityPub GETs need a valid signature; pages and keys do not. */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { signRequest } from '../../src/federation/http-signature.ts';

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
