/**
 * Fair intake: one sender cannot crowd the others out. At the inbox a token bucket per signing key and per host
 * answers 429 with `Retry-After` (only verified requests spend tokens, so nobody can spend another's); in the
 * intake queue a sender's jobs take a bounded share of the slots, so a member's post is processed past an
 * outsider's backlog of direct messages rather than after it.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { intakeJobId } from '../../src/federation/inbox.receiver.ts';
import { waitUntil } from '../support/net.ts';
import { testStoreKind } from '../support/test-store.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;
const MONGO = testStoreKind() === 'mongodb';

describe('fair intake', function () {
  this.timeout(180_000);
  let g: TestGuild;
  let member: RawActor;
  let outsider: RawActor;
  let group: string;

  before(async function () {
    g = await startTestGuild({ GUILD_INBOX_RATE_PER_KEY: '1' });
    group = await g.createGroup('fair');
    member = await startRawActor('member', { freshKey: true });
    outsider = await startRawActor('outsider', { freshKey: true });
    const follow = {
      '@context': AS,
      id: `${member.actorId}/follows/${randomUUID()}`,
      type: 'Follow',
      actor: member.actorId,
      object: group,
    };
    expect((await member.post(`${group}/inbox`, follow)).status).to.equal(202);
    await g.processed(follow.id);
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await g?.close();
    await member?.close();
    await outsider?.close();
  });

  const directMessage = (from: RawActor, n: number) => {
    const id = `${from.actorId}/dm/${randomUUID()}`;
    return {
      '@context': AS,
      id: `${id}/activity`,
      type: 'Create',
      actor: from.actorId,
      to: [group],
      object: { id, type: 'Note', attributedTo: from.actorId, to: [group], content: `help ${n}` },
    };
  };

  it('answers a key over its rate 429 with Retry-After; requests with a bad signature spend nothing', async function () {
    // Forged requests naming the member's key: refused, and the member's budget (a burst of 30) is untouched.
    for (let i = 0; i < 40; i++) {
      const forged = directMessage(member, i);
      const res = await outsider.post(`${group}/inbox`, forged, (r) => {
        r.headers['Signature'] = (r.headers['Signature'] ?? '').replace(outsider.keyId, member.keyId);
      });
      expect(res.status).to.equal(401);
    }
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 40; i++) {
      const dm = directMessage(member, i);
      const res = await member.post(`${group}/inbox`, dm);
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect(await g.store.jobs.getJob(intakeJobId(dm.id))).to.equal(null);
      }
    }
    // The burst is 30; the member's Follow spent one.
    expect(statuses.slice(0, 29), 'the burst').to.deep.equal(new Array(29).fill(202));
    expect(statuses.filter((s) => s === 429).length, 'past the burst').to.be.above(0);
    expect(Number(retryAfter)).to.be.at.least(1);
  });

  it("processes a member's post before the tail of an outsider's backlog of direct messages", async function () {
    await g.idle();
    const now = Date.now();
    // FerretDB, standing for MongoDB in tests, processes a few dozen jobs a second: a shorter backlog there.
    const flood = Array.from({ length: MONGO ? 60 : 300 }, (_, n) => directMessage(outsider, n));
    const postId = `${member.actorId}/notes/${randomUUID()}`;
    const post = {
      '@context': AS,
      id: `${postId}/activity`,
      type: 'Create',
      actor: member.actorId,
      to: [PUBLIC],
      cc: [group],
      object: {
        id: postId,
        type: 'Note',
        attributedTo: member.actorId,
        content: 'hi',
        to: [PUBLIC],
        cc: [group],
      },
    };
    const host = (r: RawActor) => new URL(r.origin).host;
    // The backlog as the inbox stores it (one intake job per activity, keyed by its sender's host), the
    // member's post arriving last.
    await g.store.jobs.enqueue(
      [
        ...flood.map((a, i) => ({
          id: intakeJobId(a.id),
          queue: 'intake' as const,
          key: host(outsider),
          payload: { activity: a, actorId: outsider.actorId, inboxGroup: 'fair' },
          runAt: now - flood.length + i,
        })),
        {
          id: intakeJobId(post.id),
          queue: 'intake' as const,
          key: host(member),
          payload: { activity: post, actorId: member.actorId, inboxGroup: 'fair' },
          runAt: now,
        },
      ],
      now,
    );
    await g.processed(post.id);
    await waitUntil(async () => (await g.store.posts.getPost('fair', postId)) ?? undefined, {
      what: 'the post',
    });
    const lastDm = flood[flood.length - 1]?.id ?? '';
    await waitUntil(
      async () => {
        const job = await g.store.jobs.getJob(intakeJobId(lastDm));
        return job !== null && job.state !== 'queued';
      },
      { what: 'the backlog to be processed', timeoutMs: 120_000 },
    );
    // Outcomes are logged as each job ends: the post's line comes before the last direct message's.
    const lineOf = (activityId: string) =>
      g.logs.findIndex((l) => l.includes('"loop":"intake"') && l.includes(`"activityId":"${activityId}"`));
    const postLine = lineOf(post.id);
    const tailLine = lineOf(lastDm);
    expect(postLine, 'the post was processed').to.be.above(-1);
    expect(tailLine, 'the last direct message was processed').to.be.above(-1);
    expect(postLine).to.be.below(tailLine);
    const dmLinesBefore = flood.filter((a) => {
      const i = lineOf(a.id);
      return i !== -1 && i < postLine;
    }).length;
    expect(dmLinesBefore, 'direct messages processed before the post').to.be.below(flood.length / 2);
  });
});
