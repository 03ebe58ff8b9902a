/**
 * One directory across instances: two Guild instances on loopback peer with each other (one through the admin
 * API, one through the service the CLI calls); each one's directory and its search then show the other's
 * discoverable groups, marked with their host, created before or after the peering, updated, and gone once
 * deleted, or once the peering ends. Groups that are not discoverable are never listed.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { adminApi, TOKEN } from '../support/admin-api.ts';
import { waitUntil } from '../support/net.ts';

describe('one directory across peered instances', function () {
  this.timeout(120_000);
  let i1: TestGuild;
  let i2: TestGuild;
  /** Started by the handshake test only. */
  let i3: TestGuild | undefined;
  let host1: string;
  let host2: string;
  const api2 = adminApi(() => i2.origin);

  /** The directory of `g` searched for `q`: the `data-group` of each card. */
  const search = async (g: TestGuild, q: string): Promise<string[]> => {
    const html = await (await fetch(`${g.origin}/?${new URLSearchParams({ q })}`)).text();
    return [...html.matchAll(/data-group="([^"]+)"/g)].map((m) => m[1] ?? '');
  };
  const listed = (g: TestGuild, q: string, card: string) =>
    waitUntil(async () => (await search(g, q)).includes(card), {
      what: `${card} in the directory`,
      timeoutMs: 20_000,
    });
  const unlisted = (g: TestGuild, q: string, card: string) =>
    waitUntil(async () => !(await search(g, q)).includes(card), {
      what: `${card} gone from the directory`,
      timeoutMs: 20_000,
    });

  /** Both instances peered (each test that needs it asks, so that each passes alone). */
  const peered = async (): Promise<void> => {
    const both = async () => {
      const [p1, p2] = await Promise.all([
        i1.store.peerings.getPeer(host2),
        i2.store.peerings.getPeer(host1),
      ]);
      return p1?.following === true && p1.followedBy && p2?.following === true && p2.followedBy;
    };
    if (await both()) return;
    const [r1, r2] = await Promise.all([
      i1.guild.services.peering.add(host2),
      api2('POST', '/peers', { body: { host: host1 } }),
    ]);
    if (!r1.ok) throw new Error(JSON.stringify(r1.error));
    expect(r2.status).to.equal(201);
    await waitUntil(both, { what: 'both Service actors following each other' });
  };

  before(async function () {
    [i1, i2] = await Promise.all([startTestGuild(), startTestGuild({ GUILD_ADMIN_TOKEN: TOKEN })]);
    host1 = new URL(i1.origin).host;
    host2 = new URL(i2.origin).host;
    await i2.createGroup('herons', { title: 'Herons', summary: 'Tall **wading** birds' });
    await i2.createGroup('secret', { title: 'Secret herons' });
    const hidden = await i2.guild.services.moderation.changeSettings(
      'secret',
      { discoverable: false },
      { by: 'admin' },
    );
    expect(hidden.ok).to.equal(true);
  });
  afterEach(function () {
    printLogsOnFailure(this, [i1, i2, i3]);
  });
  after(async function () {
    await Promise.all([i1?.close(), i2?.close(), i3?.close()]);
  });

  it('peers both ways: the Service actors follow each other once both admins added the other', async function () {
    // A third instance of its own, so that this handshake starts from nothing whatever ran before.
    const third = await startTestGuild({ GUILD_ADMIN_TOKEN: TOKEN });
    i3 = third;
    const api3 = adminApi(() => third.origin);
    const host3 = new URL(third.origin).host;
    await third.createGroup('flamingos');
    const added = await i1.guild.services.peering.add(host3);
    if (!added.ok) throw new Error(JSON.stringify(added.error));
    // Instance 3 has not added instance 1: its Follow waits, and nothing is listed either way yet.
    await waitUntil(async () => (await third.store.peerings.getPeer(host1))?.theirFollowId != null, {
      what: 'the Follow of instance 1 to reach instance 3',
    });
    expect((await third.store.peerings.getPeer(host1))?.followedBy).to.equal(false);
    expect(await search(i1, 'flamingos')).to.deep.equal([]);
    const r = await api3('POST', '/peers', { body: { host: host1 } });
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    await waitUntil(
      async () => {
        const [p1, p3] = await Promise.all([
          i1.store.peerings.getPeer(host3),
          third.store.peerings.getPeer(host1),
        ]);
        return p1?.following && p1.followedBy && p3?.following && p3.followedBy;
      },
      { what: 'both Service actors following each other' },
    );
    const list = await api3('GET', '/peers');
    expect(list.body.items).to.deep.include({
      ...(list.body.items as object[])[0],
      host: host1,
      following: true,
    });
    await listed(i1, 'flamingos', `flamingos@${host3}`);
    // Peering ends on instance 1's side: instance 3's groups leave its directory at once.
    const removed = await i1.guild.services.peering.remove(host3);
    expect(removed.ok).to.equal(true);
    expect(await search(i1, 'flamingos')).to.deep.equal([]);
  });

  it('lists the groups the peer had before, marked with their host, and never a group that is not discoverable', async function () {
    await peered();
    await listed(i1, 'herons', `herons@${host2}`);
    const html = await (await fetch(`${i1.origin}/?q=wading`)).text();
    expect(html).to.contain(`data-peer="${host2}"`).and.contain(`on ${host2}`).and.contain('action="/join"');
    expect(await search(i1, 'secret')).to.deep.equal([]);
    expect(await search(i1, '')).to.not.include(`secret@${host2}`);
  });

  it('lists a group created after the peering, within seconds, and its changes', async function () {
    await peered();
    await i2.createGroup('storks', { title: 'Storks' });
    await listed(i1, 'storks', `storks@${host2}`);
    const r = await i2.guild.services.moderation.changeSettings(
      'storks',
      { tags: ['migration'] },
      { by: 'admin' },
    );
    expect(r.ok).to.equal(true);
    await listed(i1, '#migration', `storks@${host2}`);
    // Instance 1's own groups reach instance 2 the same way.
    await i1.createGroup('egrets');
    await listed(i2, 'egrets', `egrets@${host1}`);
  });

  it('joins a peer’s group from one’s server through the same form', async function () {
    await peered();
    await i2.createGroup('spoonbills');
    await listed(i1, 'spoonbills', `spoonbills@${host2}`);
    const actor = i2.groupUrl('spoonbills');
    const res = await fetch(
      `${i1.origin}/join?${new URLSearchParams({ uri: actor, server: 'mastodon.example' })}`,
      {
        redirect: 'manual',
      },
    );
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal(
      `https://mastodon.example/authorize_interaction?uri=${encodeURIComponent(actor)}`,
    );
    const unknown = await fetch(
      `${i1.origin}/join?${new URLSearchParams({ uri: 'https://elsewhere.example/groups/x', server: 'm.example' })}`,
      { redirect: 'manual' },
    );
    expect(unknown.status).to.equal(400);
  });

  it('takes a group out when it is deleted, or made not discoverable', async function () {
    await peered();
    await Promise.all([i2.createGroup('cranes'), i2.createGroup('bitterns')]);
    await listed(i1, 'cranes', `cranes@${host2}`);
    await listed(i1, 'bitterns', `bitterns@${host2}`);
    const deleted = await i2.guild.services.groups.delete('cranes');
    expect(deleted.ok).to.equal(true);
    await unlisted(i1, 'cranes', `cranes@${host2}`);
    expect(await i1.store.directory.getEntry(i2.groupUrl('cranes'))).to.equal(null);
    await i2.guild.services.moderation.changeSettings('bitterns', { discoverable: false }, { by: 'admin' });
    await unlisted(i1, 'bitterns', `bitterns@${host2}`);
  });

  it('takes every group of a peer out when the peering ends', async function () {
    await peered();
    await Promise.all([i2.createGroup('ibises'), i1.createGroup('avocets')]);
    await listed(i1, 'ibises', `ibises@${host2}`);
    await listed(i2, 'avocets', `avocets@${host1}`);
    const r = await api2('DELETE', `/peers/${encodeURIComponent(host1)}`);
    expect(r.status).to.equal(204);
    await unlisted(i2, 'avocets', `avocets@${host1}`);
    const removed = await i1.guild.services.peering.remove(host2);
    expect(removed.ok).to.equal(true);
    expect(await search(i1, 'ibises')).to.deep.equal([]);
    expect(await i1.store.directory.listEntries(null, 10)).to.deep.equal([]);
  });
});
