/** Secure mode (GUILD_REQUIRE_SIGNED_FETCH): ActivityPub GETs need a valid signature; pages and keys do not. */
import { expect } from 'chai';
import { randomUUID, sign as rsaSign } from 'node:crypto';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { signRequest } from '../../src/federation/http-signature.ts';
import { waitUntil } from '../support/net.ts';

const ACCEPT = 'application/activity+json';
const AS = 'https://www.w3.org/ns/activitystreams';

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
    for (const url of [group, `${group}/outbox`, `${group}/followers`]) {
      expect((await fetch(url, { headers: { accept: ACCEPT } })).status, url).to.equal(401);
    }
  });

  it("tells an unsigned reader of the moderators collection the group's inboxes, not who the moderators are", async function () {
    // snac looks up where to send an author's Delete with an unsigned GET of the booster's attributedTo
    // (snac activitypub.c: get_actor_inbox calls actor_request without a user).
    const unsigned = await fetch(`${group}/moderators`, { headers: { accept: ACCEPT } });
    expect(unsigned.status).to.equal(200);
    const doc = (await unsigned.json()) as Record<string, unknown>;
    expect(doc).to.deep.include({
      id: `${group}/moderators`,
      inbox: `${group}/inbox`,
      endpoints: { sharedInbox: `${g.origin}/inbox` },
    });
    expect(doc).not.to.have.property('orderedItems');
    const signed = (await (await signedGet(`${group}/moderators`)).json()) as Record<string, unknown>;
    expect(signed.orderedItems).to.be.an('array');
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
      expect((await g.guild.services.instance.blockDomain('127.0.0.5')).ok).to.equal(true);
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
 * Activities that are not public (the group's direct answers to commands, notices to the moderators carrying
 * a reporter's id and reason) are served only to a signed GET from an addressee or from its server, in every
 * mode; anyone else gets 404, as Mastodon answers for private statuses. Collections and pages never list them.
 */
for (const secure of [false, true]) {
  describe(`non-public activities (${secure ? 'secure mode' : 'default mode'})`, function () {
    this.timeout(30_000);
    let g: TestGuild;
    let member: RawActor;
    let mod: RawActor;
    let stranger: RawActor;
    let group: string;
    /** The group's answer to the member's command: the Create and its Note. */
    let answer: { createId: string; noteId: string; text: string };
    /** The notice to the moderator of a report: the Create and its Note. */
    let notice: { createId: string; noteId: string; text: string };

    /** The first Create{Note} the group delivered to `to` whose text contains `needle`. */
    const delivered = async (to: RawActor, needle: string) => {
      const found = await waitUntil(
        () => {
          const hit = to.inbox.find(
            (p) => (p.body as { type?: string }).type === 'Create' && JSON.stringify(p.body).includes(needle),
          );
          return hit?.body as { id: string; object: { id: string; content: string } } | undefined;
        },
        { what: `a direct message containing "${needle}"` },
      );
      return { createId: found.id, noteId: found.object.id, text: found.object.content };
    };

    const get = (url: string, signer: { keyId: string; privateKeyPem: string } | null, signedUrl = url) =>
      fetch(url, {
        headers: signer
          ? signRequest({
              method: 'GET',
              url: signedUrl,
              headers: { Accept: ACCEPT },
              keyId: signer.keyId,
              privateKeyPem: signer.privateKeyPem,
            })
          : { accept: ACCEPT },
      });

    /** The instance actor of a raw actor's server: another actor, on the same host, with the same key. */
    const serverOf = (raw: RawActor) => {
      const id = `${raw.origin}/actor`;
      raw.documents.set('/actor', {
        '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
        id,
        type: 'Application',
        preferredUsername: 'instance',
        inbox: `${raw.origin}/inbox`,
        publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem: raw.publicKeyPem },
      });
      return { keyId: `${id}#main-key`, privateKeyPem: raw.privateKeyPem };
    };

    before(async function () {
      g = await startTestGuild(secure ? { GUILD_REQUIRE_SIGNED_FETCH: 'true' } : {});
      [member, mod, stranger] = await Promise.all([
        startRawActor('member'),
        startRawActor('mod'),
        startRawActor('stranger'),
      ]);
      group = await g.createGroup('private');
      const follow = {
        '@context': AS,
        id: `${member.actorId}/follows/1`,
        type: 'Follow',
        actor: member.actorId,
        object: group,
      };
      expect((await member.post(`${group}/inbox`, follow)).status).to.equal(202);
      await g.processed(follow.id);
      const added = await g.guild.services.moderation.addModerator('private', mod.actorId, { by: 'admin' });
      expect(added.ok).to.equal(true);

      const command = {
        '@context': AS,
        id: `${member.actorId}/creates/1`,
        type: 'Create',
        actor: member.actorId,
        to: [group],
        object: {
          id: `${member.actorId}/notes/1`,
          type: 'Note',
          attributedTo: member.actorId,
          to: [group],
          content: '<p>@private rules</p>',
          tag: [{ type: 'Mention', href: group, name: '@private' }],
        },
      };
      expect((await member.post(`${group}/inbox`, command)).status).to.equal(202);
      answer = await delivered(member, 'no written rules');

      const flag = {
        '@context': AS,
        id: `${member.actorId}/flags/1`,
        type: 'Flag',
        actor: member.actorId,
        object: [stranger.actorId],
        content: 'sends spam links',
        to: [group],
      };
      expect((await member.post(`${group}/inbox`, flag)).status).to.equal(202);
      notice = await delivered(mod, 'New report');
      expect(notice.text).to.contain(member.actorId).and.to.contain('sends spam links');
    });
    afterEach(function () {
      printLogsOnFailure(this, [g]);
    });
    after(async function () {
      await g?.close();
      await Promise.all([member?.close(), mod?.close(), stranger?.close()]);
    });

    /** The document, its recipient and an actor it is not addressed to (read once `before` has run). */
    const subjects = {
      "the group's answer to a command": () => ({ doc: answer, recipient: member, other: mod }),
      'a notice to the moderators': () => ({ doc: notice, recipient: mod, other: member }),
    };

    for (const [what, subject] of Object.entries(subjects)) {
      it(`serves ${what} to its recipient, signed`, async function () {
        const { doc, recipient } = subject();
        for (const url of [doc.createId, doc.noteId]) {
          const res = await get(url, recipient);
          expect(res.status, url).to.equal(200);
          expect(res.headers.get('cache-control'), url).to.contain('private');
          expect(((await res.json()) as { id: string }).id).to.equal(url);
        }
      });

      it(`serves ${what} to the recipient's server (its instance actor), signed`, async function () {
        const { doc, recipient } = subject();
        const server = serverOf(recipient);
        for (const url of [doc.createId, doc.noteId])
          expect((await get(url, server)).status, url).to.equal(200);
      });

      it(`answers 404 for ${what} to another actor, to nobody and to a signature for another URL`, async function () {
        const { doc, recipient, other } = subject();
        for (const url of [doc.createId, doc.noteId]) {
          for (const [who, res] of [
            ['a stranger', await get(url, stranger)],
            ['another actor known to the group', await get(url, other)],
            ['nobody', await get(url, null)],
            ['a signature for another URL', await get(url, recipient, `${g.origin}/groups/private/outbox`)],
          ] as const) {
            expect(res.status, `${who}: ${url}`).to.equal(404);
            expect(await res.text(), `${who}: ${url}`).not.to.contain(doc.text.slice(0, 20));
          }
        }
      });
    }

    it('lists them in no collection and on no page', async function () {
      // Even a non-public announcement stored in the outbox is not listed.
      const hidden = g.guild.services.urls.activity('private', `hidden-${secure}`);
      const note = {
        id: `${member.actorId}/notes/hidden`,
        type: 'Note',
        attributedTo: member.actorId,
        to: [`${group}/followers`],
        content: '<p>members only secret</p>',
      };
      const create = {
        id: `${member.actorId}/creates/hidden`,
        type: 'Create',
        actor: member.actorId,
        to: note.to,
        object: note,
      };
      const announced = {
        '@context': AS,
        id: hidden,
        type: 'Announce',
        actor: group,
        to: note.to,
        object: create,
      };
      await g.store.activities.putActivity({
        id: hidden,
        groupName: 'private',
        type: 'Announce',
        objectId: note.id,
        json: JSON.stringify(announced),
        published: Date.now(),
        inOutbox: true,
      });
      expect((await get(hidden, null)).status).to.equal(404);
      expect((await get(hidden, stranger)).status).to.equal(404);
      // Addressed to the group's followers: a member may read it.
      expect((await get(hidden, member)).status).to.equal(200);
      const ids = [answer.createId, answer.noteId, notice.createId, notice.noteId, hidden];
      const signer = secure ? member : null;
      const outbox = (await (await get(`${group}/outbox`, signer)).json()) as { first: string };
      const page = await (await get(outbox.first, signer, outbox.first)).text();
      const html = await (await fetch(group, { headers: { accept: 'text/html' } })).text();
      const directory = await (await fetch(`${g.origin}/`, { headers: { accept: 'text/html' } })).text();
      for (const text of [JSON.stringify(outbox), page, html, directory]) {
        for (const id of ids) expect(text).not.to.contain(id);
        expect(text).not.to.contain('sends spam links');
        expect(text).not.to.contain('members only secret');
      }
    });

    it("never fetches the key of a blocked host's signature", async function () {
      const blocked = await startRawActor('blocked', { host: '127.0.0.6' });
      try {
        expect((await g.guild.services.instance.blockDomain('127.0.0.6')).ok).to.equal(true);
        for (const url of [answer.createId, answer.noteId]) {
          const res = await get(url, blocked);
          expect(res.status, url).to.equal(404);
        }
        expect(blocked.requests, 'requests to the blocked host').to.deep.equal([]);
      } finally {
        await blocked.close();
      }
    });
  });
}

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
