/**
 * Group creation under approval, end to end: a person on another server asks for a group by DM to the Service
 * actor, the request waits in the queue the admin sees in the admin API, the admin approves one and rejects
 * another, and each requester is told by DM from the Service actor; the admin reads and changes owners.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { adminApi, TOKEN } from '../support/admin-api.ts';
import { askService, messageOf } from '../support/dashboard-client.ts';

describe('requests to create groups, decided by the admin', function () {
  this.timeout(60_000);
  let g: TestGuild;
  let alice: FedifyPeer;
  let bob: FedifyPeer;
  const api = adminApi(() => g.origin);

  before(async function () {
    g = await startTestGuild({ GUILD_ADMIN_TOKEN: TOKEN, GUILD_GROUP_CREATION: 'approval' });
    [alice, bob] = await Promise.all([
      startFedifyPeer({ username: 'alice' }),
      startFedifyPeer({ username: 'bob' }),
    ]);
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await Promise.all([alice?.close(), bob?.close()]);
    await g?.close();
  });

  it('queues requests, and tells each requester what the admin decided', async function () {
    expect(await askService(alice, g.origin, 'create rust Rustaceans', /waits for the admin/)).to.include(
      '@rust@',
    );
    await askService(bob, g.origin, 'create go', /waits for the admin/);
    expect(await g.guild.services.groups.get('rust')).to.equal(null);
    const queue = await api('GET', '/group-requests');
    expect(queue.status).to.equal(200);
    expect(queue.body.mode).to.equal('approval');
    const items = queue.body.items as Array<{ id: string; name: string; requester: string }>;
    expect(items.map((i) => [i.name, i.requester])).to.have.deep.members([
      ['rust', alice.actorId],
      ['go', bob.actorId],
    ]);
    const rust = items.find((i) => i.name === 'rust');
    const go = items.find((i) => i.name === 'go');
    const approved = await api('POST', `/group-requests/${rust?.id}/approve`);
    expect(approved.status).to.equal(200);
    expect(approved.body.state).to.equal('approved');
    await alice.waitFor((a) => messageOf(a).includes('approved and created'), { what: 'the approval by DM' });
    const rejected = await api('POST', `/group-requests/${go?.id}/reject`, { body: { reason: 'not here' } });
    expect(rejected.status).to.equal(200);
    await bob.waitFor((a) => messageOf(a).includes('declined: not here'), { what: 'the refusal by DM' });
    expect((await api('POST', `/group-requests/${go?.id}/approve`)).status).to.equal(409);
    expect(await g.guild.services.groups.get('go')).to.equal(null);
    const owner = await api('GET', '/groups/rust/owner');
    expect(owner.body.actor).to.equal(alice.actorId);
    expect((await api('GET', '/group-requests?state=nope')).status).to.equal(400);
  });

  it('the admin hands a group to another owner, and clears the owner', async function () {
    const put = await api('PUT', '/groups/rust/owner', { body: { actor: bob.actorId } });
    expect(put.status).to.equal(200);
    expect(put.body.changed).to.equal(true);
    expect((await api('GET', '/groups/rust/owner')).body.actor).to.equal(bob.actorId);
    expect(await g.store.moderators.isModerator('rust', bob.actorId)).to.equal(true);
    expect((await api('DELETE', '/groups/rust/owner')).status).to.equal(204);
    expect((await api('DELETE', '/groups/rust/owner')).status).to.equal(404);
    expect((await api('GET', '/groups/rust/owner')).body.actor).to.equal(null);
  });
});
