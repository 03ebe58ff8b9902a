/**
 * Each member server is sent the forms its software takes, and none it refuses or ignores. The rules are read
 * from each server's source (cited in src/federation/peer-software.forms.ts): Lemmy answers 400 to a plain
 * boost and its Undo (LemmyNet/lemmy `crates/apub/src/protocol/activities/community/announce.rs`); Mastodon,
 * GoToSocial, snac, Misskey and Pleroma read an Announce only as the boost of `object.id` (mastodon/mastodon
 * `app/lib/activitypub/activity/announce.rb`, superseriousbusiness/gotosocial
 * `internal/typeutils/astointernal.go`, grunfink/snac2 `activitypub.c`); GoToSocial takes a forwarded Create
 * or Update (`internal/federation/federatingdb/create.go`), Mastodon only with the author's LD signature
 * (`app/services/activitypub/process_activity_service.rb`).
 *
 * The translator marks each activity with the families that take it; the fan-out delivers it only to their
 * inboxes (real store, real queue); what goes to one inbox is decided there and then.
 */
import { expect } from 'chai';
import { PEER_FAMILIES, type PeerFamily } from '../../src/federation/peer-software.ts';
import {
  directMessageForm,
  reachOf,
  takes,
  takesRejectFollow,
  type MemberForm,
} from '../../src/federation/peer-software.forms.ts';
import { OutboundTranslator } from '../../src/federation/outbound/outbound.translator.ts';
import { StorePublisher, type DeliverPayload, type FanoutPayload } from '../../src/federation/publisher.ts';
import { fanoutHandler } from '../../src/federation/job-handlers.ts';
import { Urls } from '../../src/activitypub/urls.ts';
import { PUBLIC, type ApObject } from '../../src/activitypub/vocab.ts';
import type { GroupEvent } from '../../src/groups/events.ts';
import type { Job, Store } from '../../src/storage/store.ts';
import { DEFAULT_GROUP_SETTINGS } from '../../src/storage/store.ts';
import { createLogger } from '../../src/log.ts';
import { openTestStore } from '../support/test-store.ts';
import { fixedSoftware } from '../support/fixed-software.ts';

const ORIGIN = 'https://guild.example';
const GROUP = `${ORIGIN}/groups/club`;
const T = Date.UTC(2026, 0, 1);

/** One member server of each family, by origin. */
const SERVERS: Record<string, string> = {
  'https://lemmy.example': 'lemmy',
  'https://mbin.example': 'mbin',
  'https://nodebb.example': 'NodeBB',
  'https://mastodon.example': 'mastodon',
  'https://gts.example': 'gotosocial',
  'https://snac.example': 'snac',
  'https://misskey.example': 'misskey',
  'https://akkoma.example': 'akkoma',
};
const UNKNOWN_SERVER = 'https://friendica.example';
const FAMILY_OF_ORIGIN: Record<string, PeerFamily> = {
  'https://lemmy.example': 'lemmy',
  'https://mbin.example': 'mbin',
  'https://nodebb.example': 'nodebb',
  'https://mastodon.example': 'mastodon',
  'https://gts.example': 'gotosocial',
  'https://snac.example': 'snac',
  'https://misskey.example': 'misskey',
  'https://akkoma.example': 'pleroma',
  [UNKNOWN_SERVER]: 'unknown',
};

const forward = (
  activity: 'Create' | 'Update' | 'Delete',
  o: Partial<Extract<MemberForm, { kind: 'forward' }>> = {},
): MemberForm => ({
  kind: 'forward',
  activity,
  ldSigned: false,
  groupAddressed: false,
  objectType: 'Note',
  ...o,
});

describe('forms per member server', function () {
  it('sends each form only to the families that take it', function () {
    const cases: Array<[string, MemberForm, PeerFamily[] | null]> = [
      ['Announce{activity}', { kind: 'announce' }, ['lemmy', 'mbin', 'nodebb', 'unknown']],
      ['plain boost', { kind: 'boost' }, ['mastodon', 'gotosocial', 'snac', 'misskey', 'pleroma', 'unknown']],
      ['Undo{Announce}', { kind: 'undo-boost' }, ['mastodon', 'gotosocial', 'misskey', 'pleroma', 'unknown']],
      [
        "the group's own Update",
        { kind: 'group-itself' },
        PEER_FAMILIES.filter((f) => f !== 'lemmy' && f !== 'snac'),
      ],
      ['forwarded Create, no LD signature', forward('Create'), ['gotosocial']],
      [
        'forwarded Create, group addressed',
        forward('Create', { groupAddressed: true }),
        ['gotosocial', 'snac'],
      ],
      [
        'forwarded Create of a Page, group addressed',
        forward('Create', { groupAddressed: true, objectType: 'Page' }),
        ['gotosocial'],
      ],
      [
        'forwarded Create, LD-signed',
        forward('Create', { ldSigned: true }),
        ['mastodon', 'gotosocial', 'misskey'],
      ],
      ['forwarded Update', forward('Update'), ['gotosocial', 'snac']],
      [
        'forwarded Update, LD-signed',
        forward('Update', { ldSigned: true }),
        ['mastodon', 'gotosocial', 'snac'],
      ],
      ['forwarded Delete', forward('Delete'), []],
      ['forwarded Delete, LD-signed', forward('Delete', { ldSigned: true }), ['mastodon', 'misskey']],
    ];
    for (const [what, form, families] of cases) {
      expect(reachOf(form), what).to.deep.equal(families);
      for (const f of PEER_FAMILIES)
        expect(takes(f, form), `${what} to ${f}`).to.equal(families === null || families.includes(f));
    }
  });

  it('picks the form and sender of a direct message per family', function () {
    expect(directMessageForm('lemmy', null)).to.deep.equal({ kind: 'chat-message', from: 'service' });
    expect(directMessageForm('mbin', 'group')).to.deep.equal({ kind: 'chat-message', from: 'service' });
    expect(directMessageForm('mastodon', null)).to.deep.equal({ kind: 'note', from: 'group' });
    expect(directMessageForm('mastodon', 'service')).to.deep.equal({ kind: 'note', from: 'service' });
    expect(directMessageForm('snac', null)).to.deep.equal({ kind: 'note', from: 'group' });
    expect(directMessageForm('unknown', null)).to.deep.equal({ kind: 'note', from: 'group' });
    const sw = (family: PeerFamily, version: string | null) => ({ origin: 'x', family, name: null, version });
    expect(takesRejectFollow(sw('lemmy', '0.19.20'))).to.equal(false);
    expect(takesRejectFollow(sw('lemmy', '1.0.0'))).to.equal(true);
    expect(takesRejectFollow(sw('snac', '2.94'))).to.equal(false);
    expect(takesRejectFollow(sw('mastodon', '4.5.0'))).to.equal(true);
    expect(takesRejectFollow(sw('unknown', null))).to.equal(true);
  });

  describe('at fan-out', function () {
    let store: Store;
    let urls: Urls;
    let translator: OutboundTranslator;
    const software = fixedSoftware(SERVERS, { 'https://lemmy.example': '0.19.20' });
    const about = { group: 'club', basis: 'https://gts.example/users/ann/statuses/9/activity' };

    /** Runs the queued fan-outs; returns the deliveries queued, as `activity type -> families`. */
    const fanOut = async (): Promise<Map<string, Set<PeerFamily>>> => {
      const handler = fanoutHandler(store, { notify: () => undefined }, 60_000, ORIGIN, () => T, software);
      const log = createLogger('silent');
      for (;;) {
        const [job] = await store.jobs.claim('fanout', 'me', T, 60_000, 1);
        if (!job) break;
        const r = await handler(job, { owner: 'me', log });
        expect(r.kind).to.equal('done');
        await store.jobs.complete(job.id, 'me', T);
      }
      const out = new Map<string, Set<PeerFamily>>();
      const delivered: Job[] = await store.jobs.claim('deliver', 'me', T, 60_000, 1000);
      for (const d of delivered) {
        const p = d.payload as DeliverPayload;
        const stored = await store.activities.getActivity(p.activityId);
        const doc = JSON.parse(stored?.json ?? '{}') as ApObject;
        const inner = doc.object;
        const name =
          doc.type === 'Announce'
            ? typeof inner === 'string'
              ? 'boost'
              : `Announce{${String((inner as ApObject).type)}}`
            : doc.actor === GROUP
              ? `${String(doc.type)} by the group`
              : `forwarded ${String(doc.type)}`;
        const family = FAMILY_OF_ORIGIN[new URL(p.inbox).origin] ?? 'unknown';
        out.set(name, (out.get(name) ?? new Set()).add(family));
      }
      return out;
    };
    const families = (s: Set<PeerFamily> | undefined) => [...(s ?? [])].sort();

    beforeEach(async function () {
      store = await openTestStore();
      urls = new Urls(ORIGIN);
      await store.groups.createGroup({
        name: 'club',
        title: 'Club',
        summary: '',
        createdAt: T,
        updatedAt: T,
        deletedAt: null,
        settings: DEFAULT_GROUP_SETTINGS,
      });
      for (const origin of [...Object.keys(SERVERS), UNKNOWN_SERVER])
        await store.members.upsertMember({
          groupName: 'club',
          actorId: `${origin}/users/m`,
          inbox: `${origin}/users/m/inbox`,
          sharedInbox: `${origin}/inbox`,
          deliveryInbox: `${origin}/inbox`,
          state: 'accepted',
          followId: null,
          createdAt: T,
          updatedAt: T,
        });
      translator = new OutboundTranslator({
        publisher: new StorePublisher(store, { notify: () => undefined }, () => T, ORIGIN),
        store,
        urls,
        domain: 'guild.example',
        software,
        now: () => T,
      });
    });
    afterEach(async function () {
      await store.close();
    });

    it('a top-level post: Announce{Create} to FEP-1b12 readers, the boost to the others, nothing forwarded', async function () {
      const create = { id: about.basis, type: 'Create', actor: 'https://gts.example/users/ann' };
      await translator.emit({
        ...about,
        type: 'PostAccepted',
        create,
        objectId: 'https://gts.example/users/ann/statuses/9',
        boostId: `${GROUP}/activities/boost-9`,
      });
      const sent = await fanOut();
      expect([...sent.keys()].sort()).to.deep.equal(['Announce{Create}', 'boost']);
      expect(families(sent.get('Announce{Create}'))).to.deep.equal(['lemmy', 'mbin', 'nodebb', 'unknown']);
      expect(families(sent.get('boost'))).to.deep.equal(
        ['gotosocial', 'mastodon', 'misskey', 'pleroma', 'snac', 'unknown'].sort(),
      );
    });

    it('a reply: announced to FEP-1b12 readers, forwarded unchanged where taken, boosted to nobody', async function () {
      const reply = {
        id: 'https://mastodon.example/users/bo/statuses/2',
        type: 'Note',
        attributedTo: 'https://mastodon.example/users/bo',
        inReplyTo: 'https://gts.example/users/ann/statuses/9',
        to: [PUBLIC],
        cc: [GROUP],
        content: '<p>hi</p>',
      };
      const create = {
        '@context': ['https://www.w3.org/ns/activitystreams', { ostatus: 'http://ostatus.org#' }],
        id: `${reply.id}/activity`,
        type: 'Create',
        actor: reply.attributedTo,
        object: reply,
        signature: { type: 'RsaSignature2017', creator: 'x#main-key', signatureValue: 'c2ln' },
      };
      await translator.emit({ ...about, type: 'PostAccepted', create, objectId: reply.id, boostId: null });
      const sent = await fanOut();
      expect([...sent.keys()].sort()).to.deep.equal(['Announce{Create}', 'forwarded Create']);
      expect(families(sent.get('forwarded Create'))).to.deep.equal([
        'gotosocial',
        'mastodon',
        'misskey',
        'snac',
      ]);
      // Forwarded as received: every field, the LD signature and the context included.
      expect(JSON.parse((await store.activities.getActivity(create.id))?.json ?? '')).to.deep.equal(create);
    });

    it('an edit is forwarded to who re-reads it; a vote only announced; a deletion undoes the boost where that is read', async function () {
      const update = {
        id: 'https://gts.example/users/ann/statuses/9#updates/1',
        type: 'Update',
        actor: 'https://gts.example/users/ann',
        object: { id: 'https://gts.example/users/ann/statuses/9', type: 'Note' },
      };
      await translator.emit({
        ...about,
        basis: update.id,
        type: 'ActivityReshared',
        activity: update,
        objectId: update.object.id,
      });
      let sent = await fanOut();
      expect(families(sent.get('forwarded Update'))).to.deep.equal(['gotosocial', 'snac']);
      expect(families(sent.get('Announce{Update}'))).to.deep.equal(['lemmy', 'mbin', 'nodebb', 'unknown']);

      const like = {
        id: 'https://lemmy.example/activities/like/1',
        type: 'Like',
        actor: 'https://lemmy.example/u/x',
        object: update.object.id,
      };
      await translator.emit({
        ...about,
        basis: like.id,
        type: 'ActivityReshared',
        activity: like,
        objectId: like.object,
      });
      sent = await fanOut();
      expect([...sent.keys()]).to.deep.equal(['Announce{Like}']);

      const del = {
        id: 'https://gts.example/users/ann/statuses/9#delete',
        type: 'Delete',
        actor: update.actor,
        object: update.object.id,
      };
      await translator.emit({
        ...about,
        basis: del.id,
        type: 'PostDeleted',
        source: del,
        objectId: del.object,
        boostId: `${GROUP}/activities/boost-9`,
      });
      sent = await fanOut();
      expect([...sent.keys()].sort()).to.deep.equal(['Announce{Delete}', 'Undo by the group']);
      expect(families(sent.get('Undo by the group'))).to.deep.equal([
        'gotosocial',
        'mastodon',
        'misskey',
        'pleroma',
        'unknown',
      ]);
    });

    it("the group's own Update of itself goes to every server but Lemmy, which takes the Service actor's, and snac, which ignores a Group's", async function () {
      const g = await store.groups.getGroup('club');
      await store.keys.putKeyPairIfAbsent({ owner: 'group:club', publicKeyPem: 'PEM', privateKeyPem: 'KEY' });
      if (!g) throw new Error('no group');
      await translator.emit({
        ...about,
        basis: 'settings-1',
        type: 'SettingsChanged',
        source: null,
        snapshot: g,
      });
      const sent = await fanOut();
      expect(families(sent.get('Update by the group'))).to.deep.equal(
        PEER_FAMILIES.filter((f) => f !== 'lemmy' && f !== 'snac').sort(),
      );
      expect(families(sent.get('Announce{Update}'))).to.deep.equal(['lemmy', 'mbin', 'nodebb', 'unknown']);
    });

    it('queued fan-outs without families (from before) still reach every member', async function () {
      const announce = {
        id: `${GROUP}/activities/old`,
        type: 'Announce',
        actor: GROUP,
        object: 'https://x.example/p',
      };
      await store.activities.putActivity({
        id: announce.id,
        groupName: 'club',
        type: 'Announce',
        objectId: null,
        json: JSON.stringify(announce),
        published: T,
        inOutbox: false,
      });
      const payload: FanoutPayload = { activityId: announce.id, groupName: 'club', after: null };
      await store.jobs.enqueue([{ id: 'fanout:old', queue: 'fanout', key: 'club', payload, runAt: T }], T);
      const sent = await fanOut();
      expect(families(sent.get('boost'))).to.deep.equal([...PEER_FAMILIES].sort());
    });
  });

  describe('to one inbox', function () {
    it('sends a ChatMessage from the Service actor to Lemmy, a Note from the group elsewhere, and no Reject where it is refused', async function () {
      const store = await openTestStore();
      try {
        const sent: Array<{ inbox: string; type: string; actor: unknown; object: string; signer: string }> =
          [];
        const translator = new OutboundTranslator({
          publisher: {
            publishToMembers: async () => undefined,
            publishAllToMembers: async () => undefined,
            keep: async () => undefined,
            sendTo: async (_g, a, inbox, signer = 'group') => {
              sent.push({
                inbox,
                type: String(a.type),
                actor: a.actor,
                object: String((a.object as ApObject).type),
                signer,
              });
            },
          },
          store,
          urls: new Urls(ORIGIN),
          domain: 'guild.example',
          software: fixedSoftware(SERVERS, { 'https://lemmy.example': '0.19.20' }),
          now: () => T,
        });
        const dm = (origin: string, answering?: 'group' | 'service'): GroupEvent => ({
          group: 'club',
          basis: `b-${origin}-${answering ?? ''}`,
          type: 'DirectMessageSent',
          to: { id: `${origin}/u/x`, inbox: `${origin}/u/x/inbox`, handle: null, url: null },
          text: 'hello',
          inReplyTo: null,
          ...(answering ? { answering } : {}),
        });
        await translator.emit(dm('https://lemmy.example'));
        await translator.emit(dm('https://mastodon.example'));
        await translator.emit(dm('https://mastodon.example', 'service'));
        expect(sent.map((s) => [s.type, s.object, s.actor, s.signer])).to.deep.equal([
          ['Create', 'ChatMessage', `${ORIGIN}/actor`, 'instance'],
          ['Create', 'Note', GROUP, 'group'],
          ['Create', 'Note', `${ORIGIN}/actor`, 'instance'],
        ]);
        sent.length = 0;
        for (const origin of ['https://lemmy.example', 'https://snac.example', 'https://mastodon.example'])
          await translator.emit({
            group: 'club',
            basis: `reject-${origin}`,
            type: 'JoinRejected',
            follow: { id: null, follower: `${origin}/u/x`, inbox: `${origin}/u/x/inbox` },
          });
        expect(sent.map((s) => s.inbox)).to.deep.equal(['https://mastodon.example/u/x/inbox']);
      } finally {
        await store.close();
      }
    });
  });
});
