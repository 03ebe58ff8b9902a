/**
 * Every attack class of ../shared/PROTOCOL.md against a real Guild over real HTTP: each one is refused and
 * leaves no trace in the store (no intake job, no member, no post).
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startRawActor, customSignature, sha256Digest, type RawActor } from '../support/raw-actor.ts';
import { intakeJobId } from '../../src/federation/inbox.receiver.ts';
import { waitUntil } from '../support/net.ts';
import type { InstanceService } from '../../src/groups/instance.service.ts';
import { signRequest } from '../../src/federation/http-signature.ts';
import { request as httpRequest } from 'node:http';

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;

describe('inbox security (attack classes)', function () {
  let g: TestGuild;
  let mallory: RawActor;
  let alice: RawActor;
  let group: string;
  let inbox: string;

  before(async function () {
    g = await startTestGuild();
    mallory = await startRawActor('mallory');
    alice = await startRawActor('alice', { freshKey: true });
    group = await g.createGroup('security');
    inbox = `${group}/inbox`;
    // mallory is a member, so refusals below are about the attack, not about membership.
    const follow = {
      '@context': AS,
      id: `${mallory.actorId}/follows/${randomUUID()}`,
      type: 'Follow',
      actor: mallory.actorId,
      object: group,
    };
    expect((await mallory.post(inbox, follow)).status).to.equal(202);
    await g.processed(follow.id);
    expect((await g.store.members.getMember('security', mallory.actorId))?.state).to.equal('accepted');
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await g?.close();
    await mallory?.close();
    await alice?.close();
  });

  const note = (actor: RawActor, over: Record<string, unknown> = {}) => {
    const id = `${actor.actorId}/notes/${randomUUID()}`;
    return {
      '@context': AS,
      id: `${id}/activity`,
      type: 'Create',
      actor: actor.actorId,
      to: [PUBLIC],
      cc: [group],
      object: {
        id,
        type: 'Note',
        attributedTo: actor.actorId,
        content: 'hi',
        to: [PUBLIC],
        cc: [group],
        ...over,
      },
    };
  };

  async function nothingStored(activityId: string): Promise<void> {
    expect(await g.store.jobs.getJob(intakeJobId(activityId)), 'intake job').to.equal(null);
  }

  it('refuses an unsigned POST with 401', async function () {
    const a = note(mallory);
    const res = await fetch(inbox, {
      method: 'POST',
      headers: { 'content-type': 'application/activity+json' },
      body: JSON.stringify(a),
    });
    expect(res.status).to.equal(401);
    await nothingStored(a.id);
  });

  it('refuses a body changed after signing (digest checked against the raw body)', async function () {
    const a = note(mallory);
    const res = await mallory.post(inbox, a, (r) => {
      r.body = r.body.replace('"hi"', '"pwned"');
    });
    expect(res.status).to.equal(401);
    expect(res.text).to.contain('digest');
    await nothingStored(a.id);
  });

  it('refuses a changed body whose Digest was recomputed (the signature covers the digest)', async function () {
    const a = note(mallory);
    const res = await mallory.post(inbox, a, (r) => {
      r.body = r.body.replace('"hi"', '"pwned"');
      r.headers['Digest'] = sha256Digest(r.body);
    });
    expect(res.status).to.equal(401);
    await nothingStored(a.id);
  });

  it('refuses a signature that covers only the date', async function () {
    const a = note(mallory);
    const res = await mallory.post(inbox, a, (r) => {
      r.headers['Signature'] = customSignature({
        keyId: mallory.keyId,
        privateKeyPem: mallory.privateKeyPem,
        names: ['date'],
        values: { date: r.headers['Date'] ?? '' },
      });
    });
    expect(res.status).to.equal(401);
    await nothingStored(a.id);
  });

  it('refuses an expired signature', async function () {
    const a = note(mallory);
    const res = await mallory.post(inbox, a, (r) => {
      const date = new Date(Date.now() - 3 * 3600_000).toUTCString();
      r.headers['Date'] = date;
      const path = new URL(inbox).pathname;
      r.headers['Signature'] = customSignature({
        keyId: mallory.keyId,
        privateKeyPem: mallory.privateKeyPem,
        names: ['(request-target)', 'host', 'date', 'digest'],
        values: {
          '(request-target)': `post ${path}`,
          host: new URL(inbox).host,
          date,
          digest: r.headers['Digest'] ?? '',
        },
      });
    });
    expect(res.status).to.equal(401);
    await nothingStored(a.id);
  });

  it('refuses a POST signed for another server with the same inbox path', async function () {
    const a = note(mallory);
    const body = JSON.stringify(a);
    const path = new URL(inbox).pathname;
    // What another server received from mallory, replayed here with its own Host.
    const headers = signRequest({
      method: 'POST',
      url: `http://other.invalid${path}`,
      headers: { 'Content-Type': 'application/activity+json' },
      body,
      keyId: mallory.keyId,
      privateKeyPem: mallory.privateKeyPem,
    });
    const res = await rawPost(inbox, headers, body);
    expect(res.status).to.equal(401);
    expect(res.text).to.contain('wrong-host');
    await nothingStored(a.id);
  });

  it('refuses a POST whose signature leaves out host or (request-target)', async function () {
    for (const names of [
      ['(request-target)', 'date', 'digest'],
      ['host', 'date', 'digest'],
    ]) {
      const a = note(mallory);
      const res = await mallory.post(inbox, a, (r) => {
        const values: Record<string, string> = {
          '(request-target)': `post ${new URL(inbox).pathname}`,
          host: new URL(inbox).host,
          date: r.headers['Date'] ?? '',
          digest: r.headers['Digest'] ?? '',
        };
        r.headers['Signature'] = customSignature({
          keyId: mallory.keyId,
          privateKeyPem: mallory.privateKeyPem,
          names,
          values,
        });
      });
      expect(res.status, names.join(' ')).to.equal(401);
      await nothingStored(a.id);
    }
  });

  it('accepts hs2019 as RSA-SHA256', async function () {
    const a = note(mallory);
    const res = await mallory.post(inbox, a, (r) => {
      r.headers['Signature'] = (r.headers['Signature'] ?? '').replace(
        'algorithm="rsa-sha256"',
        'algorithm="hs2019"',
      );
    });
    expect(res.status).to.equal(202);
    await g.processed(a.id);
  });

  it('refuses an activity whose actor is not the signer (403)', async function () {
    const a = note(alice);
    const res = await mallory.post(inbox, a);
    expect(res.status).to.equal(403);
    await nothingStored(a.id);
  });

  it("refuses, without fetching it, a key on another origin than the activity's actor", async function () {
    const a = note(mallory);
    const seen = alice.requests.length;
    // Signed with a keyId on alice's server (her real key): verifying would mean fetching from her server.
    const res = await mallory.post(inbox, a, (r) => {
      const body = r.body;
      Object.assign(
        r.headers,
        signRequest({
          method: 'POST',
          url: inbox,
          headers: { 'Content-Type': 'application/activity+json' },
          body,
          keyId: alice.keyId,
          privateKeyPem: alice.privateKeyPem,
        }),
      );
    });
    expect(res.status).to.equal(403);
    expect(res.text).to.contain("not on the actor's origin");
    expect(alice.requests.slice(seen)).to.deep.equal([]);
    await nothingStored(a.id);
  });

  it('does not apply an inline object that claims an id on another origin', async function () {
    const outbox = await g.store.activities.countOutbox('security');
    const a = note(mallory, { id: `${alice.actorId}/notes/${randomUUID()}`, attributedTo: mallory.actorId });
    expect((await mallory.post(inbox, a)).status).to.equal(202);
    await g.processed(a.id);
    expect(await g.store.posts.getPost('security', a.object.id)).to.equal(null);
    expect(await g.store.activities.countOutbox('security')).to.equal(outbox);
  });

  it('does not apply an inline object that claims a local id', async function () {
    const a = note(mallory, { id: `${group}/activities/${randomUUID()}` });
    expect((await mallory.post(inbox, a)).status).to.equal(202);
    await g.processed(a.id);
    expect(await g.store.posts.getPost('security', a.object.id)).to.equal(null);
  });

  it('never fetches a remote @context and refuses a document that needs one', async function () {
    const a = { ...note(mallory), '@context': [`${mallory.origin}/context.jsonld`] };
    mallory.documents.set('/context.jsonld', { '@context': { '@vocab': AS + '#' } });
    const res = await mallory.post(inbox, a);
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('does not include the ActivityStreams context');
    expect(mallory.requests.filter((r) => r.includes('context.jsonld'))).to.deep.equal([]);
    await nothingStored(a.id);
    const known = { ...note(mallory), '@context': [AS, `${mallory.origin}/context.jsonld`] };
    const second = await mallory.post(inbox, known);
    expect(second.status).to.equal(400);
    expect(second.text).to.contain('is not a known context');
    await nothingStored(known.id);
  });

  it('refuses documents without the ActivityStreams context at once, while /healthz keeps answering', async function () {
    // Scoped contexts nested 14 deep (within the JSON depth limit), without the ActivityStreams context: what
    // JSON-LD processing would spend the event loop on, in a burst.
    const hostile = Array.from({ length: 8 }, () => scopedContextChain(mallory, 14, 40));
    let polling = true;
    const health: number[] = [];
    const poller = (async () => {
      while (polling) health.push((await fetch(`${g.origin}/healthz`)).status);
    })();
    const answers = await Promise.all(hostile.map((doc) => mallory.post(inbox, doc)));
    polling = false;
    await poller;
    for (const a of answers) {
      expect(a.status).to.equal(400);
      expect(a.text).to.contain('does not include the ActivityStreams context');
    }
    expect(health.length, '/healthz polled during the burst').to.be.above(0);
    expect(health.filter((s) => s !== 200)).to.deep.equal([]);
    for (const doc of hostile) await nothingStored(doc.id);
  });

  it('never re-shares a post whose inline context redefines attributedTo and aliases @id', async function () {
    const outbox = await g.store.activities.countOutbox('security');
    const a = {
      ...note(mallory, { url: `${alice.actorId}/notes/${randomUUID()}` }),
      '@context': [AS, { attributedTo: 'as:actor', url: '@id' }],
    };
    const res = await mallory.post(inbox, a);
    expect(res.status).to.equal(400);
    expect(res.text).to.match(/redefines the term attributedTo|alias of the keyword @id/);
    await nothingStored(a.id);
    expect(await g.store.posts.getPost('security', a.object.id)).to.equal(null);
    expect(await g.store.activities.countOutbox('security')).to.equal(outbox);
  });

  it('refuses a key document whose id is on another origin, and keeps the cached actor', async function () {
    const before = await g.store.remoteActors.getRemoteActor(mallory.actorId);
    // alice's server serves, at a key URL, a document that claims to be mallory's actor with alice's key.
    alice.documents.set('/evil', {
      ...(mallory.documents.get('/users/mallory') as object),
      publicKey: { id: `${alice.origin}/evil`, owner: mallory.actorId, publicKeyPem: alice.publicKeyPem },
    });
    const a = note(mallory);
    const res = await fetch(inbox, {
      method: 'POST',
      headers: await (async () => {
        const body = JSON.stringify(a);
        return signRequest({
          method: 'POST',
          url: inbox,
          headers: { 'Content-Type': 'application/activity+json' },
          body,
          keyId: `${alice.origin}/evil`,
          privateKeyPem: alice.privateKeyPem,
        });
      })(),
      body: JSON.stringify(a),
    });
    expect(res.status).to.be.oneOf([401, 403]);
    await nothingStored(a.id);
    const afterwards = await g.store.remoteActors.getRemoteActor(mallory.actorId);
    expect(afterwards?.publicKeyPem).to.equal(before?.publicKeyPem);
  });

  it('refuses a huge body with 413', async function () {
    const a = note(mallory, { content: 'x'.repeat(400 * 1024) });
    const res = await mallory.post(inbox, a);
    expect(res.status).to.equal(413);
    await nothingStored(a.id);
  });

  it('refuses deeply nested JSON with 400', async function () {
    const a = note(mallory) as Record<string, unknown>;
    let deep: unknown = 'bottom';
    for (let i = 0; i < 200; i++) deep = [deep];
    a.extra = deep;
    const res = await mallory.post(inbox, a);
    expect(res.status).to.equal(400);
    await nothingStored(a.id as string);
  });

  it('processes a replayed activity once', async function () {
    const a = note(mallory);
    expect((await mallory.post(inbox, a)).status).to.equal(202);
    expect((await mallory.post(inbox, a)).status).to.equal(202);
    await g.processed(a.id);
    const job = await g.store.jobs.getJob(intakeJobId(a.id));
    expect(job?.attempts).to.be.at.most(1);
    await waitUntil(async () => (await g.store.posts.getPost('security', a.object.id)) ?? undefined, {
      what: 'the post',
    });
  });

  it('never creates a group because someone asked for it', async function () {
    const count = await g.store.groups.countGroups();
    const wf = await fetch(
      `${g.origin}/.well-known/webfinger?resource=acct:newname@${new URL(g.origin).host}`,
    );
    expect(wf.status).to.equal(404);
    const actor = await fetch(`${g.origin}/groups/newname`, {
      headers: { accept: 'application/activity+json' },
    });
    expect(actor.status).to.equal(404);
    const post = await mallory.post(`${g.origin}/groups/newname/inbox`, note(mallory));
    expect(post.status).to.equal(404);
    expect(await g.store.groups.countGroups()).to.equal(count);
    expect(await g.store.groups.getGroup('newname')).to.equal(null);
  });

  describe('domain policies that cannot be sidestepped', function () {
    let instance: InstanceService;
    before(function () {
      instance = g.guild.services.instance;
    });

    const follow = (actor: RawActor) => ({
      '@context': AS,
      id: `${actor.actorId}/follows/${randomUUID()}`,
      type: 'Follow',
      actor: actor.actorId,
      object: group,
    });

    it('refuses an actor that writes a blocked address as IPv4-mapped IPv6, fetching nothing', async function () {
      const mapped = await startRawActor('mapped', { host: '127.0.0.3', urlHost: '[::ffff:7f00:3]' });
      try {
        expect((await instance.blockDomain('127.0.0.3')).ok).to.equal(true);
        const f = follow(mapped);
        const res = await mapped.post(inbox, f);
        expect(res.status).to.equal(403);
        expect(mapped.requests).to.deep.equal([]);
        await nothingStored(f.id);
        expect(await g.store.members.getMember('security', mapped.actorId)).to.equal(null);
      } finally {
        await mapped.close();
      }
    });

    it('refuses keys on sub-domains and dotted or upper-case forms of a blocked domain before any fetch', async function () {
      expect((await instance.blockDomain('Blocked.Invalid.')).ok).to.equal(true);
      for (const host of ['sub.blocked.invalid', 'blocked.invalid.', 'a.B.BLOCKED.invalid']) {
        const actorId = `http://${host}/users/x`;
        const a = { ...note(mallory), id: `${actorId}/notes/${randomUUID()}`, actor: actorId };
        const res = await mallory.post(inbox, a, (r) => {
          r.headers['Signature'] = (r.headers['Signature'] ?? '').replace(
            mallory.keyId,
            `${actorId}#main-key`,
          );
        });
        expect(res.status, host).to.equal(403);
        await nothingStored(a.id);
      }
    });

    it("purges a member whose id writes a newly blocked range's address in another form, and counts its host as blocked", async function () {
      const member = await startRawActor('ranged', { host: '127.0.0.4', urlHost: '[::ffff:7f00:4]' });
      try {
        const f = follow(member);
        expect((await member.post(inbox, f)).status).to.equal(202);
        await g.processed(f.id);
        expect((await g.store.members.getMember('security', member.actorId))?.state).to.equal('accepted');
        const blocked = await instance.blockDomain('127.0.0.4/30');
        expect(blocked.ok && blocked.value.removedMembers).to.equal(1);
        expect(await g.store.members.getMember('security', member.actorId)).to.equal(null);
        expect(await g.guild.services.domains.isBlocked(member.origin)).to.equal(true);
      } finally {
        await member.close();
      }
    });
  });

  describe('with a small key fetch budget', function () {
    let limited: TestGuild;
    let crowd: RawActor;
    before(async function () {
      limited = await startTestGuild({ GUILD_KEY_FETCH_RATE: '1' });
      await limited.createGroup('limited');
      crowd = await startRawActor('crowd');
    });
    after(async () => {
      await limited?.close();
      await crowd?.close();
    });
    afterEach(function () {
      printLogsOnFailure(this, [limited]);
    });

    it('fetches no more new keys for one client than its budget allows, answering 429 with Retry-After', async function () {
      // 60 actors with keys Guild has never seen, all from this one client: the budget is a burst of 30.
      const names = Array.from({ length: 60 }, (_, i) => `c${i}`);
      const template = crowd.documents.get('/users/crowd') as Record<string, unknown>;
      for (const name of names) {
        const id = `${crowd.origin}/users/${name}`;
        crowd.documents.set(`/users/${name}`, {
          ...template,
          id,
          preferredUsername: name,
          inbox: `${id}/inbox`,
          publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem: crowd.publicKeyPem },
        });
      }
      const target = `${limited.origin}/groups/limited/inbox`;
      const answers: Array<{ name: string; status: number; retryAfter: string | null }> = [];
      for (const name of names) {
        const id = `${crowd.origin}/users/${name}`;
        const body = JSON.stringify({
          '@context': AS,
          id: `${id}/follows/${randomUUID()}`,
          type: 'Follow',
          actor: id,
          object: `${limited.origin}/groups/limited`,
        });
        const headers = signRequest({
          method: 'POST',
          url: target,
          headers: { 'Content-Type': 'application/activity+json' },
          body,
          keyId: `${id}#main-key`,
          privateKeyPem: crowd.privateKeyPem,
        });
        const res = await fetch(target, { method: 'POST', headers, body });
        answers.push({ name, status: res.status, retryAfter: res.headers.get('retry-after') });
      }
      const throttled = answers.filter((a) => a.status === 429);
      expect(throttled.length, 'refused for the budget').to.be.above(0);
      for (const a of throttled) expect(Number(a.retryAfter), a.name).to.be.at.least(1);
      // A throttled request fetched nothing: every key fetched belongs to a request that was let through.
      const fetched = new Set(crowd.requests.map((r) => r.replace(/^GET \/users\//, '')));
      for (const a of throttled) expect(fetched.has(a.name), a.name).to.equal(false);
      for (const a of answers.filter((x) => x.status !== 429)) expect(a.status, a.name).to.equal(202);
    });
  });

  describe('with private addresses not allowed', function () {
    let strict: TestGuild;
    before(async function () {
      strict = await startTestGuild({ GUILD_ALLOW_PRIVATE_ADDRESSES: 'false' });
      await strict.createGroup('strict');
    });
    after(async () => strict?.close());
    afterEach(function () {
      printLogsOnFailure(this, [strict]);
    });

    it('never fetches a keyId on a loopback address', async function () {
      const seen = mallory.requests.length;
      const a = note(mallory);
      const res = await mallory.post(`${strict.origin}/groups/strict/inbox`, a);
      expect(res.status).to.equal(401);
      expect(mallory.requests.slice(seen)).to.deep.equal([]);
      expect(await strict.store.jobs.getJob(intakeJobId(a.id))).to.equal(null);
    });
  });
});

/**
 * A signed-looking Create whose context is a chain of property-scoped contexts `levels` deep (each level
 * defining `terms` terms and the next level under `a`), with a body that walks the chain, and no
 * ActivityStreams context.
 */
function scopedContextChain(
  actor: RawActor,
  levels: number,
  terms: number,
): { id: string } & Record<string, unknown> {
  const contextAt = (k: number): Record<string, unknown> => {
    const c: Record<string, unknown> = {};
    for (let i = 0; i < terms; i++) c[`t${i}`] = `https://vocab.invalid/${k}/${i}`;
    if (k < levels) c['a'] = { '@id': `https://vocab.invalid/a/${k}`, '@context': contextAt(k + 1) };
    return c;
  };
  let body: Record<string, unknown> = { t0: 'x' };
  for (let k = 0; k < levels; k++) body = { a: body, t1: 'y' };
  return {
    '@context': [{ '@version': 1.1 }, contextAt(0)],
    id: `${actor.actorId}/activities/${randomUUID()}`,
    type: 'Create',
    actor: actor.actorId,
    ...body,
  };
}

/** A POST with exactly these headers (`Host` included, which fetch would not let a test set). */
function rawPost(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}
