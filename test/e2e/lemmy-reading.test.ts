/**
 * How other servers read a group, end to end: Guild's Group and collections as Lemmy 0.19 deserializes them
 * (test/support/lemmy-reader.ts, written from its serde types), and as Mastodon and GoToSocial read them
 * (mastodon/mastodon app/helpers/json_ld_helper.rb `collection_items`,
 * app/services/activitypub/fetch_featured_collection_service.rb, process_account_service.rb
 * `collection_total_items`; superseriousbusiness/gotosocial v0.20.0-rc1 internal/ap/collections.go
 * `ToCollectionIterator`, internal/federation/dereferencing/account.go `countCollection`). The posts come from
 * independent peers (fedify).
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { lemmyReads } from '../support/lemmy-reader.ts';

const AP = { accept: 'application/activity+json' };

async function getJson(url: string, accept = AP.accept): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: { accept } });
  expect(res.status, url).to.equal(200);
  expect(res.headers.get('content-type'), url).to.match(/^application\/activity\+json/);
  return (await res.json()) as Record<string, unknown>;
}

describe('how Lemmy, Mastodon and GoToSocial read a group', function () {
  this.timeout(60_000);
  let g: TestGuild;
  let alice: FedifyPeer;
  let bob: FedifyPeer;

  before(async function () {
    g = await startTestGuild();
    [alice, bob] = await Promise.all([
      startFedifyPeer({ username: 'alice' }),
      startFedifyPeer({ username: 'bob' }),
    ]);
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await Promise.all([alice?.close(), bob?.close()]);
    await g?.close();
  });

  /** A new group that alice and bob have joined; its actor id. */
  async function groupOfTwo(name: string): Promise<string> {
    const group = await g.createGroup(name);
    for (const p of [alice, bob]) {
      await p.follow(group);
      await p.waitFor((a) => a.type === 'Accept' && a.actorId === group, { what: `Accept from ${name}` });
    }
    return group;
  }

  it('an empty group: every collection parses, with no items', async function () {
    const empty = await g.createGroup('empty');
    expect(lemmyReads.outbox(await getJson(`${empty}/outbox`)).backfilledPostIds).to.deep.equal([]);
    expect(lemmyReads.featured(await getJson(`${empty}/featured`)).postIds).to.deep.equal([]);
    expect(lemmyReads.moderators(await getJson(`${empty}/moderators`)).moderatorIds).to.deep.equal([]);
    expect(lemmyReads.followers(await getJson(`${empty}/followers`)).subscribers).to.equal(0);
    // Mastodon calls filter_map on the featured items it finds: an empty array, never none.
    expect((await getJson(`${empty}/featured`)).orderedItems).to.deep.equal([]);
  });

  it('an empty page has no items (ActivityStreams omits them; Mastodon and GoToSocial read none)', async function () {
    const group = await g.createGroup('quiet');
    const listed = await g.guild.services.settings.update('quiet', { listFollowers: true });
    expect(listed.ok, JSON.stringify(listed)).to.equal(true);
    const outbox = await getJson(`${group}/outbox`);
    const outboxPage = await getJson(outbox.first as string);
    expect(outboxPage).to.include({
      type: 'OrderedCollectionPage',
      partOf: `${group}/outbox`,
      totalItems: 0,
    });
    expect(outboxPage).not.to.have.property('orderedItems');
    const followers = await getJson(`${group}/followers`);
    expect(followers).to.include({ type: 'Collection', totalItems: 0, first: `${group}/followers?page=1` });
    // Lemmy's GroupFollowers requires `items`, even empty, on the collection itself.
    expect(followers.items).to.deep.equal([]);
    const followersPage = await getJson(followers.first as string);
    expect(followersPage).to.include({ type: 'CollectionPage', totalItems: 0 });
    expect(followersPage).not.to.have.property('items');
  });

  it('the Group: its language as an array of ISO 639-1 codes', async function () {
    const group = await g.createGroup('lusophones');
    const set = await g.guild.services.settings.update('lusophones', { language: 'pt-BR' });
    expect(set.ok, JSON.stringify(set)).to.equal(true);
    const doc = await getJson(group);
    expect(lemmyReads.group(doc).languages).to.deep.equal(['pt']);
    expect(doc.language).to.deep.equal([{ identifier: 'pt', name: 'Portuguese' }]);
  });

  it('the followers: the subscriber count Lemmy shows, the totalItems Mastodon and GoToSocial read', async function () {
    const group = await groupOfTwo('counted');
    const doc = await getJson(`${group}/followers`);
    expect(lemmyReads.followers(doc).subscribers).to.equal(2);
    expect(doc).to.include({ type: 'Collection', totalItems: 2 });
    expect(doc).not.to.have.property('first');
    // Listed, the members are on the pages; Lemmy still counts from the collection itself.
    const listed = await g.guild.services.settings.update('counted', { listFollowers: true });
    expect(listed.ok, JSON.stringify(listed)).to.equal(true);
    const paged = await getJson(`${group}/followers`);
    expect(lemmyReads.followers(paged).subscribers).to.equal(2);
    const page = await getJson(paged.first as string);
    expect(page).to.include({ type: 'CollectionPage', partOf: `${group}/followers`, totalItems: 2 });
    expect(page.items).to.have.members([alice.actorId, bob.actorId]);
  });

  it('the outbox: the newest posts inline, as Lemmy backfills them; all activities on its pages', async function () {
    const group = await groupOfTwo('forum');
    const first = await alice.post({ to: [group], content: '<p>first post</p>' });
    await bob.waitFor((a) => JSON.stringify(a.json).includes(first.createId), { what: 'the first post' });
    const page = await bob.post({ to: [group], type: 'Page', name: 'A title', content: '<p>a page</p>' });
    await alice.waitFor((a) => JSON.stringify(a.json).includes(page.createId), { what: 'the page' });
    const reply = await bob.post({ to: [group], content: '<p>a reply</p>', inReplyTo: first.noteId });
    await alice.waitFor((a) => JSON.stringify(a.json).includes(reply.createId), { what: 'the reply' });
    await alice.update(first.noteId, '<p>first post, edited</p>');
    // The vote is sent once the edit is through: the outbox lists activities in the order the group took them.
    await bob.waitFor((a) => JSON.stringify(a.json).includes('first post, edited'), { what: 'the edit' });
    await bob.like(page.noteId, group);
    await g.idle();

    const outbox = await getJson(`${group}/outbox`);
    // Newest first, one item per top-level post: the edit of the first post, then the page; no reply, no vote.
    expect(lemmyReads.outbox(outbox).backfilledPostIds).to.deep.equal([first.noteId, page.noteId]);
    const inline = outbox.orderedItems as Array<{ object: { type: string; object: { content: string } } }>;
    expect(inline.map((i) => i.object.type)).to.deep.equal(['Update', 'Create']);
    expect(inline[0]?.object.object.content).to.contain('edited');
    expect(inline.filter((i) => '@context' in i)).to.deep.equal([]);

    // Mastodon reads `first` when there is one; GoToSocial counts totalItems.
    expect(outbox).to.include({ type: 'OrderedCollection', totalItems: 5 });
    const firstPage = await getJson(outbox.first as string);
    const items = firstPage.orderedItems as Array<{ type: string; object: { type: string } }>;
    expect(items.map((i) => i.object.type)).to.deep.equal(['Like', 'Update', 'Create', 'Create', 'Create']);
  });

  it('featured: the pinned top-level posts as full objects, which Lemmy reads as Pages', async function () {
    const group = await groupOfTwo('pins');
    const post = await alice.post({ to: [group], content: '<p>rules</p>' });
    await bob.waitFor((a) => JSON.stringify(a.json).includes(post.createId), { what: 'the post' });
    await alice.update(post.noteId, '<p>rules, edited</p>');
    const reply = await bob.post({ to: [group], content: '<p>ok</p>', inReplyTo: post.noteId });
    await alice.waitFor((a) => JSON.stringify(a.json).includes(reply.createId), { what: 'the reply' });
    await g.idle();
    for (const id of [post.noteId, reply.noteId]) {
      const pinned = await g.guild.services.moderation.setPinned('pins', id, true, { by: 'admin' });
      expect(pinned.ok, JSON.stringify(pinned)).to.equal(true);
    }
    const doc = await getJson(`${group}/featured`);
    // A reply would make Lemmy drop the whole collection: only the post is listed.
    expect(lemmyReads.featured(doc).postIds).to.deep.equal([post.noteId]);
    const [object] = doc.orderedItems as Array<Record<string, unknown>>;
    expect(object).to.include({ id: post.noteId, type: 'Note', attributedTo: alice.actorId });
    expect(object?.content).to.contain('edited');
  });

  it('`/` answers an ActivityPub request with the instance actor, and browsers with the directory', async function () {
    const root = await fetch(`${g.origin}/`, { headers: AP });
    expect(root.status).to.equal(200);
    expect(root.headers.get('vary')).to.match(/accept/i);
    expect(await root.json()).to.deep.equal(await getJson(`${g.origin}/actor`));
    const ld = await fetch(`${g.origin}/`, {
      headers: { accept: 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"' },
    });
    expect(((await ld.json()) as { id: string }).id).to.equal(g.guild.services.urls.instanceActor());
    const page = await fetch(`${g.origin}/`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).to.match(/text\/html/);
    expect(page.headers.get('vary')).to.match(/accept/i);
  });
});
