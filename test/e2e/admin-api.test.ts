/**
 * The admin API over real HTTP on a real Guild: bearer authentication, every resource, bad input refused
 * without changes (the OpenAPI description is checked in admin-api.openapi.test.ts).
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { adminApi, member, TOKEN, type Answer } from '../support/admin-api.ts';

const ALICE = 'https://a.example/users/alice';
const BOB = 'https://b.example/users/bob';
const SPAMMER = 'https://spam.example/users/spammer';

const enc = encodeURIComponent;

describe('admin API', function () {
  this.timeout(60_000);
  let g: TestGuild;

  const api = adminApi(() => g.origin);

  const auditCount = async () => (await g.store.audit.listAudit({ all: true }, null, 1000)).length;

  /** Creates groups for the test, as the admin would have. */
  const groups = async (...names: string[]) => {
    for (const name of names) await g.createGroup(name);
  };
  /** A report in rust and a post held there whose activity is not a post (a held Create that lost its object). */
  const reportAndHeldPost = async () => {
    await g.store.reports.putReport({
      id: 'rep1',
      groupName: 'rust',
      reporterId: BOB,
      targetActorId: ALICE,
      objectIds: [`${ALICE}/posts/1`],
      reason: 'rude',
      flagId: null,
      state: 'open',
      createdAt: 1000,
      resolvedAt: null,
      resolvedBy: null,
    });
    await g.store.held.holdPost({
      groupName: 'rust',
      objectId: `${BOB}/posts/2`,
      authorId: BOB,
      activityJson: JSON.stringify({ type: 'Create', id: `${BOB}/posts/2/create` }),
      reason: 'limited domain',
      createdAt: 2000,
    });
  };

  // A server of its own for every test: none depends on what another left.
  beforeEach(async function () {
    g = await startTestGuild({ GUILD_ADMIN_TOKEN: TOKEN });
  });
  afterEach(async function () {
    printLogsOnFailure(this, [g]);
    await g?.close();
  });

  it('refuses requests without the right bearer token, changing nothing', async function () {
    const attempts: Array<[string | null, Record<string, string>]> = [
      [null, {}],
      ['wrong', {}],
      [`${TOKEN.slice(0, -1)}x`, {}],
      [`${TOKEN}x`, {}],
      [null, { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
      [null, { authorization: 'Bearer' }],
    ];
    for (const [token, headers] of attempts) {
      const r = await api('POST', '/groups', { token, headers, body: { name: 'sneaky' } });
      expect(r.status, JSON.stringify([token, headers])).to.equal(401);
      expect(r.headers.get('www-authenticate')).to.match(/^Bearer\b/);
      expect(r.body.error).to.be.a('string');
    }
    expect((await api('GET', '/groups', { token: 'wrong' })).headers.get('www-authenticate')).to.contain(
      'invalid_token',
    );
    expect(await g.store.groups.getGroup('sneaky')).to.equal(null);
    const ok = await api('GET', '/groups');
    expect(ok.status).to.equal(200);
    expect(ok.headers.get('cache-control')).to.equal('no-store');
  });

  it('creates, lists, shows and deletes groups', async function () {
    const created = await api('POST', '/groups', {
      body: { name: 'rust', title: 'Rustaceans', summary: 'Rust' },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.headers.get('location')).to.equal('/api/v1/admin/groups/rust');
    expect(created.body).to.include({
      name: 'rust',
      title: 'Rustaceans',
      actor: g.groupUrl('rust'),
      members: 0,
    });
    for (const name of ['go', 'zig'])
      expect((await api('POST', '/groups', { body: { name } })).status).to.equal(201);

    const first = await api('GET', '/groups?limit=2');
    expect((first.body.items as Array<{ name: string }>).map((x) => x.name)).to.deep.equal(['go', 'rust']);
    expect(first.body.next).to.be.a('string');
    const second = await api('GET', `/groups?limit=2&after=${enc(String(first.body.next))}`);
    expect((second.body.items as Array<{ name: string }>).map((x) => x.name)).to.deep.equal(['zig']);
    expect(second.body.next).to.equal(null);

    const shown = await api('GET', '/groups/rust');
    expect(shown.status).to.equal(200);
    expect(shown.body.handle).to.equal(`@rust@${g.config.domain}`);
    expect((await api('GET', '/groups/nope')).status).to.equal(404);

    expect((await api('DELETE', '/groups/zig')).status).to.equal(204);
    expect((await api('GET', '/groups/zig')).status).to.equal(404);
    expect((await api('DELETE', '/groups/zig')).status).to.equal(404);
    expect((await api('POST', '/groups', { body: { name: 'zig' } })).status).to.equal(409);
  });

  it('refuses bad group bodies and queries with 400 (or 415), creating nothing', async function () {
    const bad: Array<[Parameters<typeof api>[2], number]> = [
      [{ body: { name: 'Not Valid' } }, 400],
      [{ body: { name: 'ok_name', title: '   ' } }, 400],
      [{ body: { name: 'ok_name', title: 42 } }, 400],
      [{ body: { name: 'ok_name', colour: 'red' } }, 400],
      [{ body: {} }, 400],
      [{ body: ['ok_name'] }, 400],
      [{ raw: '{"name": "ok_name"', headers: { 'content-type': 'application/json' } }, 400],
      [{ raw: 'name=ok_name', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415],
    ];
    for (const [o, status] of bad) {
      const r = await api('POST', '/groups', o);
      expect(r.status, JSON.stringify(o)).to.equal(status);
      expect(r.body.error, JSON.stringify(o)).to.be.a('string');
    }
    expect(await g.store.groups.getGroup('ok_name')).to.equal(null);
    for (const q of ['limit=0', 'limit=501', 'limit=abc', 'after=not-a-cursor', 'limit=1&limit=2'])
      expect((await api('GET', `/groups?${q}`)).status, q).to.equal(400);
    expect((await api('GET', '/nothing-here')).status).to.equal(404);
  });

  it('changes settings, and refuses bad ones without changing anything', async function () {
    await groups('rust');
    const r = await api('PATCH', '/groups/rust/settings', {
      body: {
        title: 'Rust folks',
        membershipPolicy: 'approval',
        tags: ['rust', '#Systems'],
        iconUrl: 'https://cdn.example/i.png',
      },
    });
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    expect(r.body.changed).to.have.members(['title', 'membershipPolicy', 'tags', 'iconUrl']);
    const after = await g.store.groups.getGroup('rust');
    expect(after?.title).to.equal('Rust folks');
    expect(after?.settings).to.include({
      membershipPolicy: 'approval',
      iconUrl: 'https://cdn.example/i.png',
    });
    expect(after?.settings.tags).to.deep.equal(['rust', 'systems']);

    const bodies: unknown[] = [
      { title: 'Fine', sensitive: 'yes' },
      { membershipPolicy: 'closed' },
      { maxGroupMentions: 0 },
      { maxGroupMentions: 1.5 },
      { language: 'not a language' },
      { tags: ['no-dashes'] },
      { iconUrl: 'ftp://cdn.example/i.png' },
      { title: '' },
      { colour: 'red' },
      {},
    ];
    for (const body of bodies) {
      const bad = await api('PATCH', '/groups/rust/settings', { body });
      expect(bad.status, JSON.stringify(body)).to.equal(400);
      expect(bad.body.error, JSON.stringify(body)).to.be.a('string');
    }
    const problems = await api('PATCH', '/groups/rust/settings', { body: { title: '', language: 'x y' } });
    expect((problems.body.problems as Array<{ field: string }>).map((p) => p.field)).to.have.members([
      'title',
      'language',
    ]);
    expect(await g.store.groups.getGroup('rust')).to.deep.equal(after);
    expect((await api('PATCH', '/groups/nope/settings', { body: { title: 'x' } })).status).to.equal(404);
  });

  it('lists, approves and refuses join requests', async function () {
    await groups('rust');
    await g.store.members.upsertMember(member('rust', ALICE, 'pending'));
    await g.store.members.upsertMember(member('rust', BOB, 'pending'));
    const pending = await api('GET', '/groups/rust/pending');
    expect((pending.body.items as Array<{ actor: string }>).map((m) => m.actor)).to.deep.equal([ALICE, BOB]);
    const approved = await api('POST', `/groups/rust/pending/${enc(ALICE)}/approve`);
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(approved.body).to.include({ actor: ALICE, state: 'accepted' });
    expect((await api('POST', `/groups/rust/pending/${enc(ALICE)}/approve`)).status).to.equal(409);
    expect((await api('POST', `/groups/rust/pending/${enc(BOB)}/reject`)).status).to.equal(200);
    expect(await g.store.members.getMember('rust', BOB)).to.equal(null);
    expect((await api('POST', `/groups/rust/pending/${enc(BOB)}/reject`)).status).to.equal(404);
    expect((await api('POST', `/groups/rust/pending/not-an-actor/approve`)).status).to.equal(400);
    expect((await api('GET', '/groups/nope/pending')).status).to.equal(404);
  });

  it('adds, lists and removes moderators', async function () {
    await groups('rust');
    const audits = await auditCount();
    for (const body of [
      {},
      { actor: 42 },
      { actor: 'alice' },
      { actor: 'javascript:alert(1)' },
      { actor: ALICE, x: 1 },
    ])
      expect((await api('POST', '/groups/rust/moderators', { body })).status, JSON.stringify(body)).to.equal(
        400,
      );
    expect(await auditCount()).to.equal(audits);

    const added = await api('POST', '/groups/rust/moderators', { body: { actor: ALICE } });
    expect(added.status).to.equal(201);
    expect(added.body).to.deep.equal({ actor: ALICE, added: true });
    expect((await api('POST', '/groups/rust/moderators', { body: { actor: ALICE } })).status).to.equal(200);
    expect(await auditCount()).to.equal(audits + 1);
    const list = await api('GET', '/groups/rust/moderators');
    expect(list.body.items).to.have.length(1);
    expect((list.body.items as Array<Record<string, unknown>>)[0]).to.include({
      actor: ALICE,
      addedBy: 'admin',
    });

    expect((await api('DELETE', `/groups/rust/moderators/${enc(ALICE)}`)).status).to.equal(204);
    expect(await g.store.moderators.isModerator('rust', ALICE)).to.equal(false);
    expect((await api('DELETE', `/groups/rust/moderators/${enc(ALICE)}`)).status).to.equal(404);
    expect((await api('GET', '/groups/nope/moderators')).status).to.equal(404);
  });

  it('bans and unbans, refusing bad bans', async function () {
    await groups('rust');
    await g.store.members.upsertMember(member('rust', ALICE, 'accepted'));
    const audits = await auditCount();
    const bad: unknown[] = [
      { actor: ALICE, duration: '7x' },
      { actor: ALICE, duration: '7d', expiresAt: '2999-01-01T00:00:00Z' },
      { actor: ALICE, expiresAt: '2000-01-01T00:00:00Z' },
      { actor: ALICE, expiresAt: 'tomorrow' },
      { actor: ALICE, removePosts: 'yes' },
      { actor: ALICE, reason: 'x'.repeat(1001) },
      { reason: 'no actor' },
    ];
    for (const body of bad)
      expect((await api('POST', '/groups/rust/bans', { body })).status, JSON.stringify(body)).to.equal(400);
    expect(await g.store.bans.getActiveBan('rust', ALICE, Date.now())).to.equal(null);
    expect((await g.store.members.getMember('rust', ALICE))?.state).to.equal('accepted');
    expect(await auditCount()).to.equal(audits);

    const banned = await api('POST', '/groups/rust/bans', {
      body: { actor: ALICE, duration: '7d', reason: 'spam' },
    });
    expect(banned.status, JSON.stringify(banned.body)).to.equal(201);
    expect(banned.body.ban).to.include({ actor: ALICE, reason: 'spam', by: 'admin', active: true });
    expect(await g.store.members.getMember('rust', ALICE)).to.equal(null);
    const list = await api('GET', '/groups/rust/bans');
    expect((list.body.items as Array<{ actor: string }>).map((b) => b.actor)).to.deep.equal([ALICE]);

    expect((await api('DELETE', `/groups/rust/bans/${enc(ALICE)}`)).status).to.equal(204);
    expect(await g.store.bans.getActiveBan('rust', ALICE, Date.now())).to.equal(null);
    expect((await api('DELETE', `/groups/rust/bans/${enc(ALICE)}`)).status).to.equal(404);
    expect(await auditCount()).to.equal(audits + 2);
  });

  it('blocks, lists and clears domains', async function () {
    await groups('go');
    await g.store.members.upsertMember(member('go', SPAMMER, 'accepted'));
    await g.store.members.upsertMember(member('go', BOB, 'accepted'));
    const audits = await auditCount();
    for (const [domain, body] of [
      ['spam.example', { policy: 'ban' }],
      ['spam.example', {}],
      ['spam.example', { policy: 'block', extra: true }],
      [enc('https://spam.example'), { policy: 'block' }],
      ['spam.example:443', { policy: 'block' }],
      ['127.0.0.1', { policy: 'block' }],
    ] as const) {
      const r = await api('PUT', `/domains/${domain}`, { body });
      expect(r.status, `${domain} ${JSON.stringify(body)}`).to.equal(400);
    }
    expect(await g.store.domains.listDomainPolicies(null, null, 10)).to.deep.equal([]);
    expect(await auditCount()).to.equal(audits);

    const blocked = await api('PUT', '/domains/spam.example', { body: { policy: 'block', reason: 'spam' } });
    expect(blocked.status, JSON.stringify(blocked.body)).to.equal(201);
    expect(blocked.body).to.include({ domain: 'spam.example', changed: true, removedMembers: 1 });
    expect(await g.store.members.getMember('go', SPAMMER)).to.equal(null);
    expect(await g.store.members.getMember('go', BOB)).to.not.equal(null);
    const again = await api('PUT', '/domains/spam.example', { body: { policy: 'block' } });
    expect(again.status).to.equal(200);
    expect(again.body.changed).to.equal(false);
    expect(await auditCount()).to.equal(audits + 1);

    expect((await api('PUT', '/domains/slow.example', { body: { policy: 'limit' } })).status).to.equal(201);
    const all = await api('GET', '/domains');
    expect((all.body.items as Array<{ domain: string }>).map((p) => p.domain)).to.deep.equal([
      'slow.example',
      'spam.example',
    ]);
    const blocks = await api('GET', '/domains?policy=block');
    expect((blocks.body.items as Array<{ domain: string }>).map((p) => p.domain)).to.deep.equal([
      'spam.example',
    ]);
    expect((await api('GET', '/domains?policy=banned')).status).to.equal(400);
    expect((await api('GET', '/domains/spam.example')).body).to.include({ policy: 'block', reason: 'spam' });

    expect((await api('DELETE', '/domains/slow.example')).status).to.equal(204);
    expect((await api('DELETE', '/domains/slow.example')).status).to.equal(404);
    expect((await api('GET', '/domains/slow.example')).status).to.equal(404);
  });

  it('lists and resolves reports, and lists held posts', async function () {
    await groups('rust', 'go');
    await reportAndHeldPost();
    const open = await api('GET', '/groups/rust/reports');
    expect((open.body.items as Array<{ id: string }>).map((r) => r.id)).to.deep.equal(['rep1']);
    expect((await api('GET', '/groups/rust/reports?state=closed')).status).to.equal(400);
    expect((await api('POST', '/groups/rust/reports/rep1/resolve', { body: { reason: 5 } })).status).to.equal(
      400,
    );
    expect((await g.store.reports.getReport('rep1'))?.state).to.equal('open');

    const resolved = await api('POST', '/groups/rust/reports/rep1/resolve');
    expect(resolved.status, JSON.stringify(resolved.body)).to.equal(200);
    expect(resolved.body.changed).to.equal(true);
    expect((await g.store.reports.getReport('rep1'))?.resolvedBy).to.equal('admin');
    expect((await api('POST', '/groups/rust/reports/rep1/resolve')).body.changed).to.equal(false);
    expect((await api('POST', '/groups/go/reports/rep1/resolve')).status).to.equal(404);
    const done = await api('GET', '/groups/rust/reports?state=resolved');
    expect((done.body.items as Array<{ id: string }>).map((r) => r.id)).to.deep.equal(['rep1']);

    const held = await api('GET', '/groups/rust/held');
    const items = held.body.items as Array<Record<string, unknown>>;
    expect(items).to.have.length(1);
    expect(items[0]).to.include({ object: `${BOB}/posts/2`, author: BOB, reason: 'limited domain' });
    expect(items[0]?.activity).to.deep.equal({ type: 'Create', id: `${BOB}/posts/2/create` });
  });

  it('moderates posts and held posts, and removes members, each recorded', async function () {
    await groups('rust');
    await reportAndHeldPost();
    const postId = `${ALICE}/posts/admin`;
    await g.store.members.upsertMember(member('rust', ALICE, 'accepted'));
    await g.store.posts.putPost({
      objectId: postId,
      groupName: 'rust',
      authorId: ALICE,
      inReplyTo: null,
      threadRoot: postId,
      createId: `${postId}/create`,
      boostId: null,
      createdAt: 1000,
      deletedAt: null,
      removedBy: null,
    });
    const act = (action: string, id = postId) => api('POST', `/groups/rust/posts/${enc(id)}/${action}`);
    for (const [action, changed] of [
      ['pin', true],
      ['pin', false],
      ['lock', true],
      ['unlock', true],
      ['unpin', true],
      ['remove', true],
      ['remove', false],
      ['restore', true],
    ] as const) {
      const r = await act(action);
      expect(r.status, `${action}: ${JSON.stringify(r.body)}`).to.equal(200);
      expect(r.body, action).to.deep.equal({ object: postId, action, changed });
    }
    expect((await act('hide')).status).to.equal(404);
    expect((await act('pin', `${ALICE}/posts/none`)).status).to.equal(404);
    expect((await act('pin', 'not a url')).status).to.equal(400);
    const audit = await g.store.audit.listAudit({ group: 'rust' }, null, 100);
    for (const action of ['pin', 'lock', 'unlock', 'unpin', 'remove-post', 'restore-post'])
      expect(
        audit.filter((e) => e.action === action && e.target === postId),
        action,
      ).to.have.length(1);

    // The held activity is not a post: approving it says why and keeps it; rejecting discards it.
    const held = `${BOB}/posts/2`;
    const approve = await api('POST', `/groups/rust/held/${enc(held)}/approve`);
    expect(approve.status).to.equal(400);
    expect(await g.store.held.getHeldPost('rust', held)).to.not.equal(null);
    const rejected = await api('POST', `/groups/rust/held/${enc(held)}/reject`, { body: { reason: 'spam' } });
    expect(rejected.status, JSON.stringify(rejected.body)).to.equal(200);
    expect(rejected.body).to.deep.equal({ object: held, rejected: true });
    expect(await g.store.held.getHeldPost('rust', held)).to.equal(null);
    expect((await api('POST', `/groups/rust/held/${enc(held)}/reject`)).status).to.equal(404);

    expect((await api('DELETE', `/groups/rust/members/${enc(ALICE)}`)).status).to.equal(204);
    expect(await g.store.members.getMember('rust', ALICE)).to.equal(null);
    expect((await api('DELETE', `/groups/rust/members/${enc(ALICE)}`)).status).to.equal(404);
    const after = await g.store.audit.listAudit({ group: 'rust' }, null, 100);
    expect(
      after.some((e) => e.action === 'reject-post' && e.target === held && e.reason === 'spam'),
    ).to.equal(true);
    expect(after.some((e) => e.action === 'remove-member' && e.target === ALICE)).to.equal(true);
  });

  it('pages through the audit log', async function () {
    await groups('rust', 'zig');
    await reportAndHeldPost();
    await g.store.members.upsertMember(member('rust', ALICE, 'accepted'));
    for (const [method, path, body] of [
      ['POST', '/groups/rust/bans', { actor: ALICE, reason: 'spam' }],
      ['DELETE', `/groups/rust/bans/${enc(ALICE)}`, undefined],
      ['POST', '/groups/rust/moderators', { actor: BOB }],
      ['POST', '/groups/rust/reports/rep1/resolve', undefined],
      ['PUT', '/domains/spam.example', { policy: 'block' }],
      ['DELETE', '/groups/zig', undefined],
    ] as const) {
      const r = await api(method, path, body === undefined ? {} : { body });
      expect(r.status, `${method} ${path}`).to.be.below(300);
    }
    const everything = await g.store.audit.listAudit({ all: true }, null, 1000);
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 100; i++) {
      const r: Answer = await api('GET', `/audit?limit=3${after ? `&after=${enc(after)}` : ''}`);
      expect(r.status).to.equal(200);
      seen.push(...(r.body.items as Array<{ id: string }>).map((e) => e.id));
      after = r.body.next as string | null;
      if (after === null) break;
    }
    expect(seen).to.deep.equal(everything.map((e) => e.id));
    expect(everything.length).to.be.greaterThan(3);
    const rust = await api('GET', '/groups/rust/audit');
    const actions = (rust.body.items as Array<{ action: string; group: string }>).map((e) => e.action);
    expect(actions).to.include.members(['ban', 'unban', 'add-moderator', 'resolve-report']);
    expect((rust.body.items as Array<{ group: string }>).every((e) => e.group === 'rust')).to.equal(true);
    const instance = (await api('GET', '/audit')).body.items as Array<{
      group: string | null;
      action: string;
    }>;
    expect(instance.find((e) => e.action === 'block-domain')?.group).to.equal(null);
    expect((await api('GET', '/groups/zig/audit')).status).to.equal(200);
    expect((await api('GET', '/groups/nope/audit')).status).to.equal(404);
  });
});
