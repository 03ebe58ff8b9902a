/**
 * Moderation that flows between instances, end to end with independent peers: a remote moderator bans with
 * a signed Block and by DM command, removes a post, gets reports by DM; non-moderators change nothing; a
 * blocked domain is cut off; pre-moderation holds a first post until a moderator approves it.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer, type ReceivedActivity } from '../support/fedify-peer.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { waitUntil } from '../support/net.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;

/** The group's Announce of an activity of this type. */
const wrapsType = (group: string, type: string) => (a: ReceivedActivity) =>
  a.type === 'Announce' &&
  a.actorId === group &&
  (a.json.object as { type?: string } | undefined)?.type === type;
/** A direct message from the group that contains `text`. */
const dmContaining = (group: string, text: string) => (a: ReceivedActivity) =>
  a.type === 'Create' && a.actorId === group && JSON.stringify(a.json.object ?? '').includes(text);

describe('moderation across servers', function () {
  this.timeout(60_000);
  let g: TestGuild;
  let mod: FedifyPeer;
  let alice: FedifyPeer;
  let bob: FedifyPeer;
  let n = 0;

  /** A DM to the group as Mastodon sends it: the group mention first, then the command. */
  const command = (from: FedifyPeer, group: string, text: string) =>
    from.post({
      to: [group],
      visibility: 'direct',
      content: `<p><span class="h-card"><a href="${group}" class="u-url mention">@<span>mods</span></a></span> ${text}</p>`,
    });

  /** A new group that mod, alice and bob have joined, with mod as its moderator; its name and actor id. */
  async function moderatedGroup(): Promise<{ name: string; group: string }> {
    const name = `mods${++n}`;
    const group = await g.createGroup(name);
    for (const p of [mod, alice, bob]) {
      const followId = await p.follow(group);
      await p.waitFor(
        (a) => a.type === 'Accept' && a.actorId === group && JSON.stringify(a.json).includes(followId),
        {
          what: `Accept by ${name}`,
        },
      );
    }
    const added = await g.guild.services.moderation.addModerator(name, mod.actorId, { by: 'admin' });
    expect(added.ok && added.value).to.equal(true);
    return { name, group };
  }

  before(async function () {
    g = await startTestGuild();
    [mod, alice, bob] = await Promise.all([
      startFedifyPeer({ username: 'mod' }),
      startFedifyPeer({ username: 'alice' }),
      startFedifyPeer({ username: 'bob' }),
    ]);
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await Promise.all([mod?.close(), alice?.close(), bob?.close()]);
    await g?.close();
  });

  it('serves the moderators collection and announces the Add', async function () {
    const { group } = await moderatedGroup();
    const res = await fetch(`${group}/moderators`, { headers: { accept: 'application/activity+json' } });
    const doc = (await res.json()) as { orderedItems: string[]; totalItems: number };
    expect(doc.orderedItems).to.deep.equal([mod.actorId]);
    await alice.waitFor(wrapsType(group, 'Add'), { what: 'Announce{Add} of the moderator' });
  });

  it("a moderator's Delete of a post reaches every member and undoes the boost", async function () {
    const { name, group } = await moderatedGroup();
    const { createId, noteId } = await alice.post({ to: [group], content: '<p>off topic</p>' });
    await bob.waitFor((a) => a.type === 'Announce' && JSON.stringify(a.json).includes(createId), {
      what: 'the post',
    });
    const boostId = (await g.store.posts.getPost(name, noteId))?.boostId;
    const del = {
      '@context': AS,
      id: `${mod.actorId}/deletes/${randomUUID()}`,
      type: 'Delete',
      actor: mod.actorId,
      object: noteId,
      to: [PUBLIC],
      cc: [group],
      summary: 'off topic',
    };
    expect((await mod.sendRaw(`${group}/inbox`, del)).status).to.equal(202);
    const isAnnounced = (a: ReceivedActivity) =>
      wrapsType(group, 'Delete')(a) && (a.json.object as { id?: string }).id === del.id;
    const got = await bob.waitFor(isAnnounced, { what: 'Announce{Delete} at bob' });
    expect(got.actorId).to.equal(group);
    await alice.waitFor(isAnnounced, { what: 'Announce{Delete} at alice' });
    await bob.waitFor(
      (a) => a.type === 'Undo' && a.actorId === group && (a.json.object as { id?: string }).id === boostId,
      { what: 'Undo of the boost' },
    );
    expect((await g.store.posts.getPost(name, noteId))?.deletedAt).to.be.a('number');
    const audit = await g.store.audit.listAudit({ group: name }, null, 10);
    expect(
      audit.some((e) => e.action === 'remove-post' && e.target === noteId && e.actorId === mod.actorId),
    ).to.equal(true);
  });

  it("a non-moderator's Block and commands change nothing", async function () {
    const { name, group } = await moderatedGroup();
    const block = {
      '@context': AS,
      id: `${bob.actorId}/blocks/${randomUUID()}`,
      type: 'Block',
      actor: bob.actorId,
      object: alice.actorId,
      target: group,
      to: [PUBLIC],
      cc: [group],
    };
    await bob.sendRaw(`${group}/inbox`, block);
    await g.processed(block.id);
    const { createId } = await command(bob, group, `ban ${alice.actorId}`);
    await bob.waitFor(dmContaining(group, 'Only moderators'), { what: 'a refusal by DM' });
    await g.processed(createId);
    expect(await g.store.bans.getActiveBan(name, alice.actorId, Date.now())).to.equal(null);
    expect((await g.store.members.getMember(name, alice.actorId))?.state).to.equal('accepted');
  });

  it('a remote moderator bans a member with a signed Block; their posts are then dropped', async function () {
    const { name, group } = await moderatedGroup();
    const block = {
      '@context': AS,
      id: `${mod.actorId}/blocks/${randomUUID()}`,
      type: 'Block',
      actor: mod.actorId,
      object: bob.actorId,
      target: group,
      summary: 'spam',
      to: [PUBLIC],
      cc: [group],
    };
    expect((await mod.sendRaw(`${group}/inbox`, block)).status).to.equal(202);
    await g.processed(block.id);
    expect(await g.store.bans.getActiveBan(name, bob.actorId, Date.now())).to.not.equal(null);
    expect(await g.store.members.getMember(name, bob.actorId)).to.equal(null);
    await alice.waitFor(wrapsType(group, 'Block'), { what: 'Announce{Block}' });
    const { createId, noteId } = await bob.post({ to: [group], content: '<p>still here</p>' });
    await g.processed(createId);
    expect(await g.store.posts.getPost(name, noteId)).to.equal(null);
    // A banned user's Follow is rejected.
    const followId = await bob.follow(group);
    await bob.waitFor(
      (a) => a.type === 'Reject' && a.actorId === group && JSON.stringify(a.json).includes(followId),
      { what: 'Reject of the Follow' },
    );
  });

  it('a moderator unbans and bans again by DM command, and gets answers by DM', async function () {
    const { name, group } = await moderatedGroup();
    const banned = await g.guild.services.moderation.ban(name, bob.actorId, {
      by: mod.actorId,
      reason: 'spam',
    });
    expect(banned).to.deep.equal({ ok: true, value: true });
    await command(mod, group, `unban ${bob.actorId}`);
    await mod.waitFor(dmContaining(group, 'Unbanned'), { what: 'unban answer' });
    expect(await g.store.bans.getActiveBan(name, bob.actorId, Date.now())).to.equal(null);
    await command(mod, group, `ban ${bob.handle} 1d being rude`);
    await mod.waitFor(dmContaining(group, 'Banned'), { what: 'ban answer' });
    const ban = await g.store.bans.getActiveBan(name, bob.actorId, Date.now());
    expect(ban?.reason).to.equal('being rude');
    expect(ban?.expiresAt).to.be.within(Date.now() + 86_000_000, Date.now() + 86_500_000);
    await command(mod, group, 'help');
    await mod.waitFor(dmContaining(group, 'approve-post'), { what: 'help answer' });
  });

  it('a Flag reaches every moderator by DM and is resolved by command', async function () {
    const { name, group } = await moderatedGroup();
    const { createId, noteId } = await alice.post({ to: [group], content: '<p>borderline</p>' });
    await g.processed(createId);
    const flag = {
      '@context': AS,
      id: `${bob.actorId}/flags/${randomUUID()}`,
      type: 'Flag',
      actor: bob.actorId,
      object: [alice.actorId, noteId],
      content: 'rude',
      to: [group],
    };
    expect((await bob.sendRaw(`${group}/inbox`, flag)).status).to.equal(202);
    const dm = await mod.waitFor(dmContaining(group, 'New report'), { what: 'report DM to the moderator' });
    const id = /report ([0-9a-f]{12})/.exec(JSON.stringify(dm.json))?.[1];
    expect(id).to.be.a('string');
    const [report] = await g.store.reports.listReports(name, 'open', null, 10);
    expect(report).to.include({ id, reporterId: bob.actorId, targetActorId: alice.actorId, reason: 'rude' });
    await command(mod, group, `resolve ${id}`);
    await mod.waitFor(dmContaining(group, 'resolved'), { what: 'resolve answer' });
    expect((await g.store.reports.getReport(id!))?.state).to.equal('resolved');
  });

  it('a moderator appoints and removes another moderator, and reads the log, by DM', async function () {
    const { name, group } = await moderatedGroup();
    await command(mod, group, `mod ${alice.actorId}`);
    await mod.waitFor(dmContaining(group, 'is now a moderator'), { what: 'mod answer' });
    expect(await g.store.moderators.isModerator(name, alice.actorId)).to.equal(true);
    await command(mod, group, 'log');
    await mod.waitFor(dmContaining(group, 'add-moderator'), { what: 'the log by DM' });
    await command(mod, group, `unmod ${alice.actorId}`);
    await mod.waitFor(dmContaining(group, 'no longer a moderator'), { what: 'unmod answer' });
    expect(await g.store.moderators.isModerator(name, alice.actorId)).to.equal(false);
  });

  it('pre-moderation holds a first post until a moderator approves it', async function () {
    const { name, group } = await moderatedGroup();
    const s = await g.guild.services.settings.update(name, { premoderateFirstPosts: 1 });
    expect(s.ok, JSON.stringify(s)).to.equal(true);
    const carol = await startFedifyPeer({ username: 'carol' });
    try {
      await carol.follow(group);
      await carol.waitFor((a) => a.type === 'Accept' && a.actorId === group, { what: 'Accept' });
      const { createId, noteId } = await carol.post({ to: [group], content: '<p>hello, first post</p>' });
      await g.processed(createId);
      expect(await g.store.posts.getPost(name, noteId)).to.equal(null);
      expect(await g.store.held.getHeldPost(name, noteId)).to.not.equal(null);
      await mod.waitFor(dmContaining(group, 'waits for approval'), { what: 'held-post DM' });
      await command(mod, group, `approve-post ${noteId}`);
      await alice.waitFor((a) => a.type === 'Announce' && JSON.stringify(a.json).includes(createId), {
        what: 'the approved post',
      });
      expect(await g.store.held.getHeldPost(name, noteId)).to.equal(null);
    } finally {
      await carol.close();
    }
  });
});

describe('instance-level domain block', function () {
  this.timeout(30_000);
  let g: TestGuild;
  let evil: RawActor;
  let group: string;

  before(async function () {
    g = await startTestGuild();
    group = await g.createGroup('open');
    evil = await startRawActor('spammer', { host: '127.0.0.2' });
    const follow = {
      '@context': AS,
      id: `${evil.actorId}/follows/1`,
      type: 'Follow',
      actor: evil.actorId,
      object: group,
    };
    expect((await evil.post(`${group}/inbox`, follow)).status).to.equal(202);
    await g.processed(follow.id);
    expect(await g.store.members.getMember('open', evil.actorId)).to.not.equal(null);
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await g?.close();
    await evil?.close();
  });

  it("removes the domain's members and refuses its activities without fetching anything", async function () {
    const blocked = await g.guild.services.instance.blockDomain('127.0.0.2', 'spam');
    expect(blocked.ok && blocked.value.removedMembers).to.equal(1);
    const seen = evil.requests.length;
    const note = {
      '@context': AS,
      id: `${evil.actorId}/c/1`,
      type: 'Create',
      actor: evil.actorId,
      object: {
        id: `${evil.actorId}/n/1`,
        type: 'Note',
        attributedTo: evil.actorId,
        content: 'x',
        to: [PUBLIC],
        cc: [group],
      },
    };
    const res = await evil.post(`${group}/inbox`, note);
    expect(res.status).to.equal(403);
    expect(evil.requests.slice(seen)).to.deep.equal([]);
    expect(await g.store.members.getMember('open', evil.actorId)).to.equal(null);
  });

  it('drops deliveries to the blocked domain', async function () {
    const blocked = await g.guild.services.instance.blockDomain('127.0.0.2', 'spam');
    expect(blocked.ok, JSON.stringify(blocked)).to.equal(true);
    const t = Date.now();
    await g.store.members.upsertMember({
      groupName: 'open',
      actorId: evil.actorId,
      inbox: `${evil.actorId}/inbox`,
      sharedInbox: null,
      deliveryInbox: `${evil.actorId}/inbox`,
      state: 'accepted',
      followId: null,
      createdAt: t,
      updatedAt: t,
    });
    const id = g.guild.services.urls.activity('open', randomUUID());
    await g.guild.services.publisher.publishToMembers(
      'open',
      { '@context': AS, id, type: 'Announce', actor: group, object: `${group}/x` },
      { inOutbox: false, objectId: null },
    );
    const { deliveryJobId } = await import('../../src/federation/publisher.ts');
    const job = await waitUntil(
      async () => {
        const j = await g.store.jobs.getJob(deliveryJobId(id, `${evil.actorId}/inbox`));
        return j && j.state !== 'queued' ? j : undefined;
      },
      { what: 'the delivery to be decided' },
    );
    expect(job.state).to.equal('failed');
    expect(job.lastError).to.contain('blocked');
    expect(evil.inbox.filter((p) => JSON.stringify(p.body).includes(id))).to.deep.equal([]);
  });
});
