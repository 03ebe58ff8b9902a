/**
 * Edits pass the same gate as posts (a banned or former member's Update was re-shared, and a post approved
 * by a moderator could be rewritten to anything): an Update needs an accepted membership and no active ban, is
 * held when its author's posts would be (pre-moderation, limited domain), and is checked again for public
 * addressing, locked threads and the group-mention cap. Deletes stay open to authors.
 */
import { expect } from 'chai';
import { AS, PUBLIC, T0, startHarness, type Harness } from '../support/domain-harness.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';

const ALICE = 'https://a.example/users/alice';
const BOB = 'https://b.example/users/bob';
const MOD = 'https://m.example/users/mod';
const GROUP = 'https://guild.example/groups/club';
const NOTE = `${ALICE}/notes/1`;

let seq = 0;
const act = (actor: string, type: string, fields: ApObject): ApObject => ({
  '@context': AS,
  id: `${actor}/activities/${++seq}`,
  type,
  actor,
  ...fields,
});
/** An Update of `objectId` by `author`, public and addressed to the group unless `more` says otherwise. */
const update = (author: string, objectId: string, content: string, more: ApObject = {}): ApObject =>
  act(author, 'Update', {
    object: {
      id: objectId,
      type: 'Note',
      attributedTo: author,
      content: `<p>${content}</p>`,
      to: [PUBLIC],
      cc: [GROUP],
      tag: [{ type: 'Mention', href: GROUP }],
      ...more,
    },
    to: [PUBLIC],
    cc: [GROUP],
  });

describe('edits pass the same gate as posts', function () {
  let h: Harness;

  beforeEach(async function () {
    h = await startHarness();
    await h.group('club');
    await h.member('club', ALICE);
    await h.member('club', BOB);
    await h.moderator('club', MOD);
    await h.post('club', NOTE, ALICE);
  });
  afterEach(async function () {
    await h?.close();
  });

  const outcome = async (doc: ApObject) => (await h.deliver(doc))[0];

  it("refuses a banned member's edit, and a former member's, but lets them delete", async function () {
    const banned = await h.moderation.ban('club', ALICE, { by: 'admin', reason: 'spam' });
    expect(banned.ok).to.equal(true);
    expect(await outcome(update(ALICE, NOTE, 'now an ad'))).to.deep.equal({
      applied: false,
      reason: `${ALICE} is banned from club`,
    });
    const bobNote = `${BOB}/notes/1`;
    await h.post('club', bobNote, BOB);
    await h.store.members.removeMember('club', BOB);
    expect(await outcome(update(BOB, bobNote, 'after leaving'))).to.deep.equal({
      applied: false,
      reason: `${BOB} is not a member of club`,
    });
    expect(h.events.of('ActivityReshared')).to.deep.equal([]);
    expect((await outcome(act(ALICE, 'Delete', { object: NOTE, to: [PUBLIC] })))?.applied).to.equal(true);
    expect(h.events.of('PostDeleted').map((e) => e.objectId)).to.deep.equal([NOTE]);
  });

  it('holds an edit when the author’s posts would be held, and shares it once approved', async function () {
    await h.settings.update('club', { premoderateFirstPosts: 3 });
    const edit = update(ALICE, NOTE, 'rewritten to anything');
    expect(await outcome(edit)).to.deep.equal({
      applied: true,
      what: `edit of ${NOTE} held for approval: the first 3 posts of a new member are moderated`,
    });
    expect(h.events.of('ActivityReshared')).to.deep.equal([]);
    const held = await h.store.held.getHeldPost('club', NOTE);
    expect(JSON.parse(held?.activityJson ?? '{}')).to.deep.equal(edit);
    expect(h.events.of('DirectMessageSent').map((e) => e.text.split(' (')[0])).to.deep.equal([
      'An edit of a post waits for approval',
    ]);
    // A newer edit takes the place of the one that waits.
    const newer = update(ALICE, NOTE, 'second thoughts');
    expect((await outcome(newer))?.applied).to.equal(true);
    expect(JSON.parse((await h.store.held.getHeldPost('club', NOTE))?.activityJson ?? '{}')).to.deep.equal(
      newer,
    );
    expect((await h.moderation.approvePost('club', NOTE, { by: MOD })).ok).to.equal(true);
    expect(h.events.of('ActivityReshared').map((e) => [e.basis, e.activity])).to.deep.equal([
      [newer.id, newer],
    ]);
    expect(await h.store.held.getHeldPost('club', NOTE)).to.equal(null);
  });

  it('holds an edit from a limited domain', async function () {
    await h.store.domains.putDomainPolicy({
      domain: 'a.example',
      policy: 'limit',
      reason: '',
      createdAt: T0,
    });
    expect(await outcome(update(ALICE, NOTE, 'edited'))).to.deep.equal({
      applied: true,
      what: `edit of ${NOTE} held for approval: posts from a.example are moderated`,
    });
    expect(h.events.of('ActivityReshared')).to.deep.equal([]);
  });

  it('checks the new version for public addressing, the mention cap and its thread', async function () {
    expect(await outcome(update(ALICE, NOTE, 'now private', { to: [GROUP], cc: [] }))).to.deep.equal({
      applied: false,
      reason: 'the post is neither public nor unlisted (a direct message or followers-only post)',
    });
    const groups = [1, 2, 3, 4, 5, 6].map((n) => `https://guild.example/groups/g${n}`);
    for (let n = 1; n <= 6; n++) await h.group(`g${n}`);
    const spam = update(ALICE, NOTE, 'spam', { tag: groups.map((href) => ({ type: 'Mention', href })) });
    const outcomes = await h.deliver(spam);
    expect(outcomes).to.have.length(7);
    expect(outcomes[0]).to.deep.equal({
      applied: false,
      reason: 'the post mentions 7 groups, more than 5 (spam)',
    });
    expect(h.events.of('ActivityReshared')).to.deep.equal([]);
    expect(await outcome(update(ALICE, NOTE, 'moved', { inReplyTo: `${BOB}/notes/9` }))).to.deep.equal({
      applied: false,
      reason: `the Update moves ${NOTE} to another thread (inReplyTo changed)`,
    });
    const byId = act(ALICE, 'Update', { object: NOTE, to: [PUBLIC], cc: [GROUP] });
    expect(await outcome(byId)).to.deep.equal({
      applied: false,
      reason: `Update of ${NOTE} without the post inline: the new version cannot be checked`,
    });
  });

  it('refuses edits in a locked thread, except a moderator’s', async function () {
    const reply = `${BOB}/notes/r`;
    await h.post('club', reply, BOB, { inReplyTo: NOTE, threadRoot: NOTE });
    const modReply = `${MOD}/notes/r`;
    await h.post('club', modReply, MOD, { inReplyTo: NOTE, threadRoot: NOTE });
    expect((await h.moderation.setLocked('club', NOTE, true, { by: 'admin' })).ok).to.equal(true);
    for (const [author, id] of [
      [BOB, reply],
      [ALICE, NOTE],
    ] as const) {
      expect(
        await outcome(update(author, id, 'after the lock', id === reply ? { inReplyTo: NOTE } : {})),
      ).to.deep.equal({ applied: false, reason: `the thread ${NOTE} is locked` });
    }
    const byMod = update(MOD, modReply, 'moderator note', { inReplyTo: NOTE });
    expect((await outcome(byMod))?.applied).to.equal(true);
    expect(h.events.of('ActivityReshared').map((e) => e.basis)).to.deep.equal([byMod.id]);
  });

  it('shares an accepted member’s edit unchanged', async function () {
    const edit = update(ALICE, NOTE, 'typo fixed');
    expect(await outcome(edit)).to.deep.equal({ applied: true, what: `Update of ${NOTE} announced to club` });
    expect(h.events.of('ActivityReshared')).to.deep.equal([
      { type: 'ActivityReshared', group: 'club', basis: edit.id, activity: edit, objectId: NOTE },
    ]);
  });
});
