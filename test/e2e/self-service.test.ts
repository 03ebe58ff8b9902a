/**
 * Running groups without an account here, end to end with independent peers: a person on another server
 * creates a group by DM to the Service actor and owns it, signs in with the link it sends by DM, and acts in
 * the dashboard; then the attacks: a reused, expired or made-up link, a form posted without its CSRF token or
 * from another site, a moderator of one group acting on another, a removed moderator's open session, a flood
 * of sign-in requests for one handle.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { askService, DashboardClient, loginPathOf, messageOf } from '../support/dashboard-client.ts';
import { linkHash } from '../../src/groups/sign-in.service.ts';

describe('self-service groups and the dashboard', function () {
  this.timeout(90_000);
  let g: TestGuild;
  let owner: FedifyPeer;
  let other: FedifyPeer;
  let member: FedifyPeer;

  /** Signs `peer` in through a link asked for on the web; returns the client holding the session. */
  const signIn = async (peer: FedifyPeer): Promise<DashboardClient> => {
    const c = new DashboardClient(g.origin);
    const before = peer.received.length;
    const asked = await c.post('/login', { handle: peer.handle });
    expect(asked.status, asked.html).to.equal(200);
    const dm = await peer.waitFor(
      (a) => peer.received.indexOf(a) >= before && messageOf(a).includes('/login/'),
      {
        what: 'the sign-in link',
      },
    );
    const path = loginPathOf(messageOf(dm));
    const used = await c.post(path, {}, { from: path });
    expect(used.status).to.equal(303);
    expect(used.location).to.equal('/dashboard');
    return c;
  };

  before(async function () {
    // All peers share one host and client address here: only the limit per handle is tested.
    g = await startTestGuild({
      GUILD_SIGN_IN_PER_HANDLE: '6',
      GUILD_SIGN_IN_PER_HOST: '1000',
      GUILD_SIGN_IN_PER_CLIENT: '1000',
    });
    [owner, other, member] = await Promise.all([
      startFedifyPeer({ username: 'owner' }),
      startFedifyPeer({ username: 'other' }),
      startFedifyPeer({ username: 'member' }),
    ]);
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await Promise.all([owner?.close(), other?.close(), member?.close()]);
    await g?.close();
  });

  it('creates a group by DM to the Service actor, owned by its creator', async function () {
    const answer = await askService(owner, g.origin, 'create cooking Home cooking', /Created @cooking@/);
    expect(answer).to.include('you own it');
    expect((await g.store.owners.getOwner('cooking'))?.actorId).to.equal(owner.actorId);
    const mods = (await (
      await fetch(`${g.groupUrl('cooking')}/moderators`, { headers: { accept: 'application/activity+json' } })
    ).json()) as { orderedItems: string[] };
    expect(mods.orderedItems[0]).to.equal(owner.actorId);
    const list = await askService(owner, g.origin, 'groups', /cooking/);
    expect(list).to.include('(owner)');
    const refused = await askService(other, g.origin, 'create admin', /taken or reserved/);
    expect(refused).to.include('admin');
  });

  it('signs in from the link; the link works once and is bound to its actor', async function () {
    const c = new DashboardClient(g.origin);
    const before = owner.received.length;
    await c.post('/login', { handle: owner.handle });
    const dm = await owner.waitFor(
      (a) => owner.received.indexOf(a) >= before && messageOf(a).includes('/login/'),
      {
        what: 'the link',
      },
    );
    const path = loginPathOf(messageOf(dm));
    const stored = await g.store.codes.useCode(path.slice('/login/'.length), Date.now());
    expect(stored, 'the token is not stored as such').to.equal(null);
    // Fetching the link (a link preview) does not spend it.
    expect((await c.get(path)).status).to.equal(200);
    const first = await c.post(path, {}, { from: path });
    expect(first.status).to.equal(303);
    const home = await c.get('/dashboard');
    expect(home.html).to.include('data-group="cooking"');
    expect(home.html).to.include(owner.handle);
    // Reused: refused.
    const thief = new DashboardClient(g.origin);
    const again = await thief.post(path, {}, { from: path });
    expect(again.status).to.equal(400);
    expect(thief.cookies.has('guild_session')).to.equal(false);
    // Made up: refused.
    const madeUp = await thief.post('/login/' + 'x'.repeat(43), {}, { from: '/login' });
    expect(madeUp.status).to.equal(400);
    // Expired: a link issued 16 minutes ago is refused.
    const token = 'E'.repeat(43);
    await g.store.codes.putCode({
      hash: linkHash(token),
      purpose: 'sign-in',
      actorId: owner.actorId,
      subject: '',
      createdAt: Date.now() - 16 * 60_000,
      expiresAt: Date.now() - 60_000,
      usedAt: null,
    });
    expect((await thief.post(`/login/${token}`, {}, { from: '/login' })).status).to.equal(400);
    // A session token is not a sign-in link.
    const sessionToken = c.cookies.get('guild_session') ?? '';
    expect((await thief.post(`/login/${sessionToken}`, {}, { from: '/login' })).status).to.equal(400);
  });

  it('refuses a form posted without its CSRF token, or from another site, and changes nothing', async function () {
    const c = await signIn(owner);
    const without = await c.post(
      '/dashboard/groups/cooking/settings',
      { title: 'Hijacked' },
      { csrf: false },
    );
    expect(without.status).to.equal(403);
    const foreign = await c.post(
      '/dashboard/groups/cooking/settings',
      { title: 'Hijacked', membershipPolicy: 'open', postingPolicy: 'members' },
      { from: '/dashboard/groups/cooking/settings', origin: 'https://evil.example' },
    );
    expect(foreign.status).to.equal(403);
    const wrongToken = await c.post(
      '/dashboard/groups/cooking/settings',
      { title: 'Hijacked' },
      { csrf: 'A'.repeat(43) },
    );
    expect(wrongToken.status).to.equal(403);
    expect((await g.guild.services.groups.get('cooking'))?.title).to.equal('Home cooking');
    const page = await c.get('/dashboard/groups/cooking/settings');
    expect(page.status).to.equal(200);
    const csp = (
      await fetch(`${g.origin}/dashboard/groups/cooking/settings`, {
        headers: { cookie: `guild_session=${c.cookies.get('guild_session')}` },
      })
    ).headers.get('content-security-policy');
    expect(csp)
      .to.include("default-src 'none'")
      .and.to.include("form-action 'self'")
      .and.to.include("frame-ancestors 'none'");
  });

  it("a moderator of one group cannot see or change another, nor do the owner's part", async function () {
    await askService(other, g.origin, 'create gardening', /Created @gardening@/);
    const added = await g.guild.services.moderation.addModerator('cooking', other.actorId, {
      by: owner.actorId,
    });
    expect(added.ok).to.equal(true);
    const mod = await signIn(other);
    // Owner of gardening, moderator of cooking: sees both, owns one.
    const home = await mod.get('/dashboard');
    expect(home.html).to.include('data-group="gardening"').and.to.include('data-group="cooking"');
    const ownerClient = await signIn(owner);
    expect((await ownerClient.get('/dashboard/groups/gardening/settings')).status).to.equal(404);
    const token = (await ownerClient.get('/dashboard/groups/cooking/bans')).html;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(token)?.[1] ?? '';
    const attack = await ownerClient.post(
      '/dashboard/groups/gardening/ban',
      { actor: member.actorId },
      { csrf },
    );
    expect(attack.status).to.equal(404);
    expect(await g.store.bans.getActiveBan('gardening', member.actorId, Date.now())).to.equal(null);
    // A moderator cannot appoint moderators, transfer or delete in a group it does not own.
    const appoint = await mod.post(
      '/dashboard/groups/cooking/add-moderator',
      { actor: member.actorId },
      { from: '/dashboard/groups/cooking/moderators' },
    );
    expect(appoint.status).to.equal(403);
    expect(await g.store.moderators.isModerator('cooking', member.actorId)).to.equal(false);
    const removeOwner = await mod.post(
      '/dashboard/groups/cooking/remove-moderator',
      { actor: owner.actorId },
      { from: '/dashboard/groups/cooking/moderators' },
    );
    expect(removeOwner.status).to.equal(403);
    const del = await mod.post(
      '/dashboard/groups/cooking/delete',
      { confirm: 'cooking' },
      { from: '/dashboard/groups/cooking/moderators' },
    );
    expect(del.status).to.equal(403);
    expect(await g.guild.services.groups.get('cooking')).to.not.equal(null);
    // Removed by the owner, the moderator's open session loses the group at once.
    expect((await mod.get('/dashboard/groups/cooking/members')).status).to.equal(200);
    const removed = await ownerClient.post(
      '/dashboard/groups/cooking/remove-moderator',
      { actor: other.actorId },
      { from: '/dashboard/groups/cooking/moderators' },
    );
    expect(removed.status).to.equal(303);
    expect((await mod.get('/dashboard/groups/cooking/members')).status).to.equal(404);
    expect((await mod.get('/dashboard')).html).to.not.include('data-group="cooking"');
    const audit = await g.store.audit.listAudit({ group: 'cooking' }, null, 10);
    expect(audit.some((e) => e.action === 'remove-moderator' && e.actorId === owner.actorId)).to.equal(true);
  });

  it('bad input gets a clear message on the page and changes nothing', async function () {
    const c = await signIn(owner);
    const bad = await c.post(
      '/dashboard/groups/cooking/settings',
      {
        title: '',
        membershipPolicy: 'open',
        postingPolicy: 'members',
        maxGroupMentions: '5',
        maxPostsPerHour: '30',
        premoderateFirstPosts: '0',
        language: 'not a language!',
      },
      { from: '/dashboard/groups/cooking/settings' },
    );
    expect(bad.status).to.equal(400);
    expect(bad.html).to.include('role="alert"').and.to.include('Nothing was changed');
    expect((await g.guild.services.groups.get('cooking'))?.title).to.equal('Home cooking');
    const ban = await c.post(
      '/dashboard/groups/cooking/ban',
      { actor: member.actorId, duration: 'forever' },
      { from: '/dashboard/groups/cooking/bans' },
    );
    expect(ban.status).to.equal(400);
    expect(await g.store.bans.getActiveBan('cooking', member.actorId, Date.now())).to.equal(null);
  });

  it('sign-out ends the session here, and sign-out everywhere ends all of them', async function () {
    const a = await signIn(member);
    const b = await signIn(member);
    const out = await a.post('/logout', {}, { from: '/dashboard' });
    expect(out.status).to.equal(303);
    expect((await a.get('/dashboard')).status).to.equal(303);
    expect((await b.get('/dashboard')).status).to.equal(200);
    const c = await signIn(owner);
    const everywhere = await c.post('/logout/everywhere', {}, { from: '/dashboard' });
    expect(everywhere.status).to.equal(303);
    expect((await c.get('/dashboard')).status).to.equal(303);
  });

  it('a flood of sign-in requests for one handle sends at most the limit of links', async function () {
    const target = await startFedifyPeer({ username: 'target' });
    try {
      const flooder = new DashboardClient(g.origin);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++)
        statuses.push((await flooder.post('/login', { handle: target.handle }, { from: '/login' })).status);
      expect(statuses.filter((s) => s === 200)).to.have.length(6);
      expect(statuses.slice(6)).to.deep.equal([429, 429, 429, 429]);
      await g.idle();
      const links = target.received.filter((a) => messageOf(a).includes('/login/'));
      expect(links).to.have.length(6);
      const limited = await flooder.post('/login', { handle: target.handle }, { from: '/login' });
      expect(limited.html).to.include('Too many sign-in links');
    } finally {
      await target.close();
    }
  });

  it('answers alike whether or not a handle has groups here', async function () {
    const page = async (peer: FedifyPeer): Promise<string> => {
      const r = await new DashboardClient(g.origin).post(
        '/login',
        { handle: peer.handle },
        { from: '/login' },
      );
      expect(r.status).to.equal(200);
      return r.html.replaceAll(peer.handle, 'HANDLE');
    };
    expect(await g.store.moderators.listGroupsOfModerator(owner.actorId, null, 1)).to.have.length(1);
    expect(await g.store.moderators.listGroupsOfModerator(member.actorId, null, 1)).to.have.length(0);
    expect(await page(owner)).to.equal(await page(member));
  });

  it('a transfer by DM makes the new owner, first in the moderators collection', async function () {
    await askService(owner, g.origin, 'create baking', /Created @baking@/);
    expect(
      (await g.guild.services.moderation.addModerator('baking', other.actorId, { by: owner.actorId })).ok,
    ).to.equal(true);
    const answer = await askService(
      owner,
      g.origin,
      `transfer baking ${other.handle}`,
      /now owns|Only the owner|not find/,
    );
    expect(answer).to.include('now owns');
    const mods = (await (
      await fetch(`${g.groupUrl('baking')}/moderators`, { headers: { accept: 'application/activity+json' } })
    ).json()) as { orderedItems: string[] };
    expect(mods.orderedItems).to.deep.equal([other.actorId, owner.actorId]);
  });
});
