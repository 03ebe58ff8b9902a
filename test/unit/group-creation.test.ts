import { expect } from 'chai';
import { T0 } from '../support/domain-harness.ts';
import { dmToService, startSelfService, type SelfServiceHarness } from '../support/self-service-harness.ts';

const ALICE = 'https://a.example/users/alice';
const BOB = 'https://a.example/users/bob';
const CAROL = 'https://c.example/users/carol';

describe('group creation by anyone, and owners', function () {
  let h: SelfServiceHarness;
  afterEach(async () => h.close());

  describe('creation policy', function () {
    beforeEach(async () => {
      h = await startSelfService();
      for (const a of [ALICE, BOB, CAROL]) h.actors.add(a);
    });

    it('creates a group owned and moderated by its creator, once for one request', async function () {
      const r = await h.creation.request(ALICE, 'rust', 'Rustaceans', 'dm-1');
      expect(r.ok && r.value.kind).to.equal('created');
      expect((await h.store.owners.getOwner('rust'))?.actorId).to.equal(ALICE);
      expect(await h.store.moderators.isModerator('rust', ALICE)).to.equal(true);
      expect((await h.groups.get('rust'))?.title).to.equal('Rustaceans');
      const again = await h.creation.request(ALICE, 'rust', 'Rustaceans', 'dm-1');
      expect(again.ok && again.value.kind).to.equal('created');
      const audit = await h.store.audit.listAudit({ group: 'rust' }, null, 10);
      expect(audit.map((e) => [e.action, e.actorId])).to.deep.equal([['create-group', ALICE]]);
      expect(await h.store.groupRequests.countGroupRequestsSince({ requesterId: ALICE }, 0)).to.equal(1);
    });

    it('refuses reserved names, taken names and deleted groups’ names', async function () {
      for (const name of ['guild', 'admin', 'www', 'api']) {
        const r = await h.creation.request(ALICE, name, undefined, `dm-${name}`);
        expect(!r.ok && r.error.type, name).to.equal('name-taken');
      }
      await h.groups.create('old');
      await h.groups.delete('old');
      const deleted = await h.creation.request(ALICE, 'old', undefined, 'dm-old');
      expect(!deleted.ok && deleted.error.type).to.equal('name-taken');
      const bad = await h.creation.request(ALICE, 'Not A Name', undefined, 'dm-bad');
      expect(!bad.ok && bad.error.type).to.equal('invalid-name');
      expect(await h.store.groups.getGroup('admin')).to.equal(null);
    });

    it('limits requests per account and per domain within the window', async function () {
      for (let i = 0; i < 3; i++)
        expect((await h.creation.request(ALICE, `g${i}`, undefined, `a${i}`)).ok).to.equal(true);
      const fourth = await h.creation.request(ALICE, 'g3', undefined, 'a3');
      expect(!fourth.ok && fourth.error).to.deep.equal({ type: 'rate-limited', scope: 'account' });
      expect(await h.store.groups.getGroup('g3')).to.equal(null);
      h.clock.now = T0 + 86_400_001;
      expect((await h.creation.request(ALICE, 'g3', undefined, 'a3')).ok).to.equal(true);
      const perDomain = await startSelfService({ policy: { perAccount: 0, perDomain: 2 } });
      try {
        for (const a of [ALICE, BOB]) perDomain.actors.add(a);
        expect((await perDomain.creation.request(ALICE, 'x1', undefined, 'x1')).ok).to.equal(true);
        expect((await perDomain.creation.request(BOB, 'x2', undefined, 'x2')).ok).to.equal(true);
        const third = await perDomain.creation.request(BOB, 'x3', undefined, 'x3');
        expect(!third.ok && third.error).to.deep.equal({ type: 'rate-limited', scope: 'domain' });
      } finally {
        await perDomain.close();
      }
    });

    it('refuses blocked domains and queues limited domains for approval', async function () {
      await h.store.domains.putDomainPolicy({
        domain: 'a.example',
        policy: 'block',
        reason: '',
        createdAt: T0,
      });
      const blocked = await h.creation.request(ALICE, 'nope', undefined, 'b1');
      expect(!blocked.ok && blocked.error.type).to.equal('blocked');
      await h.store.domains.putDomainPolicy({
        domain: 'c.example',
        policy: 'limit',
        reason: '',
        createdAt: T0,
      });
      const limited = await h.creation.request(CAROL, 'cats', undefined, 'c1');
      expect(limited.ok && limited.value.kind).to.equal('pending');
      expect(await h.store.groups.getGroup('cats')).to.equal(null);
    });

    it('with approval, queues requests; the admin decides and the requester is told either way', async function () {
      const a = await startSelfService({ policy: { mode: 'approval' } });
      try {
        for (const x of [ALICE, CAROL]) a.actors.add(x);
        const r1 = await a.creation.request(ALICE, 'rust', undefined, 'r1');
        a.clock.now += 1000;
        const r2 = await a.creation.request(CAROL, 'go', undefined, 'r2');
        if (!r1.ok || r1.value.kind !== 'pending' || !r2.ok || r2.value.kind !== 'pending')
          throw new Error('not queued');
        const taken = await a.creation.request(CAROL, 'rust', undefined, 'r3');
        expect(!taken.ok && taken.error.type).to.equal('name-taken');
        expect((await a.creation.list('pending', null, 10)).map((r) => r.name)).to.deep.equal(['rust', 'go']);
        const approved = await a.creation.approve(r1.value.request.id);
        expect(approved.ok).to.equal(true);
        expect((await a.store.owners.getOwner('rust'))?.actorId).to.equal(ALICE);
        expect(a.serviceMessagesTo(ALICE).join()).to.match(/approved and created/);
        expect((await a.creation.approve(r1.value.request.id)).ok).to.equal(false);
        expect((await a.creation.reject(r2.value.request.id, 'not here')).ok).to.equal(true);
        expect(await a.store.groups.getGroup('go')).to.equal(null);
        expect(a.serviceMessagesTo(CAROL).join()).to.match(/declined: not here/);
      } finally {
        await a.close();
      }
    });

    it('closed creation refuses every request', async function () {
      const c = await startSelfService({ policy: { mode: 'closed' } });
      try {
        const r = await c.creation.request(ALICE, 'rust', undefined, 'z');
        expect(!r.ok && r.error.type).to.equal('closed');
      } finally {
        await c.close();
      }
    });
  });

  describe('owners', function () {
    beforeEach(async () => {
      h = await startSelfService();
      for (const a of [ALICE, BOB, CAROL]) h.actors.add(a);
      await h.creation.request(ALICE, 'rust', undefined, 'create');
      await h.moderator('rust', BOB);
    });

    it('only the owner appoints and removes moderators; nobody removes the owner', async function () {
      expect(await h.moderation.addModerator('rust', CAROL, { by: BOB })).to.deep.equal({
        ok: false,
        error: { type: 'not-allowed' },
      });
      expect(await h.moderation.removeModerator('rust', ALICE, { by: BOB })).to.deep.equal({
        ok: false,
        error: { type: 'not-allowed' },
      });
      const byOwner = await h.moderation.removeModerator('rust', ALICE, { by: ALICE });
      expect(!byOwner.ok && byOwner.error.type).to.equal('invalid');
      expect((await h.moderation.addModerator('rust', CAROL, { by: ALICE })).ok).to.equal(true);
      expect((await h.moderation.removeModerator('rust', BOB, { by: ALICE })).ok).to.equal(true);
      expect(await h.store.moderators.isModerator('rust', BOB)).to.equal(false);
      expect(await h.store.moderators.isModerator('rust', ALICE)).to.equal(true);
    });

    it('transfers ownership by the owner only; the new owner becomes a moderator, the old stays one', async function () {
      expect((await h.ownership.transfer('rust', BOB, { by: BOB })).ok).to.equal(false);
      expect((await h.ownership.transfer('rust', CAROL, { by: ALICE })).ok).to.equal(true);
      expect(await h.ownership.roleIn('rust', CAROL)).to.equal('owner');
      expect(await h.ownership.roleIn('rust', ALICE)).to.equal('moderator');
      const actions = (await h.store.audit.listAudit({ group: 'rust' }, null, 10)).map(
        (e) => `${e.action}:${e.actorId}`,
      );
      expect(actions).to.include(`transfer-owner:${ALICE}`);
    });

    it('deletes the group with a code bound to the owner and the group, once, within 15 minutes', async function () {
      expect((await h.ownership.issueDeleteCode('rust', BOB)).ok).to.equal(false);
      const issued = await h.ownership.issueDeleteCode('rust', ALICE);
      if (!issued.ok) throw new Error('no code');
      const foreign = await h.ownership.deleteWithCode('rust', issued.value, { by: BOB });
      expect(!foreign.ok && foreign.error.type).to.equal('not-allowed');
      expect((await h.ownership.deleteWithCode('rust', 'WRONG123', { by: ALICE })).ok).to.equal(false);
      h.clock.now = T0 + 15 * 60_000 + 1;
      const late = await h.ownership.deleteWithCode('rust', issued.value, { by: ALICE });
      expect(!late.ok && late.error.type).to.equal('bad-code');
      const fresh = await h.ownership.issueDeleteCode('rust', ALICE);
      if (!fresh.ok) throw new Error('no code');
      expect(
        (await h.ownership.deleteWithCode('rust', fresh.value.toLowerCase(), { by: ALICE })).ok,
      ).to.equal(true);
      expect(await h.groups.get('rust')).to.equal(null);
    });

    it("the admin's ban of the owner ends the ownership with the moderator role", async function () {
      expect((await h.moderation.ban('rust', ALICE, { by: 'admin' })).ok).to.equal(true);
      expect(await h.store.owners.getOwner('rust')).to.equal(null);
      expect(await h.store.moderators.isModerator('rust', ALICE)).to.equal(false);
    });
  });

  describe('commands to the Service actor', function () {
    beforeEach(async () => {
      h = await startSelfService();
      for (const a of [ALICE, BOB, CAROL]) h.actors.add(a);
    });

    it('creates, lists, moderates a named group, transfers and deletes it, answering each by DM', async function () {
      const say = async (n: string, text: string, who = ALICE): Promise<string> => {
        await h.deliverAll(dmToService(h.urls.origin, who, n, text));
        return h.serviceMessagesTo(who).at(-1) ?? '';
      };
      expect(await say('1', 'create rust Rust people')).to.match(/^Created @rust@guild\.example: you own it/);
      expect(await say('2', 'groups')).to.equal('@rust@guild.example (owner) Rust people');
      expect(await say('3', 'ban !rust@guild.example @carol@c.example 7d spam')).to.match(
        /^Banned @carol@c\.example for 7d/,
      );
      expect(await h.store.bans.getActiveBan('rust', CAROL, h.clock.now)).to.not.equal(null);
      expect(await say('4', 'unban !rust @carol@c.example', BOB)).to.equal(
        'Only moderators of this group may do that.',
      );
      expect(await say('5', 'ban !rust@other.example @carol@c.example')).to.match(/not on guild\.example/);
      expect(await say('6', 'transfer rust @bob@a.example')).to.match(/now owns @rust@guild\.example/);
      expect(await say('7', 'delete rust')).to.match(/^Only the owner/);
      const answer = await say('8', 'delete rust', BOB);
      const code = /delete rust ([A-Z0-9]{8})/.exec(answer)?.[1];
      expect(code).to.be.a('string');
      expect(await say('9', `delete rust ${code}`, ALICE)).to.match(/^Only the owner/);
      expect(await say('10', `delete rust ${code}`, BOB)).to.match(/is deleted/);
      expect(await h.groups.get('rust')).to.equal(null);
      expect(h.events.of('GroupDeleted')).to.have.length(1);
    });

    it('answers a command once when the same message comes again', async function () {
      const dm = dmToService(h.urls.origin, ALICE, '1', 'create rust');
      await h.deliverAll(dm);
      await h.deliverAll(dm);
      const sent = h.events.of('ServiceMessageSent');
      expect(new Set(sent.map((e) => e.basis)).size).to.equal(1);
      expect(await h.store.groupRequests.countGroupRequestsSince({ requesterId: ALICE }, 0)).to.equal(1);
    });
  });
});
