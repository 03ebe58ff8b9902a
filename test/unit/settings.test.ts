import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { openTestStore } from '../support/test-store.ts';
import type { Group, QueueName, Store } from '../../src/storage/store.ts';
import { Urls } from '../../src/activitypub/urls.ts';
import { GroupService } from '../../src/groups/group.service.ts';
import {
  MAX_IMAGE_BYTES,
  SettingsService,
  sniffImage,
  validateSettingsPatch,
  type MediaStore,
  type SniffedImage,
} from '../../src/groups/settings.service.ts';
import type { KeyPairGenerator } from '../../src/groups/ports.ts';
import { StorePublisher, type DeliverPayload } from '../../src/federation/publisher.ts';
import { OutboundTranslator } from '../../src/federation/outbound/outbound.translator.ts';
import { MembershipService } from '../../src/groups/membership.service.ts';
import { rsaKeyPairs } from '../../src/federation/keys.ts';
import { PUBLIC } from '../../src/activitypub/vocab.ts';

const ORIGIN = 'https://guild.example';
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46]);
const GIF = new TextEncoder().encode('GIF89a\x01\x00\x01\x00');
const WEBP = new TextEncoder().encode('RIFF\x24\x00\x00\x00WEBPVP8 ');

/** An in-memory media store that records what it was given. */
class MemoryMedia implements MediaStore {
  saved: SniffedImage[] = [];
  async saveImage(image: SniffedImage): Promise<string> {
    this.saved.push(image);
    return `${ORIGIN}/media/${image.sha256}.${image.ext}`;
  }
}

/** Every job of a queue, leased for inspection (nothing runs them in these tests). */
async function queued(store: Store, queue: QueueName) {
  return store.jobs.claim(queue, 'test', Date.now() + 60_000, 60_000, 100);
}

describe('SettingsService', function () {
  let pair: { publicKeyPem: string; privateKeyPem: string };
  let store: Store;
  let urls: Urls;
  let groups: GroupService;
  let media: MemoryMedia;
  let settings: SettingsService;

  before(async function () {
    pair = await rsaKeyPairs.generate();
  });

  beforeEach(async function () {
    store = await openTestStore();
    urls = new Urls(ORIGIN);
    const signal = { notify: () => undefined };
    const publisher = new StorePublisher(store, signal);
    const events = new OutboundTranslator({ publisher, store, urls, domain: 'guild.example' });
    const keys: KeyPairGenerator = { generate: async () => pair };
    groups = new GroupService({ store, urls, events, keys });
    media = new MemoryMedia();
    settings = new SettingsService({ store, events, media });
    const r = await groups.create('rust', { title: 'Rustaceans', summary: 'All about **Rust**' });
    expect(r.ok).to.equal(true);
  });

  afterEach(async function () {
    await store.close();
  });

  describe('validation', function () {
    it('reports every invalid field at once', function () {
      const r = validateSettingsPatch(
        {
          title: '   ',
          summary: 'x'.repeat(5001),
          language: 'english!',
          tags: ['ok', 'not ok', 'a-b'],
          maxGroupMentions: 0,
          icon: { url: 'javascript:alert(1)' },
          banner: { bytes: new TextEncoder().encode('<svg onload=alert(1)>') },
        },
        { uploads: true },
      );
      expect(r.ok).to.equal(false);
      if (r.ok) return;
      const fields = r.error.map((p) => p.field);
      expect(fields).to.include.members([
        'title',
        'summary',
        'language',
        'tags',
        'maxGroupMentions',
        'icon',
        'banner',
      ]);
      expect(r.error.find((p) => p.field === 'banner')?.detail).to.contain('not a PNG, JPEG, GIF or WebP');
      expect(r.error.find((p) => p.field === 'icon')?.detail).to.contain('not an http(s) URL');
    });

    it('normalises tags, language and URLs', function () {
      const r = validateSettingsPatch(
        {
          title: '  Rust  ',
          tags: ['#Rust', 'systems', 'rust', ''],
          language: ' pt-BR ',
          icon: { url: 'https://cdn.example/icon.png' },
        },
        { uploads: false },
      );
      expect(r).to.deep.equal({
        ok: true,
        value: {
          title: 'Rust',
          tags: ['rust', 'systems'],
          language: 'pt-BR',
          icon: { url: 'https://cdn.example/icon.png' },
        },
      });
    });

    it('limits tags, mention caps, images and refuses files without a media store', function () {
      const tooMany = validateSettingsPatch(
        { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
        { uploads: true },
      );
      expect(tooMany.ok).to.equal(false);
      expect(validateSettingsPatch({ maxGroupMentions: 101 }, { uploads: true }).ok).to.equal(false);
      expect(validateSettingsPatch({ maxGroupMentions: 2.5 }, { uploads: true }).ok).to.equal(false);
      expect(validateSettingsPatch({ maxGroupMentions: 100 }, { uploads: true }).ok).to.equal(true);
      const big = new Uint8Array(MAX_IMAGE_BYTES + 1);
      big.set(PNG);
      const tooBig = validateSettingsPatch({ icon: { bytes: big } }, { uploads: true });
      expect(tooBig.ok === false && tooBig.error[0]?.detail).to.contain('limit');
      const noUploads = validateSettingsPatch({ icon: { bytes: PNG } }, { uploads: false });
      expect(noUploads.ok === false && noUploads.error[0]?.detail).to.contain('give an http(s) URL');
      expect(
        validateSettingsPatch({ icon: { url: 'https://user:pw@cdn.example/a.png' } }, { uploads: true }).ok,
      ).to.equal(false);
    });

    it('recognises PNG, JPEG, GIF and WebP by their magic bytes only', function () {
      expect(sniffImage(PNG)?.contentType).to.equal('image/png');
      expect(sniffImage(JPEG)?.ext).to.equal('jpg');
      expect(sniffImage(GIF)?.contentType).to.equal('image/gif');
      expect(sniffImage(WEBP)?.contentType).to.equal('image/webp');
      expect(sniffImage(new TextEncoder().encode('RIFF\x24\x00\x00\x00WAVEfmt '))).to.equal(null);
      expect(sniffImage(new TextEncoder().encode('<html>'))).to.equal(null);
      expect(sniffImage(PNG)?.sha256).to.equal(createHash('sha256').update(PNG).digest('hex'));
    });
  });

  describe('update', function () {
    it('changes nothing and queues nothing when one value is invalid', async function () {
      const before = await store.groups.getGroup('rust');
      const r = await settings.update('rust', {
        title: 'New title',
        membershipPolicy: 'approval',
        tags: ['fine', 'not fine'],
        icon: { bytes: PNG },
      });
      expect(r.ok).to.equal(false);
      if (!r.ok)
        expect(r.error).to.deep.equal({
          type: 'invalid',
          problems: [
            {
              field: 'tags',
              detail: '"not fine" is not a tag: use letters, digits and underscores (at most 64)',
            },
          ],
        });
      expect(await store.groups.getGroup('rust')).to.deep.equal(before);
      expect(media.saved).to.have.length(0);
      expect((await store.jobs.stats('fanout', Date.now())).queued).to.equal(0);
    });

    it('stores the new values and queues Update{Group} with the full actor to every member', async function () {
      const before = (await store.groups.getGroup('rust')) as Group;
      const r = await settings.update('rust', {
        title: 'Rust folks',
        summary: 'Systems *programming*',
        rules: '1. Be kind',
        language: 'en',
        tags: ['rust', 'Systems'],
        sensitive: true,
        membershipPolicy: 'approval',
        postingPolicy: 'moderators',
        maxGroupMentions: 3,
        listFollowers: true,
        icon: { bytes: PNG },
        banner: { url: 'https://cdn.example/banner.jpg' },
      });
      expect(r.ok).to.equal(true);
      if (!r.ok) return;
      expect(r.value.changed).to.have.members([
        'title',
        'summary',
        'rules',
        'language',
        'tags',
        'sensitive',
        'membershipPolicy',
        'postingPolicy',
        'maxGroupMentions',
        'listFollowers',
        'icon',
        'banner',
      ]);
      const stored = (await store.groups.getGroup('rust')) as Group;
      const iconUrl = `${ORIGIN}/media/${createHash('sha256').update(PNG).digest('hex')}.png`;
      expect(stored.title).to.equal('Rust folks');
      expect(stored.summary).to.equal('Systems *programming*');
      expect(stored.settings).to.deep.include({
        rules: '1. Be kind',
        language: 'en',
        tags: ['rust', 'systems'],
        sensitive: true,
        discoverable: true,
        membershipPolicy: 'approval',
        postingPolicy: 'moderators',
        maxGroupMentions: 3,
        listFollowers: true,
        iconUrl,
        bannerUrl: 'https://cdn.example/banner.jpg',
      });
      expect(stored.updatedAt).to.be.greaterThan(before.updatedAt);

      const jobs = await queued(store, 'fanout');
      expect(jobs).to.have.length(1);
      const activityId = jobs[0]?.payload.activityId as string;
      expect(jobs[0]?.id).to.equal(`fanout:${activityId}`);
      const activity = await store.activities.getActivity(activityId);
      expect(activity).to.not.equal(null);
      expect(activity?.inOutbox).to.equal(false);
      const doc = JSON.parse(activity?.json ?? '{}') as Record<string, unknown>;
      const group = `${ORIGIN}/groups/rust`;
      expect(doc).to.deep.include({ type: 'Update', actor: group, to: [PUBLIC], cc: [`${group}/followers`] });
      const object = doc.object as Record<string, unknown>;
      expect(object).to.not.have.property('@context');
      expect(object).to.deep.include({
        id: group,
        type: 'Group',
        name: 'Rust folks',
        manuallyApprovesFollowers: true,
        postingRestrictedToMods: true,
        sensitive: true,
        icon: { type: 'Image', url: iconUrl },
        image: { type: 'Image', url: 'https://cdn.example/banner.jpg' },
      });
      expect(object.summary).to.contain('<em>programming</em>');
      expect((object.publicKey as { publicKeyPem: string }).publicKeyPem).to.equal(pair.publicKeyPem);
    });

    it('sends nothing when the values given are the current ones', async function () {
      const r = await settings.update('rust', { title: 'Rustaceans', discoverable: true });
      expect(r.ok && r.value.changed).to.deep.equal([]);
      expect((await store.jobs.stats('fanout', Date.now())).queued).to.equal(0);
    });

    it('clears the icon and language with null', async function () {
      await settings.update('rust', { icon: { url: 'https://cdn.example/i.png' }, language: 'de' });
      const r = await settings.update('rust', { icon: null, language: null });
      expect(r.ok && r.value.changed).to.have.members(['icon', 'language']);
      const g = await store.groups.getGroup('rust');
      expect(g?.settings.iconUrl).to.equal(null);
      expect(g?.settings.language).to.equal(null);
    });

    it('accepts pending join requests when membership becomes open', async function () {
      const publisher = new StorePublisher(store, { notify: () => undefined });
      const events = new OutboundTranslator({ publisher, store, urls, domain: 'guild.example' });
      const membership = new MembershipService({ store, events });
      const withMembership = new SettingsService({ store, events, membership });
      await withMembership.update('rust', { membershipPolicy: 'approval' });
      const requesters = ['https://a.example/users/a', 'https://b.example/users/b'];
      for (const actorId of requesters) {
        await store.members.upsertMember({
          groupName: 'rust',
          actorId,
          inbox: `${actorId}/inbox`,
          sharedInbox: null,
          deliveryInbox: `${actorId}/inbox`,
          state: 'pending',
          followId: `${actorId}/follow`,
          createdAt: 1,
          updatedAt: 1,
        });
      }
      const r = await withMembership.update('rust', { membershipPolicy: 'open' });
      expect(r.ok && r.value.approvedPending).to.equal(2);
      expect(await store.members.countMembers('rust', 'accepted')).to.equal(2);
      expect(await store.members.countMembers('rust', 'pending')).to.equal(0);
      const deliveries = await queued(store, 'deliver');
      expect(deliveries.map((j) => (j.payload as DeliverPayload).inbox).sort()).to.deep.equal(
        requesters.map((a) => `${a}/inbox`),
      );
    });

    it('answers not-found for unknown and deleted groups', async function () {
      expect(await settings.update('nope', { title: 'x' })).to.deep.equal({
        ok: false,
        error: { type: 'not-found' },
      });
      await groups.delete('rust');
      expect(await settings.update('rust', { title: 'x' })).to.deep.equal({
        ok: false,
        error: { type: 'not-found' },
      });
    });
  });
});
