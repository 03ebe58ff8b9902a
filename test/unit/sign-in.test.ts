import { expect } from 'chai';
import { T0 } from '../support/domain-harness.ts';
import { dmToService, startSelfService, type SelfServiceHarness } from '../support/self-service-harness.ts';
import { linkHash } from '../../src/groups/sign-in.service.ts';
import { RateLimiter } from '../../src/groups/rate-limiter.ts';

const ALICE = 'https://a.example/users/alice';
const BOB = 'https://b.example/users/bob';

/** The token of the last sign-in link sent to `to`. */
function lastToken(h: SelfServiceHarness, to: string): string {
  const text = h.serviceMessagesTo(to).at(-1) ?? '';
  const m = /\/login\/([A-Za-z0-9_-]{43})/.exec(text);
  if (!m?.[1]) throw new Error(`no link in ${JSON.stringify(text)}`);
  return m[1];
}

describe('sign-in by direct message', function () {
  let h: SelfServiceHarness;
  beforeEach(async () => {
    h = await startSelfService();
    h.actors.add(ALICE);
    h.actors.add(BOB);
  });
  afterEach(async () => h.close());

  it('sends a link by DM whose token works once and opens a session for that actor', async function () {
    const r = await h.signIn.requestLink('@alice@a.example', '192.0.2.1');
    expect(r.ok && r.value.actorId).to.equal(ALICE);
    const token = lastToken(h, ALICE);
    expect(Buffer.from(token, 'base64url')).to.have.length(32);
    expect(await h.store.codes.useCode(token, T0), 'nothing kept under the token itself').to.equal(null);
    expect(linkHash(token)).to.match(/^[0-9a-f]{64}$/);
    const opened = await h.signIn.redeem(token);
    if (!opened.ok) throw new Error('refused');
    expect(opened.value.session.actorId).to.equal(ALICE);
    expect((await h.signIn.sessionOf(opened.value.token))?.actorId).to.equal(ALICE);
    expect(await h.signIn.redeem(token)).to.deep.equal({ ok: false, error: 'invalid-link' });
  });

  it('refuses an expired link, a made-up token and a session token used as a link', async function () {
    await h.signIn.requestLink('alice@a.example', '192.0.2.1');
    const token = lastToken(h, ALICE);
    h.clock.now = T0 + 15 * 60_000;
    expect((await h.signIn.redeem(token)).ok).to.equal(false);
    h.clock.now = T0;
    expect((await h.signIn.redeem('A'.repeat(43))).ok).to.equal(false);
    expect((await h.signIn.redeem('../../etc')).ok).to.equal(false);
    await h.signIn.requestLink('alice@a.example', '192.0.2.1');
    const opened = await h.signIn.redeem(lastToken(h, ALICE));
    if (!opened.ok) throw new Error('refused');
    expect((await h.signIn.redeem(opened.value.token)).ok).to.equal(false);
    expect(await h.signIn.sessionOf(lastToken(h, ALICE))).to.equal(null);
  });

  it('ends a session when it expires, on sign-out, and everywhere at once', async function () {
    await h.close();
    h = await startSelfService({ limits: { perHandle: 10 } });
    h.actors.add(ALICE);
    const open = async (): Promise<string> => {
      await h.signIn.requestLink('alice@a.example', `192.0.2.${h.clock.now % 250}`);
      const r = await h.signIn.redeem(lastToken(h, ALICE));
      if (!r.ok) throw new Error('refused');
      return r.value.token;
    };
    const s1 = await open();
    h.clock.now += 1;
    const s2 = await open();
    h.clock.now += 1;
    const s3 = await open();
    await h.signIn.signOut(s1);
    expect(await h.signIn.sessionOf(s1)).to.equal(null);
    expect(await h.signIn.sessionOf(s2)).to.not.equal(null);
    expect(await h.signIn.signOutEverywhere(ALICE)).to.equal(2);
    expect(await h.signIn.sessionOf(s3)).to.equal(null);
    const s4 = await open();
    h.clock.now += 3_600_000;
    expect(await h.signIn.sessionOf(s4)).to.equal(null);
  });

  it('limits link requests per handle, per host and per client address', async function () {
    for (let i = 0; i < 3; i++)
      expect((await h.signIn.requestLink('alice@a.example', `198.51.100.${i}`)).ok).to.equal(true);
    const flood = await h.signIn.requestLink('@ALICE@A.EXAMPLE', '198.51.100.9');
    expect(!flood.ok && flood.error.type).to.equal('rate-limited');
    expect(h.serviceMessagesTo(ALICE)).to.have.length(3);
    // Another client is limited apart: four requests, then refused whatever the handle.
    for (let i = 0; i < 4; i++) await h.signIn.requestLink(`user${i}@c.example`, '203.0.113.5');
    const client = await h.signIn.requestLink('bob@b.example', '203.0.113.5');
    expect(!client.ok && client.error.type).to.equal('rate-limited');
    h.clock.now = T0 + 900_000;
    expect((await h.signIn.requestLink('alice@a.example', '198.51.100.1')).ok).to.equal(true);
  });

  it('sends nothing to, and opens no session for, an actor whose domain is blocked', async function () {
    await h.signIn.requestLink('alice@a.example', '192.0.2.1');
    const token = lastToken(h, ALICE);
    const opened = await h.signIn
      .requestLink('alice@a.example', '192.0.2.1')
      .then(() => h.signIn.redeem(lastToken(h, ALICE)));
    if (!opened.ok) throw new Error('refused');
    await h.store.domains.putDomainPolicy({
      domain: 'a.example',
      policy: 'block',
      reason: '',
      createdAt: T0,
    });
    const sent = h.serviceMessagesTo(ALICE).length;
    const r = await h.signIn.requestLink('alice@a.example', '192.0.2.1');
    // Answered as if sent (the page tells nobody), but nothing goes out.
    expect(r).to.deep.equal({ ok: true, value: { actorId: null, barred: 'blocked' } });
    expect(h.serviceMessagesTo(ALICE)).to.have.length(sent);
    expect((await h.signIn.redeem(token)).ok).to.equal(false);
    expect(await h.signIn.sessionOf(opened.value.token)).to.equal(null);
  });

  it('a session never grants a group that banned the actor; its other groups stay', async function () {
    await h.group('cats');
    await h.group('dogs');
    await h.moderator('cats', ALICE);
    await h.moderator('dogs', ALICE);
    await h.signIn.requestLink('alice@a.example', '192.0.2.1');
    const opened = await h.signIn.redeem(lastToken(h, ALICE));
    if (!opened.ok) throw new Error('refused');
    expect(await h.ownership.roleIn('cats', ALICE)).to.equal('moderator');
    // A ban stored beside a moderator role (however it came to be) takes the group away at once.
    await h.store.bans.putBan({
      groupName: 'cats',
      actorId: ALICE,
      reason: 'spam',
      by: 'admin',
      createdAt: T0,
      expiresAt: T0 + 60_000,
    });
    expect(await h.ownership.roleIn('cats', ALICE)).to.equal(null);
    expect((await h.ownership.groupsOf(ALICE)).map((g) => g.group.name)).to.deep.equal(['dogs']);
    expect((await h.signIn.sessionOf(opened.value.token))?.actorId).to.equal(ALICE);
    // Once the ban ends, the role is back.
    h.clock.now = T0 + 60_000;
    expect(await h.ownership.roleIn('cats', ALICE)).to.equal('moderator');
  });

  it("the admin's ban of a moderator ends the role in the open session at once", async function () {
    await h.group('cats');
    await h.moderator('cats', BOB);
    await h.store.owners.setOwner({ groupName: 'cats', actorId: BOB, since: T0 });
    await h.moderator('cats', ALICE);
    await h.signIn.requestLink('alice@a.example', '192.0.2.1');
    const opened = await h.signIn.redeem(lastToken(h, ALICE));
    if (!opened.ok) throw new Error('refused');
    expect((await h.ownership.groupsOf(ALICE)).map((g) => g.group.name)).to.deep.equal(['cats']);
    const banned = await h.moderation.ban('cats', ALICE, { by: 'admin', reason: 'abuse' });
    expect(banned.ok).to.equal(true);
    expect(await h.ownership.roleIn('cats', ALICE)).to.equal(null);
    // The owner stays the owner: only a banned owner loses the ownership.
    expect(await h.ownership.roleIn('cats', BOB)).to.equal('owner');
    expect(await h.ownership.groupsOf(ALICE)).to.deep.equal([]);
    // Banned with no group left to run: the session ends too.
    expect(await h.signIn.sessionOf(opened.value.token)).to.equal(null);
  });

  it('a person banned from every group it would run gets no link, uses none, and is answered alike', async function () {
    await h.group('cats');
    await h.group('dogs');
    await h.moderator('dogs', ALICE);
    await h.signIn.requestLink('alice@a.example', '192.0.2.1');
    const pending = lastToken(h, ALICE);
    await h.store.bans.putBan({
      groupName: 'cats',
      actorId: ALICE,
      reason: '',
      by: 'admin',
      createdAt: T0,
      expiresAt: null,
    });
    // Still runs dogs: may sign in.
    expect(await h.signIn.barOf(ALICE)).to.equal(null);
    await h.store.bans.putBan({
      groupName: 'dogs',
      actorId: ALICE,
      reason: '',
      by: 'admin',
      createdAt: T0,
      expiresAt: null,
    });
    expect(await h.signIn.barOf(ALICE)).to.equal('banned');
    const sent = h.serviceMessagesTo(ALICE).length;
    const r = await h.signIn.requestLink('alice@a.example', '192.0.2.1');
    expect(r).to.deep.equal({ ok: true, value: { actorId: ALICE, barred: 'banned' } });
    expect(h.serviceMessagesTo(ALICE)).to.have.length(sent);
    expect((await h.signIn.redeem(pending)).ok).to.equal(false);
    expect(await h.signIn.linkByMessage(ALICE)).to.include('cannot sign in');
    expect(h.serviceMessagesTo(ALICE)).to.have.length(sent);
    // Someone never banned, with no group, may sign in (to create one).
    expect(await h.signIn.barOf(BOB)).to.equal(null);
  });

  it('answers an unknown handle without sending anything', async function () {
    const r = await h.signIn.requestLink('nobody@a.example', '192.0.2.1');
    expect(!r.ok && r.error.type).to.equal('not-found');
    expect(h.events.of('ServiceMessageSent')).to.have.length(0);
    expect((await h.signIn.requestLink('not a handle', '192.0.2.1')).ok).to.equal(false);
  });

  it('sends a link in answer to "login" by DM to the Service actor', async function () {
    await h.deliverAll(dmToService(h.urls.origin, BOB, '1', 'login'));
    const r = await h.signIn.redeem(lastToken(h, BOB));
    expect(r.ok && r.value.session.actorId).to.equal(BOB);
  });
});

describe('rate limiter', function () {
  it('takes from every key at once or from none, and frees a key when its window ends', function () {
    let now = 0;
    const limiter = new RateLimiter(() => now, 3);
    const rule = { limit: 2, windowMs: 100 };
    expect(
      limiter.take([
        ['a', rule],
        ['b', rule],
      ]).ok,
    ).to.equal(true);
    expect(limiter.take([['a', rule]]).ok).to.equal(true);
    const refused = limiter.take([
      ['a', rule],
      ['b', rule],
    ]);
    expect(refused).to.deep.equal({ ok: false, retryAfterMs: 100 });
    expect(limiter.take([['b', rule]]).ok, 'b was not charged by the refusal').to.equal(true);
    now = 100;
    expect(limiter.take([['a', rule]]).ok).to.equal(true);
    for (const k of ['c', 'd', 'e']) limiter.take([[k, rule]]);
    expect(limiter.take([['b', rule]]).ok, 'forgotten beyond maxKeys').to.equal(true);
  });
});
