/**
 * What one member or outsider can make a group do, end to end with independent Fedify peers: a member's 300
 * Likes of one post are announced once, a Like carrying a forged copy of a post is re-shared with the post
 * reduced to its id, a banned member's edit is neither re-shared nor shown on the group page, 20 Flags from an
 * outsider are one report and one message to each moderator, an outsider's flood of direct messages gets a
 * bounded number of answers; the admin API and DM commands that take a handle answer with the actor id it
 * was found to be.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer, type ReceivedActivity } from '../support/fedify-peer.ts';
import { TOKEN, adminApi } from '../support/admin-api.ts';

const AS = 'https://www.w3.org/ns/activitystreams';

const wrapsType = (type: string) => (a: ReceivedActivity) =>
  a.type === 'Announce' && (a.json.object as { type?: string } | undefined)?.type === type;

describe('brakes on what one member or outsider makes a group do', function () {
  this.timeout(600_000);
  let g: TestGuild;
  let alice: FedifyPeer;
  let bob: FedifyPeer;
  let group: string;

  before(async function () {
    g = await startTestGuild({ GUILD_ADMIN_TOKEN: TOKEN });
    group = await g.createGroup('brakes');
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

  /** A post of alice's in the group, once bob has it. */
  const alicePost = async (content: string): Promise<string> => {
    const { createId, noteId } = await alice.post({ to: [group], content });
    await bob.waitFor((a) => a.type === 'Announce' && JSON.stringify(a.json).includes(createId), {
      what: 'the post',
    });
    return noteId;
  };
  const likeOf = (object: unknown) => ({
    '@context': AS,
    id: `${bob.actorId}/likes/${randomUUID()}`,
    type: 'Like',
    actor: bob.actorId,
    object,
  });
  const announcedLikes = (noteId: string) =>
    alice.received.filter(
      (a) =>
        wrapsType('Like')(a) &&
        JSON.stringify((a.json.object as { object?: unknown }).object).includes(noteId),
    );

  it("announces a member's 300 Likes of one post, each with a new id, once", async function () {
    const noteId = await alicePost('<p>liked a lot</p>');
    const likes = Array.from({ length: 300 }, () => likeOf(noteId));
    for (const like of likes) expect((await bob.sendRaw(`${group}/inbox`, like)).status).to.equal(202);
    for (const like of likes) await g.processed(like.id);
    await g.idle();
    expect(announcedLikes(noteId)).to.have.length(1);
    const logged = g.logs.filter((l) => l.includes('already has a Like')).length;
    expect(logged).to.equal(299);
  });

  it('re-shares a Like carrying a forged copy of a post with the post reduced to its id', async function () {
    const noteId = await alicePost('<p>what alice wrote</p>');
    const forged = {
      id: noteId,
      type: 'Note',
      attributedTo: alice.actorId,
      content: '<p>words alice never wrote</p>',
      to: [`${AS}#Public`],
    };
    const like = likeOf(forged);
    expect((await bob.sendRaw(`${group}/inbox`, like)).status).to.equal(202);
    const got = await alice.waitFor(
      (a) => wrapsType('Like')(a) && (a.json.object as { id?: string }).id === like.id,
      { what: 'Announce{Like}' },
    );
    expect((got.json.object as { object?: unknown }).object).to.equal(noteId);
    expect(JSON.stringify(alice.received.map((a) => a.json))).not.to.contain('never wrote');
  });

  it("neither re-shares a banned member's edit nor shows it on the group page", async function () {
    const carol = await startFedifyPeer({ username: 'carol' });
    try {
      await carol.follow(group);
      await carol.waitFor((a) => a.type === 'Accept', { what: 'Accept' });
      const { createId, noteId } = await carol.post({ to: [group], content: '<p>an honest post</p>' });
      await bob.waitFor((a) => a.type === 'Announce' && JSON.stringify(a.json).includes(createId), {
        what: 'the post',
      });
      const banned = await g.guild.services.moderation.ban('brakes', carol.actorId, { by: 'admin' });
      expect(banned.ok).to.equal(true);
      const update = {
        '@context': AS,
        id: `${carol.actorId}/updates/${randomUUID()}`,
        type: 'Update',
        actor: carol.actorId,
        object: {
          id: noteId,
          type: 'Note',
          attributedTo: carol.actorId,
          content: '<p>BUY CHEAP PILLS</p>',
          to: [`${AS}#Public`],
          cc: [group],
          tag: [{ type: 'Mention', href: group }],
        },
        to: [`${AS}#Public`],
        cc: [group],
      };
      expect((await carol.sendRaw(`${group}/inbox`, update)).status).to.equal(202);
      await g.processed(update.id);
      await g.idle();
      expect(JSON.stringify(bob.received.map((a) => a.json))).not.to.contain('CHEAP PILLS');
      const html = await (await fetch(group, { headers: { accept: 'text/html' } })).text();
      expect(html).to.contain('an honest post');
      expect(html).not.to.contain('CHEAP PILLS');
      expect(g.logs.some((l) => l.includes(update.id) && l.includes('is banned from brakes'))).to.equal(true);
    } finally {
      await carol.close();
    }
  });

  it('files 20 Flags of one post from an outsider once and tells the moderator in one message', async function () {
    const [mod, eve] = await Promise.all([
      startFedifyPeer({ username: 'mod' }),
      startFedifyPeer({ username: 'eve' }),
    ]);
    try {
      const added = await g.guild.services.moderation.addModerator('brakes', mod.actorId, { by: 'admin' });
      expect(added.ok).to.equal(true);
      const noteId = await alicePost('<p>reported a lot</p>');
      const flags = Array.from({ length: 20 }, (_, i) => ({
        '@context': AS,
        id: `${eve.actorId}/flags/${randomUUID()}`,
        type: 'Flag',
        actor: eve.actorId,
        object: [alice.actorId, noteId],
        content: `harassment number ${i}`,
      }));
      for (const f of flags) expect((await eve.sendRaw(`${group}/inbox`, f)).status).to.equal(202);
      for (const f of flags) await g.processed(f.id);
      await g.idle();
      const reports = await g.store.reports.listReports('brakes', 'open', null, 100);
      expect(reports.map((r) => [r.reporterId, r.objectIds])).to.deep.equal([[eve.actorId, [noteId]]]);
      const dms = mod.received.filter(
        (a) => a.type === 'Create' && JSON.stringify(a.json.object ?? '').includes('harassment number'),
      );
      expect(dms).to.have.length(1);
      expect(JSON.stringify(dms[0]?.json.object)).to.contain(reports[0]?.id ?? '?');
    } finally {
      await Promise.all([mod.close(), eve.close()]);
    }
  });

  it("answers an outsider's flood of 100 direct messages at most 10 times", async function () {
    const eve = await startFedifyPeer({ username: 'eve' });
    try {
      const dms = Array.from({ length: 100 }, () => {
        const id = randomUUID();
        const object = {
          id: `${eve.actorId}/notes/${id}`,
          type: 'Note',
          attributedTo: eve.actorId,
          content: `<p>@brakes help</p>`,
          to: [group],
          cc: [],
          tag: [{ type: 'Mention', href: group }],
        };
        return {
          '@context': AS,
          id: `${eve.actorId}/creates/${id}`,
          type: 'Create',
          actor: eve.actorId,
          object,
          to: [group],
          cc: [],
        };
      });
      for (const m of dms) expect((await eve.sendRaw(`${group}/inbox`, m)).status).to.equal(202);
      for (const m of dms) await g.processed(m.id);
      await g.idle();
      const answers = eve.received.filter((a) => a.type === 'Create');
      expect(answers).to.have.length(10);
      expect(g.logs.filter((l) => l.includes('not answered: 10 answers went to'))).to.have.length(90);
    } finally {
      await eve.close();
    }
  });

  it('answers with the actor id a handle was found to be, in the admin API and in DM commands', async function () {
    const [mod, dave] = await Promise.all([
      startFedifyPeer({ username: 'mod2' }),
      startFedifyPeer({ username: 'dave' }),
    ]);
    try {
      const api = adminApi(() => g.origin);
      const added = await api('POST', '/groups/brakes/moderators', { body: { actor: mod.actorId } });
      expect(added.status).to.be.oneOf([200, 201]);
      const banned = await api('POST', '/groups/brakes/bans', {
        body: { actor: dave.handle, reason: 'test' },
      });
      expect([banned.status, banned.body.actor]).to.deep.equal([201, dave.actorId]);
      const lifted = await api('DELETE', `/groups/brakes/bans/${encodeURIComponent(dave.handle)}`);
      expect([lifted.status, lifted.body]).to.deep.equal([200, { actor: dave.actorId, removed: true }]);
      const { createId } = await mod.post({
        to: [group],
        visibility: 'direct',
        content: `<p>@brakes ban ${dave.handle} spam</p>`,
      });
      const answer = await mod.waitFor(
        (a) => a.type === 'Create' && JSON.stringify(a.json.object ?? '').includes('Banned'),
        { what: 'the answer to the ban command' },
      );
      expect(JSON.stringify(answer.json.object)).to.contain(`Banned ${dave.handle} (${dave.actorId})`);
      await g.processed(createId);
      expect(await g.store.bans.getActiveBan('brakes', dave.actorId, Date.now())).to.not.equal(null);
    } finally {
      await Promise.all([mod.close(), dave.close()]);
    }
  });
});
