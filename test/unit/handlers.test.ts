/**
 * The handlers of inbound activities, on a real store with a fixed clock and a recording event sink: what each
 * one refuses (and why), what it changes and which events it emits; and that an intake job retried after a
 * failed step ends with the effects of one clean run.
 */
import { expect } from 'chai';
import { AS, PUBLIC, T0, createNote, startHarness, type Harness } from '../support/domain-harness.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';

const ALICE = 'https://a.example/users/alice';
const BOB = 'https://b.example/users/bob';
const MOD = 'https://m.example/users/mod';
const STRANGER = 'https://s.example/users/eve';

let seq = 0;
const act = (actor: string, type: string, fields: ApObject): ApObject => ({
  '@context': AS,
  id: `${actor}/activities/${++seq}`,
  type,
  actor,
  ...fields,
});

describe('inbound handlers', function () {
  let h: Harness;
  let group: string;

  beforeEach(async function () {
    h = await startHarness();
    group = await h.group('club');
    await h.member('club', ALICE);
    await h.member('club', BOB);
    await h.moderator('club', MOD);
    h.actors.add(STRANGER);
  });
  afterEach(async function () {
    await h?.close();
  });

  describe('follow', function () {
    it('accepts a follower of an open group and tells them', async function () {
      const carol = 'https://c.example/users/carol';
      h.actors.add(carol);
      const follow = act(carol, 'Follow', { object: group });
      expect(await h.deliver(follow)).to.deep.equal([{ applied: true, what: `${carol} joined club` }]);
      expect(await h.store.members.getMember('club', carol)).to.deep.include({
        state: 'accepted',
        followId: follow.id,
      });
      expect(h.events.of('MemberJoined')).to.deep.equal([
        {
          type: 'MemberJoined',
          group: 'club',
          basis: follow.id,
          follow: { id: follow.id, follower: carol, inbox: `${carol}/inbox` },
        },
      ]);
    });

    it('keeps a request of an approval group pending, and refuses a banned actor with Reject', async function () {
      await h.settings.update('club', { membershipPolicy: 'approval' });
      const carol = 'https://c.example/users/carol';
      h.actors.add(carol);
      await h.deliver(act(carol, 'Follow', { object: group }));
      expect((await h.store.members.getMember('club', carol))?.state).to.equal('pending');
      expect(h.events.of('JoinRequested').map((e) => e.follower)).to.deep.equal([carol]);
      await h.store.bans.putBan({
        groupName: 'club',
        actorId: STRANGER,
        reason: '',
        by: 'admin',
        createdAt: T0,
        expiresAt: null,
      });
      await h.deliver(act(STRANGER, 'Follow', { object: group }));
      expect(await h.store.members.getMember('club', STRANGER)).to.equal(null);
      expect(h.events.of('JoinRejected').map((e) => e.follow.follower)).to.deep.equal([STRANGER]);
    });

    it('refuses a Follow of something that is not a group here, or by an actor that cannot be had', async function () {
      expect(await h.deliver(act(STRANGER, 'Follow', { object: `${group}x` }))).to.deep.equal([
        { applied: false, reason: `Follow of ${group}x, which is not a group here` },
      ]);
      expect(await h.deliver(act(STRANGER, 'Follow', { object: ALICE }))).to.deep.equal([
        { applied: false, reason: 'follow does not concern a group here' },
      ]);
      const [outcome] = await h.deliver(act('https://gone.example/users/x', 'Follow', { object: group }));
      expect(outcome).to.deep.equal({
        applied: false,
        reason: 'follower https://gone.example/users/x could not be fetched',
      });
    });

    it('lets a member leave with Undo{Follow}, by the embedded Follow or by its id', async function () {
      const undo = act(ALICE, 'Undo', { object: { type: 'Follow', actor: ALICE, object: group } });
      expect(await h.deliver(undo)).to.deep.equal([{ applied: true, what: `${ALICE} left club` }]);
      expect(await h.deliver(act(BOB, 'Undo', { object: `${BOB}/follows/other` }), 'club')).to.deep.equal([
        { applied: false, reason: `the Follow ${BOB}/follows/other is not how ${BOB} joined club` },
      ]);
      expect(await h.deliver(act(BOB, 'Undo', { object: `${BOB}/follows/club` }), 'club')).to.deep.equal([
        { applied: true, what: `${BOB} left club` },
      ]);
      const forged = act(STRANGER, 'Undo', { object: { type: 'Follow', actor: ALICE, object: group } });
      expect((await h.deliver(forged))[0]).to.deep.equal({
        applied: false,
        reason: 'Undo of a Follow made by another actor',
      });
    });
  });

  describe('create-post', function () {
    it('stores a member’s post and re-shares it, boosting a top-level post with an id derived from the Create', async function () {
      const create = createNote(ALICE, group, '1');
      const [outcome] = await h.deliver(create);
      expect(outcome?.applied).to.equal(true);
      const boostId = h.urls.derivedActivity('club', String(create.id), 'boost');
      expect(await h.store.posts.getPost('club', `${ALICE}/notes/1`)).to.deep.include({
        authorId: ALICE,
        createId: create.id,
        boostId,
        createdAt: T0,
      });
      expect(h.events.of('PostAccepted')).to.deep.equal([
        {
          type: 'PostAccepted',
          group: 'club',
          basis: create.id,
          create,
          objectId: `${ALICE}/notes/1`,
          boostId,
        },
      ]);
    });

    it('refuses posts by non-members, non-public posts, replies outside the group and posts in locked threads', async function () {
      const refusals = async (doc: ApObject) =>
        (await h.deliver(doc)).map((o) => (o.applied ? 'applied' : o.reason));
      expect(await refusals(createNote(STRANGER, group, '1'))).to.deep.equal([
        `${STRANGER} is not a member of club (told by direct message)`,
      ]);
      expect(
        await refusals(createNote(ALICE, group, '2', { to: [`${ALICE}/followers`], cc: [group] })),
      ).to.deep.equal(['the post is neither public nor unlisted (a direct message or followers-only post)']);
      expect(
        await refusals(createNote(ALICE, group, '3', { inReplyTo: 'https://x.example/p/1' })),
      ).to.deep.equal(['reply to https://x.example/p/1, which is not in club']);
      await h.post('club', `${BOB}/notes/root`, BOB);
      await h.store.postFlags.setLocked('club', `${BOB}/notes/root`, T0);
      expect(await refusals(createNote(ALICE, group, '4', { inReplyTo: `${BOB}/notes/root` }))).to.deep.equal(
        [`the thread ${BOB}/notes/root is locked`],
      );
      expect(h.events.of('PostAccepted')).to.deep.equal([]);
    });

    it("answers a non-member's post by direct message, a few times an hour at most, and never a group", async function () {
      const told = () => h.events.of('DirectMessageSent').filter((e) => e.basis.startsWith('refused:'));
      await h.deliver(createNote(STRANGER, group, '1'));
      expect(told().map((e) => [e.to.id, e.inReplyTo])).to.deep.equal([[STRANGER, `${STRANGER}/notes/1`]]);
      expect(told()[0]?.text).to.match(
        /^Your post was not shared with the group "club": only members' posts/,
      );
      expect(told()[0]?.text).to.contain('Follow the group to join');
      // Once a day per sender and group.
      await h.deliver(createNote(STRANGER, group, '2'));
      expect(told()).to.have.length(1);
      h.clock.now += 86_400_000;
      const [outcome] = await h.deliver(createNote(STRANGER, group, '3'));
      expect(outcome).to.deep.equal({
        applied: false,
        reason: `${STRANGER} is not a member of club (told by direct message)`,
      });
      expect(told()).to.have.length(2);
      // Another group on the same server is not answered: no loops between groups.
      const other = 'https://groups.example/groups/other';
      h.actors.add(other, 'Group');
      const [silent] = await h.deliver(createNote(other, group, '4'));
      expect(silent).to.deep.equal({ applied: false, reason: `${other} is not a member of club` });
      expect(told()).to.have.length(2);
      expect(h.events.of('PostAccepted')).to.deep.equal([]);
    });

    it('holds a new member’s first post and tells each moderator once, whatever the retries', async function () {
      await h.settings.update('club', { premoderateFirstPosts: 1 });
      const create = createNote(ALICE, group, '1');
      await h.deliver(create);
      await h.deliver(create);
      expect(await h.store.posts.getPost('club', `${ALICE}/notes/1`)).to.equal(null);
      expect((await h.store.held.getHeldPost('club', `${ALICE}/notes/1`))?.authorId).to.equal(ALICE);
      const dms = h.events.of('DirectMessageSent');
      expect(dms.map((e) => e.to.id)).to.deep.equal([MOD, MOD]);
      expect(dms[0]?.basis, 'the same notice, so sent once').to.equal(dms[1]?.basis);
      expect(dms[0]?.text).to.contain(`approve-post ${ALICE}/notes/1`);
    });

    it('finishes an acceptance whose re-share failed: the retry re-shares with the same ids, the post stored once', async function () {
      const create = createNote(ALICE, group, '1');
      h.events.failNext('PostAccepted');
      let failed = false;
      await h.deliver(create).catch(() => (failed = true));
      expect(failed, 'the first run fails').to.equal(true);
      expect(await h.store.posts.getPost('club', `${ALICE}/notes/1`)).to.not.equal(null);
      const [retried] = await h.deliver(create);
      expect(retried?.applied, JSON.stringify(retried)).to.equal(true);
      expect(h.events.of('PostAccepted')).to.have.length(1);
      // A second delivery of the same Create re-shares the same event again: the translator queues nothing new.
      await h.deliver(create);
      const accepted = h.events.of('PostAccepted');
      expect(accepted).to.have.length(2);
      expect(accepted[0]).to.deep.equal(accepted[1]);
      // Another Create of the same post is refused.
      const again = { ...create, id: `${ALICE}/creates/other` };
      expect((await h.deliver(again))[0]).to.deep.equal({
        applied: false,
        reason: `post ${ALICE}/notes/1 is already in club`,
      });
    });
  });

  describe('direct-message', function () {
    it('runs a moderator’s command and answers; the ban is authored here (no source) with the DM as basis', async function () {
      const dm = createNote(MOD, group, 'dm', { to: [group], cc: [] });
      (dm.object as ApObject).content =
        `<p><span class="h-card"><a href="${group}">@club</a></span> ban ${ALICE} spam</p>`;
      const [outcome] = await h.deliver(dm);
      expect(outcome).to.deep.equal({
        applied: true,
        what: `command from ${MOD} to club answered: Banned ${ALICE}.`,
      });
      expect(await h.store.bans.getActiveBan('club', ALICE, T0)).to.deep.include({ reason: 'spam', by: MOD });
      const [banned] = h.events.of('MemberBanned');
      expect(banned).to.deep.include({
        basis: dm.id,
        source: null,
        user: ALICE,
        userInbox: `${ALICE}/inbox`,
      });
      const [answer] = h.events.of('DirectMessageSent');
      expect(answer).to.deep.include({ inReplyTo: `${MOD}/notes/dm`, text: `Banned ${ALICE}.` });
      expect(answer?.to.id).to.equal(MOD);
      const audit = await h.store.audit.listAudit({ group: 'club' }, null, 10);
      expect(audit.map((e) => [e.actorId, e.action, e.target])).to.deep.equal([[MOD, 'ban', ALICE]]);
    });

    it('refuses a member’s moderation command, and changes nothing', async function () {
      const dm = createNote(BOB, group, 'dm', { to: [group], cc: [] });
      (dm.object as ApObject).content = `<p>ban ${ALICE}</p>`;
      await h.deliver(dm);
      expect(h.events.of('DirectMessageSent')[0]?.text).to.equal(
        'Only moderators of this group may do that.',
      );
      expect(h.events.of('MemberBanned')).to.deep.equal([]);
    });
  });

  describe('update-post, votes', function () {
    it('re-shares an author’s Update and a member’s votes unchanged; refuses others', async function () {
      await h.post('club', `${ALICE}/notes/1`, ALICE);
      const update = act(ALICE, 'Update', {
        object: { id: `${ALICE}/notes/1`, type: 'Note', attributedTo: ALICE },
        cc: [group],
      });
      const like = act(BOB, 'Like', { object: `${ALICE}/notes/1` });
      const undoLike = act(BOB, 'Undo', { object: { type: 'Like', actor: BOB, object: `${ALICE}/notes/1` } });
      for (const doc of [update, like, undoLike])
        expect((await h.deliver(doc))[0]?.applied, String(doc.type)).to.equal(true);
      expect(h.events.of('ActivityReshared').map((e) => [e.basis, e.activity, e.objectId])).to.deep.equal([
        [update.id, update, `${ALICE}/notes/1`],
        [like.id, like, `${ALICE}/notes/1`],
        [undoLike.id, undoLike, `${ALICE}/notes/1`],
      ]);
      const notAuthor = act(BOB, 'Update', { object: { id: `${ALICE}/notes/1`, type: 'Note' }, cc: [group] });
      expect((await h.deliver(notAuthor))[0]).to.deep.equal({
        applied: false,
        reason: `Update of ${ALICE}/notes/1 by someone who is not its author`,
      });
      const strangerVote = act(STRANGER, 'Dislike', { object: `${ALICE}/notes/1` });
      expect((await h.deliver(strangerVote))[0]).to.deep.equal({
        applied: false,
        reason: `${STRANGER} is not a member of club`,
      });
    });
  });

  describe('delete-post and undo-delete', function () {
    it('an author’s Delete is re-shared with the boost undone, the post marked deleted by its author', async function () {
      const post = await h.post('club', `${ALICE}/notes/1`, ALICE);
      const del = act(ALICE, 'Delete', { object: post.objectId, to: [PUBLIC] });
      // Mastodon's Delete names no group: the group is found by the post.
      expect((await h.deliver(del))[0]?.applied).to.equal(true);
      expect(h.events.of('PostDeleted')).to.deep.equal([
        {
          type: 'PostDeleted',
          group: 'club',
          basis: del.id,
          source: del,
          objectId: post.objectId,
          boostId: post.boostId,
        },
      ]);
      expect(await h.store.posts.getPost('club', post.objectId)).to.deep.include({
        deletedAt: T0,
        removedBy: null,
      });
    });

    it('finishes a Delete whose re-share failed: the post stays live until it is told', async function () {
      const post = await h.post('club', `${ALICE}/notes/1`, ALICE);
      const del = act(ALICE, 'Delete', { object: post.objectId });
      h.events.failNext('PostDeleted');
      await h.deliver(del).catch(() => undefined);
      expect((await h.store.posts.getPost('club', post.objectId))?.deletedAt).to.equal(null);
      expect((await h.deliver(del))[0]?.applied).to.equal(true);
      expect(h.events.of('PostDeleted')).to.have.length(1);
      expect((await h.store.posts.getPost('club', post.objectId))?.deletedAt).to.equal(T0);
    });

    it('a moderator’s Delete (Lemmy’s removal, with summary) is a removal, announced as they sent it', async function () {
      const post = await h.post('club', `${ALICE}/notes/1`, ALICE);
      const remove = act(MOD, 'Delete', { object: post.objectId, summary: 'off topic', cc: [group] });
      expect((await h.deliver(remove))[0]).to.deep.equal({
        applied: true,
        what: `moderator ${MOD} removed ${post.objectId} from club`,
      });
      expect(h.events.of('PostRemoved')).to.deep.equal([
        {
          type: 'PostRemoved',
          group: 'club',
          basis: remove.id,
          source: remove,
          objectId: post.objectId,
          reason: 'off topic',
          boostId: post.boostId,
        },
      ]);
      expect(await h.store.posts.getPost('club', post.objectId)).to.deep.include({
        deletedAt: T0,
        removedBy: MOD,
      });
      const stranger = act(STRANGER, 'Delete', { object: `${BOB}/notes/x` });
      await h.post('club', `${BOB}/notes/x`, BOB);
      expect((await h.deliver(stranger))[0]).to.deep.equal({
        applied: false,
        reason: `${STRANGER} is not a moderator of club; Delete refused`,
      });
    });

    it('an author undeletes what they deleted: live again, the Undo re-shared, boosted anew', async function () {
      const post = await h.post('club', `${ALICE}/notes/1`, ALICE);
      const del = act(ALICE, 'Delete', { object: post.objectId, cc: [group] });
      await h.deliver(del);
      const undo = act(ALICE, 'Undo', { object: { ...del, '@context': undefined }, cc: [group] });
      expect((await h.deliver(undo))[0]).to.deep.equal({
        applied: true,
        what: `${ALICE} undeleted ${post.objectId} in club`,
      });
      const boostId = h.urls.derivedActivity('club', String(undo.id), 'boost');
      expect(h.events.of('PostRestored')).to.deep.equal([
        {
          type: 'PostRestored',
          group: 'club',
          basis: undo.id,
          source: undo,
          objectId: post.objectId,
          reason: '',
          boostId,
        },
      ]);
      expect(await h.store.posts.getPost('club', post.objectId)).to.deep.include({
        deletedAt: null,
        boostId,
      });
      expect((await h.deliver(undo))[0]).to.deep.equal({
        applied: false,
        reason: `${post.objectId} is not deleted`,
      });
    });

    it('an author cannot undelete a removal; a moderator restores it', async function () {
      const post = await h.post('club', `${ALICE}/notes/1`, ALICE);
      const removal = act(MOD, 'Delete', { object: post.objectId, summary: 'spam', cc: [group] });
      await h.deliver(removal);
      const byAuthor = act(ALICE, 'Undo', {
        object: { type: 'Delete', actor: ALICE, object: post.objectId },
        cc: [group],
      });
      expect((await h.deliver(byAuthor))[0]).to.deep.equal({
        applied: false,
        reason: `${ALICE} is not a moderator of club; Undo{Delete} of a removed post refused`,
      });
      const restore = act(MOD, 'Undo', { object: { ...removal, '@context': undefined }, cc: [group] });
      expect((await h.deliver(restore))[0]).to.deep.equal({
        applied: true,
        what: `moderator ${MOD} restored ${post.objectId} in club`,
      });
      expect(h.events.of('PostRestored')[0]).to.deep.include({ basis: restore.id, source: restore });
      expect((await h.store.posts.getPost('club', post.objectId))?.deletedAt).to.equal(null);
      const audit = await h.store.audit.listAudit({ group: 'club' }, null, 10);
      expect(audit.map((e) => [e.actorId, e.action])).to.have.deep.members([
        [MOD, 'remove-post'],
        [MOD, 'restore-post'],
      ]);
    });
  });

  describe('moderation activities', function () {
    it('a moderator’s Block bans (announced as sent); a non-moderator’s changes nothing; a member’s Block of the group ends their membership', async function () {
      const block = act(MOD, 'Block', {
        object: ALICE,
        target: group,
        summary: 'spam',
        endTime: '2026-02-01T00:00:00Z',
        cc: [group],
      });
      expect((await h.deliver(block))[0]).to.deep.equal({
        applied: true,
        what: `${ALICE} banned from club by ${MOD}`,
      });
      expect(await h.store.bans.getActiveBan('club', ALICE, T0)).to.deep.include({
        expiresAt: Date.UTC(2026, 1, 1),
      });
      expect(await h.store.members.getMember('club', ALICE)).to.equal(null);
      expect(h.events.of('MemberBanned')[0]).to.deep.include({
        source: block,
        userInbox: null,
        reason: 'spam',
      });
      const fake = act(BOB, 'Block', { object: MOD, target: group });
      expect((await h.deliver(fake))[0]).to.deep.equal({
        applied: false,
        reason: `${BOB} is not a moderator of club; Block refused`,
      });
      expect((await h.deliver(act(BOB, 'Block', { object: group })))[0]).to.deep.equal({
        applied: true,
        what: `${BOB} blocked club; membership ended`,
      });
      const unban = act(MOD, 'Undo', { object: { ...block, '@context': undefined }, cc: [group] });
      expect((await h.deliver(unban))[0]).to.deep.equal({
        applied: true,
        what: `${ALICE} unbanned from club`,
      });
      expect(h.events.of('MemberUnbanned')[0]).to.deep.include({ source: unban, user: ALICE });
      expect(await h.store.bans.getActiveBan('club', ALICE, T0)).to.equal(null);
    });

    it('finishes a ban whose announce failed: the retry bans and announces once', async function () {
      const block = act(MOD, 'Block', { object: ALICE, target: group, cc: [group] });
      h.events.failNext('MemberBanned');
      await h.deliver(block).catch(() => undefined);
      expect(await h.store.bans.getActiveBan('club', ALICE, T0), 'nothing changed yet').to.equal(null);
      expect((await h.deliver(block))[0]?.applied).to.equal(true);
      // Delivered again, the same Block finds its ban done and recorded: reported done, nothing sent again.
      expect((await h.deliver(block))[0]).to.deep.equal({
        applied: true,
        what: `${ALICE} banned from club by ${MOD}`,
      });
      expect(h.events.of('MemberBanned')).to.have.length(1);
      expect(await h.store.audit.listAudit({ group: 'club' }, null, 10)).to.have.length(1);
    });

    it('Add and Remove on the moderators and featured collections, Lock and its Undo', async function () {
      await h.post('club', `${ALICE}/notes/1`, ALICE);
      const cases: Array<[ApObject, string]> = [
        [act(MOD, 'Add', { object: BOB, target: `${group}/moderators` }), 'ModeratorAdded'],
        [act(MOD, 'Remove', { object: BOB, target: `${group}/moderators` }), 'ModeratorRemoved'],
        [act(MOD, 'Add', { object: `${ALICE}/notes/1`, target: `${group}/featured` }), 'PostPinned'],
        [act(MOD, 'Remove', { object: `${ALICE}/notes/1`, target: `${group}/featured` }), 'PostUnpinned'],
        [act(MOD, 'Lock', { object: `${ALICE}/notes/1`, cc: [group] }), 'ThreadLocked'],
        [
          act(MOD, 'Undo', { object: { type: 'Lock', actor: MOD, object: `${ALICE}/notes/1` }, cc: [group] }),
          'ThreadUnlocked',
        ],
      ];
      for (const [doc, type] of cases) {
        const [outcome] = await h.deliver(doc);
        expect(outcome?.applied, `${type}: ${JSON.stringify(outcome)}`).to.equal(true);
        expect(h.events.events.at(-1)).to.deep.include({ type, basis: doc.id, source: doc });
      }
      expect(
        (await h.deliver(act(STRANGER, 'Lock', { object: `${ALICE}/notes/1`, cc: [group] })))[0],
      ).to.deep.equal({
        applied: false,
        reason: `${STRANGER} is not a moderator of club; Lock refused`,
      });
      expect(
        (await h.deliver(act(MOD, 'Add', { object: BOB, target: `${group}/followers` })))[0],
      ).to.deep.equal({
        applied: false,
        reason: `Add with target ${group}/followers is not handled`,
      });
    });

    it('Update{Group} by a moderator changes the settings it names, recorded with the fields changed', async function () {
      const update = act(MOD, 'Update', {
        object: {
          id: group,
          type: 'Group',
          name: 'The Club',
          postingRestrictedToMods: true,
          source: { content: 'Hi' },
        },
        cc: [group],
      });
      expect((await h.deliver(update))[0]).to.deep.equal({
        applied: true,
        what: `${MOD} changed title, summary, postingPolicy of club`,
      });
      const [changed] = h.events.of('SettingsChanged');
      expect(changed).to.deep.include({ basis: update.id, source: null });
      expect(changed?.snapshot).to.deep.include({ title: 'The Club', summary: 'Hi' });
      expect((await h.store.groups.getGroup('club'))?.settings.postingPolicy).to.equal('moderators');
      const audit = await h.store.audit.listAudit({ group: 'club' }, null, 10);
      expect(audit.map((e) => [e.actorId, e.action, e.target])).to.deep.equal([
        [MOD, 'update-settings', 'title,summary,postingPolicy'],
      ]);
      const other = act(MOD, 'Update', { object: { id: `${group}x`, type: 'Group' }, to: [group] });
      expect((await h.deliver(other))[0]).to.deep.equal({
        applied: false,
        reason: 'Update of another group',
      });
    });

    it('a moderator’s Accept or Reject answers a pending request; both are recorded', async function () {
      await h.settings.update('club', { membershipPolicy: 'approval' });
      const carol = 'https://c.example/users/carol';
      const dave = 'https://d.example/users/dave';
      await h.member('club', carol, 'pending');
      await h.member('club', dave, 'pending');
      const accept = act(MOD, 'Accept', { object: { type: 'Follow', actor: carol, object: group } });
      const reject = act(MOD, 'Reject', { object: { type: 'Follow', actor: dave, object: group } });
      expect((await h.deliver(accept))[0]?.applied).to.equal(true);
      expect((await h.deliver(reject))[0]?.applied).to.equal(true);
      expect((await h.store.members.getMember('club', carol))?.state).to.equal('accepted');
      expect(await h.store.members.getMember('club', dave)).to.equal(null);
      expect(h.events.of('MemberJoined').map((e) => e.basis)).to.deep.equal([accept.id]);
      expect(h.events.of('JoinRejected').map((e) => e.basis)).to.deep.equal([reject.id]);
      const audit = await h.store.audit.listAudit({ group: 'club' }, null, 10);
      expect(audit.map((e) => [e.actorId, e.action, e.target])).to.have.deep.members([
        [MOD, 'approve-member', carol],
        [MOD, 'reject-member', dave],
      ]);
    });

    it('a Flag, even addressed to nobody (Mastodon), files a report and tells the moderators once', async function () {
      await h.post('club', `${ALICE}/notes/1`, ALICE);
      const flag = act(STRANGER, 'Flag', { object: [ALICE, `${ALICE}/notes/1`], content: 'rude' });
      const [outcome] = await h.deliver(flag);
      expect(outcome?.applied).to.equal(true);
      await h.deliver(flag);
      const [report] = await h.store.reports.listReports('club', 'open', null, 10);
      expect(report).to.deep.include({
        reporterId: STRANGER,
        targetActorId: ALICE,
        objectIds: [`${ALICE}/notes/1`],
        flagId: flag.id,
      });
      const dms = h.events.of('DirectMessageSent');
      expect(dms).to.have.length(2);
      expect(dms[0]).to.deep.equal(dms[1]);
    });

    it('an account’s Delete of itself ends its memberships in every group', async function () {
      await h.group('other');
      await h.member('other', ALICE);
      const outcomes = await h.deliver(act(ALICE, 'Delete', { object: ALICE }));
      expect(outcomes.map((o) => o.applied)).to.deep.equal([true, true]);
      expect(await h.store.members.listGroupsOfActor(ALICE)).to.deep.equal([]);
    });
  });
});
