import { expect } from 'chai';
import type { Group } from '../../../src/storage/store.ts';
import { type StoreProvider, group, readAllPages, rsaKeyPair } from './fixtures.ts';

export function describeGroupsAndKeys(store: StoreProvider): void {
  describe('groups', () => {
    it('creates a group and reads it back unchanged', async () => {
      const created = group('cats', { settings: { ...group('x').settings, membershipPolicy: 'approval' } });
      expect(await store().groups.createGroup(created)).to.equal(true);
      expect(await store().groups.getGroup('cats')).to.deep.equal(created);
      expect(await store().groups.getGroup('dogs')).to.equal(null);
    });

    it('refuses a taken name and keeps the first group', async () => {
      await store().groups.createGroup(group('cats'));
      expect(await store().groups.createGroup(group('cats', { title: 'Impostor' }))).to.equal(false);
      expect((await store().groups.getGroup('cats'))?.title).to.equal('Title of cats');
    });

    it('keeps the name of a deleted group taken', async () => {
      await store().groups.createGroup(group('cats'));
      expect(await store().groups.markGroupDeleted('cats', 5_000)).to.equal(true);
      expect(await store().groups.createGroup(group('cats'))).to.equal(false);
      expect((await store().groups.getGroup('cats'))?.deletedAt).to.equal(5_000);
    });

    it('marks a group deleted only once, and only when it exists', async () => {
      await store().groups.createGroup(group('cats'));
      expect(await store().groups.markGroupDeleted('dogs', 5_000)).to.equal(false);
      expect(await store().groups.markGroupDeleted('cats', 5_000)).to.equal(true);
      expect(await store().groups.markGroupDeleted('cats', 6_000)).to.equal(false);
      expect((await store().groups.getGroup('cats'))?.deletedAt).to.equal(5_000);
    });

    it('updates title, summary, settings and updatedAt only', async () => {
      await store().groups.createGroup(group('cats'));
      const changed = group('cats', {
        title: 'New',
        summary: 'New summary',
        updatedAt: 9_000,
        createdAt: 1,
        settings: { ...group('x').settings, postingPolicy: 'moderators', tags: [], maxGroupMentions: 2 },
      });
      expect(await store().groups.updateGroup(changed)).to.equal(true);
      expect(await store().groups.getGroup('cats')).to.deep.equal({ ...changed, createdAt: 1_000 });
      expect(await store().groups.updateGroup(group('dogs'))).to.equal(false);
      expect(await store().groups.getGroup('dogs')).to.equal(null);
    });

    it('lists and counts live groups by name, in pages of any size', async () => {
      const names = ['b', 'a_1', 'c', 'a', 'e9', 'd', 'a_2'];
      for (const name of names) await store().groups.createGroup(group(name));
      await store().groups.markGroupDeleted('c', 5_000);
      const live = names.filter((name) => name !== 'c').sort();
      expect(await store().groups.countGroups()).to.equal(live.length);
      for (const size of [1, 2, 3, 100]) {
        const all = await readAllPages<Group, string>(
          size,
          (after, limit) => store().groups.listGroups(after, limit),
          (g) => g.name,
        );
        expect(
          all.map((g) => g.name),
          `pages of ${size}`,
        ).to.deep.equal(live);
      }
      expect(await store().groups.listGroups('d', 1)).to.deep.equal([group('e9')]);
      expect(await store().groups.listGroups(null, 0)).to.deep.equal([]);
    });
  });

  describe('keys', () => {
    it('stores a key pair once and returns the stored pair afterwards', async () => {
      const first = rsaKeyPair('group:cats');
      const second = { ...first, publicKeyPem: 'other public', privateKeyPem: 'other private' };
      expect(await store().keys.putKeyPairIfAbsent(first)).to.deep.equal(first);
      expect(await store().keys.putKeyPairIfAbsent(second)).to.deep.equal(first);
      expect(await store().keys.getPublicKey('group:cats')).to.equal(first.publicKeyPem);
      expect(await store().keys.getPrivateKey('group:cats')).to.equal(first.privateKeyPem);
    });

    it('answers null for an owner without keys', async () => {
      await store().keys.putKeyPairIfAbsent(rsaKeyPair('instance'));
      expect(await store().keys.getPublicKey('group:nobody')).to.equal(null);
      expect(await store().keys.getPrivateKey('group:nobody')).to.equal(null);
    });

    it('keeps the private key out of every read but getPrivateKey', async () => {
      const pair = rsaKeyPair('group:cats');
      await store().keys.putKeyPairIfAbsent(pair);
      await store().groups.createGroup(group('cats'));
      const reads: unknown[] = [
        await store().keys.getPublicKey('group:cats'),
        await store().groups.getGroup('cats'),
        await store().groups.listGroups(null, 10),
      ];
      const privateBody = pair.privateKeyPem.split('\n')[5];
      expect(privateBody).to.be.a('string').with.length.greaterThan(20);
      for (const read of reads) {
        expect(JSON.stringify(read)).not.to.include(privateBody);
        expect(JSON.stringify(read)).not.to.include('PRIVATE KEY');
      }
      expect(await store().keys.getPrivateKey('group:cats')).to.include(privateBody);
    });
  });
}
