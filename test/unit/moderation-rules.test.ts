/**
 * Moderation and membership decisions that moderation-service.test.ts and handlers.test.ts leave out: bans that
 * end by the clock, what a moderator may not do, what an action done again reports (done by the same basis,
 * nothing by another) and that nothing is sent twice, thread locks through a reply, reports and their
 * resolution, and an opening of the group finished after a failure. Real store, fixed clock, recording sink.
 */
import { expect } from 'chai';
import { AS, T0, createNote, startHarness, type Harness } from '../support/domain-harness.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';

const ALICE = 'https://a.example/users/alice';
const BOB = 'https://b.example/users/bob';
const CAROL = 'https://c.example/users/carol';
const MOD = 'https://m.example/users/mod';
const MOD2 = 'https://n.example/users/mod2';
const POST = `${ALICE}/notes/1`;
const HOUR = 3_600_000;

describe('moderation and membership rules', function () {
  let h: Harness;
  let group: string;

  beforeEach(async function () {
    h = await startHarness();
    group = await h.group('club');
    await h.member('club', ALICE);
    await h.member('club', BOB);
    await h.moderator('club', MOD);
    await h.moderator('club', MOD2);
  });
  afterEach(async function () {
    await h?.close();
  });

  const audit = async () =>
    (await h.store.audit.listAudit({ group: 'club' }, null, 50)).map((e) => [e.actorId, e.action, e.target]);
  const follow = (actor: string, n: string): ApObject => ({
    '@context': AS,
    id: `${actor}/follows/${n}`,
    type: 'Follow',
    actor,
    object: group,
  });

  it('a ban with an end refuses Follows until it ends, by the clock, then lets the actor in', async function () {
    const r = await h.moderation.ban('club', ALICE, { by: MOD, expiresAt: T0 + HOUR, basis: 'ban-1' });
    expect(r).to.deep.equal({ ok: true, value: true });
    expect(await h.store.members.getMember('club', ALICE), 'the membership ended').to.equal(null);
    h.clock.now = T0 + HOUR - 1;
    expect(await h.deliver(follow(ALICE, 'a'))).to.deep.equal([
      { applied: true, what: `${ALICE} is banned from club; Follow rejected` },
    ]);
    h.clock.now = T0 + HOUR;
    expect(await h.deliver(follow(ALICE, 'b'))).to.deep.equal([
      { applied: true, what: `${ALICE} joined club` },
    ]);
    expect(h.events.events.map((e) => e.type)).to.deep.equal([
      'MemberBanned',
      'JoinRejected',
      'MemberJoined',
    ]);
  });

  it('refuses a moderator’s ban of themselves or of another moderator, and a local or non-URL moderator', async function () {
    expect(await h.moderation.ban('club', MOD, { by: MOD })).to.deep.equal({
      ok: false,
      error: { type: 'invalid', detail: 'moderators cannot ban themselves' },
    });
    expect(await h.moderation.ban('club', MOD2, { by: MOD })).to.deep.equal({
      ok: false,
      error: { type: 'invalid', detail: 'remove the moderator first' },
    });
    for (const id of [`${group}/x`, '@bob@b.example']) {
      expect(await h.moderation.addModerator('club', id, { by: 'admin' })).to.deep.equal({
        ok: false,
        error: { type: 'invalid', detail: 'a moderator is a remote actor, named by its http(s) id' },
      });
    }
    expect(h.events.events).to.deep.equal([]);
    expect(await audit()).to.deep.equal([]);
  });

  it('an action done again reports done when the same basis did it, nothing done otherwise, and sends nothing twice', async function () {
    const o = { by: MOD, reason: 'spam', basis: 'dm-1' };
    expect(await h.moderation.ban('club', ALICE, o)).to.deep.equal({ ok: true, value: true });
    expect(await h.moderation.ban('club', ALICE, o), 'a retry of the same command').to.deep.equal({
      ok: true,
      value: true,
    });
    expect(await h.moderation.ban('club', ALICE, { ...o, basis: 'dm-2' }), 'another command').to.deep.equal({
      ok: true,
      value: false,
    });
    await h.post('club', POST, BOB);
    expect(await h.moderation.removePost('club', POST, { by: MOD, basis: 'dm-3' })).to.deep.equal({
      ok: true,
      value: true,
    });
    expect(await h.moderation.removePost('club', POST, { by: MOD, basis: 'dm-3' })).to.deep.equal({
      ok: true,
      value: true,
    });
    expect(await h.moderation.removePost('club', POST, { by: MOD2, basis: 'dm-4' })).to.deep.equal({
      ok: true,
      value: false,
    });
    expect(h.events.events.map((e) => e.type)).to.deep.equal(['MemberBanned', 'PostRemoved']);
    expect(await audit()).to.have.deep.members([
      [MOD, 'ban', ALICE],
      [MOD, 'remove-post', POST],
    ]);
  });

  it('a join decision done again by the same basis gives the member (approval) or null (refusal); by another, no request', async function () {
    await h.member('club', CAROL, 'pending');
    await h.member('club', 'https://d.example/users/dave', 'pending');
    const approved = await h.moderation.approveMember('club', CAROL, { by: MOD, basis: 'a-1' });
    const again = await h.moderation.approveMember('club', CAROL, { by: MOD, basis: 'a-1' });
    expect(again).to.deep.equal(approved);
    expect(again.ok && again.value.state).to.equal('accepted');
    expect(await h.moderation.approveMember('club', CAROL, { by: MOD, basis: 'a-2' })).to.deep.equal({
      ok: false,
      error: { type: 'no-such-request', isMember: true },
    });
    const dave = 'https://d.example/users/dave';
    expect((await h.moderation.rejectMember('club', dave, { by: MOD, basis: 'r-1' })).ok).to.equal(true);
    expect(await h.moderation.rejectMember('club', dave, { by: MOD, basis: 'r-1' })).to.deep.equal({
      ok: true,
      value: null,
    });
    expect(await h.moderation.rejectMember('club', dave, { by: MOD, basis: 'r-2' })).to.deep.equal({
      ok: false,
      error: { type: 'no-such-request', isMember: false },
    });
    expect(h.events.events.map((e) => e.type)).to.deep.equal(['MemberJoined', 'JoinRejected']);
  });

  it('changes nothing and sends nothing for an unban of no ban, a pin of a deleted post or an unpin of none', async function () {
    await h.post('club', POST, ALICE, { deletedAt: T0 });
    await h.post('club', `${BOB}/notes/1`, BOB);
    expect(await h.moderation.unban('club', CAROL, { by: MOD })).to.deep.equal({ ok: true, value: false });
    expect(await h.moderation.setPinned('club', POST, true, { by: MOD })).to.deep.equal({
      ok: false,
      error: { type: 'post-not-found' },
    });
    expect(await h.moderation.setPinned('club', `${BOB}/notes/1`, false, { by: MOD })).to.deep.equal({
      ok: true,
      value: false,
    });
    expect(h.events.events).to.deep.equal([]);
    expect(await audit()).to.deep.equal([]);
  });

  it('a lock through a reply locks the whole thread: members’ replies are refused, moderators’ taken', async function () {
    await h.post('club', POST, ALICE);
    await h.post('club', `${BOB}/notes/r`, BOB, { inReplyTo: POST, threadRoot: POST, boostId: null });
    expect(await h.moderation.setLocked('club', `${BOB}/notes/r`, true, { by: MOD })).to.deep.equal({
      ok: true,
      value: true,
    });
    expect(h.events.events.map((e) => [e.type, 'objectId' in e ? e.objectId : null])).to.deep.equal([
      ['ThreadLocked', POST],
    ]);
    expect(await h.store.postFlags.isLocked('club', POST)).to.equal(true);
    const [refused] = await h.deliver(createNote(BOB, group, 'r2', { inReplyTo: `${BOB}/notes/r` }));
    expect(refused).to.deep.equal({ applied: false, reason: `the thread ${POST} is locked` });
    const [taken] = await h.deliver(createNote(MOD, group, 'r3', { inReplyTo: `${BOB}/notes/r` }));
    expect(taken?.applied).to.equal(true);
  });

  it('a report filed twice is one report and one notice per moderator; resolved, its Flag’s sender is told once', async function () {
    h.actors.add(CAROL);
    const report = {
      groupName: 'club',
      reporterId: CAROL,
      targetActorId: ALICE,
      objectIds: [POST],
      reason: 'rude',
      flagId: `${CAROL}/flags/1`,
    };
    const first = await h.moderation.report(report);
    const second = await h.moderation.report(report);
    expect(second).to.deep.equal(first);
    const id = first.ok ? first.value.id : '';
    expect(await h.store.reports.listReports('club', 'open', null, 10)).to.have.length(1);
    const notices = h.events.of('DirectMessageSent');
    expect(new Set(notices.map((e) => e.basis)).size, 'two moderators, each told once').to.equal(2);
    expect(await h.moderation.resolveReport('club', id, { by: MOD, basis: 'res-1' })).to.deep.equal({
      ok: true,
      value: true,
    });
    expect(await h.moderation.resolveReport('club', id, { by: MOD2, basis: 'res-2' })).to.deep.equal({
      ok: true,
      value: false,
    });
    expect(h.events.of('ReportResolved')).to.deep.equal([
      {
        type: 'ReportResolved',
        group: 'club',
        basis: 'res-1',
        flagId: `${CAROL}/flags/1`,
        reporter: CAROL,
        reporterInbox: 'https://c.example/inbox',
        objectIds: [POST],
      },
    ]);
    expect((await h.store.reports.getReport(id))?.resolvedBy).to.equal(MOD);
  });

  it('opening an approval group accepts its requests; cut short after the group was stored, the same change again finishes it', async function () {
    await h.settings.update('club', { membershipPolicy: 'approval' });
    await h.member('club', CAROL, 'pending');
    h.events.failNext('MemberJoined');
    const o = { by: MOD, basis: 'open-1' };
    let failed = false;
    await h.moderation.changeSettings('club', { membershipPolicy: 'open' }, o).catch(() => (failed = true));
    expect(failed, 'the first run fails').to.equal(true);
    expect((await h.store.groups.getGroup('club'))?.settings.membershipPolicy).to.equal('open');
    expect((await h.store.members.getMember('club', CAROL))?.state).to.equal('pending');
    const again = await h.moderation.changeSettings('club', { membershipPolicy: 'open' }, o);
    expect(again.ok && [again.value.changed, again.value.approvedPending]).to.deep.equal([
      ['membershipPolicy'],
      1,
    ]);
    expect((await h.store.members.getMember('club', CAROL))?.state).to.equal('accepted');
    expect(h.events.of('MemberJoined').map((e) => [e.basis, e.follow.follower])).to.deep.equal([
      [`open-1#approve:${CAROL}`, CAROL],
    ]);
    // The setup's closing, then the opening, told once.
    expect(h.events.of('SettingsChanged').map((e) => e.snapshot.settings.membershipPolicy)).to.deep.equal([
      'approval',
      'open',
    ]);
  });

  it('a member’s new Follow takes the new id and keeps when they joined; a requester’s Undo withdraws the request', async function () {
    h.clock.now = T0 + HOUR;
    expect(await h.deliver(follow(ALICE, 'again'))).to.deep.equal([
      { applied: true, what: `${ALICE} joined club` },
    ]);
    expect(await h.store.members.getMember('club', ALICE)).to.deep.include({
      followId: `${ALICE}/follows/again`,
      createdAt: T0,
      updatedAt: T0 + HOUR,
    });
    await h.member('club', CAROL, 'pending');
    const undo: ApObject = {
      '@context': AS,
      id: `${CAROL}/undos/1`,
      type: 'Undo',
      actor: CAROL,
      object: { type: 'Follow', actor: CAROL, object: group },
    };
    expect(await h.deliver(undo)).to.deep.equal([{ applied: true, what: `${CAROL} left club` }]);
    expect(await h.store.members.getMember('club', CAROL)).to.equal(null);
  });
});
