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
  let settings: SettingsService;
  let membership: MembershipService;
  let n = 0;

  /** A new group whose members are approved by a moderator; its name and actor id. */
  async function approvalGroup(): Promise<{ name: string; group: string }> {
    const name = `club${++n}`;
    const group = await g.createGroup(name, { title: 'The Club', summary: 'Members only' });
    const r = await settings.update(name, { membershipPolicy: 'approval' });
    expect(r.ok).to.equal(true);
    return { name, group };
  }

  /** `peer` asks to join and is approved; the id of its Follow. */
  async function approved(name: string, group: string, peer: FedifyPeer): Promise<string> {
    const followId = await peer.follow(group);
    await g.processed(followId);
    const r = await g.guild.services.moderation.approveMember(name, peer.actorId, { by: 'admin' });
    expect(r.ok).to.equal(true);
    await peer.waitFor((a) => a.type === 'Accept' && answeredFollowId(a) === followId, { what: 'Accept' });
    return followId;
  }

  before(async function () {
    g = await startTestGuild();
    settings = g.guild.services.settings;
    membership = g.guild.services.membership;
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
    const { group } = await approvalGroup();
    const actor = (await (await fetch(group, { headers: AP })).json()) as Record<string, unknown>;
    expect(actor.manuallyApprovesFollowers).to.equal(true);
  });

  it('keeps a Follow pending until it is approved, then sends Accept', async function () {
    const { name, group } = await approvalGroup();
    const aliceFollow = await alice.follow(group);
    await g.processed(aliceFollow);
    const pending = await g.store.members.getMember(name, alice.actorId);
    expect(pending?.state).to.equal('pending');
    expect(pending?.followId).to.equal(aliceFollow);
    await g.idle();
    const answers = (a: ReceivedActivity) =>
      (a.type === 'Accept' || a.type === 'Reject') && answeredFollowId(a) === aliceFollow;
    expect(alice.received.filter(answers)).to.deep.equal([]);
    const listed = await membership.listPending(name, null, 10);
    expect(listed.ok && listed.value.map((m) => m.actorId)).to.deep.equal([alice.actorId]);

    const r = await g.guild.services.moderation.approveMember(name, alice.actorId, { by: 'admin' });
    expect(r.ok).to.equal(true);
    const accept = await alice.waitFor(answers, { what: 'Accept to alice' });
    expect(accept.type).to.equal('Accept');
    expect(accept.actorId).to.equal(group);
    expect((await g.store.members.getMember(name, alice.actorId))?.state).to.equal('accepted');
    expect(await g.store.members.countMembers(name, 'accepted')).to.equal(1);
  });

  it('sends Reject when a request is refused, and forgets the request', async function () {
    const { name, group } = await approvalGroup();
    const bobFollow = await bob.follow(group);
    await g.processed(bobFollow);
    expect((await g.store.members.getMember(name, bob.actorId))?.state).to.equal('pending');
    const r = await g.guild.services.moderation.rejectMember(name, bob.actorId, { by: 'admin' });
    expect(r.ok).to.equal(true);
    const answers = (a: ReceivedActivity) =>
      (a.type === 'Accept' || a.type === 'Reject') && answeredFollowId(a) === bobFollow;
    const reject = await bob.waitFor(answers, { what: 'Reject to bob' });
    expect(reject.type).to.equal('Reject');
    expect(reject.actorId).to.equal(group);
    expect(await g.store.members.getMember(name, bob.actorId)).to.equal(null);
    await g.idle();
    expect(bob.received.filter(answers)).to.have.length(1);
  });

  it('sends members Update{Group} when the settings change', async function () {
    const { name, group } = await approvalGroup();
    await approved(name, group, alice);
    const bobFollow = await bob.follow(group);
    await g.processed(bobFollow);
    expect((await g.guild.services.moderation.rejectMember(name, bob.actorId, { by: 'admin' })).ok).to.equal(
      true,
    );
    const r = await settings.update(name, {
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
    expect(bob.received.some((a) => a.type === 'Update' && a.actorId === group)).to.equal(false);
  });

  it('removing a member tells its server with Reject', async function () {
    const { name, group } = await approvalGroup();
    const aliceFollow = await approved(name, group, alice);
    const r = await g.guild.services.moderation.removeMember(name, alice.actorId, { by: 'admin' });
    expect(r.ok).to.equal(true);
    const reject = await alice.waitFor((a) => a.type === 'Reject' && answeredFollowId(a) === aliceFollow, {
      what: 'Reject to alice',
    });
    expect(reject.actorId).to.equal(group);
    expect(await g.store.members.countMembers(name, 'accepted')).to.equal(0);
  });
});
