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
import { rawStoreOccurrences } from '../support/raw-store.ts';
import {
  CONTENT_SECURITY_POLICY,
  PUBLIC_CONTENT_SECURITY_POLICY,
} from '../../src/web/dashboard/web-security.ts';

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

  /**
   * The groups the tests share, each created by DM by its owner the first time a test needs it, so that every
   * test passes alone and in any order.
   */
  const ensureGroup = async (name: string, by: FedifyPeer, title = ''): Promise<void> => {
    if (await g.guild.services.groups.get(name)) return;
    await askService(by, g.origin, `create ${name} ${title}`.trim(), new RegExp(`Created @${name}@`));
  };
  const cooking = () => ensureGroup('cooking', owner, 'Home cooking');

  before(async function () {
    // All peers share one host and client address here: only the limit per handle is tested.
    g = await startTestGuild({
      GUILD_SIGN_IN_PER_HANDLE: '12',
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
    const answer = await askService(owner, g.origin, 'create soups Soups', /Created @soups@/);
    expect(answer).to.include('you own it');
    expect((await g.store.owners.getOwner('soups'))?.actorId).to.equal(owner.actorId);
    const mods = (await (
      await fetch(`${g.groupUrl('soups')}/moderators`, { headers: { accept: 'application/activity+json' } })
    ).json()) as { orderedItems: string[] };
    expect(mods.orderedItems[0]).to.equal(owner.actorId);
    const list = await askService(owner, g.origin, 'groups', /soups/);
    expect(list).to.include('(owner)');
    const refused = await askService(other, g.origin, 'create admin', /taken or reserved/);
    expect(refused).to.include('admin');
  });

  it('signs in from the link; the link works once and is bound to its actor', async function () {
    await cooking();
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

  it('never writes a sign-in token or a deletion code in clear; the copy kept of the message omits it', async function () {
    await cooking();
    const c = new DashboardClient(g.origin);
    const before = owner.received.length;
    expect((await c.post('/login', { handle: owner.handle })).status).to.equal(200);
    const dm = await owner.waitFor(
      (a) => owner.received.indexOf(a) >= before && messageOf(a).includes('/login/'),
      { what: 'the link' },
    );
    const path = loginPathOf(messageOf(dm));
    const byDm = loginPathOf(await askService(owner, g.origin, 'login', /\/login\//));
    const del = await askService(owner, g.origin, 'delete cooking', /within 15 minutes/);
    const code = /delete cooking ([A-Z0-9]{8})/.exec(del)?.[1] ?? '';
    expect(code).to.have.length(8);
    expect((await c.post(path, {}, { from: path })).status).to.equal(303);
    await g.idle();
    const where = g.storeOptions;
    if (!where) throw new Error('the test store has no location');
    for (const secret of [path.slice(7), byDm.slice(7), code])
      expect(await rawStoreOccurrences(where, secret), `where ${secret} is`).to.deep.equal([]);
    // The same search finds what is there: the copy kept of each message, which says the secret is not kept.
    expect(await rawStoreOccurrences(where, 'it is not kept')).to.not.deep.equal([]);
    const kept = await g.store.activities.getActivity(String(dm.json.id));
    expect(kept?.json).to.include('it is not kept').and.to.not.include(path);
    // Served only to its addressee: an unsigned fetch of the kept copy gets nothing.
    const res = await fetch(String(dm.json.id), { headers: { accept: 'application/activity+json' } });
    expect(res.status).to.equal(404);
  });

  it('refuses a form posted without its CSRF token, or from another site, and changes nothing', async function () {
    await cooking();
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
    await cooking();
    await ensureGroup('gardening', other);
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

  it('every response, page or error, carries the strict Content-Security-Policy; no page needs inline code', async function () {
    await cooking();
    for (const csp of [CONTENT_SECURITY_POLICY, PUBLIC_CONTENT_SECURITY_POLICY])
      expect(csp)
        .to.include("default-src 'none'")
        .and.to.include("script-src 'self'")
        .and.to.include("style-src 'self'")
        .and.to.include("frame-ancestors 'none'")
        .and.to.not.include('unsafe-');
    // Sign-in and dashboard forms post here only; a public page's form may lead to the person's server.
    expect(CONTENT_SECURITY_POLICY).to.include("form-action 'self';");
    expect(PUBLIC_CONTENT_SECURITY_POLICY).to.include("form-action 'self' https:;");
    const c = await signIn(owner);
    const html = { accept: 'text/html' };
    const requests: Array<[string, Record<string, string>, number]> = [
      ['/', html, 200],
      ['/?q=cooking', html, 200],
      ['/groups/cooking', html, 200],
      ['/join?server=', html, 400],
      ['/login', html, 200],
      ['/login/' + 'x'.repeat(43), html, 200],
      ['/dashboard', html, 303],
      ['/no/such/page', html, 404],
      ['/media/0000.png', html, 404],
      ['/static/guild.css', {}, 200],
      ['/actor', { accept: 'application/activity+json' }, 200],
    ];
    for (const path of ['/dashboard', '/dashboard/groups/cooking', '/dashboard/groups/nope'])
      requests.push([path, { ...html, cookie: `guild_session=${c.cookies.get('guild_session')}` }, 0]);
    for (const [path, headers, status] of requests) {
      const res = await fetch(`${g.origin}${path}`, { headers, redirect: 'manual' });
      if (status !== 0) expect(res.status, path).to.equal(status);
      const strict = path.startsWith('/login') || path.startsWith('/dashboard');
      expect(res.headers.get('content-security-policy'), path).to.equal(
        strict ? CONTENT_SECURITY_POLICY : PUBLIC_CONTENT_SECURITY_POLICY,
      );
      expect(res.headers.get('x-content-type-options'), path).to.equal('nosniff');
      expect(res.headers.get('referrer-policy'), path).to.equal('same-origin');
      expect(res.headers.get('x-frame-options'), path).to.equal('DENY');
      const body = await res.text();
      if (!(res.headers.get('content-type') ?? '').startsWith('text/html')) continue;
      // What the policy would block: inline scripts, event-handler attributes, inline styles.
      expect(body, path).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(body, path).to.not.match(/\son[a-z]+\s*=/i);
      expect(body, path).to.not.match(/<style|\sstyle\s*=/i);
    }
  });

  it('bad input gets a clear message on the page and changes nothing', async function () {
    await cooking();
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
      for (let i = 0; i < 14; i++)
        statuses.push((await flooder.post('/login', { handle: target.handle }, { from: '/login' })).status);
      expect(statuses.filter((s) => s === 200)).to.have.length(12);
      expect(statuses.slice(12)).to.deep.equal([429, 429]);
      await g.idle();
      const links = target.received.filter((a) => messageOf(a).includes('/login/'));
      expect(links).to.have.length(12);
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
    await cooking();
    expect(await g.store.moderators.listGroupsOfModerator(owner.actorId, null, 1)).to.have.length(1);
    expect(await g.store.moderators.listGroupsOfModerator(member.actorId, null, 1)).to.have.length(0);
    expect(await page(owner)).to.equal(await page(member));
  });

  it('a ban takes the group from an open session at once; banned from all it would run, no sign-in, answered alike', async function () {
    await cooking();
    const banned = await startFedifyPeer({ username: 'banned' });
    try {
      const added = await g.guild.services.moderation.addModerator('cooking', banned.actorId, {
        by: owner.actorId,
      });
      expect(added.ok).to.equal(true);
      const mod = await signIn(banned);
      expect((await mod.get('/dashboard/groups/cooking/members')).status).to.equal(200);
      const ban = await g.guild.services.moderation.ban('cooking', banned.actorId, {
        by: 'admin',
        reason: 'abuse',
      });
      expect(ban.ok).to.equal(true);
      // No group left to run and banned: the session is over, the group gone with it.
      expect((await mod.get('/dashboard/groups/cooking/members')).status).to.equal(303);
      expect((await mod.get('/dashboard')).status).to.equal(303);
      const page = async (peer: FedifyPeer): Promise<{ status: number; html: string }> => {
        const r = await new DashboardClient(g.origin).post(
          '/login',
          { handle: peer.handle },
          { from: '/login' },
        );
        return { status: r.status, html: r.html.replaceAll(peer.handle, 'HANDLE') };
      };
      const before = banned.received.length;
      expect(await page(banned)).to.deep.equal(await page(member));
      await g.idle();
      const links = banned.received.slice(before).filter((a) => messageOf(a).includes('/login/'));
      expect(links).to.deep.equal([]);
      const refused = g.logs.filter((l) => l.includes('sign-in link refused') && l.includes(banned.actorId));
      expect(refused.some((l) => l.includes('"reason":"banned"'))).to.equal(true);
    } finally {
      await banned.close();
    }
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
