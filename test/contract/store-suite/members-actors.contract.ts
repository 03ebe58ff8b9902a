import { expect } from 'chai';
import type { Member } from '../../../src/storage/store.ts';
import { type StoreProvider, member, readAllPages, remoteActor } from './fixtures.ts';

const actor = (n: number): string => `https://remote${n % 3}.example/users/u${String(n).padStart(3, '0')}`;

export function describeMembersAndActors(store: StoreProvider): void {
  describe('members', () => {
    it('upserts, reads and replaces a member', async () => {
      const pending = member('cats', actor(1), { state: 'pending' });
      await store().members.upsertMember(pending);
      expect(await store().members.getMember('cats', actor(1))).to.deep.equal(pending);
      const accepted: Member = {
        ...pending,
        state: 'accepted',
        sharedInbox: 'https://remote1.example/inbox',
        deliveryInbox: 'https://remote1.example/inbox',
        followId: null,
        updatedAt: 2_500,
      };
      await store().members.upsertMember(accepted);
      expect(await store().members.getMember('cats', actor(1))).to.deep.equal(accepted);
      expect(await store().members.getMember('dogs', actor(1))).to.equal(null);
      expect(await store().members.countMembers('cats', 'accepted')).to.equal(1);
      expect(await store().members.countMembers('cats', 'pending')).to.equal(0);
    });

    it('keeps members of different groups apart', async () => {
      await store().members.upsertMember(member('cats', actor(1)));
      await store().members.upsertMember(member('dogs', actor(1), { state: 'pending' }));
      expect((await store().members.getMember('cats', actor(1)))?.state).to.equal('accepted');
      expect((await store().members.getMember('dogs', actor(1)))?.state).to.equal('pending');
    });

    it('removes a member once', async () => {
      await store().members.upsertMember(member('cats', actor(1)));
      expect(await store().members.removeMember('cats', actor(1))).to.equal(true);
      expect(await store().members.removeMember('cats', actor(1))).to.equal(false);
      expect(await store().members.getMember('cats', actor(1))).to.equal(null);
      expect(await store().members.countMembers('cats', 'accepted')).to.equal(0);
    });

    it('lists and counts members of one state by actorId, in pages of any size', async () => {
      const accepted: string[] = [];
      for (let n = 0; n < 9; n++) {
        const state = n % 4 === 3 ? 'pending' : 'accepted';
        await store().members.upsertMember(member('cats', actor(n), { state }));
        if (state === 'accepted') accepted.push(actor(n));
      }
      await store().members.upsertMember(member('dogs', actor(100)));
      accepted.sort();
      expect(await store().members.countMembers('cats', 'accepted')).to.equal(accepted.length);
      expect(await store().members.countMembers('cats', 'pending')).to.equal(2);
      for (const size of [1, 2, 4, 100]) {
        const all = await readAllPages<Member, string>(
          size,
          (after, limit) => store().members.listMembers('cats', 'accepted', after, limit),
          (m) => m.actorId,
        );
        expect(
          all.map((m) => m.actorId),
          `pages of ${size}`,
        ).to.deep.equal(accepted);
      }
      const pending = await store().members.listMembers('cats', 'pending', null, 10);
      expect(pending.map((m) => m.actorId)).to.deep.equal([actor(3), actor(7)]);
    });

    it('lists each delivery inbox of accepted members once, across page boundaries', async () => {
      const shared = ['https://a.example/inbox', 'https://b.example/inbox', 'https://c.example/inbox'];
      for (let n = 0; n < 12; n++) {
        const sharedInbox = shared[n % 3] ?? null;
        await store().members.upsertMember(
          member('cats', `https://x.example/users/${n}`, { sharedInbox, deliveryInbox: sharedInbox ?? '' }),
        );
      }
      await store().members.upsertMember(member('cats', 'https://solo.example/users/s'));
      await store().members.upsertMember(member('cats', 'https://b.example/users/zz'));
      await store().members.upsertMember(
        member('cats', 'https://pending.example/users/p', {
          state: 'pending',
          deliveryInbox: 'https://p.example/i',
        }),
      );
      await store().members.upsertMember(member('dogs', 'https://other.example/users/o'));
      const expected = [
        ...shared,
        'https://b.example/users/zz/inbox',
        'https://solo.example/users/s/inbox',
      ].sort();
      for (const size of [1, 2, 3, 5, 100]) {
        const all = await readAllPages<string, string>(
          size,
          (after, limit) => store().members.listDeliveryInboxes('cats', after, limit),
          (inbox) => inbox,
        );
        expect(all, `pages of ${size}`).to.deep.equal(expected);
      }
      expect(
        await store().members.listDeliveryInboxes('cats', expected[expected.length - 1] ?? '', 10),
      ).to.deep.equal([]);
      expect(await store().members.listDeliveryInboxes('nobody', null, 10)).to.deep.equal([]);
    });
  });

  describe('groups of an actor', () => {
    it('lists the groups where an actor is a member or has a request, by name', async () => {
      const alice = actor(1);
      for (const name of ['dogs', 'cats', 'birds', 'ants']) {
        await store().members.upsertMember(
          member(name, alice, { state: name === 'birds' ? 'pending' : 'accepted' }),
        );
      }
      await store().members.upsertMember(member('cows', actor(2)));
      await store().members.upsertMember(member('dogs', actor(2)));
      await store().members.removeMember('ants', alice);
      expect(await store().members.listGroupsOfActor(alice)).to.deep.equal(['birds', 'cats', 'dogs']);
      expect(await store().members.listGroupsOfActor(actor(2))).to.deep.equal(['cows', 'dogs']);
      expect(await store().members.listGroupsOfActor(actor(3))).to.deep.equal([]);
      expect(await store().members.listGroupsOfActor(`${alice}/`)).to.deep.equal([]);
    });

    it('lists the actors of every group once, in id order, to the last page', async () => {
      const expected: string[] = [];
      for (let n = 0; n < 12; n++) {
        // Some actors are in several groups, some only requested to join.
        const groups = n % 3 === 0 ? ['cats', 'dogs', 'birds'] : ['cats'];
        for (const g of groups) {
          await store().members.upsertMember(
            member(g, actor(n), { state: n % 4 === 1 ? 'pending' : 'accepted' }),
          );
        }
        expected.push(actor(n));
      }
      expected.sort();
      for (const size of [1, 2, 5, 100]) {
        const seen: string[] = [];
        let after: string | null = null;
        for (let pages = 0; ; pages++) {
          expect(pages, 'the listing ends').to.be.below(100);
          const page: string[] = await store().members.listMemberActors(after, size);
          if (page.length === 0) break;
          expect(page.length).to.be.at.most(size);
          seen.push(...page);
          after = page[page.length - 1] ?? null;
        }
        expect(seen, `in pages of ${size}`).to.deep.equal(expected);
      }
      expect(await store().members.listMemberActors(expected[expected.length - 1] ?? '', 10)).to.deep.equal(
        [],
      );
      expect(await store().members.listMemberActors(null, 0)).to.deep.equal([]);
    });

    it('lists at most 100 groups of an actor, the first by name', async () => {
      const names = Array.from({ length: 105 }, (_, n) => `g${String(n).padStart(3, '0')}`);
      for (const name of [...names].reverse()) await store().members.upsertMember(member(name, actor(1)));
      expect(await store().members.listGroupsOfActor(actor(1))).to.deep.equal(names.slice(0, 100));
    });
  });

  describe('remote actors', () => {
    it('stores, replaces and reads actors by id and by key id', async () => {
      const alice = remoteActor('https://remote.example/users/alice');
      await store().remoteActors.putRemoteActor(alice);
      expect(await store().remoteActors.getRemoteActor(alice.id)).to.deep.equal(alice);
      expect(await store().remoteActors.getRemoteActorByKeyId(`${alice.id}#main-key`)).to.deep.equal(alice);

      const rotated = {
        ...alice,
        keyId: `${alice.id}#key-2`,
        publicKeyPem: 'rotated',
        name: null,
        fetchedAt: 3_500,
      };
      await store().remoteActors.putRemoteActor(rotated);
      expect(await store().remoteActors.getRemoteActor(alice.id)).to.deep.equal(rotated);
      expect(await store().remoteActors.getRemoteActorByKeyId(`${alice.id}#key-2`)).to.deep.equal(rotated);
      expect(await store().remoteActors.getRemoteActorByKeyId(`${alice.id}#main-key`)).to.equal(null);
      expect(await store().remoteActors.getRemoteActor('https://remote.example/users/bob')).to.equal(null);
    });

    it('stores an actor with every optional field null', async () => {
      const bare = remoteActor('https://remote.example/actor', {
        type: 'Application',
        sharedInbox: null,
        preferredUsername: null,
        name: null,
        url: null,
        keyId: null,
        publicKeyPem: null,
      });
      await store().remoteActors.putRemoteActor(bare);
      expect(await store().remoteActors.getRemoteActor(bare.id)).to.deep.equal(bare);
    });
  });
}
