/**
 * Re-sharing decisions: which posts a group shares with its members, which it holds for a moderator and which
 * it refuses (with the reason), and what goes out for each — on a real store, with a fixed clock and a
 * recording publisher (the activities the outbound translator makes, nothing queued, no network).
 */
import { expect } from 'chai';
import { AS, PUBLIC, T0, createNote, startHarness, type Harness } from '../support/domain-harness.ts';
import { RecordingPublisher } from '../support/recording-publisher.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';

const ALICE = 'https://a.example/users/alice';
const BOB = 'https://b.example/users/bob';
const MOD = 'https://m.example/users/mod';
const HOUR = 3_600_000;

describe('re-sharing decisions', function () {
  let h: Harness;
  let publisher: RecordingPublisher;
  let group: string;
  let n = 0;

  beforeEach(async function () {
    n = 0;
    publisher = new RecordingPublisher();
    h = await startHarness({ publisher });
    group = await h.group('club');
    await h.member('club', ALICE);
    await h.member('club', BOB);
    await h.moderator('club', MOD);
  });
  afterEach(async function () {
    await h?.close();
  });

  /** Alice's (or `author`'s) post, delivered; the outcome as a string: 'applied' or the refusal. */
  async function post(
    more: Parameters<typeof createNote>[3] & { author?: string } = {},
  ): Promise<{ outcome: string; create: ApObject }> {
    const create = createNote(more.author ?? ALICE, group, `p${++n}`, more);
    const [o] = await h.deliver(create);
    return { outcome: !o ? 'none' : o.applied ? 'applied' : o.reason, create };
  }

  it('shares a member’s top-level post: Announce{Create} in the outbox, then a boost of the post', async function () {
    const { outcome, create } = await post();
    expect(outcome).to.equal('applied');
    const [announce, boost] = publisher.toMembers();
    expect(announce).to.deep.include({ type: 'Announce', actor: group, object: create });
    expect(boost).to.deep.include({ type: 'Announce', actor: group, object: `${ALICE}/notes/p1` });
    expect(publisher.calls[0]).to.deep.include({ op: 'members', group: 'club' });
    const items = publisher.calls[0]?.op === 'members' ? publisher.calls[0].items : [];
    expect(items.map((i) => [i.inOutbox, i.objectId])).to.deep.equal([
      [true, `${ALICE}/notes/p1`],
      [false, `${ALICE}/notes/p1`],
    ]);
  });

  it('shares a reply without a boost, in the thread of the top-level post, replies to replies included', async function () {
    await post();
    const reply = await post({ author: BOB, inReplyTo: `${ALICE}/notes/p1` });
    const deeper = await post({ inReplyTo: `${BOB}/notes/p2` });
    expect([reply.outcome, deeper.outcome]).to.deep.equal(['applied', 'applied']);
    expect(await h.store.posts.getPost('club', `${ALICE}/notes/p3`)).to.deep.include({
      inReplyTo: `${BOB}/notes/p2`,
      threadRoot: `${ALICE}/notes/p1`,
      boostId: null,
    });
    // Each reply is announced (FEP-1b12) and forwarded as its author sent it, to the member servers that take
    // each form; no reply is boosted.
    const kinds = publisher
      .toMembers()
      .map((a) =>
        a.type !== 'Announce'
          ? `forwarded ${String(a.type)}`
          : typeof a.object === 'string'
            ? 'boost'
            : 'announce',
      );
    expect(kinds).to.deep.equal([
      'announce',
      'boost',
      'announce',
      'forwarded Create',
      'announce',
      'forwarded Create',
    ]);
  });

  it('shares an unlisted post (public in cc) and a moderator’s post, though they are not a member', async function () {
    expect((await post({ to: [group], cc: [PUBLIC] })).outcome).to.equal('applied');
    expect((await post({ author: MOD })).outcome).to.equal('applied');
  });

  it('refuses a post on another origin than its actor, or attributed to someone else', async function () {
    const foreign = createNote(ALICE, group, 'x');
    (foreign.object as ApObject).id = 'https://elsewhere.example/notes/x';
    const misattributed = createNote(ALICE, group, 'y');
    (misattributed.object as ApObject).attributedTo = BOB;
    const reasons = [];
    for (const doc of [foreign, misattributed]) {
      const [o] = await h.deliver(doc);
      reasons.push(o && !o.applied ? o.reason : 'applied');
    }
    expect(reasons).to.deep.equal([
      "object https://elsewhere.example/notes/x is not on the actor's origin",
      'the object is not attributed to the actor',
    ]);
    expect(publisher.calls).to.deep.equal([]);
  });

  it('refuses a post that mentions more groups than the group allows, remote groups counted', async function () {
    await h.settings.update('club', { maxGroupMentions: 1 });
    // A remote group as the actor cache knows it.
    await h.store.remoteActors.putRemoteActor(h.actors.add('https://r.example/c/rust', 'Group'));
    expect((await post({ cc: [group, 'https://r.example/c/rust'] })).outcome, 'one group mentioned').to.equal(
      'applied',
    );
    const spam = createNote(ALICE, group, 'spam');
    (spam.object as ApObject).tag = [
      { type: 'Mention', href: group },
      { type: 'Mention', href: 'https://r.example/c/rust' },
    ];
    const [o] = await h.deliver(spam);
    expect(o).to.deep.equal({ applied: false, reason: 'the post mentions 2 groups, more than 1 (spam)' });
  });

  it('refuses a banned author until the ban ends, by the clock', async function () {
    await h.store.bans.putBan({
      groupName: 'club',
      actorId: ALICE,
      reason: '',
      by: MOD,
      createdAt: T0,
      expiresAt: T0 + HOUR,
    });
    expect((await post()).outcome).to.equal(`${ALICE} is banned from club`);
    h.clock.now = T0 + HOUR - 1;
    expect((await post()).outcome).to.equal(`${ALICE} is banned from club`);
    h.clock.now = T0 + HOUR;
    expect((await post()).outcome).to.equal('applied');
  });

  it('in a group where only moderators post, refuses a member’s top-level post but shares their reply', async function () {
    await h.settings.update('club', { postingPolicy: 'moderators' });
    expect((await post()).outcome).to.equal(`only moderators post in club; ${ALICE} is not one`);
    expect((await post({ author: MOD })).outcome).to.equal('applied');
    expect((await post({ inReplyTo: `${MOD}/notes/p2` })).outcome).to.equal('applied');
  });

  it('limits a member’s posts per hour over a sliding hour; moderators are not limited', async function () {
    await h.settings.update('club', { maxPostsPerHour: 2 });
    expect((await post()).outcome).to.equal('applied');
    h.clock.now = T0 + 1;
    expect((await post()).outcome).to.equal('applied');
    h.clock.now = T0 + HOUR;
    expect((await post()).outcome, 'both posts are within the hour').to.equal(
      `${ALICE} posted 2 times in the last hour in club (limit)`,
    );
    h.clock.now = T0 + HOUR + 1;
    expect((await post()).outcome, 'the first post is an hour old').to.equal('applied');
    for (let i = 0; i < 3; i++) expect((await post({ author: MOD })).outcome).to.equal('applied');
  });

  it('refuses replies in a locked thread, but for moderators’', async function () {
    await post();
    await h.store.postFlags.setLocked('club', `${ALICE}/notes/p1`, T0);
    expect((await post({ author: BOB, inReplyTo: `${ALICE}/notes/p1` })).outcome).to.equal(
      `the thread ${ALICE}/notes/p1 is locked`,
    );
    expect((await post({ author: MOD, inReplyTo: `${ALICE}/notes/p1` })).outcome).to.equal('applied');
  });

  it('holds a new member’s first posts and posts from limited domains, sharing nothing; not a moderator’s', async function () {
    await h.settings.update('club', { premoderateFirstPosts: 1 });
    const first = await post();
    expect(first.outcome).to.equal('applied');
    expect(await h.store.held.getHeldPost('club', `${ALICE}/notes/p1`)).to.deep.include({
      reason: 'the first 1 posts of a new member are moderated',
    });
    await h.store.domains.putDomainPolicy({
      domain: 'b.example',
      policy: 'limit',
      reason: '',
      createdAt: T0,
    });
    await h.settings.update('club', { premoderateFirstPosts: 0 });
    await post({ author: BOB });
    expect((await h.store.held.getHeldPost('club', `${BOB}/notes/p2`))?.reason).to.equal(
      'posts from b.example are moderated',
    );
    await h.settings.update('club', { premoderateFirstPosts: 5 });
    await post({ author: MOD });
    expect(await h.store.posts.getPost('club', `${MOD}/notes/p3`)).to.not.equal(null);
    // The group shared only the moderator's post; each moderator was told of each held post.
    expect(publisher.toMembers().filter((a) => typeof a.object === 'string')).to.have.length(1);
    expect(publisher.sent().map((c) => c.inbox)).to.deep.equal([`${MOD}/inbox`, `${MOD}/inbox`]);
  });

  it('takes the same Create again as the same post (a retry), and refuses another Create of it', async function () {
    const { create } = await post();
    const [again] = await h.deliver(create);
    expect(again?.applied).to.equal(true);
    const [first, second] = h.events.of('PostAccepted');
    expect(second).to.deep.equal(first);
    const other = { ...create, id: `${ALICE}/creates/again` };
    expect((await h.deliver(other))[0]).to.deep.equal({
      applied: false,
      reason: `post ${ALICE}/notes/p1 is already in club`,
    });
    await h.deliver({
      '@context': AS,
      id: `${ALICE}/deletes/1`,
      type: 'Delete',
      actor: ALICE,
      object: `${ALICE}/notes/p1`,
    });
    expect((await h.deliver(create))[0], 'a deleted post does not come back by its Create').to.deep.equal({
      applied: false,
      reason: `post ${ALICE}/notes/p1 is already in club`,
    });
  });
});
