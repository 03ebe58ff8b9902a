/**
 * Deleted and removed content is gone: after an author's Delete, a moderator's removal or a ban with removal
 * of the posts, what carried the post (its Announce{Create}, Announce{Update}, plain boost) answers 410 with a
 * Tombstone and leaves the outbox, the featured collection and the thread; the announcement of the deletion
 * stays. End to end with independent peers.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer, type ReceivedActivity } from '../support/fedify-peer.ts';

const AP = { accept: 'application/activity+json' };

const wraps = (activityId: string) => (a: ReceivedActivity) =>
  a.type === 'Announce' && (a.json.object as { id?: unknown } | undefined)?.id === activityId;
const wrapsTypeAbout = (type: string, noteId: string) => (a: ReceivedActivity) => {
  if (a.type !== 'Announce') return false;
  const inner = a.json.object as { type?: unknown; object?: unknown } | undefined;
  const about = inner?.object;
  const aboutId = typeof about === 'string' ? about : (about as { id?: unknown } | undefined)?.id;
  return inner?.type === type && aboutId === noteId;
};
const isPlainBoostOf = (noteId: string) => (a: ReceivedActivity) =>
  a.type === 'Announce' &&
  (a.json.object === noteId || (a.json.object as { id?: unknown } | undefined)?.id === noteId);
const idOf = (a: ReceivedActivity): string => {
  if (a.id === null) throw new Error(`a ${a.type} without an id`);
  return a.id;
};

async function getJson(url: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { headers: AP });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('deleted and removed content', function () {
  this.timeout(60_000);
  let g: TestGuild;
  let alice: FedifyPeer;
  let bob: FedifyPeer;
  let group: string;

  before(async function () {
    g = await startTestGuild();
    group = await g.createGroup('news');
    [alice, bob] = await Promise.all([
      startFedifyPeer({ username: 'alice' }),
      startFedifyPeer({ username: 'bob' }),
    ]);
    for (const p of [alice, bob]) {
      await p.follow(group);
      await p.waitFor((a) => a.type === 'Accept', { what: 'Accept' });
    }
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await Promise.all([alice?.close(), bob?.close()]);
    await g?.close();
  });

  /** A post by `author` as bob received it: the ids of its Announce{Create} and of the plain boost. */
  async function postSeenByBob(author: FedifyPeer, content: string) {
    const { createId, noteId } = await author.post({ to: [group], content });
    const create = await bob.waitFor(wraps(createId), { what: 'Announce{Create}' });
    const boost = await bob.waitFor(isPlainBoostOf(noteId), { what: 'plain boost' });
    return { noteId, announceId: idOf(create), boostId: idOf(boost) };
  }

  /** Every id listed on the outbox's pages and inline, and its totalItems. */
  async function outboxIds(): Promise<{ total: number; ids: string[] }> {
    const outbox = await getJson(`${group}/outbox`);
    const ids: string[] = [];
    const collect = (items: unknown) => {
      for (const item of (items as Array<{ id: string }> | undefined) ?? []) ids.push(item.id);
    };
    collect(outbox.json.orderedItems);
    let next = outbox.json.first as string | undefined;
    while (next) {
      const page = await getJson(next);
      collect(page.json.orderedItems);
      next = page.json.next as string | undefined;
    }
    return { total: outbox.json.totalItems as number, ids };
  }

  async function expectGone(ids: string[]): Promise<void> {
    for (const id of ids) {
      const { status, json } = await getJson(id);
      expect(status, id).to.equal(410);
      expect(json, id).to.include({ id, type: 'Tombstone', formerType: 'Announce' });
      expect(json.deleted, id).to.be.a('string');
      expect(JSON.stringify(json), id).not.to.contain('Create');
    }
    const outbox = await outboxIds();
    for (const id of ids) expect(outbox.ids, id).not.to.include(id);
  }

  it("an author's Delete: its Create, Update and boost are Tombstones, out of the outbox, featured and thread", async function () {
    const { noteId, announceId, boostId } = await postSeenByBob(alice, '<p>to be deleted</p>');
    const reply = await bob.post({ to: [group], content: '<p>a reply</p>', inReplyTo: noteId });
    await alice.waitFor(wraps(reply.createId), { what: 'the reply' });
    await alice.update(noteId, '<p>edited, then deleted</p>');
    const update = await bob.waitFor(wrapsTypeAbout('Update', noteId), { what: 'Announce{Update}' });
    const pinned = await g.guild.services.moderation.setPinned('news', noteId, true, { by: 'admin' });
    expect(pinned.ok).to.equal(true);
    const before = await outboxIds();
    expect(before.ids).to.include.members([announceId, idOf(update)]);
    expect((await getJson(`${group}/featured`)).json.totalItems).to.equal(1);
    for (const id of [announceId, idOf(update), boostId])
      expect((await getJson(id)).status, id).to.equal(200);

    await alice.delete(noteId);
    const deletion = await bob.waitFor(wrapsTypeAbout('Delete', noteId), { what: 'Announce{Delete}' });
    await g.idle();

    await expectGone([announceId, idOf(update), boostId]);
    const after = await outboxIds();
    expect(after.ids).to.include(idOf(deletion));
    // The Create, the Update and the pin's Add leave the outbox; the Delete joins it.
    expect(after.total).to.equal(before.total - 2);
    expect(after.ids).to.have.length(after.total);
    expect((await getJson(idOf(deletion))).status).to.equal(200);
    const featured = await getJson(`${group}/featured`);
    expect(featured.json).to.include({ totalItems: 0 });
    expect(featured.json.orderedItems).to.deep.equal([]);
    const thread = await getJson(g.guild.services.urls.thread('news', noteId));
    const page = await getJson(thread.json.first as string);
    expect(page.json.orderedItems).to.deep.equal([reply.noteId]);
  });

  it("a moderator's removal", async function () {
    const { noteId, announceId, boostId } = await postSeenByBob(alice, '<p>off topic</p>');
    const removed = await g.guild.services.moderation.removePost('news', noteId, {
      by: 'admin',
      reason: 'off topic',
    });
    expect(removed.ok && removed.value).to.equal(true);
    await bob.waitFor((a) => a.type === 'Undo' && (a.json.object as { id?: string }).id === boostId, {
      what: 'Undo of the boost',
    });
    await expectGone([announceId, boostId]);
  });

  it('a ban that removes the posts', async function () {
    const carol = await startFedifyPeer({ username: 'carol' });
    try {
      await carol.follow(group);
      await carol.waitFor((a) => a.type === 'Accept', { what: 'Accept' });
      const first = await postSeenByBob(carol, '<p>spam 1</p>');
      const second = await postSeenByBob(carol, '<p>spam 2</p>');
      const banned = await g.guild.services.moderation.ban('news', carol.actorId, {
        by: 'admin',
        removePosts: true,
      });
      expect(banned.ok && banned.value).to.equal(true);
      await expectGone([first.announceId, first.boostId, second.announceId, second.boostId]);
    } finally {
      await carol.close();
    }
  });
});
