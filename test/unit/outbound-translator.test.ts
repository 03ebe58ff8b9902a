/**
 * Domain events into activities, in one place: what each event sends, to whom, signed by whom; ids derived
 * from the event's basis (the same event twice gives the same activities, and the durable queue takes them
 * once); and the shapes Lemmy takes for what the admin and DM commands do: authored by the Service actor and
 * wrapped in the group's Announce (Lemmy 0.19 `crates/apub/src/activities/community/announce.rs`,
 * `verify_mod_action` in `activities/mod.rs`).
 */
import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { openTestStore } from '../support/test-store.ts';
import type { Group, Store } from '../../src/storage/store.ts';
import { DEFAULT_GROUP_SETTINGS } from '../../src/storage/store.ts';
import { Urls, groupKeyOwner } from '../../src/activitypub/urls.ts';
import { StorePublisher } from '../../src/federation/publisher.ts';
import { RecordingPublisher } from '../support/recording-publisher.ts';
import { OutboundTranslator } from '../../src/federation/outbound/outbound.translator.ts';
import type { GroupEvent } from '../../src/groups/events.ts';
import { GUILD_CONTEXT, PUBLIC, type ApObject } from '../../src/activitypub/vocab.ts';
import { fixedSoftware } from '../support/fixed-software.ts';

const ORIGIN = 'https://guild.example';
const GROUP = `${ORIGIN}/groups/club`;
const FOLLOWERS = `${GROUP}/followers`;
const SERVICE = `${ORIGIN}/actor`;
const BOB = 'https://lemmy.example/u/bob';
const POST = 'https://lemmy.example/post/1';
const T = Date.UTC(2026, 0, 1);
const ISO = new Date(T).toISOString();

describe('outbound translator', function () {
  let store: Store;
  let urls: Urls;
  let publisher: RecordingPublisher;
  let out: OutboundTranslator;
  const about = { group: 'club', basis: 'https://lemmy.example/activities/1' };
  const derived = (role: string) => urls.derivedActivity('club', about.basis, role);

  beforeEach(async function () {
    store = await openTestStore();
    urls = new Urls(ORIGIN);
    publisher = new RecordingPublisher();
    out = new OutboundTranslator({ publisher, store, urls, domain: 'guild.example', now: () => T });
  });
  afterEach(async function () {
    await store?.close();
  });

  /** The Announce delivered to members and the activity it wraps. */
  const announced = (n = 0): { announce: ApObject; inner: ApObject } => {
    const announce = publisher
      .toMembers()
      .filter((a) => a.type === 'Announce' && typeof a.object === 'object')[n];
    if (!announce) throw new Error('no Announce of an activity');
    return { announce, inner: announce.object as ApObject };
  };

  it('re-shares an accepted post: Announce{Create} first (outbox), then the boost; ids derived from the Create', async function () {
    const create = { '@context': 'https://www.w3.org/ns/activitystreams', id: about.basis, type: 'Create' };
    const event: GroupEvent = {
      ...about,
      type: 'PostAccepted',
      create,
      objectId: POST,
      boostId: `${GROUP}/activities/boost`,
    };
    await out.emit(event);
    await out.emit(event);
    const [first, second] = publisher.calls;
    expect(first).to.deep.equal(second);
    expect(first).to.deep.equal({
      op: 'members',
      group: 'club',
      items: [
        {
          activity: {
            '@context': GUILD_CONTEXT,
            id: derived('announce'),
            type: 'Announce',
            actor: GROUP,
            object: create,
            to: [PUBLIC],
            cc: [FOLLOWERS],
            audience: GROUP,
            published: ISO,
          },
          inOutbox: true,
          objectId: POST,
          // FEP-1b12 readers, and servers whose software is not known (peer-software.forms.ts).
          reach: ['lemmy', 'mbin', 'nodebb', 'unknown'],
        },
        {
          activity: {
            '@context': GUILD_CONTEXT,
            id: `${GROUP}/activities/boost`,
            type: 'Announce',
            actor: GROUP,
            object: POST,
            to: [PUBLIC],
            cc: [FOLLOWERS],
            audience: GROUP,
            published: ISO,
          },
          inOutbox: false,
          objectId: POST,
          reach: ['mastodon', 'gotosocial', 'snac', 'misskey', 'pleroma', 'unknown'],
        },
      ],
    });
  });

  it('re-shares an author’s Delete, stored as about the Delete (not withdrawn with the post), then undoes the boost', async function () {
    const del = { id: about.basis, type: 'Delete', actor: BOB, object: POST };
    await out.emit({
      ...about,
      type: 'PostDeleted',
      source: del,
      objectId: POST,
      boostId: `${GROUP}/activities/b`,
    });
    const [call] = publisher.calls;
    if (call?.op !== 'members') throw new Error('expected a delivery to members');
    expect(call.items.map((i) => [i.activity.type, i.objectId])).to.deep.equal([
      ['Announce', del.id],
      ['Undo', `${GROUP}/activities/b`],
    ]);
    expect(call.items[0]?.activity.object).to.equal(del);
  });

  it('announces a remote moderator’s own activity unchanged, and nothing else', async function () {
    const block = {
      id: about.basis,
      type: 'Block',
      actor: BOB,
      object: 'https://x.example/u/spammer',
      target: GROUP,
    };
    await out.emit({
      ...about,
      type: 'MemberBanned',
      source: block,
      user: 'https://x.example/u/spammer',
      userInbox: null,
      reason: '',
      expiresAt: null,
      removeData: false,
    });
    expect(publisher.calls).to.have.length(1);
    expect(announced().inner).to.equal(block);
  });

  it('bans as the Service actor: Announce{Block} to members, and the Block itself to the banned person, signed by the instance', async function () {
    const user = 'https://x.example/u/spammer';
    await out.emit({
      ...about,
      type: 'MemberBanned',
      source: null,
      user,
      userInbox: `${user}/inbox`,
      reason: 'spam',
      expiresAt: T + 86_400_000,
      removeData: true,
    });
    const { announce, inner } = announced();
    expect(announce).to.deep.include({ actor: GROUP, id: derived('announce') });
    expect(inner).to.deep.equal({
      id: derived('block'),
      type: 'Block',
      actor: SERVICE,
      object: user,
      target: GROUP,
      to: [PUBLIC],
      cc: [GROUP],
      audience: GROUP,
      summary: 'spam',
      endTime: new Date(T + 86_400_000).toISOString(),
      expires: new Date(T + 86_400_000).toISOString(),
      removeData: true,
      published: ISO,
    });
    // Lemmy sends a ban's Block to the banned person's inbox too (activities/block/block_user.rs, BlockUser::send).
    expect(publisher.sent()).to.deep.equal([
      {
        op: 'send',
        group: 'club',
        activity: { '@context': GUILD_CONTEXT, ...inner },
        inbox: `${user}/inbox`,
        signer: 'instance',
      },
    ]);
    // The Block is stored on its own too, so that its id dereferences.
    expect(publisher.calls[0]).to.deep.include({ op: 'keep', objectId: user });
  });

  it('lifts a ban with Undo{Block} by the Service actor, the Block embedded, also to the person', async function () {
    const user = 'https://x.example/u/spammer';
    await out.emit({
      ...about,
      type: 'MemberUnbanned',
      source: null,
      user,
      userInbox: `${user}/inbox`,
      reason: 'spam',
    });
    const { inner } = announced();
    expect(inner).to.deep.include({ type: 'Undo', actor: SERVICE, cc: [GROUP], audience: GROUP });
    expect(inner.object).to.deep.include({
      id: derived('block'),
      type: 'Block',
      actor: SERVICE,
      object: user,
      target: GROUP,
    });
    expect(publisher.sent().map((c) => [c.inbox, c.signer, c.activity.type])).to.deep.equal([
      [`${user}/inbox`, 'instance', 'Undo'],
    ]);
  });

  it('removes a post as Lemmy does (Delete with summary), then undoes the boost as it was sent', async function () {
    const boost = {
      '@context': GUILD_CONTEXT,
      id: `${GROUP}/activities/b`,
      type: 'Announce',
      actor: GROUP,
      object: POST,
      to: [PUBLIC],
      cc: [FOLLOWERS],
      published: '2025-01-01T00:00:00.000Z',
    };
    await store.activities.putActivity({
      id: boost.id,
      groupName: 'club',
      type: 'Announce',
      objectId: POST,
      json: JSON.stringify(boost),
      published: 1,
      inOutbox: false,
    });
    await out.emit({
      ...about,
      type: 'PostRemoved',
      source: null,
      objectId: POST,
      reason: '',
      boostId: boost.id,
    });
    const [announce, undo] = publisher.toMembers();
    expect(announce?.object as ApObject).to.deep.equal({
      id: derived('remove'),
      type: 'Delete',
      actor: SERVICE,
      object: POST,
      to: [PUBLIC],
      cc: [GROUP],
      audience: GROUP,
      summary: '',
      published: ISO,
    });
    const { '@context': _c, ...embeddedBoost } = boost;
    expect(undo).to.deep.include({
      id: derived('undo-boost'),
      type: 'Undo',
      actor: GROUP,
      object: embeddedBoost,
    });
  });

  it('restores a post with Undo{Delete{summary}} by the Service actor, and boosts it again', async function () {
    await out.emit({
      ...about,
      type: 'PostRestored',
      source: null,
      objectId: POST,
      reason: '',
      boostId: derived('boost'),
    });
    const [announce, boost] = publisher.toMembers();
    const inner = announce?.object as ApObject;
    expect(inner).to.deep.include({
      id: derived('restore'),
      type: 'Undo',
      actor: SERVICE,
      cc: [GROUP],
      audience: GROUP,
    });
    expect(inner.object).to.deep.include({ type: 'Delete', actor: SERVICE, object: POST, summary: '' });
    expect(boost).to.deep.include({ id: derived('boost'), type: 'Announce', object: POST });
  });

  it('moderators, pins and locks by the Service actor, each wrapped in the group’s Announce', async function () {
    const events: GroupEvent[] = [
      { ...about, type: 'ModeratorAdded', source: null, moderator: BOB },
      { ...about, type: 'ModeratorRemoved', source: null, moderator: BOB },
      { ...about, type: 'PostPinned', source: null, objectId: POST },
      { ...about, type: 'PostUnpinned', source: null, objectId: POST },
      { ...about, type: 'ThreadLocked', source: null, objectId: POST },
      { ...about, type: 'ThreadUnlocked', source: null, objectId: POST },
    ];
    for (const e of events) await out.emit(e);
    const inners = publisher.toMembers().map((a) => a.object as ApObject);
    expect(inners.map((i) => [i.type, i.actor, i.object, i.target ?? null])).to.deep.equal([
      ['Add', SERVICE, BOB, `${GROUP}/moderators`],
      ['Remove', SERVICE, BOB, `${GROUP}/moderators`],
      ['Add', SERVICE, POST, `${GROUP}/featured`],
      ['Remove', SERVICE, POST, `${GROUP}/featured`],
      ['Lock', SERVICE, POST, null],
      [
        'Undo',
        SERVICE,
        {
          id: derived('lock'),
          type: 'Lock',
          actor: SERVICE,
          object: POST,
          to: [PUBLIC],
          cc: [GROUP],
          audience: GROUP,
          published: ISO,
        },
        null,
      ],
    ]);
    for (const i of inners) expect(i).to.deep.include({ to: [PUBLIC], cc: [GROUP], audience: GROUP });
    expect(publisher.sent()).to.deep.equal([]);
  });

  it('sends the group’s new document as its own Update and as the Service actor’s, announced', async function () {
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    await store.keys.putKeyPairIfAbsent({
      owner: groupKeyOwner('club'),
      publicKeyPem: keys.publicKey,
      privateKeyPem: keys.privateKey,
    });
    const snapshot: Group = {
      name: 'club',
      title: 'The Club',
      summary: 'hi',
      createdAt: T,
      updatedAt: T,
      deletedAt: null,
      settings: { ...DEFAULT_GROUP_SETTINGS },
    };
    await out.emit({ ...about, type: 'SettingsChanged', source: null, snapshot });
    const [own, announce] = publisher.toMembers();
    expect(own).to.deep.include({ type: 'Update', actor: GROUP, to: [PUBLIC], cc: [FOLLOWERS] });
    expect(own?.object).to.deep.include({ id: GROUP, type: 'Group', name: 'The Club' });
    expect(own?.object).to.not.have.property('@context');
    const inner = announce?.object as ApObject;
    expect(inner).to.deep.include({ type: 'Update', actor: SERVICE, cc: [GROUP], audience: GROUP });
    expect(inner.object).to.deep.equal(own?.object);
  });

  it('deletes the group as itself and as the Service actor', async function () {
    await out.emit({ ...about, type: 'GroupDeleted' });
    const [own, announce] = publisher.toMembers();
    expect(own).to.deep.include({ type: 'Delete', actor: GROUP, object: GROUP });
    expect(announce?.object).to.deep.include({ type: 'Delete', actor: SERVICE, object: GROUP });
  });

  it('answers follows, resolves reports to the reporter, and sends nothing for a pending request', async function () {
    const follow = { id: `${BOB}/follows/1`, follower: BOB, inbox: `${BOB}/inbox` };
    await out.emit({ ...about, type: 'MemberJoined', follow });
    await out.emit({ ...about, type: 'JoinRejected', follow: { ...follow, id: null } });
    await out.emit({ ...about, type: 'JoinRequested', follower: BOB });
    await out.emit({
      ...about,
      type: 'ReportResolved',
      flagId: `${BOB}/flags/1`,
      reporter: BOB,
      reporterInbox: 'https://lemmy.example/inbox',
      objectIds: [POST],
    });
    expect(publisher.sent().map((c) => [c.activity.type, c.inbox, c.signer])).to.deep.equal([
      ['Accept', `${BOB}/inbox`, 'group'],
      ['Reject', `${BOB}/inbox`, 'group'],
      ['Resolve', 'https://lemmy.example/inbox', 'instance'],
    ]);
    const [accept, reject, resolve] = publisher.sent().map((c) => c.activity);
    expect(accept?.object).to.deep.equal({
      id: `${BOB}/follows/1`,
      type: 'Follow',
      actor: BOB,
      object: GROUP,
    });
    expect(reject?.object).to.deep.equal({ type: 'Follow', actor: BOB, object: GROUP });
    expect(resolve).to.deep.include({ actor: SERVICE, to: [BOB] });
  });

  it('sends a direct message as a Note from the group, or as a ChatMessage from the Service actor', async function () {
    const to = { id: BOB, inbox: `${BOB}/inbox`, handle: '@bob@lemmy.example', url: null };
    await out.emit({ ...about, type: 'DirectMessageSent', to, text: 'hello', inReplyTo: null });
    const chat = new OutboundTranslator({
      publisher,
      store,
      urls,
      domain: 'guild.example',
      now: () => T,
      software: fixedSoftware({ 'https://lemmy.example': 'lemmy' }),
    });
    await chat.emit({
      ...about,
      basis: 'other',
      type: 'DirectMessageSent',
      to,
      text: 'hello',
      inReplyTo: null,
    });
    const [note, message] = publisher.sent();
    expect(note).to.deep.include({ inbox: `${BOB}/inbox`, signer: 'group' });
    expect(note?.activity.object).to.deep.include({ type: 'Note', attributedTo: GROUP, to: [BOB] });
    expect(message).to.deep.include({ inbox: `${BOB}/inbox`, signer: 'instance' });
    expect(message?.activity).to.deep.include({ type: 'Create', actor: SERVICE, to: [BOB] });
    expect(message?.activity.object).to.deep.include({
      type: 'ChatMessage',
      attributedTo: SERVICE,
      to: [BOB],
    });
    // The message objects are stored so that their ids dereference.
    expect(
      publisher.calls.filter((c) => c.op === 'keep').map((c) => (c as { document: ApObject }).document.type),
    ).to.deep.equal(['Note', 'ChatMessage']);
  });

  it('with the store publisher, the same event twice stores each activity and queues its fan-out once', async function () {
    const real = new OutboundTranslator({
      publisher: new StorePublisher(store, { notify: () => undefined }, () => T),
      store,
      urls,
      domain: 'guild.example',
      now: () => T,
    });
    const event: GroupEvent = {
      ...about,
      type: 'MemberBanned',
      source: null,
      user: BOB,
      userInbox: `${BOB}/inbox`,
      reason: '',
      expiresAt: null,
      removeData: false,
    };
    await real.emit(event);
    await real.emit(event);
    const fanout = await store.jobs.claim('fanout', 'test', T, 60_000, 10);
    const deliver = await store.jobs.claim('deliver', 'test', T, 60_000, 10);
    expect(fanout.map((j) => j.id)).to.deep.equal([`fanout:${derived('announce')}`]);
    expect(deliver.map((j) => j.payload)).to.deep.equal([
      { activityId: derived('block'), inbox: `${BOB}/inbox`, signer: 'instance' },
    ]);
    expect(await store.activities.getActivity(derived('block'))).to.not.equal(null);
  });
});
