/**
 * The moderation service every surface uses (admin CLI, admin API, DM commands, moderators' activities): who
 * may act, what each action emits, and that each is recorded in the audit log with who did it, member
 * decisions, held posts and settings included. Fixed clock, recording event sink, real store.
 */
import { expect } from 'chai';
import { T0, createNote, startHarness, type Harness } from '../support/domain-harness.ts';

const ALICE = 'https://a.example/users/alice';
const MOD = 'https://m.example/users/mod';
const CAROL = 'https://c.example/users/carol';

describe('moderation service', function () {
  let h: Harness;
  let group: string;

  beforeEach(async function () {
    h = await startHarness();
    group = await h.group('club');
    await h.member('club', ALICE);
    await h.moderator('club', MOD);
  });
  afterEach(async function () {
    await h?.close();
  });

  const audit = async () =>
    (await h.store.audit.listAudit({ group: 'club' }, null, 50)).map((e) => [e.actorId, e.action, e.target]);

  it('refuses whoever is neither the admin nor a moderator, and an unknown group', async function () {
    expect(await h.moderation.ban('club', ALICE, { by: CAROL })).to.deep.equal({
      ok: false,
      error: { type: 'not-allowed' },
    });
    expect(await h.moderation.approveMember('nope', ALICE, { by: 'admin' })).to.deep.equal({
      ok: false,
      error: { type: 'group-not-found' },
    });
    expect(h.events.events).to.deep.equal([]);
    expect(await audit()).to.deep.equal([]);
  });

  it('approves, rejects and removes members, each recorded with who decided', async function () {
    await h.member('club', CAROL, 'pending');
    const approved = await h.moderation.approveMember('club', CAROL, { by: MOD });
    expect(approved.ok && approved.value.state).to.equal('accepted');
    expect(await h.moderation.approveMember('club', CAROL, { by: MOD })).to.deep.equal({
      ok: false,
      error: { type: 'no-such-request', isMember: true },
    });
    const removed = await h.moderation.removeMember('club', ALICE, { by: 'admin' });
    expect(removed.ok).to.equal(true);
    expect(h.events.events.map((e) => e.type)).to.deep.equal(['MemberJoined', 'JoinRejected']);
    expect(await audit()).to.have.deep.members([
      [MOD, 'approve-member', CAROL],
      ['admin', 'remove-member', ALICE],
    ]);
  });

  it('approves a held post: shared as if just received, out of the queue, recorded; or rejects it', async function () {
    await h.settings.update('club', { premoderateFirstPosts: 1 });
    const first = createNote(ALICE, group, '1');
    const second = createNote(ALICE, group, '2');
    await h.deliver(first);
    await h.deliver(second);
    expect(await h.store.held.listHeldPosts('club', null, 10)).to.have.length(2);
    const approved = await h.moderation.approvePost('club', `${ALICE}/notes/1`, { by: 'admin' });
    expect(approved).to.deep.equal({ ok: true, value: true });
    expect((await h.store.posts.getPost('club', `${ALICE}/notes/1`))?.createId).to.equal(first.id);
    expect(h.events.of('PostAccepted').map((e) => e.basis)).to.deep.equal([first.id]);
    const rejected = await h.moderation.rejectPost('club', `${ALICE}/notes/2`, { by: MOD, reason: 'spam' });
    expect(rejected).to.deep.equal({ ok: true, value: true });
    expect(await h.store.held.listHeldPosts('club', null, 10)).to.deep.equal([]);
    expect(await h.store.posts.getPost('club', `${ALICE}/notes/2`)).to.equal(null);
    expect(await h.moderation.approvePost('club', `${ALICE}/notes/2`, { by: 'admin' })).to.deep.equal({
      ok: false,
      error: { type: 'not-found' },
    });
    expect(await audit()).to.have.deep.members([
      ['admin', 'approve-post', `${ALICE}/notes/1`],
      [MOD, 'reject-post', `${ALICE}/notes/2`],
    ]);
  });

  it('leaves a held post held when its author was banned meanwhile, saying why', async function () {
    await h.settings.update('club', { premoderateFirstPosts: 1 });
    await h.deliver(createNote(ALICE, group, '1'));
    await h.moderation.ban('club', ALICE, { by: 'admin' });
    const r = await h.moderation.approvePost('club', `${ALICE}/notes/1`, { by: 'admin' });
    expect(r).to.deep.equal({
      ok: false,
      error: { type: 'invalid', detail: `${ALICE} is banned from club` },
    });
    expect(await h.store.held.getHeldPost('club', `${ALICE}/notes/1`)).to.not.equal(null);
  });

  it('changes settings, recording the fields changed; the same values again record nothing', async function () {
    const r = await h.moderation.changeSettings('club', { title: 'Club', rules: 'Be kind' }, { by: 'admin' });
    expect(r.ok && r.value.changed).to.deep.equal(['title', 'rules']);
    const again = await h.moderation.changeSettings('club', { title: 'Club' }, { by: 'admin' });
    expect(again.ok && again.value.changed).to.deep.equal([]);
    expect(h.events.of('SettingsChanged')).to.have.length(1);
    expect(await audit()).to.deep.equal([['admin', 'update-settings', 'title,rules']]);
  });

  it('the admin’s ban of a moderator ends the role first; removing posts removes each with a basis of its own', async function () {
    await h.member('club', MOD);
    await h.post('club', `${MOD}/notes/1`, MOD);
    await h.post('club', `${MOD}/notes/2`, MOD);
    const r = await h.moderation.ban('club', MOD, { by: 'admin', reason: 'gone rogue', removePosts: true });
    expect(r).to.deep.equal({ ok: true, value: true });
    expect(h.events.events.map((e) => e.type)).to.deep.equal([
      'ModeratorRemoved',
      'MemberBanned',
      'PostRemoved',
      'PostRemoved',
    ]);
    const bases = h.events.events.map((e) => e.basis);
    expect(new Set(bases).size).to.equal(bases.length);
    expect(await h.store.moderators.isModerator('club', MOD)).to.equal(false);
    for (const n of [1, 2])
      expect(await h.store.posts.getPost('club', `${MOD}/notes/${n}`)).to.deep.include({
        deletedAt: T0,
        removedBy: 'admin',
      });
    expect(await h.moderation.ban('club', MOD, { by: 'admin', reason: 'again' })).to.deep.equal({
      ok: true,
      value: false,
    });
  });

  it('restores only what was removed; an author’s own deletion is theirs to undo', async function () {
    await h.post('club', `${ALICE}/notes/1`, ALICE);
    await h.store.posts.markPostDeleted('club', `${ALICE}/notes/1`, T0, null);
    expect(await h.moderation.restorePost('club', `${ALICE}/notes/1`, { by: 'admin' })).to.deep.equal({
      ok: false,
      error: { type: 'invalid', detail: 'the post was deleted by its author; only they can undelete it' },
    });
    await h.post('club', `${ALICE}/notes/2`, ALICE, {
      inReplyTo: `${ALICE}/notes/1`,
      threadRoot: `${ALICE}/notes/1`,
      boostId: null,
    });
    await h.moderation.removePost('club', `${ALICE}/notes/2`, { by: MOD, reason: 'x' });
    expect(await h.moderation.restorePost('club', `${ALICE}/notes/2`, { by: MOD })).to.deep.equal({
      ok: true,
      value: true,
    });
    const [restored] = h.events.of('PostRestored');
    expect(restored).to.deep.include({ source: null, boostId: null });
    expect(await h.moderation.restorePost('club', `${ALICE}/notes/2`, { by: MOD })).to.deep.equal({
      ok: true,
      value: false,
    });
  });
});
