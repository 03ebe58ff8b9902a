/**
 * Groups following groups (FEP-d36d) across three Guild instances on loopback, with fedify peers as members:
 * group A (instance 1) and group B (instance 2) follow each other, C (instance 3) follows B, and E (instance 2,
 * the same as B) follows B too. A post to A reaches every member of the four groups exactly once (members of
 * two groups get it from the first), nothing goes round the A-B loop, and a group that takes no group followers
 * refuses the Follow.
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer, type ReceivedActivity } from '../support/fedify-peer.ts';
import { waitUntil } from '../support/net.ts';

/** Announce{Create} of `createId`, by any group. */
const wrapsCreate = (createId: string) => (a: ReceivedActivity) =>
  a.type === 'Announce' && (a.json.object as { id?: unknown } | undefined)?.id === createId;
/** The plain boost of `noteId`, by any group. */
const boosts = (noteId: string) => (a: ReceivedActivity) =>
  a.type === 'Announce' &&
  (a.json.object === noteId || (a.json.object as { id?: unknown } | undefined)?.id === noteId);

describe('groups following groups', function () {
  this.timeout(180_000);
  let i1: TestGuild;
  let i2: TestGuild;
  let i3: TestGuild;
  const peers: Record<string, FedifyPeer> = {};
  /** The member of the group that unfollows, started by its test. */
  let onlyD: FedifyPeer | undefined;
  let a: string;
  let b: string;
  let c: string;
  let e: string;

  const follow = async (g: TestGuild, name: string, target: string): Promise<void> => {
    const r = await g.guild.services.groupFollows.follow(name, target, 'admin');
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    await waitUntil(
      async () => (await g.store.groupFollows.getGroupFollow(name, r.value.targetId))?.state === 'accepted',
      {
        what: `${name} following ${target}`,
      },
    );
  };
  const join = async (peer: FedifyPeer, group: string): Promise<void> => {
    await peer.follow(group);
    await peer.waitFor((x) => x.type === 'Accept' && x.actorId === group, {
      what: `Accept of ${peer.handle} by ${group}`,
    });
  };

  before(async function () {
    [i1, i2, i3] = await Promise.all([startTestGuild(), startTestGuild(), startTestGuild()]);
    a = await i1.createGroup('alpha');
    b = await i2.createGroup('beta');
    c = await i3.createGroup('gamma');
    e = await i2.createGroup('epsilon');
    for (const name of ['onlyA', 'onlyB', 'bothAB', 'onlyC', 'bothBC', 'onlyE'])
      peers[name] = await startFedifyPeer({ username: name.toLowerCase() });
    const p = peers as Record<'onlyA' | 'onlyB' | 'bothAB' | 'onlyC' | 'bothBC' | 'onlyE', FedifyPeer>;
    await join(p.onlyA, a);
    await join(p.onlyB, b);
    await join(p.bothAB, a);
    await join(p.bothAB, b);
    await join(p.onlyC, c);
    await join(p.bothBC, b);
    await join(p.bothBC, c);
    await join(p.onlyE, e);
    // B follows A by handle, A follows B (a loop), C follows B, E follows B on the same instance.
    await follow(i2, 'beta', `@alpha@${new URL(i1.origin).host}`);
    await follow(i1, 'alpha', b);
    await follow(i3, 'gamma', b);
    await follow(i2, 'epsilon', b);
    await Promise.all([i1.idle(), i2.idle(), i3.idle()]);
  });
  afterEach(function () {
    printLogsOnFailure(this, [i1, i2, i3]);
  });
  after(async function () {
    await Promise.all([...Object.values(peers), ...(onlyD ? [onlyD] : [])].map((x) => x.close()));
    await Promise.all([i1?.close(), i2?.close(), i3?.close()]);
  });

  it('lists the follows, and the followed group counts the follower groups among its members', async function () {
    const following = await i2.guild.services.groupFollows.list('beta', null, 10);
    expect(following.map((f) => [f.targetId, f.state])).to.deep.equal([[a, 'accepted']]);
    expect((await i2.store.members.getMember('beta', i3.groupUrl('gamma')))?.state).to.equal('accepted');
    expect((await i2.store.members.getMember('beta', e))?.state).to.equal('accepted');
    // B read A's members (as A lists them to B's server) to leave out those it need not send to.
    expect(await i2.store.groupFollows.countKnownMembers(a)).to.equal(3);
  });

  it('re-shares a post of the followed group to each member exactly once, and never round the loop', async function () {
    const author = peers.onlyA as FedifyPeer;
    const { createId, noteId } = await author.post({
      to: [a],
      content: '<p>Hello, federation of groups</p>',
    });
    const everyone = Object.values(peers);
    for (const peer of everyone) {
      await peer.waitFor(wrapsCreate(createId), {
        what: `Announce{Create} at ${peer.handle}`,
        timeoutMs: 30_000,
      });
      await peer.waitFor(boosts(noteId), { what: `boost at ${peer.handle}`, timeoutMs: 30_000 });
    }
    await Promise.all([i1.idle(), i2.idle(), i3.idle()]);
    for (const peer of everyone) {
      expect(
        peer.received.filter(wrapsCreate(createId)),
        `Announce{Create} at ${peer.handle}`,
      ).to.have.length(1);
      expect(peer.received.filter(boosts(noteId)), `boosts at ${peer.handle}`).to.have.length(1);
    }
    // Who sent it: A to its members, B to its own only, C and E to theirs.
    const from = (name: keyof typeof peers) =>
      (peers[name] as FedifyPeer).received.find(wrapsCreate(createId))?.actorId;
    expect(from('bothAB')).to.equal(a);
    expect(from('onlyB')).to.equal(b);
    expect(from('bothBC')).to.equal(b);
    expect(from('onlyC')).to.equal(c);
    expect(from('onlyE')).to.equal(e);
    // A got B's re-share of its own post and sent nothing more.
    expect(
      await i1.store.activities.getActivity(i1.guild.services.urls.reshareIds('alpha', noteId).announce),
    ).to.equal(null);
  });

  it('re-shares the other way round too: a post to B reaches A’s members once', async function () {
    const author = peers.onlyB as FedifyPeer;
    const { createId } = await author.post({ to: [b], content: '<p>From beta</p>' });
    await (peers.onlyA as FedifyPeer).waitFor(wrapsCreate(createId), { what: 'the re-share at A’s member' });
    await Promise.all([i1.idle(), i2.idle(), i3.idle()]);
    for (const peer of Object.values(peers))
      expect(peer.received.filter(wrapsCreate(createId)), peer.handle).to.have.length(1);
    expect((peers.bothAB as FedifyPeer).received.find(wrapsCreate(createId))?.actorId).to.equal(b);
  });

  it('stops re-sharing once unfollowed', async function () {
    // A follower group of its own (D on instance 3, with one member), so that the others keep their follows.
    const d = await i3.createGroup('delta');
    onlyD = await startFedifyPeer({ username: 'onlyd' });
    await join(onlyD, d);
    await follow(i3, 'delta', b);
    const author = peers.onlyB as FedifyPeer;
    const before = await author.post({ to: [b], content: '<p>Before the unfollow</p>' });
    await onlyD.waitFor(wrapsCreate(before.createId), { what: 'the re-share at D’s member' });
    const r = await i3.guild.services.groupFollows.unfollow('delta', b, 'admin');
    expect(r.ok).to.equal(true);
    await waitUntil(async () => (await i2.store.members.getMember('beta', d)) === null, {
      what: 'B to see the Undo{Follow} of D',
    });
    const after = await author.post({ to: [b], content: '<p>After the unfollow</p>' });
    await (peers.bothBC as FedifyPeer).waitFor(wrapsCreate(after.createId), { what: 'B’s announce' });
    await Promise.all([i1.idle(), i2.idle(), i3.idle()]);
    expect(onlyD.received.filter(wrapsCreate(after.createId))).to.deep.equal([]);
  });

  it('refuses a group follower with Reject when the group takes none', async function () {
    const closed = await i1.createGroup('closed');
    const changed = await i1.guild.services.moderation.changeSettings(
      'closed',
      { acceptGroupFollowers: false },
      { by: 'admin' },
    );
    expect(changed.ok).to.equal(true);
    const asked = await i2.guild.services.groupFollows.follow('beta', closed, 'admin');
    expect(asked.ok).to.equal(true);
    await waitUntil(async () => (await i2.store.groupFollows.getGroupFollow('beta', closed)) === null, {
      what: 'the Reject to end the follow',
    });
    expect(await i1.store.members.getMember('closed', b)).to.equal(null);
  });
});
