/**
 * The store stays bounded: what concerns nothing here is answered and not stored, a sending host has a cap of
 * stored bytes, and the maintenance loop purges finished jobs while received activity ids outlive them (a
 * replay after the purge is still dropped). Real server, real signatures, the store GUILD_TEST_STORE selects.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { waitUntil } from '../support/net.ts';
import { intakeJobId } from '../../src/federation/inbox.receiver.ts';
import { signRequest } from '../../src/federation/http-signature.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;

/** Signs and POSTs `body` as `actor`, returning the status and the Retry-After header. */
async function postWithHeaders(
  actor: RawActor,
  url: string,
  body: unknown,
): Promise<{ status: number; retryAfter: string | null }> {
  const text = JSON.stringify(body);
  const headers = signRequest({
    method: 'POST',
    url,
    headers: { 'Content-Type': 'application/activity+json' },
    body: text,
    keyId: actor.keyId,
    privateKeyPem: actor.privateKeyPem,
  });
  const res = await fetch(url, { method: 'POST', headers, body: text });
  await res.text();
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}

async function join(g: TestGuild, actor: RawActor, group: string): Promise<void> {
  const follow = {
    '@context': AS,
    id: `${actor.actorId}/follows/${randomUUID()}`,
    type: 'Follow',
    actor: actor.actorId,
    object: g.groupUrl(group),
  };
  expect((await actor.post(`${g.groupUrl(group)}/inbox`, follow)).status).to.equal(202);
  await waitUntil(async () => (await g.store.members.getMember(group, actor.actorId))?.state === 'accepted', {
    what: `${actor.actorId} to join`,
  });
}

function note(actor: RawActor, groupUrl: string): { create: Record<string, unknown>; noteId: string } {
  const noteId = `${actor.actorId}/notes/${randomUUID()}`;
  const object = {
    id: noteId,
    type: 'Note',
    attributedTo: actor.actorId,
    content: '<p>hi</p>',
    to: [PUBLIC],
    cc: [groupUrl],
  };
  return {
    noteId,
    create: {
      '@context': AS,
      id: `${noteId}/activity`,
      type: 'Create',
      actor: actor.actorId,
      to: [PUBLIC],
      cc: [groupUrl],
      object,
    },
  };
}

describe('storage stays bounded', function () {
  this.timeout(60_000);

  describe('at the inbox', function () {
    let g: TestGuild;
    let member: RawActor;
    let stranger: RawActor;

    before(async function () {
      g = await startTestGuild({ GUILD_INBOX_MAX_STORED_BYTES_PER_SENDER: '4000' });
      member = await startRawActor('member');
      stranger = await startRawActor('stranger', { host: '127.0.0.2' });
      await g.createGroup('bounded');
      await join(g, member, 'bounded');
    });
    afterEach(function () {
      printLogsOnFailure(this, [g]);
    });
    after(async function () {
      await g?.close();
      await member?.close();
      await stranger?.close();
    });

    it('answers 202 to what concerns no group, post or member here, and stores nothing of it', async function () {
      const inbox = `${g.origin}/inbox`;
      const junk = Array.from({ length: 5 }, (_, i) => ({
        '@context': AS,
        id: `${stranger.actorId}/likes/${randomUUID()}`,
        type: 'Like',
        actor: stranger.actorId,
        object: `https://elsewhere.example/notes/${i}`,
      }));
      for (const like of junk) expect((await stranger.post(inbox, like)).status).to.equal(202);
      for (const like of junk)
        expect(await g.store.jobs.getJob(intakeJobId(like.id)), like.id).to.equal(null);
      // Never stored: its id is not even remembered (an enqueue of it inserts a job).
      const [first] = junk;
      if (!first) throw new Error('no junk');
      const inserted = await g.store.jobs.enqueue(
        [
          {
            id: intakeJobId(first.id),
            queue: 'intake',
            key: 'x',
            payload: {},
            runAt: Date.now() + 86_400_000,
          },
        ],
        Date.now(),
      );
      expect(inserted).to.equal(1);
    });

    it('stores what names the group, even from a stranger, for the handlers to refuse', async function () {
      const { create } = note(stranger, g.groupUrl('bounded'));
      expect((await stranger.post(`${g.origin}/inbox`, create)).status).to.equal(202);
      expect(await g.store.jobs.getJob(intakeJobId(String(create.id)))).not.to.equal(null);
    });

    it('answers 429 with Retry-After once a sending host has stored its cap of bytes', async function () {
      const inbox = `${g.groupUrl('bounded')}/inbox`;
      const answers: Array<{ status: number; retryAfter: string | null }> = [];
      for (let i = 0; i < 20; i++) {
        const { create } = note(member, g.groupUrl('bounded'));
        answers.push(await postWithHeaders(member, inbox, create));
      }
      const accepted = answers.filter((a) => a.status === 202).length;
      const refused = answers.filter((a) => a.status === 429);
      expect(accepted, 'accepted before the cap').to.be.within(1, 19);
      expect(refused.length, 'refused after the cap').to.equal(20 - accepted);
      for (const r of refused) expect(Number(r.retryAfter)).to.be.within(1, 3600);
      // Another host is not held back by this one.
      const { create } = note(stranger, g.groupUrl('bounded'));
      expect((await stranger.post(inbox, create)).status).to.equal(202);
    });
  });

  describe('the maintenance loop', function () {
    let g: TestGuild;
    let member: RawActor;

    before(async function () {
      g = await startTestGuild({ GUILD_DONE_JOBS_RETENTION_MS: '0', GUILD_MAINTENANCE_INTERVAL_MS: '100' });
      member = await startRawActor('poster');
      await g.createGroup('purged');
      await join(g, member, 'purged');
    });
    afterEach(function () {
      printLogsOnFailure(this, [g]);
    });
    after(async function () {
      await g?.close();
      await member?.close();
    });

    it('purges finished jobs, and still drops a replay of an activity whose job is gone', async function () {
      const { create, noteId } = note(member, g.groupUrl('purged'));
      const inbox = `${g.groupUrl('purged')}/inbox`;
      expect((await member.post(inbox, create)).status).to.equal(202);
      await waitUntil(async () => (await g.store.posts.getPost('purged', noteId)) !== null, {
        what: 'the post',
      });
      await g.idle();
      await waitUntil(async () => (await g.store.jobs.getJob(intakeJobId(String(create.id)))) === null, {
        what: 'the intake job to be purged',
      });
      const outbox = await g.store.activities.countOutbox('purged');
      // The same activity again, freshly signed: taken for a replay, answered, not processed again.
      expect((await member.post(inbox, create)).status).to.equal(202);
      expect(await g.store.jobs.getJob(intakeJobId(String(create.id)))).to.equal(null);
      const again = await g.store.jobs.enqueue(
        [{ id: intakeJobId(String(create.id)), queue: 'intake', key: 'x', payload: {}, runAt: 0 }],
        Date.now(),
      );
      expect(again, 'the id is remembered').to.equal(0);
      await g.idle();
      expect(await g.store.activities.countOutbox('purged')).to.equal(outbox);
      // The pass is logged once it ends, after its purges (and the later steps of the pass) are done.
      await waitUntil(() => g.logs.some((l) => l.includes('"msg":"maintenance"')) || undefined, {
        what: 'the log line of a maintenance pass',
      });
    });
  });
});
