/**
 * What gets re-shared (FEP-1b12 plus clean Mastodon timelines), end to end with independent peers: replies
 * only as Announce{Create}, top-level posts also as a plain boost, no DMs or followers-only posts, spam caps,
 * and an author's Update, Delete and a member's Like reaching the other members.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer, type ReceivedActivity } from '../support/fedify-peer.ts';

const isPlainBoostOf = (noteId: string) => (a: ReceivedActivity) =>
  a.type === 'Announce' &&
  (a.json.object === noteId || (a.json.object as { id?: unknown } | undefined)?.id === noteId);
const wraps = (activityId: string, type?: string) => (a: ReceivedActivity) => {
  if (a.type !== 'Announce') return false;
  const inner = a.json.object as { id?: unknown; type?: unknown } | undefined;
  return inner?.id === activityId && (type === undefined || inner?.type === type);
};

describe('what the group re-shares', function () {
  this.timeout(60_000);
  let g: TestGuild;
  let alice: FedifyPeer;
  let bob: FedifyPeer;
  let group: string;

  before(async function () {
    g = await startTestGuild();
    group = await g.createGroup('books');
    [alice, bob] = await Promise.all([
      startFedifyPeer({ username: 'alice' }),
      startFedifyPeer({ username: 'bob' }),
    ]);
    await alice.follow(group);
    await bob.follow(group);
    await alice.waitFor((a) => a.type === 'Accept' && a.actorId === group, { what: 'Accept to alice' });
    await bob.waitFor((a) => a.type === 'Accept' && a.actorId === group, { what: 'Accept to bob' });
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await Promise.all([alice?.close(), bob?.close()]);
    await g?.close();
  });

  /** A top-level post of Alice's, once the group has re-shared it to Bob. */
  async function topLevelPost(content: string): Promise<string> {
    const { createId, noteId } = await alice.post({ to: [group], content });
    await bob.waitFor(wraps(createId, 'Create'), { what: `Announce{Create} of ${content}` });
    return noteId;
  }
  const about = (type: string, noteId: string) => (a: ReceivedActivity) => {
    if (a.type !== 'Announce') return false;
    const inner = a.json.object as { type?: unknown; object?: unknown } | undefined;
    const object = inner?.object as { id?: unknown } | string | undefined;
    return (
      inner?.type === type && (object === noteId || (typeof object === 'object' && object?.id === noteId))
    );
  };

  it('announces a top-level post as Announce{Create} and as a plain boost', async function () {
    const { createId, noteId } = await alice.post({ to: [group], content: '<p>Reading Dune</p>' });
    await bob.waitFor(wraps(createId, 'Create'), { what: 'Announce{Create}' });
    await bob.waitFor(isPlainBoostOf(noteId), { what: 'plain boost' });
    await g.idle();
    expect(bob.received.filter(wraps(createId))).to.have.length(1);
  });

  it('announces a reply only as Announce{Create}, never as a plain boost', async function () {
    const topId = await topLevelPost('<p>Reading Dune</p>');
    const { createId, noteId } = await bob.post({
      to: [group],
      content: '<p>Great book</p>',
      inReplyTo: topId,
    });
    await alice.waitFor(wraps(createId, 'Create'), { what: 'Announce{Create} of the reply' });
    await g.idle();
    expect(alice.received.filter(isPlainBoostOf(noteId))).to.deep.equal([]);
    const post = await g.store.posts.getPost('books', noteId);
    expect(post?.threadRoot).to.equal(topId);
  });

  it('serves the thread as a paged collection (FEP-7888 context)', async function () {
    const topId = await topLevelPost('<p>Reading Hyperion</p>');
    const reply = await bob.post({ to: [group], content: '<p>Shrike!</p>', inReplyTo: topId });
    await g.processed(reply.createId);
    const url = g.guild.services.urls.thread('books', topId);
    const col = (await (await fetch(url, { headers: { accept: 'application/activity+json' } })).json()) as {
      type: string;
      first: string;
    };
    expect(col.type).to.equal('OrderedCollection');
    const page = (await (
      await fetch(col.first, { headers: { accept: 'application/activity+json' } })
    ).json()) as { orderedItems: string[] };
    expect(page.orderedItems[0]).to.equal(topId);
    expect(page.orderedItems).to.have.length(2);
    expect(
      (
        await fetch(g.guild.services.urls.thread('books', `${topId}/nope`), {
          headers: { accept: 'application/activity+json' },
        })
      ).status,
    ).to.equal(404);
  });

  it('refuses a reply to a post that is not in the group', async function () {
    const { createId, noteId } = await bob.post({
      to: [group],
      content: '<p>?</p>',
      inReplyTo: `${bob.actorId}/elsewhere/1`,
    });
    await g.processed(createId);
    expect(await g.store.posts.getPost('books', noteId)).to.equal(null);
    expect(g.logs.some((l) => l.includes(createId) && l.includes('not in books'))).to.equal(true);
  });

  for (const visibility of ['direct', 'followers'] as const) {
    it(`does not re-share a ${visibility} post`, async function () {
      const { createId, noteId } = await alice.post({
        to: [group],
        content: `<p>${visibility}</p>`,
        visibility,
      });
      await g.processed(createId);
      await g.idle();
      expect(await g.store.posts.getPost('books', noteId)).to.equal(null);
      expect(bob.received.filter(wraps(createId))).to.deep.equal([]);
    });
  }

  it('re-shares an unlisted post', async function () {
    const { createId } = await alice.post({ to: [group], content: '<p>quiet</p>', visibility: 'unlisted' });
    await bob.waitFor(wraps(createId, 'Create'), { what: 'Announce of the unlisted post' });
  });

  it("sends an author's Update to the other members", async function () {
    const topId = await topLevelPost('<p>Reading Dune</p>');
    await alice.update(topId, '<p>Reading Dune Messiah</p>');
    const got = await bob.waitFor(about('Update', topId), { what: 'Announce{Update}' });
    expect(JSON.stringify(got.json)).to.contain('Dune Messiah');
  });

  it("announces a member's Like", async function () {
    const topId = await topLevelPost('<p>Reading Solaris</p>');
    await bob.like(topId, group);
    await alice.waitFor(about('Like', topId), { what: 'Announce{Like}' });
  });

  it("sends an author's Delete and undoes the boost", async function () {
    const topId = await topLevelPost('<p>Reading Ubik</p>');
    const post = await g.store.posts.getPost('books', topId);
    expect(post?.boostId).to.be.a('string');
    await alice.delete(topId);
    await bob.waitFor(about('Delete', topId), { what: 'Announce{Delete}' });
    const undo = await bob.waitFor(
      (a) =>
        a.type === 'Undo' && a.actorId === group && (a.json.object as { id?: string }).id === post?.boostId,
      { what: 'Undo of the boost' },
    );
    expect(undo.actorId).to.equal(group);
    expect((await g.store.posts.getPost('books', topId))?.deletedAt).to.be.a('number');
  });

  it('refuses an Update or Delete by someone who is not the author', async function () {
    const { createId, noteId } = await alice.post({ to: [group], content: '<p>mine</p>' });
    await g.processed(createId);
    const fake = {
      '@context': 'https://www.w3.org/ns/activitystreams',
      id: `${bob.actorId}/deletes/1`,
      type: 'Delete',
      actor: bob.actorId,
      object: noteId,
      to: ['https://www.w3.org/ns/activitystreams#Public'],
      cc: [group],
    };
    expect((await bob.sendRaw(`${group}/inbox`, fake)).status).to.equal(202);
    await g.processed(fake.id);
    expect((await g.store.posts.getPost('books', noteId))?.deletedAt).to.equal(null);
  });

  it('drops a post that mentions more groups than the cap', async function () {
    const others = await Promise.all(['g1', 'g2', 'g3', 'g4', 'g5'].map((n) => g.createGroup(n)));
    for (const o of others) await bob.follow(o);
    for (const o of others)
      await bob.waitFor((a) => a.type === 'Accept' && a.actorId === o, { what: `Accept by ${o}` });
    const { createId, noteId } = await bob.post({ to: [group, ...others], content: '<p>buy now</p>' });
    await g.processed(createId);
    expect(await g.store.posts.getPost('books', noteId)).to.equal(null);
    expect(g.logs.some((l) => l.includes('(spam)'))).to.equal(true);
  });
});
