/**
 * Moderation reaching members on Lemmy, end to end: a real Guild and peers that take activities as Lemmy 0.19
 * does (test/support/lemmy-peer.ts: actor a Person/Service, a moderator or on the group's domain, wrapped in the
 * group's Announce, the fields Lemmy's structs require). What the admin does through the admin API, and what a
 * DM command does, is authored by the instance's Service actor; a Lemmy moderator's own activity is announced
 * unchanged. Restoring (`Undo{Delete}`) by an author and by a moderator reaches members too.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startLemmyPeer, type LemmyPeer } from '../support/lemmy-peer.ts';
import { startFedifyPeer, type FedifyPeer, type ReceivedActivity } from '../support/fedify-peer.ts';
import { waitUntil } from '../support/net.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;
const TOKEN = 'lemmy-test-admin-token-0123456789';

describe('moderation reaching Lemmy members', function () {
  this.timeout(60_000);
  let g: TestGuild;
  let group: string;
  /** The author of the posts, and a moderator. */
  let alpha: LemmyPeer;
  /** A member on another Lemmy, who watches. */
  let beta: LemmyPeer;
  /** A member on a third Lemmy, who gets banned. */
  let spammer: LemmyPeer;
  /** A Mastodon-style moderator who acts by DM command. */
  let mod: FedifyPeer;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${g.origin}/api/v1/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    expect(res.status, `${method} ${path}: ${text}`).to.be.below(300);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };

  /** A Lemmy post (Create{Page}) by `by` in the group; resolves once beta knows it. */
  const lemmyPost = async (by: LemmyPeer, title: string): Promise<string> => {
    const page = {
      id: by.newId('post'),
      type: 'Page',
      attributedTo: by.personId,
      name: title,
      content: `<p>${title}</p>`,
      to: [group, PUBLIC],
      cc: [],
      audience: group,
    };
    const create = {
      '@context': AS,
      id: by.newId('activities/create'),
      type: 'Create',
      actor: by.personId,
      to: [PUBLIC],
      cc: [group],
      audience: group,
      object: page,
    };
    expect(await by.send(`${group}/inbox`, create)).to.equal(202);
    await beta.waitFor((s) => s.posts.has(page.id), `the post ${title}`);
    return page.id;
  };

  before(async function () {
    g = await startTestGuild({ GUILD_ADMIN_TOKEN: TOKEN });
    group = await g.createGroup('ferris', { title: 'Ferris' });
    [alpha, beta, spammer, mod] = await Promise.all([
      startLemmyPeer('lemmy_alpha'),
      startLemmyPeer('lemmy_beta'),
      startLemmyPeer('spammer'),
      startFedifyPeer({ username: 'mod' }),
    ]);
    for (const p of [alpha, beta, spammer]) await p.follow(group);
    // Guild learns from their NodeInfo that they run Lemmy, and sends nothing Lemmy refuses from then on.
    for (const p of [alpha, beta, spammer])
      await waitUntil(async () => (await g.store.peers.getSoftware([p.origin]))[0]?.name === 'lemmy', {
        what: `Guild to learn that ${p.origin} runs Lemmy`,
      });
    await mod.follow(group);
    await mod.waitFor((a) => a.type === 'Accept', { what: 'Accept to the moderator' });
    for (const id of [mod.actorId, alpha.personId]) {
      const added = await g.guild.services.moderation.addModerator('ferris', id, { by: 'admin' });
      expect(added.ok && added.value).to.equal(true);
    }
    await beta.waitFor((s) => s.moderators.has(`${group} ${alpha.personId}`), 'alpha as a moderator');
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
    if (this.currentTest?.state === 'failed')
      for (const p of [alpha, beta, spammer])
        if (p) console.log(p.personId, JSON.stringify(p.refused, null, 1).slice(0, 3000));
  });
  after(async function () {
    await Promise.all([alpha?.close(), beta?.close(), spammer?.close(), mod?.close()]);
    await g?.close();
  });

  it('serves the Service actor as Lemmy dereferences a person, found by WebFinger as @guild@HOST', async function () {
    const actor = (await (
      await fetch(`${g.origin}/actor`, { headers: { accept: 'application/activity+json' } })
    ).json()) as Record<string, unknown>;
    expect(actor).to.deep.include({
      id: `${g.origin}/actor`,
      type: 'Service',
      preferredUsername: 'guild',
      inbox: `${g.origin}/inbox`,
      outbox: `${g.origin}/actor/outbox`,
    });
    expect(actor.publicKey).to.deep.include({ id: `${g.origin}/actor#main-key`, owner: `${g.origin}/actor` });
    const host = new URL(g.origin).host;
    const wf = (await (
      await fetch(`${g.origin}/.well-known/webfinger?resource=acct:guild@${host}`)
    ).json()) as { subject: string; links: Array<{ rel: string; href: string }> };
    expect(wf.subject).to.equal(`acct:guild@${host}`);
    expect(wf.links.find((l) => l.rel === 'self')?.href).to.equal(`${g.origin}/actor`);
    expect((await g.guild.services.groups.create('guild')).ok, 'no group takes the name').to.equal(false);
  });

  it("the admin's ban reaches Lemmy members and the banned person's server; the unban lifts it there too", async function () {
    await api('POST', '/groups/ferris/bans', { actor: spammer.personId, reason: 'spam' });
    const key = `${group} ${spammer.personId}`;
    await beta.waitFor((s) => s.bans.has(key), 'the ban');
    await spammer.waitFor((s) => s.bans.has(key), "the ban at the banned person's own server");
    const direct = await waitUntil(async () => spammer.accepted.find((a) => a.type === 'Block'), {
      what: 'the Block sent on its own',
    });
    expect(direct).to.deep.include({
      actor: `${g.origin}/actor`,
      object: spammer.personId,
      target: group,
      summary: 'spam',
    });
    const announce = beta.accepted.find(
      (a) => a.type === 'Announce' && (a.object as { type?: string }).type === 'Block',
    );
    expect(announce).to.deep.include({ actor: group });
    await api('DELETE', `/groups/ferris/bans/${encodeURIComponent(spammer.personId)}`);
    await beta.waitFor((s) => !s.bans.has(key), 'the unban');
    await spammer.waitFor((s) => !s.bans.has(key), "the unban at the banned person's own server");
    // Lemmy sends a ban and its Undo to the banned person's server as well as to the community's followers
    // (LemmyNet/lemmy crates/apub/src/activities/block/block_user.rs and undo_block_user.rs, `send`): the
    // banned person, no longer a member, gets them on their own.
    const undo = spammer.accepted.find((a) => a.type === 'Undo');
    expect(undo).to.deep.include({ actor: `${g.origin}/actor` });
    expect(undo?.object).to.deep.include({
      type: 'Block',
      actor: `${g.origin}/actor`,
      object: spammer.personId,
      target: group,
    });
    expect(beta.refused, 'nothing Lemmy refuses is sent to it').to.deep.equal([]);
  });

  it('the admin removes a post (Delete with summary) and restores it (its Undo)', async function () {
    const post = await lemmyPost(alpha, 'Off topic');
    await api('POST', `/groups/ferris/posts/${encodeURIComponent(post)}/remove`, { reason: 'off topic' });
    await beta.waitFor((s) => s.removed.has(post), 'the removal');
    expect(beta.state.deleted.has(post), 'a removal, not a deletion').to.equal(false);
    await api('POST', `/groups/ferris/posts/${encodeURIComponent(post)}/restore`);
    await beta.waitFor((s) => !s.removed.has(post), 'the restore');
    expect((await g.store.posts.getPost('ferris', post))?.deletedAt).to.equal(null);
  });

  it('the admin appoints a moderator, pins and locks, and changes the title', async function () {
    const post = await lemmyPost(beta, 'Welcome');
    await api('POST', '/groups/ferris/moderators', { actor: beta.personId });
    await beta.waitFor((s) => s.moderators.has(`${group} ${beta.personId}`), 'the new moderator');
    await api('POST', `/groups/ferris/posts/${encodeURIComponent(post)}/pin`);
    await beta.waitFor((s) => s.featured.has(post), 'the pin');
    await api('POST', `/groups/ferris/posts/${encodeURIComponent(post)}/lock`);
    await beta.waitFor((s) => s.locked.has(post), 'the lock');
    await api('PATCH', '/groups/ferris/settings', { title: 'Ferris the crab' });
    await beta.waitFor((s) => s.titles.get(group) === 'Ferris the crab', 'the new title');
    expect(beta.refused, 'nothing Lemmy refuses is sent to it').to.deep.equal([]);
  });

  it("a Lemmy moderator's own Lock is announced unchanged and taken by the other Lemmy", async function () {
    const post = await lemmyPost(beta, 'Heated');
    const lock = {
      '@context': AS,
      id: alpha.newId('activities/lock'),
      type: 'Lock',
      actor: alpha.personId,
      to: [PUBLIC],
      object: post,
      cc: [group],
      audience: group,
    };
    expect(await alpha.send(`${group}/inbox`, lock)).to.equal(202);
    await beta.waitFor((s) => s.locked.has(post), "the moderator's lock");
    const announce = beta.accepted.find(
      (a) => a.type === 'Announce' && (a.object as { id?: string }).id === lock.id,
    );
    expect(announce?.object).to.deep.equal(lock);
  });

  it("a moderator's DM command is done by the Service actor, which Lemmy takes", async function () {
    const post = await lemmyPost(alpha, 'Spam');
    await mod.post({
      to: [group],
      visibility: 'direct',
      content: `<p><span class="h-card"><a href="${group}" class="u-url mention">@<span>ferris</span></a></span> remove ${post} spam</p>`,
    });
    await mod.waitFor(
      (a: ReceivedActivity) => a.type === 'Create' && JSON.stringify(a.json).includes('Removed.'),
      { what: 'the answer' },
    );
    await beta.waitFor((s) => s.removed.has(post), 'the removal by command');
    const announce = beta.accepted.find(
      (a) =>
        a.type === 'Announce' &&
        (a.object as { object?: string; type?: string }).object === post &&
        (a.object as { type?: string }).type === 'Delete',
    );
    expect(announce?.object).to.deep.include({
      actor: `${g.origin}/actor`,
      summary: 'spam',
      audience: group,
    });
    const audit = await g.store.audit.listAudit({ group: 'ferris' }, null, 50);
    expect(
      audit.some((e) => e.action === 'remove-post' && e.target === post && e.actorId === mod.actorId),
    ).to.equal(true);
  });

  it('an author undeletes with Undo{Delete}: the post is live again at Guild and on Lemmy', async function () {
    const post = await lemmyPost(alpha, 'Oops');
    const del = {
      id: alpha.newId('activities/delete'),
      type: 'Delete',
      actor: alpha.personId,
      to: [PUBLIC],
      object: post,
      cc: [group],
      audience: group,
    };
    expect(await alpha.send(`${group}/inbox`, { '@context': AS, ...del })).to.equal(202);
    await beta.waitFor((s) => s.deleted.has(post), 'the deletion');
    const undo = {
      '@context': AS,
      id: alpha.newId('activities/undo'),
      type: 'Undo',
      actor: alpha.personId,
      to: [PUBLIC],
      object: del,
      cc: [group],
      audience: group,
    };
    expect(await alpha.send(`${group}/inbox`, undo)).to.equal(202);
    await beta.waitFor((s) => !s.deleted.has(post), 'the undeletion');
    const restored = await g.store.posts.getPost('ferris', post);
    expect(restored?.deletedAt).to.equal(null);
    // What carried the post is served again: its Announce{Create} is back in the outbox.
    const about = await g.store.activities.listActivitiesAbout('ferris', post, null, 20);
    expect(about.length).to.be.above(0);
    expect(about.map((a) => a.withdrawnAt)).to.deep.equal(about.map(() => null));
    const outbox = await g.store.activities.listOutbox('ferris', null, 50);
    expect(outbox.some((a) => a.objectId === post && a.type === 'Announce')).to.equal(true);
    // Mastodon-style members see it again: a new boost.
    await mod.waitFor(
      (a: ReceivedActivity) =>
        a.type === 'Announce' && a.json.object === post && a.json.id === restored?.boostId,
      { what: 'the new boost' },
    );
  });

  it("a Lemmy moderator's removal and its Undo (Delete with summary) reach the other Lemmy", async function () {
    const post = await lemmyPost(beta, 'Flamebait');
    const remove = {
      id: alpha.newId('activities/delete'),
      type: 'Delete',
      actor: alpha.personId,
      to: [PUBLIC],
      object: post,
      cc: [group],
      audience: group,
      summary: 'flamebait',
    };
    expect(await alpha.send(`${group}/inbox`, { '@context': AS, ...remove })).to.equal(202);
    await beta.waitFor((s) => s.removed.has(post), 'the removal');
    expect((await g.store.posts.getPost('ferris', post))?.removedBy).to.equal(alpha.personId);
    const undo = {
      '@context': AS,
      id: alpha.newId('activities/undo'),
      type: 'Undo',
      actor: alpha.personId,
      to: [PUBLIC],
      object: remove,
      cc: [group],
      audience: group,
    };
    expect(await alpha.send(`${group}/inbox`, undo)).to.equal(202);
    await beta.waitFor((s) => !s.removed.has(post), 'the restore');
    await waitUntil(async () => (await g.store.posts.getPost('ferris', post))?.deletedAt === null, {
      what: 'the post live at Guild',
    });
  });

  it("the admin's deletion of the group reaches Lemmy", async function () {
    // A group of its own, so that the other tests keep theirs.
    const doomed = await g.createGroup('doomed');
    await beta.follow(doomed);
    await api('DELETE', '/groups/doomed');
    await beta.waitFor((s) => s.deletedCommunities.has(doomed), 'the deleted community');
    // Not the group's own Delete of itself, which Lemmy refuses (its actor is not a person).
    expect(beta.refused, 'nothing Lemmy refuses is sent to it').to.deep.equal([]);
  });
});
