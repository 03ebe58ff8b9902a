import { expect } from 'chai';
import { openTestStore } from '../support/test-store.ts';
import type { Member, Store } from '../../src/storage/store.ts';
import { Urls } from '../../src/activitypub/urls.ts';
import { GroupService } from '../../src/groups/group.service.ts';
import { MembershipService } from '../../src/groups/membership.service.ts';
import type { KeyPairGenerator } from '../../src/groups/ports.ts';
import { StorePublisher, type DeliverPayload } from '../../src/federation/publisher.ts';
import { OutboundTranslator } from '../../src/federation/outbound/outbound.translator.ts';
import { rsaKeyPairs } from '../../src/federation/keys.ts';

const ORIGIN = 'https://guild.example';
const GROUP = `${ORIGIN}/groups/club`;

function member(actorId: string, state: Member['state']): Member {
  const host = new URL(actorId).origin;
  return {
    groupName: 'club',
    actorId,
    inbox: `${actorId}/inbox`,
    sharedInbox: `${host}/inbox`,
    deliveryInbox: `${host}/inbox`,
    state,
    followId: `${actorId}/follows/1`,
    createdAt: 1000,
    updatedAt: 1000,
  };
}

describe('MembershipService', function () {
  let pair: { publicKeyPem: string; privateKeyPem: string };
  let store: Store;
  let membership: MembershipService;
  const alice = 'https://a.example/users/alice';
  const bob = 'https://b.example/users/bob';

  /** The one queued delivery and the activity it carries. */
  async function onlyDelivery(): Promise<{ inbox: string; activity: Record<string, unknown> }> {
    const jobs = await store.jobs.claim('deliver', 'test', Date.now() + 60_000, 60_000, 10);
    expect(jobs).to.have.length(1);
    const payload = jobs[0]?.payload as DeliverPayload;
    const stored = await store.activities.getActivity(payload.activityId);
    return { inbox: payload.inbox, activity: JSON.parse(stored?.json ?? '{}') as Record<string, unknown> };
  }

  before(async function () {
    pair = await rsaKeyPairs.generate();
  });

  beforeEach(async function () {
    store = await openTestStore();
    const urls = new Urls(ORIGIN);
    const publisher = new StorePublisher(store, { notify: () => undefined });
    const events = new OutboundTranslator({ publisher, store, urls, domain: 'guild.example' });
    const keys: KeyPairGenerator = { generate: async () => pair };
    await new GroupService({ store, urls, events, keys }).create('club');
    membership = new MembershipService({ store, events, now: () => 5000 });
    await store.members.upsertMember(member(alice, 'pending'));
    await store.members.upsertMember(member(bob, 'accepted'));
  });

  afterEach(async function () {
    await store.close();
  });

  it('lists pending requests and members apart', async function () {
    const pending = await membership.listPending('club', null, 10);
    expect(pending.ok && pending.value.map((m) => m.actorId)).to.deep.equal([alice]);
    const members = await membership.listMembers('club', null, 10);
    expect(members.ok && members.value.map((m) => m.actorId)).to.deep.equal([bob]);
    expect(await membership.listPending('nope', null, 10)).to.deep.equal({
      ok: false,
      error: { type: 'group-not-found' },
    });
  });

  it('approves: the request becomes a membership and Accept{Follow} goes to the inbox', async function () {
    const r = await membership.approve('club', alice, 'action-approve');
    expect(r.ok && r.value.state).to.equal('accepted');
    const stored = await store.members.getMember('club', alice);
    expect(stored?.state).to.equal('accepted');
    expect(stored?.updatedAt).to.equal(5000);
    const { inbox, activity } = await onlyDelivery();
    expect(inbox).to.equal(`${alice}/inbox`);
    expect(activity).to.deep.include({
      type: 'Accept',
      actor: GROUP,
      to: [alice],
      object: { id: `${alice}/follows/1`, type: 'Follow', actor: alice, object: GROUP },
    });
  });

  it('rejects: the request is removed and Reject{Follow} goes to the inbox', async function () {
    const r = await membership.reject('club', alice, 'action-reject');
    expect(r.ok).to.equal(true);
    expect(await store.members.getMember('club', alice)).to.equal(null);
    const { inbox, activity } = await onlyDelivery();
    expect(inbox).to.equal(`${alice}/inbox`);
    expect(activity).to.deep.include({ type: 'Reject', actor: GROUP });
    expect(activity.object).to.deep.include({ id: `${alice}/follows/1`, type: 'Follow' });
  });

  it('refuses to approve or reject what is not a pending request, sending nothing', async function () {
    expect(await membership.approve('club', bob, 'action-approve')).to.deep.equal({
      ok: false,
      error: { type: 'no-such-request', isMember: true },
    });
    expect(await membership.reject('club', 'https://c.example/users/carol', 'action-reject')).to.deep.equal({
      ok: false,
      error: { type: 'no-such-request', isMember: false },
    });
    expect(await membership.approve('gone', alice, 'action-approve')).to.deep.equal({
      ok: false,
      error: { type: 'group-not-found' },
    });
    expect((await store.jobs.stats('deliver', Date.now())).queued).to.equal(0);
    expect((await store.members.getMember('club', bob))?.state).to.equal('accepted');
  });

  it('removes a member and tells its server with Reject', async function () {
    expect((await membership.remove('club', bob, 'action-remove')).ok).to.equal(true);
    expect(await store.members.getMember('club', bob)).to.equal(null);
    const { activity } = await onlyDelivery();
    expect(activity.type).to.equal('Reject');
    expect(await membership.remove('club', bob, 'action-remove')).to.deep.equal({
      ok: false,
      error: { type: 'not-a-member' },
    });
  });

  it('finds a stored requester by handle through the cached profile', async function () {
    await store.remoteActors.putRemoteActor({
      id: alice,
      type: 'Person',
      inbox: `${alice}/inbox`,
      sharedInbox: null,
      preferredUsername: 'Alice',
      name: 'Alice',
      url: null,
      keyId: `${alice}#main-key`,
      publicKeyPem: null,
      fetchedAt: 1,
    });
    expect(await membership.resolveHandle('club', '@alice@a.example', 'pending')).to.deep.equal({
      ok: true,
      value: alice,
    });
    expect(await membership.resolveHandle('club', 'alice@a.example', 'accepted')).to.deep.equal({
      ok: false,
      error: { type: 'unknown-handle' },
    });
    expect(await membership.resolveHandle('club', '@alice@b.example', 'pending')).to.deep.equal({
      ok: false,
      error: { type: 'unknown-handle' },
    });
    expect(await membership.resolveHandle('club', 'alice', 'pending')).to.deep.equal({
      ok: false,
      error: { type: 'invalid-handle' },
    });
  });
});
