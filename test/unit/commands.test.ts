/**
 * DM commands go through the moderation service like every other surface: the same checks, the same events,
 * the same audit log, with the DM's Create as the basis of what they send.
 */
import { expect } from 'chai';
import { createNote, startHarness, type Harness } from '../support/domain-harness.ts';

const ALICE = 'https://a.example/users/alice';
const BOB = 'https://b.example/users/bob';
const MOD = 'https://m.example/users/mod';

describe('DM commands', function () {
  let h: Harness;
  let group: string;
  let n = 0;
  const run = (from: string, text: string) =>
    h.commands.run('club', from, { html: `<p>${text}</p>`, basis: `${from}/creates/dm${++n}` });

  beforeEach(async function () {
    h = await startHarness();
    group = await h.group('club');
    await h.member('club', ALICE);
    await h.member('club', BOB);
    await h.moderator('club', MOD);
  });
  afterEach(async function () {
    await h?.close();
  });

  it('changes settings with `set`, refusing a bad value with its reason', async function () {
    expect(await run(MOD, 'set title The Club')).to.equal('Changed title.');
    expect((await h.store.groups.getGroup('club'))?.title).to.equal('The Club');
    expect(await run(MOD, 'set membership approval')).to.equal('Changed membershipPolicy.');
    expect(await run(MOD, 'set membership maybe')).to.equal('Usage: set membership open|approval');
    expect(await run(MOD, 'set language english!')).to.contain('is not a language tag');
    expect(await run(MOD, 'set colour red')).to.contain('Usage: set title|summary');
    expect(await run(ALICE, 'set title Mine')).to.equal('Only moderators of this group may do that.');
    const [changed] = h.events.of('SettingsChanged');
    expect(changed?.basis).to.equal(`${MOD}/creates/dm1`);
    const audit = await h.store.audit.listAudit({ group: 'club' }, null, 10);
    expect(audit.map((e) => [e.actorId, e.action, e.target])).to.have.deep.members([
      [MOD, 'update-settings', 'title'],
      [MOD, 'update-settings', 'membershipPolicy'],
    ]);
  });

  it('removes a member with `kick`, and restores a removed post with `restore`', async function () {
    expect(await run(MOD, `kick ${BOB}`)).to.equal(`Removed ${BOB} from the group.`);
    expect(await h.store.members.getMember('club', BOB)).to.equal(null);
    expect(await run(MOD, `kick ${BOB}`)).to.equal(`${BOB} is not a member.`);
    await h.post('club', `${ALICE}/notes/1`, ALICE);
    expect(await run(MOD, `restore ${ALICE}/notes/1`)).to.equal('That post is not removed.');
    expect(await run(MOD, `remove ${ALICE}/notes/1 spam`)).to.equal('Removed.');
    expect(await run(MOD, `restore ${ALICE}/notes/1`)).to.equal('Restored.');
    expect((await h.store.posts.getPost('club', `${ALICE}/notes/1`))?.deletedAt).to.equal(null);
    expect(h.events.events.map((e) => e.type)).to.deep.equal(['JoinRejected', 'PostRemoved', 'PostRestored']);
  });

  it('approves or rejects a held post', async function () {
    await h.settings.update('club', { premoderateFirstPosts: 1 });
    await h.deliver(createNote(ALICE, group, '1'));
    await h.deliver(createNote(BOB, group, '2'));
    expect(await run(MOD, `approve-post ${ALICE}/notes/1`)).to.equal('Approved; the post is being shared.');
    expect(await run(MOD, `reject-post ${BOB}/notes/2`)).to.equal('Rejected; it will not be shared.');
    expect(await run(MOD, `reject-post ${BOB}/notes/2`)).to.equal('No post is held with that URL.');
    expect(await h.store.posts.getPost('club', `${ALICE}/notes/1`)).to.not.equal(null);
    expect(await h.store.posts.getPost('club', `${BOB}/notes/2`)).to.equal(null);
    expect(await h.store.held.listHeldPosts('club', null, 10)).to.deep.equal([]);
  });
});
