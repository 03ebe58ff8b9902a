/**
 * Each member server gets the forms its software takes, end to end: a real Guild learns each member server's
 * software from its NodeInfo, and hand-written peers that behave as their servers' source says take what they
 * are sent or say why not (test/support/lemmy-peer.ts, gotosocial-member-peer.ts, snac-peer.ts, mastodon-peer.ts, each
 * citing the files it follows); a Fedify peer, whose software Guild cannot tell, gets every form as before.
 *
 * What is asserted: posts, replies, edits, deletions, votes, moderation and direct messages reach each member in
 * the form its server uses, and no member server is sent a form it refuses (an error answer) or ignores by design
 * (Lemmy: plain boosts and their Undo; GoToSocial, snac, Mastodon: the Announce of an activity; snac: Undo of a
 * boost; everyone but Lemmy, Mbin and NodeBB: votes).
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startLemmyPeer, type LemmyPeer } from '../support/lemmy-peer.ts';
import { startGoToSocialMemberPeer, type GoToSocialMemberPeer } from '../support/gotosocial-member-peer.ts';
import { startSnacPeer, type SnacPeer } from '../support/snac-peer.ts';
import { startMastodonPeer, type MastodonPeer } from '../support/mastodon-peer.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { isObj, type PeerBase, type Received } from '../support/peer-base.ts';
import { waitUntil } from '../support/net.ts';
import { DashboardClient } from '../support/dashboard-client.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;
const TOKEN = 'member-servers-admin-token-0123456789';

describe('each member server gets the forms it takes', function () {
  this.timeout(60_000);
  let g: TestGuild;
  let group: string;
  let lemmy: LemmyPeer;
  /** Authors, and members on the same software who watch what the group sends. */
  let gtsAuthor: GoToSocialMemberPeer;
  let gts: GoToSocialMemberPeer;
  let snacAuthor: SnacPeer;
  let snac: SnacPeer;
  let mastoAuthor: MastodonPeer;
  let masto: MastodonPeer;
  /** A server whose software Guild cannot tell. */
  let plain: FedifyPeer;
  let hand: PeerBase[];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${g.origin}/api/v1/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, `${method} ${path}: ${await res.text()}`).to.be.below(300);
  };
  /** What a hand-written peer received that mentions `id` anywhere. */
  const about = (p: PeerBase, id: string): Received[] =>
    p.received.filter((r) => JSON.stringify(r.activity).includes(id));
  /** The Announces a peer received that embed an activity (FEP-1b12) rather than name a post. */
  const embeddedAnnounces = (p: PeerBase) =>
    p.received.filter((r) => r.type === 'Announce' && r.objectType !== 'id');

  before(async function () {
    g = await startTestGuild({ GUILD_ADMIN_TOKEN: TOKEN });
    group = await g.createGroup('club', { title: 'Club' });
    [lemmy, gtsAuthor, gts, snacAuthor, snac, mastoAuthor, masto, plain] = await Promise.all([
      // Lemmy reads GoToSocial's actors only when it signs its fetches (GoToSocial answers 401 otherwise).
      startLemmyPeer('lemmy_member', { signedFetch: true }),
      startGoToSocialMemberPeer('ann'),
      startGoToSocialMemberPeer('gus'),
      startSnacPeer('sam'),
      startSnacPeer('sid'),
      startMastodonPeer('max'),
      startMastodonPeer('mia'),
      startFedifyPeer({ username: 'plain' }),
    ]);
    hand = [gtsAuthor, gts, snacAuthor, snac, mastoAuthor, masto];
    await lemmy.follow(group);
    for (const p of hand) await p.follow(group);
    await plain.follow(group);
    await plain.waitFor((a) => a.type === 'Accept', { what: 'Accept of the plain member' });
    // Guild learns each member server's software in the background once someone there joins.
    const expected: Array<[string, string]> = [
      [lemmy.origin, 'lemmy'],
      ...[gtsAuthor, gts].map((p) => [p.origin, 'gotosocial'] as [string, string]),
      ...[snacAuthor, snac].map((p) => [p.origin, 'snac'] as [string, string]),
      ...[mastoAuthor, masto].map((p) => [p.origin, 'mastodon'] as [string, string]),
    ];
    for (const [origin, name] of expected)
      await waitUntil(async () => (await g.store.peers.getSoftware([origin]))[0]?.name === name, {
        what: `Guild to learn that ${origin} runs ${name}`,
      });
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
    if (this.currentTest?.state === 'failed') {
      console.log('lemmy refused', JSON.stringify(lemmy?.refused ?? [], null, 1).slice(0, 2000));
      for (const p of hand ?? [])
        console.log(
          p.actorId,
          JSON.stringify(p.received.map((r) => [r.type, r.objectType, r.outcome, r.detail])),
        );
    }
  });
  after(async function () {
    await Promise.all([lemmy, plain, ...(hand ?? [])].map((p) => p?.close()));
    await g?.close();
  });

  it('a top-level post: Announce{Create} to Lemmy and unknown servers, the plain boost to the others', async function () {
    const post = await gtsAuthor.post(group, 'hello from GoToSocial');
    await lemmy.waitFor((s) => s.posts.has(post), 'the post');
    await waitUntil(() => [...gts.boosts.values()].includes(post), { what: 'the boost at GoToSocial' });
    await waitUntil(() => snac.timeline.has(post), { what: 'the boost at snac' });
    await waitUntil(() => [...masto.reblogs.values()].includes(post), { what: 'the reblog at Mastodon' });
    await plain.waitFor((a) => a.type === 'Announce' && a.json.object === post, { what: 'the boost' });
    await plain.waitFor((a) => a.type === 'Announce' && isObj(a.json.object), {
      what: 'the Announce{Create}',
    });
    await g.idle();
    for (const p of [gts, snac, masto]) {
      expect(about(p, post).map((r) => [r.type, r.objectType])).to.deep.equal([['Announce', 'id']]);
      // The boost carries what GoToSocial needs to read it (superseriousbusiness/gotosocial
      // internal/ap/extract.go).
      expect(about(p, post)[0]?.activity).to.deep.include({ to: [PUBLIC], cc: [`${group}/followers`] });
    }
    expect(lemmy.accepted.filter((a) => JSON.stringify(a).includes(post)).map((a) => a.type)).to.deep.equal([
      'Announce',
    ]);
  });

  it('a reply: announced to Lemmy, forwarded unchanged where it is read, boosted nowhere', async function () {
    const root = await gtsAuthor.post(group, 'a thread');
    await lemmy.waitFor((s) => s.posts.has(root), 'the root');
    // A Mastodon author's reply carries its LD signature: Mastodon takes it forwarded.
    const signed = await mastoAuthor.post(group, 'a signed reply', { inReplyTo: root, ldSigned: true });
    // A GoToSocial author signs no LD signature: Mastodon would drop it forwarded.
    const unsigned = await gtsAuthor.post(group, 'an unsigned reply', root);
    for (const reply of [signed, unsigned]) {
      await lemmy.waitFor((s) => s.posts.has(reply), 'the reply');
      await waitUntil(() => gts.statuses.has(reply), { what: 'the forwarded reply at GoToSocial' });
      await waitUntil(() => snac.timeline.has(reply), { what: 'the forwarded reply at snac' });
    }
    await waitUntil(() => masto.statuses.has(signed), { what: 'the forwarded signed reply at Mastodon' });
    await g.idle();
    expect(about(gts, unsigned).map((r) => r.detail)).to.deep.equal([
      `forwarded Create: ${unsigned} fetched from its origin`,
    ]);
    expect(about(snac, signed).map((r) => r.detail)).to.deep.equal([`new Note ${signed} (forwarded)`]);
    expect(about(masto, signed).map((r) => r.detail)).to.deep.equal([
      `status ${signed} (forwarded, LD-signed)`,
    ]);
    expect(about(masto, unsigned), 'no delivery Mastodon would drop').to.deep.equal([]);
    // Replies are not boosted: a reblog of a reply floods Mastodon timelines.
    for (const p of [gts, snac, masto])
      expect(about(p, signed).filter((r) => r.type === 'Announce')).to.deep.equal([]);
  });

  it('an edit: forwarded to GoToSocial (read once its copy is 2 h old) and snac (fetched again), announced to Lemmy', async function () {
    const post = await gtsAuthor.post(group, 'before');
    await waitUntil(() => snac.timeline.has(post) && gts.statuses.has(post), { what: 'the post everywhere' });
    await gtsAuthor.edit(post, group, 'after');
    const update = (p: PeerBase) =>
      p.waitFor((r) => r.type === 'Update' && JSON.stringify(r.activity).includes(post), 'the Update');
    expect((await update(gts)).detail).to.equal('forwarded Update: the copy is still fresh');
    expect((await update(snac)).detail).to.equal(`Update: mismatched attributedTo, ${post} fetched again`);
    expect(String(snac.timeline.get(post)?.content)).to.equal('<p>after</p>');
    gts.advanceClock(2 * 3_600_000 + 1);
    await gtsAuthor.edit(post, group, 'later');
    await waitUntil(() => gts.received.some((r) => r.detail === `forwarded Update: ${post} refreshed`), {
      what: 'the refresh at GoToSocial',
    });
    expect(String(gts.statuses.get(post)?.status.content)).to.equal('<p>later</p>');
    await waitUntil(
      () =>
        lemmy.accepted.filter((a) => a.type === 'Announce' && JSON.stringify(a).includes('<p>later</p>'))
          .length > 0,
      { what: 'the announced edit at Lemmy' },
    );
    await g.idle();
    expect(
      about(masto, post).filter((r) => r.type === 'Update'),
      'no LD signature: not sent',
    ).to.deep.equal([]);
  });

  it('a vote reaches only Lemmy and unknown servers', async function () {
    const post = await gtsAuthor.post(group, 'vote on me');
    await lemmy.waitFor((s) => s.posts.has(post), 'the post');
    const like = {
      '@context': AS,
      id: lemmy.newId('activities/like'),
      type: 'Like',
      actor: lemmy.personId,
      object: post,
      audience: group,
    };
    expect(await lemmy.send(`${group}/inbox`, like)).to.equal(202);
    await plain.waitFor((a) => a.type === 'Announce' && JSON.stringify(a.json).includes(like.id), {
      what: 'the vote',
    });
    await waitUntil(() => lemmy.accepted.some((a) => JSON.stringify(a).includes(like.id)), {
      what: 'the vote at Lemmy',
    });
    await g.idle();
    for (const p of hand) expect(about(p, like.id), p.actorId).to.deep.equal([]);
  });

  it('a deletion: Announce{Delete} to Lemmy, the boost undone on GoToSocial and Mastodon, no Undo to snac', async function () {
    const post = await gtsAuthor.post(group, 'soon gone');
    await waitUntil(
      () => [...masto.reblogs.values()].includes(post) && [...gts.boosts.values()].includes(post),
      {
        what: 'the boosts',
      },
    );
    const del = {
      '@context': AS,
      id: `${post}#delete`,
      type: 'Delete',
      actor: gtsAuthor.actorId,
      object: post,
      to: [PUBLIC],
    };
    expect(await gtsAuthor.send(`${group}/inbox`, del)).to.equal(202);
    await lemmy.waitFor((s) => s.deleted.has(post), 'the deletion');
    await waitUntil(() => ![...masto.reblogs.values()].includes(post), {
      what: 'the reblog undone at Mastodon',
    });
    await waitUntil(() => ![...gts.boosts.values()].includes(post), {
      what: 'the boost undone at GoToSocial',
    });
    const undo = gts.received.find((r) => r.type === 'Undo' && JSON.stringify(r.activity).includes(post));
    // GoToSocial reads the embedded boost's actor, and its to/cc when it no longer holds it
    // (superseriousbusiness/gotosocial internal/federation/federatingdb/undo.go `undoAnnounce`).
    expect(undo?.activity.object).to.deep.include({
      type: 'Announce',
      actor: group,
      object: post,
      to: [PUBLIC],
      cc: [`${group}/followers`],
    });
    expect(undo?.activity.object).to.have.property('published');
    await g.idle();
    expect(
      about(snac, post).map((r) => r.type),
      'snac ignores Undo{Announce} by design',
    ).to.deep.equal(['Announce']);
  });

  it("snac's deletion of its post reaches the group through the moderators collection, a reply's too", async function () {
    const post = await snacAuthor.post(group, 'from snac');
    await waitUntil(() => snacAuthor.boostersOf.get(post)?.has(group), { what: 'snac to record the boost' });
    const reply = await snacAuthor.post(group, 'a snac reply', post);
    // A reply is not boosted to the members, but to its snac author alone, who then knows whom to tell.
    await waitUntil(() => snacAuthor.boostersOf.get(reply)?.has(group), {
      what: 'snac to record the reply boost',
    });
    await lemmy.waitFor((s) => s.posts.has(reply), 'the reply');
    expect(
      about(snac, reply).filter((r) => r.type === 'Announce'),
      'no boost of the reply to others',
    ).to.deep.equal([]);
    for (const id of [reply, post]) {
      const sent = await snacAuthor.deletePost(id);
      expect(sent).to.deep.equal([
        { recipient: `${group}/moderators`, inbox: `${g.origin}/inbox`, status: 202 },
      ]);
      await lemmy.waitFor((s) => s.deleted.has(id), 'the deletion');
      expect((await g.store.posts.getPost('club', id))?.deletedAt).to.be.a('number');
    }
  });

  it('notices: a ChatMessage from the Service actor to a Lemmy moderator, a Note from the group to a Mastodon one', async function () {
    for (const mod of [lemmy.personId, masto.actorId])
      await api('POST', '/groups/club/moderators', { actor: mod });
    const post = await gtsAuthor.post(group, 'report me');
    await lemmy.waitFor((s) => s.posts.has(post), 'the post');
    const flag = {
      '@context': AS,
      id: lemmy.newId('activities/flag'),
      type: 'Flag',
      actor: lemmy.personId,
      object: [post],
      content: 'spam',
      to: [group],
      audience: group,
    };
    expect(await lemmy.send(`${group}/inbox`, flag)).to.equal(202);
    await lemmy.waitFor((s) => s.messages.some((m) => m.content.includes(post)), 'the notice');
    expect(lemmy.state.messages.find((m) => m.content.includes(post))?.from).to.equal(`${g.origin}/actor`);
    await waitUntil(() => masto.messages.find((m) => m.content.includes(post)), {
      what: 'the notice at Mastodon',
    });
    // From the group, which the moderator follows: not filtered (mastodon/mastodon
    // app/services/notify_service.rb).
    expect(masto.messages.find((m) => m.content.includes(post))).to.deep.include({
      from: group,
      filtered: false,
    });
    // A command's answer comes from the actor it was sent to, in reply to it.
    const command = await masto.mention(group, 'help');
    await waitUntil(() => masto.messages.find((m) => m.inReplyTo === command), { what: 'the answer' });
    expect(masto.messages.find((m) => m.inReplyTo === command)).to.deep.include({
      from: group,
      filtered: false,
    });
  });

  it("the Service actor's messages take the recipient's form: to a person on a Lemmy never met, a sign-in link and a command's answer are ChatMessages", async function () {
    // Lemmy 0.19 takes a private message only as a ChatMessage from a person, Service or organization
    // (LemmyNet/lemmy crates/apub/src/activities/create_or_update/private_message.rs); a mention Note is refused.
    const newcomer = await startLemmyPeer('lemmy_newcomer');
    try {
      const service = `${g.origin}/actor`;
      const c = new DashboardClient(g.origin);
      const asked = await c.post('/login', { handle: `@lemmy_newcomer@${new URL(newcomer.origin).host}` });
      expect(asked.status, asked.html).to.equal(200);
      await newcomer.waitFor(
        (s) => s.messages.some((m) => m.content.includes('/login/')),
        'the sign-in link',
      );
      expect(newcomer.state.messages.map((m) => m.from)).to.deep.equal([service]);

      // A command sent as Lemmy sends a private message, answered the same way.
      const chat = {
        '@context': AS,
        id: newcomer.newId('activities/create'),
        type: 'Create',
        actor: newcomer.personId,
        to: [service],
        object: {
          type: 'ChatMessage',
          id: newcomer.newId('private_message'),
          attributedTo: newcomer.personId,
          to: [service],
          content: '<p>help</p>',
          mediaType: 'text/html',
          source: { content: 'help', mediaType: 'text/markdown' },
          published: new Date().toISOString(),
        },
      };
      expect(await newcomer.send(`${g.origin}/inbox`, chat)).to.equal(202);
      await newcomer.waitFor((s) => s.messages.length === 2, 'the answer');
      expect(newcomer.state.messages[1]?.from).to.equal(service);
      expect(newcomer.refused, 'Lemmy answered 400').to.deep.equal([]);
    } finally {
      await newcomer.close();
    }
  });

  it("a ban reaches Lemmy (announced, and on the banned person's Lemmy), never Mastodon as a block of its user", async function () {
    await api('POST', '/groups/club/bans', { actor: mastoAuthor.actorId, reason: 'spam' });
    await lemmy.waitFor((s) => s.bans.has(`${group} ${mastoAuthor.actorId}`), 'the ban');
    await g.idle();
    expect(mastoAuthor.blockedBy.size, 'the Service actor does not block the user on Mastodon').to.equal(0);
  });

  it('no member server was sent a form it refuses or ignores by design', async function () {
    // The group's Update of itself: GoToSocial and Mastodon read it; snac ignores a Group's (grunfink/snac2
    // activitypub.c, "ignored 'Update' for object type"); Lemmy gets the Service actor's, announced.
    await api('PATCH', '/groups/club/settings', { title: 'The Club' });
    await waitUntil(() => gts.received.some((r) => r.type === 'Update' && r.objectType === 'Group'), {
      what: "the group's Update at GoToSocial",
    });
    await lemmy.waitFor((s) => s.titles.get(group) === 'The Club', 'the new title');
    await g.idle();
    for (const p of [snacAuthor, snac])
      expect(
        p.received.filter((r) => r.type === 'Update' && r.objectType === 'Group'),
        p.actorId,
      ).to.deep.equal([]);
    expect(lemmy.refused, 'Lemmy answered 400').to.deep.equal([]);
    for (const p of hand) {
      expect(
        p.received.filter((r) => r.outcome === 'refused').map((r) => r.detail),
        p.actorId,
      ).to.deep.equal([]);
      expect(
        embeddedAnnounces(p).map((r) => r.objectType),
        `${p.actorId}: Announce of an activity`,
      ).to.deep.equal([]);
      expect(
        p.received.filter((r) => r.type === 'Like'),
        p.actorId,
      ).to.deep.equal([]);
    }
    for (const p of [snacAuthor, snac])
      expect(
        p.received.filter((r) => r.type === 'Undo'),
        p.actorId,
      ).to.deep.equal([]);
    // The server whose software is not known still gets every form.
    const types = new Set(
      plain.received.map(
        (a) => `${a.type}${a.type === 'Announce' ? (isObj(a.json.object) ? '{activity}' : '{id}') : ''}`,
      ),
    );
    expect([...types]).to.include.members(['Announce{activity}', 'Announce{id}', 'Undo']);
  });
});
