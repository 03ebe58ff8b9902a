/**
 * The admin API's routes for moving a group and for groups following groups, between two Guild instances on
 * loopback: export from one, import on the other (a bad file refused with every problem), move, follow.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { adminApi, TOKEN } from '../support/admin-api.ts';
import { waitUntil } from '../support/net.ts';

describe('admin API: moves and group follows', function () {
  this.timeout(60_000);
  let i1: TestGuild;
  let i2: TestGuild;
  const api1 = adminApi(() => i1.origin);
  const api2 = adminApi(() => i2.origin);

  before(async function () {
    [i1, i2] = await Promise.all([
      startTestGuild({ GUILD_ADMIN_TOKEN: TOKEN }),
      startTestGuild({ GUILD_ADMIN_TOKEN: TOKEN }),
    ]);
    await i1.createGroup('club', { title: 'The Club' });
  });
  afterEach(function () {
    printLogsOnFailure(this, [i1, i2]);
  });
  after(async function () {
    await Promise.all([i1?.close(), i2?.close()]);
  });

  it('exports, refuses a bad file with every problem, imports, and moves', async function () {
    const exported = await api1('GET', '/groups/club/export');
    expect(exported.status).to.equal(200);
    expect(exported.headers.get('content-disposition')).to.contain('club.guild-export.json');
    expect(exported.body).to.include({ format: 'guild-group-export', version: 1 });

    const bad = await api2('POST', '/groups/import', {
      body: { ...exported.body, group: { ...(exported.body.group as object), title: '' }, members: 'all' },
    });
    expect(bad.status).to.equal(400);
    expect((bad.body.problems as Array<{ path: string }>).map((p) => p.path)).to.deep.equal([
      'group.title',
      'members',
    ]);
    expect(await i2.store.groups.getGroup('club')).to.equal(null);

    const imported = await api2('POST', '/groups/import?name=club2', { body: exported.body });
    expect(imported.status, JSON.stringify(imported.body)).to.equal(201);
    expect(imported.body).to.include({ name: 'club2', priorMembers: 0, resumed: false });
    expect(imported.body.alsoKnownAs).to.deep.equal([i1.groupUrl('club')]);
    expect((await api2('POST', '/groups/import?name=club2', { body: exported.body })).status).to.equal(200);

    const missing = await api1('POST', '/groups/club/move', { body: {} });
    expect(missing.status).to.equal(400);
    const moved = await api1('POST', '/groups/club/move', {
      body: { to: `@club2@${new URL(i2.origin).host}` },
    });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    expect(moved.body).to.deep.equal({ movedTo: i2.groupUrl('club2') });
    const elsewhere = await api1('POST', '/groups/club/move', { body: { to: i2.groupUrl('other') } });
    expect(elsewhere.status).to.equal(409);
  });

  it('makes a group follow another, lists and ends it', async function () {
    await i2.createGroup('readers');
    // A group that takes no group followers (set through the admin API) answers the Follow with Reject.
    await i1.createGroup('closed');
    const set = await api1('PATCH', '/groups/closed/settings', { body: { acceptGroupFollowers: false } });
    expect(set.status, JSON.stringify(set.body)).to.equal(200);
    const target = i1.groupUrl('closed');
    const followed = await api2('POST', '/groups/readers/following', { body: { target } });
    expect(followed.status, JSON.stringify(followed.body)).to.equal(201);
    expect(followed.body).to.include({ target, state: 'pending' });
    await waitUntil(async () => (await i2.store.groupFollows.getGroupFollow('readers', target)) === null, {
      what: 'the Reject of the group that takes no group followers',
    });
    const other = await i1.createGroup('open');
    expect((await api2('POST', '/groups/readers/following', { body: { target: other } })).status).to.equal(
      201,
    );
    await waitUntil(
      async () => (await i2.store.groupFollows.getGroupFollow('readers', other))?.state === 'accepted',
      {
        what: 'the Accept',
      },
    );
    const list = await api2('GET', '/groups/readers/following');
    expect(
      (list.body.items as Array<{ target: string; state: string }>).map((f) => [f.target, f.state]),
    ).to.deep.equal([[other, 'accepted']]);
    const ended = await api2('DELETE', `/groups/readers/following?target=${encodeURIComponent(other)}`);
    expect(ended.status).to.equal(204);
    await waitUntil(async () => (await i1.store.members.getMember('open', i2.groupUrl('readers'))) === null, {
      what: 'the Undo{Follow} at the followed group',
    });
    expect(
      (await api2('DELETE', `/groups/readers/following?target=${encodeURIComponent(other)}`)).status,
    ).to.equal(404);
  });
});
