/**
 * Moving a group and making it follow another, by its owner and moderators on other servers, end to end: from
 * the dashboard (the "Moves and follows" section, the export download) and by direct message to the Service
 * actor. Only the owner moves a group or downloads its export; moderators make it follow other groups. Two Guild
 * instances on loopback, people on fedify peers; each test makes its own groups.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { askService, DashboardClient, loginPathOf, messageOf } from '../support/dashboard-client.ts';
import { waitUntil } from '../support/net.ts';
import { decodeGroupExport } from '../../src/groups/group-export.ts';

describe('moves and group follows by owners and moderators', function () {
  this.timeout(120_000);
  let a: TestGuild;
  let b: TestGuild;
  let owner: FedifyPeer;
  let mod: FedifyPeer;
  let member: FedifyPeer;

  const signIn = async (peer: FedifyPeer): Promise<DashboardClient> => {
    const c = new DashboardClient(a.origin);
    const before = peer.received.length;
    expect((await c.post('/login', { handle: peer.handle })).status).to.equal(200);
    const dm = await peer.waitFor(
      (x) => peer.received.indexOf(x) >= before && messageOf(x).includes('/login/'),
      { what: 'the sign-in link' },
    );
    const path = loginPathOf(messageOf(dm));
    expect((await c.post(path, {}, { from: path })).status).to.equal(303);
    return c;
  };

  /** A group on `a` created by DM by the owner, with `mod` as moderator and `member` as member. */
  const groupOf = async (name: string): Promise<string> => {
    await askService(owner, a.origin, `create ${name}`, new RegExp(`Created @${name}@`));
    const added = await a.guild.services.moderation.addModerator(name, mod.actorId, { by: owner.actorId });
    expect(added.ok).to.equal(true);
    const url = a.groupUrl(name);
    await member.follow(url);
    await member.waitFor((x) => x.type === 'Accept' && x.actorId === url, { what: `Accept of ${name}` });
    return url;
  };

  /** Exports `name` on `a` and imports it on `b`; returns the new group's handle. */
  const copied = async (name: string): Promise<string> => {
    const file = await a.guild.services.moves.exportGroup(name);
    if (!file.ok) throw new Error('export failed');
    const imported = await b.guild.services.moves.importGroup(file.value);
    if (!imported.ok) throw new Error(JSON.stringify(imported.error));
    return `@${name}@${new URL(b.origin).host}`;
  };

  before(async function () {
    const limits = {
      GUILD_SIGN_IN_PER_HANDLE: '100',
      GUILD_SIGN_IN_PER_HOST: '1000',
      GUILD_SIGN_IN_PER_CLIENT: '1000',
    };
    [a, b] = await Promise.all([startTestGuild(limits), startTestGuild()]);
    [owner, mod, member] = await Promise.all([
      startFedifyPeer({ username: 'owner' }),
      startFedifyPeer({ username: 'mod' }),
      startFedifyPeer({ username: 'member' }),
    ]);
  });
  afterEach(function () {
    printLogsOnFailure(this, [a, b]);
  });
  after(async function () {
    await Promise.all([owner?.close(), mod?.close(), member?.close()]);
    await Promise.all([a?.close(), b?.close()]);
  });

  it('from the dashboard: only the owner downloads the export and moves; members are sent Move', async function () {
    const oldGroup = await groupOf('club');
    const [ownerClient, modClient] = [await signIn(owner), await signIn(mod)];
    const section = '/dashboard/groups/club/links';
    expect((await modClient.get(section)).html).to.include('Only the owner moves the group');
    expect((await modClient.get('/dashboard/groups/club/export.json')).status).to.equal(404);
    const download = await ownerClient.get('/dashboard/groups/club/export.json');
    expect(download.status).to.equal(200);
    const file = decodeGroupExport(JSON.parse(download.html));
    if (!file.ok) throw new Error(JSON.stringify(file.error));
    expect(file.value.owners).to.deep.equal([owner.actorId]);
    expect(file.value.members.map((m) => m.actorId)).to.include(member.actorId);
    const imported = await b.guild.services.moves.importGroup(file.value);
    if (!imported.ok) throw new Error(JSON.stringify(imported.error));
    expect((await b.store.owners.getOwner('club'))?.actorId).to.equal(owner.actorId);
    const handle = `@club@${new URL(b.origin).host}`;

    const refused = await modClient.post(
      '/dashboard/groups/club/move',
      { target: handle },
      { from: section },
    );
    expect(refused.status).to.equal(403);
    expect((await a.store.moves.getMoveState('club')).movedTo).to.equal(null);
    const moved = await ownerClient.post(
      '/dashboard/groups/club/move',
      { target: handle },
      { from: section },
    );
    expect(moved.status, moved.html).to.equal(303);
    expect((await a.store.moves.getMoveState('club')).movedTo).to.equal(b.groupUrl('club'));
    const move = await member.waitFor((x) => x.type === 'Move' && x.actorId === oldGroup, {
      what: 'the Move',
    });
    expect(move.json).to.deep.include({ object: oldGroup, target: b.groupUrl('club') });
    const page = await ownerClient.get(section);
    expect(page.html).to.include('id="moved-to"').and.include(b.groupUrl('club'));
  });

  it('from the dashboard: a moderator makes the group follow another and unfollow it', async function () {
    await groupOf('garden');
    const news = await b.createGroup('news');
    const modClient = await signIn(mod);
    const section = '/dashboard/groups/garden/links';
    const handle = `@news@${new URL(b.origin).host}`;
    const bad = await modClient.post(
      '/dashboard/groups/garden/follow',
      { target: 'nobody' },
      { from: section },
    );
    expect(bad.status).to.equal(400);
    expect(bad.html).to.include('Nothing was changed');
    const sent = await modClient.post(
      '/dashboard/groups/garden/follow',
      { target: handle },
      { from: section },
    );
    expect(sent.status, sent.html).to.equal(303);
    await waitUntil(
      async () => (await a.store.groupFollows.getGroupFollow('garden', news))?.state === 'accepted',
      { what: 'the Accept of the group follow' },
    );
    expect((await modClient.get(section)).html)
      .to.include(news)
      .and.include('(following)');
    const settings = (await modClient.get('/dashboard/groups/garden/settings')).html;
    expect(settings).to.include('name="acceptGroupFollowers"');
    const undone = await modClient.post(
      '/dashboard/groups/garden/unfollow',
      { target: news },
      { from: section },
    );
    expect(undone.status).to.equal(303);
    expect(await a.store.groupFollows.getGroupFollow('garden', news)).to.equal(null);
    const audit = await a.store.audit.listAudit({ group: 'garden' }, null, 10);
    expect(audit.filter((e) => e.actorId === mod.actorId).map((e) => e.action)).to.include.members([
      'follow-group',
      'unfollow-group',
    ]);
  });

  it('by DM to the Service actor: the owner moves the group, a moderator may not', async function () {
    await groupOf('books');
    const handle = await copied('books');
    const refused = await askService(mod, a.origin, `move !books ${handle}`, /Not moved/);
    expect(refused).to.include('owner');
    expect((await a.store.moves.getMoveState('books')).movedTo).to.equal(null);
    const done = await askService(owner, a.origin, `move !books ${handle}`, /Moving to/);
    expect(done).to.include(b.groupUrl('books'));
    expect((await a.store.moves.getMoveState('books')).movedTo).to.equal(b.groupUrl('books'));
    await member.waitFor((x) => x.type === 'Move' && x.actorId === a.groupUrl('books'), { what: 'the Move' });
  });
});
