/**
 * Membership policy and settings end to end: a real Guild and independent fedify peers on loopback. A group
 * whose membership needs approval keeps a Follow pending until it is approved (Accept) or refused (Reject);
 * a settings change reaches members as Update{Group}.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer, type ReceivedActivity } from '../support/fedify-peer.ts';
import type { SettingsService } from '../../src/groups/settings.service.ts';
import type { MembershipService } from '../../src/groups/membership.service.ts';

const AP = { accept: 'application/activity+json' };

/** The id of the Follow an Accept or Reject answers, as the peer parsed it. */
function answeredFollowId(a: ReceivedActivity): string | null {
  const object = a.json.object;
  if (typeof object === 'string') return object;
  if (typeof object === 'object' && object !== null && 'id' in object && typeof object.id === 'string')
    return object.id;
  return null;
}

describe('membership policy and settings with independent peers', function () {
  this.timeout(60_000);
  let g: TestGuild;
  let alice: FedifyPeer;
  let bob: FedifyPeer;
  let group: string;
  let settings: SettingsService;
  let membership: MembershipService;
  let aliceFollow: string;

  before(async function () {
    g = await startTestGuild();
    group = await g.createGroup('club', { title: 'The Club', summary: 'Members only' });
    settings = g.guild.services.settings;
    membership = g.guild.services.membership;
    const r = await settings.update('club', { membershipPolicy: 'approval' });
    expect(r.ok).to.equal(true);
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

  it('tells peers that joining needs approval', async function () {
    const actor = (await (await fetch(group, { headers: AP })).json()) as Record<string, unknown>;
    expect(actor.manuallyApprovesFollowers).to.equal(true);
  });

  it('keeps a Follow pending until it is approved, then sends Accept', async function () {
    aliceFollow = await alice.follow(group);
    await g.processed(aliceFollow);
    const pending = await g.store.members.getMember('club', alice.actorId);
    expect(pending?.state).to.equal('pending');
    expect(pending?.followId).to.equal(aliceFollow);
    await g.idle();
    expect(alice.received.filter((a) => a.type === 'Accept' || a.type === 'Reject')).to.deep.equal([]);
    const listed = await membership.listPending('club', null, 10);
    expect(listed.ok && listed.value.map((m) => m.actorId)).to.deep.equal([alice.actorId]);

    const r = await g.guild.services.moderation.approveMember('club', alice.actorId, { by: 'admin' });
    expect(r.ok).to.equal(true);
    const accept = await alice.waitFor((a) => a.type === 'Accept', { what: 'Accept to alice' });
    expect(accept.actorId).to.equal(group);
    expect(answeredFollowId(accept)).to.equal(aliceFollow);
    expect((await g.store.members.getMember('club', alice.actorId))?.state).to.equal('accepted');
    expect(await g.store.members.countMembers('club', 'accepted')).to.equal(1);
  });

  it('sends Reject when a request is refused, and forgets the request', async function () {
    const bobFollow = await bob.follow(group);
    await g.processed(bobFollow);
    expect((await g.store.members.getMember('club', bob.actorId))?.state).to.equal('pending');
    const r = await g.guild.services.moderation.rejectMember('club', bob.actorId, { by: 'admin' });
    expect(r.ok).to.equal(true);
    const reject = await bob.waitFor((a) => a.type === 'Reject', { what: 'Reject to bob' });
    expect(reject.actorId).to.equal(group);
    expect(answeredFollowId(reject)).to.equal(bobFollow);
    expect(await g.store.members.getMember('club', bob.actorId)).to.equal(null);
    expect(bob.received.some((a) => a.type === 'Accept')).to.equal(false);
  });

  it('sends members Update{Group} when the settings change', async function () {
    const r = await settings.update('club', {
      title: 'The Renamed Club',
      tags: ['fediverse'],
      postingPolicy: 'moderators',
    });
    expect(r.ok && r.value.changed).to.have.members(['title', 'tags', 'postingPolicy']);
    const update = await alice.waitFor((a) => a.type === 'Update' && a.actorId === group, {
      what: 'Update{Group} at alice',
    });
    const object = update.json.object as Record<string, unknown>;
    expect(object.id).to.equal(group);
    expect(object.type).to.equal('Group');
    expect(object.name).to.equal('The Renamed Club');
    // A refused requester is not a member and hears nothing.
    await g.idle();
    expect(bob.received.some((a) => a.type === 'Update')).to.equal(false);
  });

  it('removing a member tells its server with Reject', async function () {
    const r = await g.guild.services.moderation.removeMember('club', alice.actorId, { by: 'admin' });
    expect(r.ok).to.equal(true);
    const reject = await alice.waitFor((a) => a.type === 'Reject', { what: 'Reject to alice' });
    expect(answeredFollowId(reject)).to.equal(aliceFollow);
    expect(await g.store.members.countMembers('club', 'accepted')).to.equal(0);
  });
});
