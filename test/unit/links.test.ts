/**
 * The domain of moves, groups following groups and peering, without network: a real store, a fixed clock, remote
 * documents the test sets, and the real outbound translator storing what it sends (so that a re-share is seen
 * by the next one, as in production).
 */
import { expect } from 'chai';
import { startHarness, createNote, ORIGIN, PUBLIC, T0, type Harness } from '../support/domain-harness.ts';
import { OutboundTranslator } from '../../src/federation/outbound/outbound.translator.ts';
import { StorePublisher } from '../../src/federation/publisher.ts';
import type { EventSink } from '../../src/groups/events.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';
import { renderDirectory } from '../../src/web/directory.page.ts';

const OTHER = 'https://other.example/groups/owls';
const ALICE = 'https://a.example/users/alice';
const DAY = 86_400_000;

/** The Announce a followed group sends of a member's Create (FEP-1b12). */
function announce(group: string, create: ApObject, n: string): ApObject {
  return {
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${group}/activities/${n}`,
    type: 'Announce',
    actor: group,
    object: create,
    to: [PUBLIC],
    cc: [`${group}/followers`],
  };
}

describe('moves, groups following groups and peering (domain)', function () {
  let h: Harness;
  let sent: OutboundTranslator | null = null;

  beforeEach(async function () {
    const sink: EventSink = { emit: async (e) => sent?.emit(e) };
    h = await startHarness({ sink });
    const publisher = new StorePublisher(h.store, { notify() {} }, () => h.clock.now, ORIGIN);
    sent = new OutboundTranslator({
      publisher,
      store: h.store,
      urls: h.urls,
      domain: 'guild.example',
      now: () => h.clock.now,
    });
    await h.group('birds');
    h.actors.add(OTHER, 'Group');
  });
  afterEach(async function () {
    await h?.close();
  });

  /** `birds` follows OTHER, accepted. */
  const following = async (): Promise<void> => {
    const f = await h.groupFollows.follow('birds', OTHER, 'admin');
    if (!f.ok) throw new Error(JSON.stringify(f.error));
    h.remote.members.set(OTHER, [ALICE, 'https://b.example/users/bob']);
    const accept = {
      id: `${OTHER}/activities/accept-1`,
      type: 'Accept',
      actor: OTHER,
      object: { id: f.value.followId, type: 'Follow', actor: h.urls.group('birds'), object: OTHER },
      to: [h.urls.group('birds')],
    };
    const [outcome] = await h.deliver(accept);
    expect(outcome).to.deep.include({ applied: true });
  };

  describe('re-sharing what a followed group announces', function () {
    it('takes nothing from a group not followed, or followed but not yet accepted', async function () {
      const doc = announce(OTHER, createNote(ALICE, OTHER, '1'), 'a1');
      expect(await h.deliver(doc)).to.deep.equal([
        { applied: false, reason: 'announce-create does not concern a group here' },
      ]);
      await h.groupFollows.follow('birds', OTHER, 'admin');
      expect((await h.deliver(doc))[0]).to.deep.include({ applied: false });
      expect(h.events.of('ObjectReshared')).to.deep.equal([]);
    });

    it('re-shares a post once whatever brings it: Announce{Create} and boost, then nothing', async function () {
      await following();
      expect(await h.store.groupFollows.countKnownMembers(OTHER)).to.equal(2);
      const create = createNote(ALICE, OTHER, '1');
      const noteId = (create.object as { id: string }).id;
      expect((await h.deliver(announce(OTHER, create, 'a1')))[0]).to.deep.include({ applied: true });
      const [event] = h.events.of('ObjectReshared');
      expect(event).to.deep.include({ objectId: noteId, boost: true, except: { remoteGroup: OTHER } });
      expect(event?.activity).to.equal(create);
      // The followed group's boost of the same post, and the same Announce again, add nothing.
      const boost = { ...announce(OTHER, create, 'b1'), object: noteId };
      expect((await h.deliver(boost))[0]).to.deep.include({
        applied: false,
        reason: `${noteId} was re-shared by birds already`,
      });
      expect((await h.deliver(announce(OTHER, create, 'a2')))[0]).to.deep.include({ applied: false });
      expect(h.events.of('ObjectReshared')).to.have.length(1);
    });

    it('sends the Announce{Create} a boost came before, and never boosts a reply', async function () {
      await following();
      const create = createNote(ALICE, OTHER, '2');
      const noteId = (create.object as { id: string }).id;
      await h.deliver({ ...announce(OTHER, create, 'b2'), object: noteId });
      await h.deliver(announce(OTHER, create, 'a2'));
      expect(h.events.of('ObjectReshared').map((e) => [e.activity !== null, e.boost])).to.deep.equal([
        [false, true],
        [true, false],
      ]);
      const reply = createNote(ALICE, OTHER, '3', { inReplyTo: noteId });
      await h.deliver(announce(OTHER, reply, 'a3'));
      expect(h.events.of('ObjectReshared')[2]).to.deep.include({ boost: false });
    });

    it('refuses what is not public, a banned author, what it holds, and what it sent itself', async function () {
      await following();
      const reason = async (doc: ApObject) => ((await h.deliver(doc))[0] as { reason?: string }).reason ?? '';
      const direct = createNote(ALICE, OTHER, '4', { to: [OTHER], cc: [] });
      expect(await reason({ ...announce(OTHER, direct, 'a4'), to: [OTHER], cc: [] })).to.contain(
        'not public',
      );
      await h.store.bans.putBan({
        groupName: 'birds',
        actorId: ALICE,
        reason: 'x',
        by: 'admin',
        createdAt: T0,
        expiresAt: null,
      });
      expect(await reason(announce(OTHER, createNote(ALICE, OTHER, '5'), 'a5'))).to.contain(
        'is banned from birds',
      );
      await h.store.bans.removeBan('birds', ALICE);
      await h.post('birds', `${ALICE}/notes/6`, ALICE);
      expect(await reason(announce(OTHER, createNote(ALICE, OTHER, '6'), 'a6'))).to.contain(
        'already in birds',
      );
      const mine = { ...createNote(ALICE, OTHER, '7'), actor: h.urls.group('birds') };
      expect(await reason(announce(OTHER, mine, 'a7'))).to.contain('not re-shared back');
      expect(h.events.of('ObjectReshared')).to.deep.equal([]);
    });

    it('ends the follow on Reject, and refuses group followers when set to', async function () {
      const f = await h.groupFollows.follow('birds', OTHER, 'admin');
      if (!f.ok) throw new Error('follow');
      await h.deliver({
        id: `${OTHER}/activities/reject-1`,
        type: 'Reject',
        actor: OTHER,
        object: { id: f.value.followId, type: 'Follow', actor: h.urls.group('birds'), object: OTHER },
      });
      expect(await h.store.groupFollows.getGroupFollow('birds', OTHER)).to.equal(null);
      await h.settings.update('birds', { acceptGroupFollowers: false });
      const [outcome] = await h.deliver({
        id: `${OTHER}/activities/f1`,
        type: 'Follow',
        actor: OTHER,
        object: h.urls.group('birds'),
      });
      expect(outcome).to.deep.include({ applied: true });
      expect((outcome as { what: string }).what).to.contain('groups may not follow');
      expect(h.events.of('JoinRejected')).to.have.length(1);
    });
  });

  describe('moving', function () {
    const NEW = 'https://new.example/groups/birds';

    it('moves only to a target that lists the group and has not moved, and only when allowed', async function () {
      h.remote.actors.set(NEW, { id: NEW, type: 'Group', alsoKnownAs: [] });
      const refused = await h.moves.move('birds', NEW, 'admin');
      expect(!refused.ok && refused.error.type).to.equal('target-refused');
      h.remote.actors.set(NEW, {
        id: NEW,
        type: 'Group',
        alsoKnownAs: [h.urls.group('birds')],
        movedTo: 'https://x.example/g',
      });
      expect(!((await h.moves.move('birds', NEW, 'admin')) as { ok: boolean }).ok).to.equal(true);
      h.remote.actors.set(NEW, { id: NEW, type: 'Group', alsoKnownAs: [h.urls.group('birds')] });
      const stranger = await h.moves.move('birds', NEW, ALICE);
      expect(!stranger.ok && stranger.error.type).to.equal('not-allowed');
      // A moderator is not enough: only the owner (and the admin) may move a group.
      await h.moderator('birds', ALICE);
      const moderator = await h.moves.move('birds', NEW, ALICE);
      expect(!moderator.ok && moderator.error.type).to.equal('not-allowed');
      expect(h.events.of('GroupMoved')).to.deep.equal([]);
      await h.store.owners.setOwner({ groupName: 'birds', actorId: ALICE, since: T0 });
      const moved = await h.moves.move('birds', NEW, ALICE);
      expect(moved.ok).to.equal(true);
      expect(h.events.of('GroupMoved')).to.deep.equal([
        { type: 'GroupMoved', group: 'birds', basis: `move:birds:${NEW}`, target: NEW },
      ]);
      const elsewhere = await h.moves.move('birds', 'https://third.example/groups/b', 'admin');
      expect(!elsewhere.ok && elsewhere.error).to.deep.equal({ type: 'already-moved', to: NEW });
    });

    it('moves by DM command, from the owner only', async function () {
      h.remote.actors.set(NEW, { id: NEW, type: 'Group', alsoKnownAs: [h.urls.group('birds')] });
      h.remote.handles.set('birds@new.example', NEW);
      const dm = (from: string, n: string) => ({
        id: `${from}/creates/dm${n}`,
        type: 'Create',
        actor: from,
        object: {
          id: `${from}/notes/dm${n}`,
          type: 'Note',
          attributedTo: from,
          content: '<p>@birds move @birds@new.example</p>',
          to: [h.urls.group('birds')],
        },
        to: [h.urls.group('birds')],
      });
      h.actors.add(ALICE);
      await h.deliver(dm(ALICE, '1'));
      expect(h.events.of('DirectMessageSent')[0]?.text).to.contain('Only moderators');
      await h.moderator('birds', ALICE);
      await h.deliver(dm(ALICE, '2'));
      expect(h.events.of('DirectMessageSent')[1]?.text).to.contain('only the admin and the group’s owner');
      expect((await h.store.moves.getMoveState('birds')).movedTo).to.equal(null);
      await h.store.owners.setOwner({ groupName: 'birds', actorId: ALICE, since: T0 });
      await h.deliver(dm(ALICE, '3'));
      expect(h.events.of('DirectMessageSent')[2]?.text).to.contain(`Moving to ${NEW}`);
      expect((await h.store.moves.getMoveState('birds')).movedTo).to.equal(NEW);
    });
  });

  describe('peering', function () {
    const PEER = 'peer.example';
    const SERVICE = `https://${PEER}/actor`;
    const group = (name: string, more: ApObject = {}) => ({
      id: `https://${PEER}/groups/${name}`,
      type: 'Group',
      preferredUsername: name,
      name: `The ${name}`,
      summary: '<p>About <b>herons</b> &amp; more</p>',
      tag: [{ type: 'Hashtag', name: '#Birds' }],
      ...more,
    });
    const news = (type: string, object: unknown, n: string) => ({
      id: `${SERVICE}/activities/${n}`,
      type,
      actor: SERVICE,
      object,
      to: [h.urls.instanceActor()],
    });

    beforeEach(async function () {
      h.remote.instances.set(PEER, { id: SERVICE, inbox: `https://${PEER}/inbox` });
      h.actors.add(SERVICE, 'Service');
    });

    it('takes news only from a peer the admin added, for groups on its host, discoverable ones only', async function () {
      const before = await h.deliver(news('Announce', group('herons'), 'n0'));
      expect(before[0]).to.deep.include({ applied: false });
      expect((await h.peering.add(PEER)).ok).to.equal(true);
      expect(h.events.of('PeerFollowed')).to.have.length(1);
      await h.deliver(news('Announce', group('herons'), 'n1'));
      expect(await h.store.directory.getEntry(`https://${PEER}/groups/herons`)).to.deep.include({
        host: PEER,
        title: 'The herons',
        summary: 'About herons & more',
        tags: ['birds'],
      });
      await h.deliver(
        news('Announce', { ...group('crows'), id: 'https://elsewhere.example/groups/crows' }, 'n2'),
      );
      expect(await h.store.directory.getEntry('https://elsewhere.example/groups/crows')).to.equal(null);
      await h.deliver(news('Update', group('herons', { discoverable: false }), 'n3'));
      expect(await h.store.directory.getEntry(`https://${PEER}/groups/herons`)).to.equal(null);
      await h.deliver(news('Announce', group('herons'), 'n4'));
      await h.deliver(news('Delete', `https://${PEER}/groups/herons`, 'n5'));
      expect(await h.store.directory.listEntries(null, 10)).to.deep.equal([]);
    });

    it('accepts a Follow of a peer that asked first once the admin adds it', async function () {
      const [asked] = await h.deliver({
        id: `${SERVICE}/activities/f1`,
        type: 'Follow',
        actor: SERVICE,
        object: h.urls.instanceActor(),
      });
      expect((asked as { what: string }).what).to.contain('waits until the admin adds it');
      expect(h.events.of('PeerAccepted')).to.deep.equal([]);
      await h.peering.add(PEER);
      expect(h.events.of('PeerAccepted')).to.have.length(1);
      expect(await h.store.peerings.getPeer(PEER)).to.deep.include({
        added: true,
        followedBy: true,
        theirFollowId: `${SERVICE}/activities/f1`,
      });
    });

    it('shows a peer’s groups while it answers, and takes them out after a week of silence', async function () {
      await h.peering.add(PEER);
      await h.store.peerings.updatePeer(PEER, { following: true });
      await h.deliver(news('Announce', group('herons'), 'n1'));
      const shown = async () =>
        (
          await renderDirectory({
            store: h.store,
            urls: h.urls,
            domain: 'guild.example',
            query: 'herons',
            after: null,
            now: h.clock.now,
          })
        ).includes(`data-group="herons@${PEER}"`);
      expect(await shown()).to.equal(true);
      // An hour of silence: its Service actor answers, so it is seen again.
      h.clock.now += 2 * 3_600_000;
      expect(await h.peering.checkPeers()).to.equal(0);
      expect((await h.store.peerings.getPeer(PEER))?.lastSeenAt).to.equal(h.clock.now);
      // Then it answers nothing for a week: its groups leave the directory.
      h.remote.instances.delete(PEER);
      h.clock.now += 8 * DAY;
      expect(await shown()).to.equal(false);
      expect(await h.peering.checkPeers()).to.equal(1);
      expect(await h.store.directory.listEntries(null, 10)).to.deep.equal([]);
    });
  });
});
