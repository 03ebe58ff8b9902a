/**
 * Votes, their Undos and edits have a brake (a member's 300 Likes of one post, each with a new id, were 300
 * announcements to every member server): the group keeps each member's current vote on each post and
 * announces only changes, counts votes and edits against a per-member hourly budget, limits the edits of one
 * post per hour, and re-shares a vote with the post reduced to its id (an embedded copy could be forged).
 * On a real store with a fixed clock, the outbound translator handing its activities to a recording publisher.
 */
import { expect } from 'chai';
import { AS, PUBLIC, startHarness, type Harness } from '../support/domain-harness.ts';
import { RecordingPublisher } from '../support/recording-publisher.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';

const ALICE = 'https://a.example/users/alice';
const BOB = 'https://b.example/users/bob';
const MOD = 'https://m.example/users/mod';
const NOTE = `${ALICE}/notes/1`;

let seq = 0;
const act = (actor: string, type: string, fields: ApObject): ApObject => ({
  '@context': AS,
  id: `${actor}/activities/${++seq}`,
  type,
  actor,
  ...fields,
});
const like = (actor: string, object: unknown = NOTE) => act(actor, 'Like', { object });
const dislike = (actor: string, object: unknown = NOTE) => act(actor, 'Dislike', { object });
const undo = (actor: string, vote: ApObject) =>
  act(actor, 'Undo', { object: { id: vote.id, type: vote.type, actor, object: vote.object } });
const edit = (n: number) =>
  act(ALICE, 'Update', {
    object: {
      id: NOTE,
      type: 'Note',
      attributedTo: ALICE,
      content: `<p>version ${n}</p>`,
      to: [PUBLIC],
      cc: [`https://guild.example/groups/club`],
    },
  });

describe('brakes on votes, undos and edits', function () {
  let h: Harness;
  let publisher: RecordingPublisher;
  /** The activities the group announced to its members, unwrapped. */
  /** What the group announced to members (edits are also forwarded as sent, where servers take that). */
  const announced = (): ApObject[] =>
    publisher
      .toMembers()
      .filter((a) => a.type === 'Announce')
      .map((a) => a.object as ApObject);

  beforeEach(async function () {
    publisher = new RecordingPublisher();
    h = await startHarness({ publisher });
    await h.group('club');
    await h.member('club', ALICE);
    await h.member('club', BOB);
    await h.moderator('club', MOD);
    await h.member('club', MOD);
    await h.post('club', NOTE, ALICE);
  });
  afterEach(async function () {
    await h?.close();
  });

  it('announces 300 Likes of one post by one member, each with a new id, once', async function () {
    const outcomes = [];
    for (let i = 0; i < 300; i++) outcomes.push(...(await h.deliver(like(BOB))));
    expect(outcomes.filter((o) => o.applied)).to.have.length(1);
    expect(outcomes[1]).to.deep.include({ applied: false });
    expect(String((outcomes[1] as { reason: string }).reason)).to.contain('already has a Like');
    expect(announced().map((a) => a.type)).to.deep.equal(['Like']);
    expect(await h.store.votes.getVote('club', BOB, NOTE)).to.deep.include({ state: 'Like' });
  });

  it('announces a change of vote, and an Undo only when there is a current vote', async function () {
    const l1 = like(BOB);
    const d1 = dislike(BOB);
    expect((await h.deliver(l1))[0]?.applied).to.equal(true);
    expect((await h.deliver(d1))[0]?.applied, 'Like then Dislike is a change').to.equal(true);
    expect((await h.deliver(dislike(BOB)))[0]?.applied, 'the same Dislike again').to.equal(false);
    // Lemmy takes back a Dislike with Undo{Like} (voting/mod.rs, send_like_activity): it undoes the current vote.
    expect((await h.deliver(undo(BOB, l1)))[0]).to.deep.equal({
      applied: true,
      what: `Undo{Like} of ${NOTE} announced to club (the Dislike is undone)`,
    });
    expect(await h.store.votes.getVote('club', BOB, NOTE)).to.deep.include({ state: 'undone' });
    expect((await h.deliver(undo(BOB, d1)))[0]).to.deep.equal({
      applied: false,
      reason: `Undo of a Dislike of ${NOTE}, on which ${BOB} has no current vote in club; not announced`,
    });
    // An Undo of a vote that was never announced.
    expect((await h.deliver(undo(ALICE, like(ALICE))))[0]?.applied).to.equal(false);
    expect(
      announced().map(
        (a) => `${String(a.type)}:${String((a.object as ApObject | undefined)?.type ?? a.object)}`,
      ),
    ).to.deep.equal([`Like:${NOTE}`, `Dislike:${NOTE}`, 'Undo:Like']);
    // A vote after the Undo is a change again.
    expect((await h.deliver(like(BOB)))[0]?.applied).to.equal(true);
  });

  it('announces one of several Likes of a post by a member handled at once; the others are handled again', async function () {
    const likes = Array.from({ length: 8 }, () => like(BOB));
    const first = await Promise.allSettled(likes.map((l) => h.deliver(l)));
    // A Like that lost the race was thrown back to the queue: handled again, it is a repeat.
    for (const [i, r] of first.entries()) if (r.status === 'rejected') await h.deliver(likes[i]!);
    expect(h.events.of('VoteReshared')).to.have.length(1);
    const winner = h.events.of('VoteReshared')[0]?.basis;
    expect(await h.store.votes.getVote('club', BOB, NOTE)).to.deep.include({
      state: 'Like',
      activityId: winner,
    });
  });

  it('re-shares a Like carrying a forged copy of the post with the post reduced to its id', async function () {
    const forged = { id: NOTE, type: 'Note', attributedTo: ALICE, content: '<p>I never wrote this</p>' };
    const l = like(BOB, forged);
    expect((await h.deliver(l))[0]?.applied).to.equal(true);
    const u = act(BOB, 'Undo', { object: { id: l.id, type: 'Like', actor: BOB, object: forged } });
    expect((await h.deliver(u))[0]?.applied).to.equal(true);
    const [shared, sharedUndo] = announced();
    expect(shared).to.deep.equal({ ...l, object: NOTE });
    expect(sharedUndo).to.deep.equal({ ...u, object: { id: l.id, type: 'Like', actor: BOB, object: NOTE } });
    expect(JSON.stringify(publisher.toMembers())).not.to.contain('I never wrote this');
  });

  it('counts votes and edits against a member’s hourly budget; moderators are not counted', async function () {
    await h.settings.update('club', { maxActivitiesPerHour: 3 });
    const notes = [1, 2, 3, 4, 5].map((n) => `${ALICE}/notes/b${n}`);
    for (const n of notes) await h.post('club', n, ALICE);
    const results = [];
    for (const n of notes) results.push((await h.deliver(like(BOB, n)))[0]);
    expect(results.map((r) => r?.applied)).to.deep.equal([true, true, true, false, false]);
    expect(results[3]).to.deep.equal({
      applied: false,
      reason: `${BOB} had 3 votes and edits re-shared in club in the last hour (limit)`,
    });
    // Refused votes are not the member's current vote: they can be sent again once the budget allows.
    expect(await h.store.votes.getVote('club', BOB, notes[3]!)).to.equal(null);
    for (const n of notes) expect((await h.deliver(like(MOD, n)))[0]?.applied, 'moderator').to.equal(true);
    // The member's edits draw on the same budget.
    await h.settings.update('club', { maxActivitiesPerHour: 1 });
    expect((await h.deliver(edit(1)))[0]?.applied).to.equal(true);
    expect((await h.deliver(edit(2)))[0]).to.deep.include({ applied: false });
    h.clock.now += 3_600_001;
    expect((await h.deliver(like(BOB, notes[3])))[0]?.applied, 'an hour later').to.equal(true);
  });

  it('limits the edits of one post per hour', async function () {
    await h.settings.update('club', { maxEditsPerPostPerHour: 2, maxActivitiesPerHour: 0 });
    publisher.calls.length = 0;
    const results = [];
    for (let n = 1; n <= 4; n++) results.push((await h.deliver(edit(n)))[0]);
    expect(results.map((r) => r?.applied)).to.deep.equal([true, true, false, false]);
    expect(results[2]).to.deep.equal({
      applied: false,
      reason: `${NOTE} was edited 2 times in the last hour in club (limit)`,
    });
    expect(announced().map((a) => a.type)).to.deep.equal(['Update', 'Update']);
    h.clock.now += 3_600_001;
    expect((await h.deliver(edit(5)))[0]?.applied).to.equal(true);
  });

  it('finishes a vote whose announcement failed, counting it once', async function () {
    await h.settings.update('club', { maxActivitiesPerHour: 2 });
    const l = like(BOB);
    h.events.failNext('VoteReshared');
    await h.deliver(l).catch(() => undefined);
    expect(await h.store.votes.getVote('club', BOB, NOTE), 'state changes last').to.equal(null);
    expect((await h.deliver(l))[0]?.applied).to.equal(true);
    expect(h.events.of('VoteReshared')).to.have.length(1);
    expect(await h.store.votes.getVote('club', BOB, NOTE)).to.deep.include({ activityId: l.id });
    const hits = await h.store.rateLimits.listHits(`activities:club:${BOB}`, 0, 10);
    expect(hits.map((x) => x.hitId)).to.deep.equal([l.id]);
    // Delivered again once done, it is recognised and not announced again.
    expect((await h.deliver(l))[0]).to.deep.equal({
      applied: false,
      reason: `Like of ${NOTE} already announced to club`,
    });
  });
});
