import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { startFedifyPeer } from '../support/fedify-peer.ts';
import type { FedifyPeer, ReceivedActivity } from '../support/fedify-peer.ts';

const AS_CONTEXT = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = 'https://www.w3.org/ns/activitystreams#Public';
/** fedify compacts the public collection to `as:Public`; these are its equivalent spellings. */
const PUBLIC_FORMS = new Set([PUBLIC, 'as:Public', 'Public']);

/** Replaces any spelling of the public collection with its full IRI. */
function normalizeAudience(value: unknown): unknown[] {
  return asList(value).map((v) => (typeof v === 'string' && PUBLIC_FORMS.has(v) ? PUBLIC : v));
}

async function getJson(url: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { headers: { accept: 'application/activity+json' } });
  const text = await response.text();
  return { status: response.status, json: response.ok ? (JSON.parse(text) as unknown) : text };
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

interface CapturedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A bare HTTP server posing as a remote Group: serves an actor document and records what reaches it. */
async function startCaptureGroup(inboxStatus: number) {
  const requests: CapturedRequest[] = [];
  let origin = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const captured = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(captured);
      if (req.method === 'GET' && req.url === '/group') {
        const actor = {
          '@context': [AS_CONTEXT],
          id: `${origin}/group`,
          type: 'Group',
          preferredUsername: 'capture',
          inbox: `${origin}/inbox`,
        };
        res.writeHead(200, { 'content-type': 'application/activity+json' }).end(JSON.stringify(actor));
      } else if (req.method === 'POST' && req.url === '/inbox') {
        res.writeHead(inboxStatus, { 'content-type': 'text/plain' }).end('captured');
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    actorId: `${origin}/group`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function signatureParams(header: string | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of (header ?? '').matchAll(/([A-Za-z]+)="([^"]*)"/g)) {
    if (match[1] !== undefined && match[2] !== undefined) params[match[1]] = match[2];
  }
  return params;
}

describe('fedify test peer', function () {
  let alice: FedifyPeer;
  let bob: FedifyPeer;

  before(async function () {
    [alice, bob] = await Promise.all([
      startFedifyPeer({ username: 'alice' }),
      startFedifyPeer({ username: 'bob', autoAcceptFollows: true }),
    ]);
  });

  after(async function () {
    await Promise.all([alice?.close(), bob?.close()]);
  });

  it('serves its Person actor with an RSA public key, and WebFinger for its handle', async function () {
    const { status, json } = await getJson(alice.actorId);
    expect(status).to.equal(200);
    expect(field(json, 'type')).to.equal('Person');
    expect(field(json, 'inbox')).to.equal(alice.inboxUrl);
    expect(field(field(json, 'endpoints'), 'sharedInbox')).to.equal(alice.sharedInboxUrl);
    expect(field(field(json, 'publicKey'), 'id')).to.equal(alice.keyId);
    expect(String(field(field(json, 'publicKey'), 'publicKeyPem'))).to.match(/^-----BEGIN PUBLIC KEY-----/);
    expect(alice.handle).to.equal(`@alice@${new URL(alice.origin).host}`);

    const acct = `acct:${alice.handle.slice(1)}`;
    const jrd = await getJson(`${alice.origin}/.well-known/webfinger?resource=${encodeURIComponent(acct)}`);
    expect(jrd.status).to.equal(200);
    expect(field(jrd.json, 'subject')).to.equal(acct);
    const self = asList(field(jrd.json, 'links')).find((link) => field(link, 'rel') === 'self');
    expect(field(self, 'href')).to.equal(alice.actorId);
  });

  it('follows another peer, which accepts; the Accept arrives verified and Undo removes the follower', async function () {
    const followId = await alice.follow(bob.actorId);
    const accept = await alice.waitFor((a) => a.type === 'Accept' && a.actorId === bob.actorId, {
      what: 'Accept from bob',
    });
    expect(field(field(accept.json, 'object'), 'id')).to.equal(followId);
    expect(bob.received.some((a) => a.type === 'Follow' && a.id === followId)).to.equal(true);
    expect(bob.followerIds()).to.include(alice.actorId);

    const followers = await getJson(`${bob.actorId}/followers`);
    expect(field(followers.json, 'totalItems')).to.equal(1);
    expect(asList(field(followers.json, 'orderedItems'))).to.deep.equal([alice.actorId]);

    await alice.unfollow(bob.actorId, followId);
    await bob.waitFor((a) => a.type === 'Undo' && a.actorId === alice.actorId, { what: 'Undo from alice' });
    expect(bob.followerIds()).to.not.include(alice.actorId);
  });

  it('posts a public Note addressed Mastodon-style that arrives verified and can be fetched', async function () {
    const { createId, noteId } = await bob.post({ to: [alice.actorId], content: '<p>hello alice</p>' });
    const create = await alice.waitFor((a) => a.id === createId, { what: "bob's Create" });
    expect(create.type).to.equal('Create');
    expect(create.actorId).to.equal(bob.actorId);
    expect(normalizeAudience(create.json['to'])).to.deep.equal([PUBLIC]);
    expect(normalizeAudience(create.json['cc'])).to.include.members([
      `${bob.actorId}/followers`,
      alice.actorId,
    ]);
    const note = create.json['object'];
    expect(field(note, 'id')).to.equal(noteId);
    expect(field(note, 'content')).to.equal('<p>hello alice</p>');
    const mention = asList(field(note, 'tag')).find((tag) => field(tag, 'type') === 'Mention');
    expect(field(mention, 'href')).to.equal(alice.actorId);

    const fetched = await getJson(noteId);
    expect(fetched.status).to.equal(200);
    expect(field(fetched.json, 'type')).to.equal('Note');
    expect(field(fetched.json, 'attributedTo')).to.equal(bob.actorId);
  });

  it('addresses the other visibilities, and sends Page, audience, reply, Update, Delete and Like', async function () {
    const unlisted = await bob.post({
      to: [alice.actorId],
      content: 'u',
      visibility: 'unlisted',
      mention: false,
    });
    const u = await alice.waitFor((a) => a.id === unlisted.createId, { what: 'unlisted Create' });
    expect(normalizeAudience(u.json['to'])).to.deep.equal([`${bob.actorId}/followers`]);
    expect(normalizeAudience(u.json['cc'])).to.include.members([PUBLIC, alice.actorId]);
    expect(field(u.json['object'], 'tag')).to.equal(undefined);

    const direct = await bob.post({ to: [alice.actorId], content: 'd', visibility: 'direct' });
    const d = await alice.waitFor((a) => a.id === direct.createId, { what: 'direct Create' });
    expect(normalizeAudience(d.json['to'])).to.deep.equal([alice.actorId]);
    for (const key of ['to', 'cc', 'bto', 'bcc'])
      expect(normalizeAudience(d.json[key])).to.not.include(PUBLIC);

    const page = await bob.post({
      to: [alice.actorId],
      content: 'body',
      type: 'Page',
      name: 'A title',
      audience: alice.actorId,
      inReplyTo: unlisted.noteId,
      visibility: 'followers',
    });
    const p = await alice.waitFor((a) => a.id === page.createId, { what: 'Page Create' });
    expect(p.json['audience']).to.equal(alice.actorId);
    expect(field(p.json['object'], 'type')).to.equal('Page');
    expect(field(p.json['object'], 'name')).to.equal('A title');
    expect(field(p.json['object'], 'inReplyTo')).to.equal(unlisted.noteId);
    expect(normalizeAudience(p.json['to'])).to.deep.equal([`${bob.actorId}/followers`]);

    await bob.update(page.noteId, 'edited');
    const update = await alice.waitFor((a) => a.type === 'Update', { what: 'Update' });
    expect(field(update.json['object'], 'content')).to.equal('edited');
    expect(field((await getJson(page.noteId)).json, 'content')).to.equal('edited');

    await bob.like(page.noteId, alice.actorId);
    const like = await alice.waitFor((a) => a.type === 'Like', { what: 'Like' });
    expect(like.json['object']).to.equal(page.noteId);

    await bob.delete(page.noteId);
    const del = await alice.waitFor((a) => a.type === 'Delete', { what: 'Delete' });
    expect(field(del.json['object'], 'id')).to.equal(page.noteId);
    expect((await getJson(page.noteId)).status).to.equal(404);
  });

  it('records a raw activity signed by its actor, and rejects it with a tampered body, unsigned or signed by someone else', async function () {
    const activity = (id: string, actor: string) => ({
      '@context': AS_CONTEXT,
      id,
      type: 'Like',
      actor,
      object: `${alice.actorId}/notes/anything`,
    });
    const tamperedId = `${bob.actorId}/activities/tampered`;
    const tampered = await bob.sendRaw(alice.inboxUrl, activity(tamperedId, bob.actorId), {
      tamperBody: (body) => body.replace('anything', 'something-else'),
    });
    expect(tampered.status).to.equal(401);
    expect(tampered.body).to.equal('Failed to verify the request signature.');

    const unsignedId = `${bob.actorId}/activities/unsigned`;
    const unsigned = await bob.sendRaw(alice.inboxUrl, activity(unsignedId, bob.actorId), { sign: false });
    expect(unsigned.status).to.equal(401);

    const forgedId = `${bob.actorId}/activities/forged`;
    const forged = await bob.sendRaw(alice.inboxUrl, activity(forgedId, alice.actorId));
    expect(forged.status).to.equal(401);
    expect(forged.body).to.equal('The signer and the actor do not match.');

    const genuineId = `${bob.actorId}/activities/genuine`;
    const genuine = await bob.sendRaw(alice.inboxUrl, activity(genuineId, bob.actorId));
    expect(genuine.status).to.equal(202);

    await alice.waitFor((a) => a.id === genuineId, { what: 'the genuine Like' });
    const ids = alice.received.map((a: ReceivedActivity) => a.id);
    expect(ids).to.not.include.members([tamperedId]);
    expect(ids).to.not.include(unsignedId);
    expect(ids).to.not.include(forgedId);
    expect(alice.rejected.filter((r) => r.status === 401)).to.have.length.of.at.least(3);
  });

  it('refuses an activity with a JSON-LD context fedify does not preload, without fetching it', async function () {
    const started = Date.now();
    const id = `${bob.actorId}/activities/unknown-context`;
    const result = await bob.sendRaw(alice.inboxUrl, {
      '@context': [AS_CONTEXT, 'https://contexts.invalid/never-fetched.jsonld'],
      id,
      type: 'Like',
      actor: bob.actorId,
      object: alice.actorId,
    });
    expect(result.status).to.equal(400);
    expect(Date.now() - started).to.be.below(2000);
    expect(alice.received.map((a) => a.id)).to.not.include(id);
  });

  it('signs outbound POSTs with draft-cavage only, with an LD signature, and does not retry on 401', async function () {
    const group = await startCaptureGroup(401);
    try {
      let failure: unknown;
      await bob.post({ to: [group.actorId], content: 'hi' }).catch((error: unknown) => {
        failure = error;
      });
      expect(String(failure)).to.match(/401/);

      const actorFetch = group.requests.find((r) => r.method === 'GET');
      const getSig = signatureParams(actorFetch?.headers['signature'] as string | undefined);
      expect(getSig['keyId']).to.equal(bob.keyId);
      expect(getSig['headers']).to.equal('(request-target) accept date host user-agent');

      const posts = group.requests.filter((r) => r.method === 'POST');
      expect(posts).to.have.length(1);
      const [post] = posts;
      expect(post?.headers['signature-input']).to.equal(undefined);
      const sig = signatureParams(post?.headers['signature'] as string | undefined);
      expect(sig).to.include({ keyId: bob.keyId, algorithm: 'rsa-sha256' });
      expect(sig['headers']).to.equal('(request-target) content-type date digest host');
      expect(post?.headers['digest']).to.match(/^SHA-256=/);
      const body: unknown = JSON.parse(post?.body ?? '{}');
      expect(field(field(body, 'signature'), 'type')).to.equal('RsaSignature2017');
    } finally {
      await group.close();
    }
  });

  it('accepts an Announce signed by the announcer without fetching the announced object', async function () {
    const elsewhere = await startCaptureGroup(202);
    try {
      const announceId = `${bob.actorId}/activities/announce-1`;
      const announce = (actor: string) => ({
        '@context': AS_CONTEXT,
        id: announceId,
        type: 'Announce',
        actor,
        to: PUBLIC,
        object: {
          id: `${elsewhere.actorId}/create-1`,
          type: 'Create',
          actor: elsewhere.actorId,
          object: {
            id: `${elsewhere.actorId}/note-1`,
            type: 'Note',
            content: 'relayed',
            attributedTo: elsewhere.actorId,
          },
        },
      });
      const impersonated = await bob.sendRaw(alice.inboxUrl, announce(elsewhere.actorId));
      expect(impersonated.status).to.equal(401);

      const accepted = await bob.sendRaw(alice.inboxUrl, announce(bob.actorId));
      expect(accepted.status).to.equal(202);
      const received = await alice.waitFor((a) => a.id === announceId, { what: 'the Announce' });
      expect(received.type).to.equal('Announce');
      expect(field(field(received.json['object'], 'object'), 'content')).to.equal('relayed');
      expect(elsewhere.requests).to.have.length(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('waitFor times out with a message naming what it waited for and what arrived', async function () {
    let message = '';
    try {
      await alice.waitFor((a) => a.type === 'Flag', { timeoutMs: 150, what: 'a Flag from the group' });
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    expect(message).to.include('a Flag from the group');
    expect(message).to.include('timed out after 150 ms');
    expect(message).to.include(`received so far: [${alice.received.map((a) => a.type).join(', ')}]`);
  });
});
