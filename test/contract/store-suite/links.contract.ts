import { expect } from 'chai';
import type { DirectoryEntry, GroupFollow, MemberExclusion, Peer } from '../../../src/storage/links.store.ts';
import { member, readAllPages, type StoreProvider } from './fixtures.ts';

const OLD = 'https://old.example/groups/rust';
const NEW = 'https://new.example/groups/rust';

function follow(groupName: string, targetId: string, overrides: Partial<GroupFollow> = {}): GroupFollow {
  return {
    groupName,
    targetId,
    targetInbox: `${targetId}/inbox`,
    followId: `https://here.example/groups/${groupName}/activities/follow-${targetId.length}`,
    state: 'pending',
    createdAt: 1_000,
    updatedAt: 1_000,
    ...overrides,
  };
}

function peer(host: string, overrides: Partial<Peer> = {}): Peer {
  return {
    host,
    actorId: `https://${host}/actor`,
    inbox: `https://${host}/inbox`,
    added: true,
    followId: null,
    following: false,
    theirFollowId: null,
    followedBy: false,
    addedAt: 1_000,
    lastSeenAt: 1_000,
    ...overrides,
  };
}

function entry(actorId: string, host: string, overrides: Partial<DirectoryEntry> = {}): DirectoryEntry {
  return {
    actorId,
    host,
    name: actorId.split('/').pop() ?? 'x',
    title: 'A group',
    summary: 'About it',
    tags: ['t1', 't2'],
    iconUrl: null,
    membershipPolicy: 'open',
    updatedAt: 2_000,
    ...overrides,
  };
}

/** Every inbox of `listDeliveryInboxesExcept`, read page by page with pages of `limit`. */
async function allInboxesExcept(
  store: StoreProvider,
  group: string,
  except: MemberExclusion,
  limit: number,
): Promise<string[]> {
  const out: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await store().groupFollows.listDeliveryInboxesExcept(group, except, after, limit);
    expect(page.inboxes.length).to.be.at.most(limit);
    out.push(...page.inboxes);
    if (page.next === null) return out;
    expect(page.next > (after ?? ''), 'next moves forward').to.equal(true);
    after = page.next;
  }
  throw new Error('listDeliveryInboxesExcept never ended');
}

/** Moves, groups following groups, peers and their directories (links.store.ts). */
export function describeLinks(store: StoreProvider): void {
  describe('group moves', () => {
    it('has no aliases and no target for a group never imported nor moved', async () => {
      expect(await store().moves.getMoveState('rust')).to.deep.equal({
        groupName: 'rust',
        alsoKnownAs: [],
        movedTo: null,
        movedAt: null,
      });
    });

    it('adds former ids once each, in order, and keeps them when the group moves', async () => {
      await store().moves.addAlsoKnownAs('rust', OLD);
      await store().moves.addAlsoKnownAs('rust', OLD);
      await store().moves.addAlsoKnownAs('rust', 'https://older.example/groups/rust');
      await store().moves.setMovedTo('rust', NEW, 5_000);
      expect(await store().moves.getMoveState('rust')).to.deep.equal({
        groupName: 'rust',
        alsoKnownAs: [OLD, 'https://older.example/groups/rust'],
        movedTo: NEW,
        movedAt: 5_000,
      });
      expect((await store().moves.getMoveState('go')).alsoKnownAs).to.deep.equal([]);
    });

    it('records a move once: the same target again keeps the first time, another target replaces it', async () => {
      await store().moves.setMovedTo('rust', NEW, 5_000);
      await store().moves.setMovedTo('rust', NEW, 6_000);
      expect((await store().moves.getMoveState('rust')).movedAt).to.equal(5_000);
      await store().moves.addAlsoKnownAs('rust', OLD);
      await store().moves.setMovedTo('rust', 'https://third.example/groups/rust', 7_000);
      expect(await store().moves.getMoveState('rust')).to.deep.include({
        alsoKnownAs: [OLD],
        movedTo: 'https://third.example/groups/rust',
        movedAt: 7_000,
      });
    });

    it('records prior members once per group and tells them apart from others', async () => {
      const ids = Array.from({ length: 1500 }, (_, i) => `https://m.example/users/u${i}`);
      expect(await store().moves.addPriorMembers('rust', ids)).to.equal(1500);
      expect(await store().moves.addPriorMembers('rust', ids.slice(0, 10))).to.equal(0);
      expect(await store().moves.addPriorMembers('go', ids.slice(0, 10))).to.equal(10);
      expect(await store().moves.countPriorMembers('rust')).to.equal(1500);
      expect(await store().moves.countPriorMembers('go')).to.equal(10);
      expect(await store().moves.isPriorMember('rust', 'https://m.example/users/u1499')).to.equal(true);
      expect(await store().moves.isPriorMember('go', 'https://m.example/users/u1499')).to.equal(false);
      expect(await store().moves.isPriorMember('rust', 'https://m.example/users/other')).to.equal(false);
    });
  });

  describe('groups following groups', () => {
    it('stores, replaces, reads and removes a follow by (group, target)', async () => {
      const f = follow('rust', OLD);
      await store().groupFollows.putGroupFollow(f);
      expect(await store().groupFollows.getGroupFollow('rust', OLD)).to.deep.equal(f);
      const accepted = { ...f, state: 'accepted' as const, updatedAt: 3_000 };
      await store().groupFollows.putGroupFollow(accepted);
      expect(await store().groupFollows.getGroupFollow('rust', OLD)).to.deep.equal(accepted);
      expect(await store().groupFollows.getGroupFollow('go', OLD)).to.equal(null);
      expect(await store().groupFollows.removeGroupFollow('rust', OLD)).to.equal(true);
      expect(await store().groupFollows.removeGroupFollow('rust', OLD)).to.equal(false);
      expect(await store().groupFollows.getGroupFollow('rust', OLD)).to.equal(null);
    });

    it('lists the follows of a group by target, and the groups following a target by name, in pages', async () => {
      const targets = Array.from({ length: 7 }, (_, i) => `https://t${i}.example/groups/g`);
      for (const t of [...targets].reverse()) await store().groupFollows.putGroupFollow(follow('rust', t));
      for (const g of ['b', 'c', 'a']) await store().groupFollows.putGroupFollow(follow(g, OLD));
      await store().groupFollows.putGroupFollow(follow('other', NEW));
      const mine = await readAllPages<GroupFollow, string>(
        3,
        (after, limit) => store().groupFollows.listGroupFollows('rust', after, limit),
        (f) => f.targetId,
      );
      expect(mine.map((f) => f.targetId)).to.deep.equal(targets);
      const ofOld = await readAllPages<GroupFollow, string>(
        2,
        (after, limit) => store().groupFollows.listFollowsOf(OLD, after, limit),
        (f) => f.groupName,
      );
      expect(ofOld.map((f) => f.groupName)).to.deep.equal(['a', 'b', 'c']);
    });

    it('replaces the known members of a remote group', async () => {
      await store().groupFollows.replaceKnownMembers(OLD, ['https://a.example/u/1', 'https://a.example/u/2']);
      await store().groupFollows.replaceKnownMembers(NEW, ['https://a.example/u/1']);
      expect(await store().groupFollows.countKnownMembers(OLD)).to.equal(2);
      await store().groupFollows.replaceKnownMembers(OLD, ['https://a.example/u/3']);
      expect(await store().groupFollows.countKnownMembers(OLD)).to.equal(1);
      expect(await store().groupFollows.countKnownMembers(NEW)).to.equal(1);
      await store().groupFollows.replaceKnownMembers(OLD, []);
      expect(await store().groupFollows.countKnownMembers(OLD)).to.equal(0);
    });

    describe('delivery inboxes except the members of another group', () => {
      /**
       * Group `b` has members behind four shared inboxes and one personal one: `s1` only members of `a` too,
       * `s2` one member of `a` and one not, `s3` none of `a`, `s4` (many members) all of `a`, `p` one not in
       * `a`; a pending member and members of other groups do not count.
       */
      const setUp = async (): Promise<void> => {
        const at = (actor: string, inbox: string, o: { state?: 'pending' } = {}) =>
          member('b', actor, { deliveryInbox: inbox, sharedInbox: inbox, ...o });
        const s = (n: number) => `https://s${n}.example/inbox`;
        const rows = [
          at('https://s1.example/u/1', s(1)),
          at('https://s1.example/u/2', s(1)),
          at('https://s2.example/u/1', s(2)),
          at('https://s2.example/u/2', s(2)),
          at('https://s3.example/u/1', s(3)),
          at('https://s3.example/u/9', s(3), { state: 'pending' }),
          ...Array.from({ length: 12 }, (_, i) =>
            at(`https://s4.example/u/${String(i).padStart(2, '0')}`, s(4)),
          ),
          member('b', 'https://p.example/u/1'),
        ];
        for (const m of rows) await store().members.upsertMember(m);
        const alsoInA = [
          'https://s1.example/u/1',
          'https://s1.example/u/2',
          'https://s2.example/u/1',
          'https://s3.example/u/9',
          ...Array.from({ length: 12 }, (_, i) => `https://s4.example/u/${String(i).padStart(2, '0')}`),
        ];
        for (const actor of alsoInA) await store().members.upsertMember(member('a', actor));
        // A pending member of `a` is not one of its members.
        await store().members.upsertMember(member('a', 'https://s3.example/u/1', { state: 'pending' }));
        await store().members.upsertMember(member('c', 'https://s3.example/u/1'));
        await store().groupFollows.replaceKnownMembers(OLD, alsoInA);
      };
      const expected = [
        'https://p.example/u/1/inbox',
        'https://s2.example/inbox',
        'https://s3.example/inbox',
      ];

      for (const limit of [1, 2, 3, 5, 100]) {
        it(`leaves out the inboxes whose members all get it from a local group (pages of ${limit})`, async () => {
          await setUp();
          expect(await allInboxesExcept(store, 'b', { localGroup: 'a' }, limit)).to.deep.equal(expected);
        });

        it(`leaves out the inboxes whose members all get it from a remote group (pages of ${limit})`, async () => {
          await setUp();
          expect(await allInboxesExcept(store, 'b', { remoteGroup: OLD }, limit)).to.deep.equal(expected);
        });
      }

      it('lists every inbox when the other group has no members, and nothing for a group without any', async () => {
        await setUp();
        const all = await allInboxesExcept(store, 'b', { localGroup: 'nobody' }, 2);
        expect(all).to.have.length(5);
        expect(await allInboxesExcept(store, 'nobody', { localGroup: 'a' }, 2)).to.deep.equal([]);
      });
    });
  });

  describe('peers', () => {
    it('stores, replaces, reads and removes a peer by host', async () => {
      const p = peer('b.example');
      await store().peerings.putPeer(p);
      expect(await store().peerings.getPeer('b.example')).to.deep.equal(p);
      const changed = { ...p, followId: 'https://here.example/f/1', following: true, followedBy: true };
      await store().peerings.putPeer(changed);
      expect(await store().peerings.getPeer('b.example')).to.deep.equal(changed);
      expect(await store().peerings.getPeer('c.example')).to.equal(null);
      expect(await store().peerings.removePeer('b.example')).to.equal(true);
      expect(await store().peerings.removePeer('b.example')).to.equal(false);
    });

    it('lists peers by host in pages', async () => {
      const hosts = ['d.example', 'a.example', 'c.example:8080', 'b.example'];
      for (const h of hosts) await store().peerings.putPeer(peer(h));
      const all = await readAllPages<Peer, string>(
        3,
        (after, limit) => store().peerings.listPeers(after, limit),
        (p) => p.host,
      );
      expect(all.map((p) => p.host)).to.deep.equal([...hosts].sort());
    });

    it('changes only the fields given, so that two changes made at once are both kept', async () => {
      const p = peer('b.example', { theirFollowId: 'https://b.example/f/1', followedBy: true });
      await store().peerings.putPeer(p);
      await Promise.all([
        store().peerings.updatePeer('b.example', { following: true }),
        store().peerings.updatePeer('b.example', { followedBy: false }),
      ]);
      expect(await store().peerings.getPeer('b.example')).to.deep.equal({
        ...p,
        following: true,
        followedBy: false,
      });
      expect(await store().peerings.updatePeer('b.example', { theirFollowId: null })).to.equal(true);
      expect((await store().peerings.getPeer('b.example'))?.theirFollowId).to.equal(null);
      expect(await store().peerings.updatePeer('b.example', {})).to.equal(true);
      expect(await store().peerings.updatePeer('c.example', { following: true })).to.equal(false);
      expect(await store().peerings.getPeer('c.example')).to.equal(null);
    });

    it('moves lastSeenAt forward only', async () => {
      await store().peerings.putPeer(peer('b.example', { lastSeenAt: 5_000 }));
      expect(await store().peerings.markPeerSeen('b.example', 4_000)).to.equal(true);
      expect((await store().peerings.getPeer('b.example'))?.lastSeenAt).to.equal(5_000);
      expect(await store().peerings.markPeerSeen('b.example', 9_000)).to.equal(true);
      expect((await store().peerings.getPeer('b.example'))?.lastSeenAt).to.equal(9_000);
      expect(await store().peerings.markPeerSeen('c.example', 9_000)).to.equal(false);
    });
  });

  describe('directory entries of peers', () => {
    it('stores, replaces, reads and removes an entry by actor id', async () => {
      const e = entry('https://b.example/groups/rust', 'b.example', { iconUrl: 'https://b.example/i.png' });
      await store().directory.putEntry(e);
      expect(await store().directory.getEntry(e.actorId)).to.deep.equal(e);
      const changed = { ...e, title: 'Rust', tags: [], membershipPolicy: 'approval' as const, updatedAt: 9 };
      await store().directory.putEntry(changed);
      expect(await store().directory.getEntry(e.actorId)).to.deep.equal(changed);
      expect(await store().directory.removeEntry(e.actorId)).to.equal(true);
      expect(await store().directory.removeEntry(e.actorId)).to.equal(false);
      expect(await store().directory.getEntry(e.actorId)).to.equal(null);
    });

    it('lists entries by actor id in pages, and removes those of one host', async () => {
      const ids = [
        'https://c.example/groups/a',
        'https://b.example/groups/z',
        'https://b.example/groups/a',
        'https://d.example/groups/m',
      ];
      for (const id of ids) await store().directory.putEntry(entry(id, new URL(id).host));
      const all = await readAllPages<DirectoryEntry, string>(
        3,
        (after, limit) => store().directory.listEntries(after, limit),
        (e) => e.actorId,
      );
      expect(all.map((e) => e.actorId)).to.deep.equal([...ids].sort());
      expect(await store().directory.removeEntriesOfHost('b.example')).to.equal(2);
      expect(await store().directory.removeEntriesOfHost('b.example')).to.equal(0);
      const left = await store().directory.listEntries(null, 10);
      expect(left.map((e) => e.host)).to.deep.equal(['c.example', 'd.example']);
    });
  });
}
