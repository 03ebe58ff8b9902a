/**
 * Answers to actors who are not members are bounded (5,000 DMs from one outsider were each answered with a
 * refusal): per recipient and per host, in every group together, counted in the store so that a new process
 * on the same store does not give a flood its allowance back. Members and moderators are always answered.
 */
import { expect } from 'chai';
import { AS, PUBLIC, T0, startHarness, type Harness } from '../support/domain-harness.ts';
import { AnswerLimiter } from '../../src/groups/answer-limiter.service.ts';
import { RateLimiter } from '../../src/groups/rate-limiter.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';
import { dmToService, startSelfService, type SelfServiceHarness } from '../support/self-service-harness.ts';

const GROUP = 'https://guild.example/groups/club';
const ALICE = 'https://a.example/users/alice';
const MOD = 'https://m.example/users/mod';
const EVE = 'https://evil.example/users/eve';

let seq = 0;
/** A direct message to the group, as Mastodon sends it. */
const dm = (actor: string, text: string): ApObject => {
  const n = ++seq;
  const object = {
    id: `${actor}/notes/dm${n}`,
    type: 'Note',
    attributedTo: actor,
    content: `<p>${text}</p>`,
    to: [GROUP],
    cc: [],
    tag: [{ type: 'Mention', href: GROUP }],
  };
  return {
    '@context': AS,
    id: `${actor}/creates/dm${n}`,
    type: 'Create',
    actor,
    object,
    to: [GROUP],
    cc: [],
  };
};

describe('answers to non-members are rate-limited', function () {
  let h: Harness;
  const answersTo = (who: string) => h.events.of('DirectMessageSent').filter((e) => e.to.id === who);

  beforeEach(async function () {
    h = await startHarness();
    await h.group('club');
    await h.group('other');
    await h.member('club', ALICE);
    await h.moderator('club', MOD);
    h.actors.add(EVE);
  });
  afterEach(async function () {
    await h?.close();
  });

  it('answers an outsider’s flood of DMs ten times an hour, in every group together', async function () {
    const outcomes = [];
    for (let i = 0; i < 100; i++) outcomes.push(...(await h.deliver(dm(EVE, i % 2 ? 'help' : 'ban @x@y'))));
    for (let i = 0; i < 20; i++) {
      const other = dm(EVE, 'help');
      (other.object as ApObject).to = ['https://guild.example/groups/other'];
      (other.object as ApObject).tag = [];
      outcomes.push(...(await h.deliver(other)));
    }
    expect(answersTo(EVE)).to.have.length(10);
    expect(outcomes.filter((o) => o.applied)).to.have.length(10);
    expect(outcomes[10]).to.deep.include({ applied: false });
    expect((outcomes[10] as { reason: string }).reason).to.match(
      new RegExp(`^message from ${EVE} to club not answered: 10 answers went to ${EVE} in the last hour`),
    );
    h.clock.now += 3_600_001;
    await h.deliver(dm(EVE, 'help'));
    expect(answersTo(EVE), 'an hour later').to.have.length(11);
  });

  it('bounds the answers to the outsiders of one host, and always answers members and moderators', async function () {
    for (let i = 0; i < 70; i++) {
      const sock = `https://evil.example/users/sock${i}`;
      h.actors.add(sock);
      await h.deliver(dm(sock, 'help'));
    }
    const toHost = h.events
      .of('DirectMessageSent')
      .filter((e) => e.to.id.startsWith('https://evil.example/'));
    expect(toHost).to.have.length(60);
    for (let i = 0; i < 30; i++) {
      await h.deliver(dm(ALICE, 'rules'));
      await h.deliver(dm(MOD, 'help'));
    }
    expect(answersTo(ALICE)).to.have.length(30);
    expect(answersTo(MOD)).to.have.length(30);
  });

  it('refuses a banned actor’s Follows with a bounded number of Rejects', async function () {
    await h.store.bans.putBan({
      groupName: 'club',
      actorId: EVE,
      reason: '',
      by: 'admin',
      createdAt: T0,
      expiresAt: null,
    });
    for (let i = 0; i < 30; i++)
      await h.deliver({
        '@context': AS,
        id: `${EVE}/follows/${i}`,
        type: 'Follow',
        actor: EVE,
        object: GROUP,
      });
    expect(h.events.of('JoinRejected')).to.have.length(10);
  });

  it('keeps the count in the store: a new process does not answer the flood again', async function () {
    for (let i = 0; i < 10; i++) await h.deliver(dm(EVE, 'help'));
    expect(answersTo(EVE)).to.have.length(10);
    const restarted = new AnswerLimiter({
      store: h.store,
      limiter: new RateLimiter({ limits: h.store.rateLimits, now: () => h.clock.now }),
    });
    expect(await restarted.mayAnswer('club', EVE, `${EVE}/creates/after-restart`)).to.deep.equal({
      send: false,
      reason: `10 answers went to ${EVE} in the last hour (limit)`,
    });
    // The same answer decided again (a retried job) is counted once and sent.
    const first = (await h.store.rateLimits.listHits(`answers:actor:${EVE}`, 0, 1))[0];
    expect(first).to.not.equal(undefined);
    expect(await restarted.mayAnswer('club', EVE, first!.hitId.replace(/^answer:/, ''))).to.deep.equal({
      send: true,
    });
  });

  it('still re-shares public posts: only answers are limited', async function () {
    for (let i = 0; i < 20; i++) await h.deliver(dm(EVE, 'help'));
    const post = dm(ALICE, 'a public post');
    (post.object as ApObject).to = [PUBLIC];
    (post.object as ApObject).cc = [GROUP];
    post.to = [PUBLIC];
    post.cc = [GROUP];
    expect((await h.deliver(post))[0]?.applied).to.equal(true);
  });
});

describe('answers of the Service actor to non-members are rate-limited', function () {
  let s: SelfServiceHarness;
  beforeEach(async function () {
    s = await startSelfService();
    await s.group('club');
    await s.member('club', ALICE);
    await s.moderator('club', MOD);
    for (const a of [ALICE, MOD, EVE]) s.actors.add(a);
  });
  afterEach(async function () {
    await s?.close();
  });

  it('answers an outsider’s flood of commands ten times an hour, counted with the groups’ answers', async function () {
    for (let i = 0; i < 4; i++) await s.deliverAll(dm(EVE, 'help'));
    expect(s.events.of('DirectMessageSent').filter((e) => e.to.id === EVE)).to.have.length(4);
    const outcomes = [];
    for (let i = 0; i < 30; i++)
      outcomes.push(...(await s.deliverAll(dmToService(s.urls.origin, EVE, `flood${i}`, 'help'))));
    expect(s.serviceMessagesTo(EVE)).to.have.length(6);
    expect(outcomes.filter((o) => o.applied)).to.have.length(6);
    expect((outcomes[6] as { reason: string }).reason).to.equal(
      `message from ${EVE} to the Service actor not answered: 10 answers went to ${EVE} in the last hour (limit)`,
    );
    // Beyond the limit a command is not run either.
    await s.deliverAll(dmToService(s.urls.origin, EVE, 'create', 'create evegroup'));
    expect(await s.store.groups.getGroup('evegroup')).to.equal(null);
    for (let i = 0; i < 20; i++) {
      await s.deliverAll(dmToService(s.urls.origin, ALICE, `member${i}`, 'help'));
      await s.deliverAll(dmToService(s.urls.origin, MOD, `mod${i}`, 'groups'));
    }
    expect(s.serviceMessagesTo(ALICE), 'a member of a group here').to.have.length(20);
    expect(s.serviceMessagesTo(MOD), 'a moderator of a group here').to.have.length(20);
    s.clock.now += 3_600_001;
    await s.deliverAll(dmToService(s.urls.origin, EVE, 'later', 'create evegroup'));
    expect(s.serviceMessagesTo(EVE), 'an hour later').to.have.length(7);
    expect(await s.store.groups.getGroup('evegroup')).to.not.equal(null);
  });
});
