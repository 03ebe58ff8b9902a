import { expect } from 'chai';
import { Long, MongoClient, type Db } from 'mongodb';
import { openStore } from '../../../src/storage/open-store.ts';
import type { Store } from '../../../src/storage/store.ts';
import type { MemberDoc } from '../../../src/storage/mongodb/documents.mongodb.ts';
import {
  listDeliveryInboxesOnce,
  type DeliveryInboxDoc,
} from '../../../src/storage/mongodb/delivery-inboxes.mongodb.ts';
import { MongoInboxReads } from '../../../src/storage/mongodb/inbox-reads.mongodb.ts';
import { newTestStoreLocation, testStoreKind, type TestStoreLocation } from '../../support/test-store.ts';
import { type StoreProvider, member } from './fixtures.ts';

const X = 'https://x.example/inbox';
const Y = 'https://y.example/inbox';
const Z = 'https://z.example/inbox';
const W = 'https://w.example/inbox';
const person = (n: number): string => `https://p${n}.example/users/u`;

/** Every delivery inbox of `group`, read in pages of `size` (listDeliveryInboxes). */
async function inboxesOf(store: Store, group: string, size = 100): Promise<string[]> {
  const all: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 10_000; pages++) {
    const page: string[] = await store.members.listDeliveryInboxes(group, after, size);
    if (page.length === 0) return all;
    all.push(...page);
    after = page[page.length - 1] ?? null;
  }
  throw new Error('paging did not end');
}

/** The distinct delivery inboxes of the accepted members of `group`, as the members say. */
async function acceptedInboxes(store: Store, group: string): Promise<string[]> {
  const members = await store.members.listMembers(group, 'accepted', null, 10_000);
  return [...new Set(members.map((m) => m.deliveryInbox))].sort();
}

/** The delivery inboxes of a group follow its members' joins, leaves, refusals and changes of inbox. */
export function describeDeliveryInboxes(store: StoreProvider): void {
  describe('delivery inboxes', () => {
    it('lists an inbox while an accepted member has it, whatever the member writes', async () => {
      const s = store();
      await s.members.upsertMember(member('cats', person(1), { deliveryInbox: X }));
      await s.members.upsertMember(member('cats', person(2), { deliveryInbox: X }));
      await s.members.upsertMember(member('cats', person(3), { deliveryInbox: Y, state: 'pending' }));
      await s.members.upsertMember(member('cats', person(4), { deliveryInbox: Z }));
      await s.members.upsertMember(member('dogs', person(5), { deliveryInbox: W }));
      expect(await inboxesOf(s, 'cats')).to.deep.equal([X, Z]);

      expect(await s.members.removeMember('cats', person(1))).to.equal(true);
      expect(await inboxesOf(s, 'cats'), 'another member is behind X').to.deep.equal([X, Z]);
      expect(await s.members.removeMember('cats', person(2))).to.equal(true);
      expect(await inboxesOf(s, 'cats')).to.deep.equal([Z]);
      expect(await s.members.removeMember('cats', person(2)), 'removed already').to.equal(false);
      expect(await inboxesOf(s, 'cats')).to.deep.equal([Z]);

      await s.members.upsertMember(member('cats', person(4), { deliveryInbox: W }));
      expect(await inboxesOf(s, 'cats'), 'an inbox that changed').to.deep.equal([W]);
      await s.members.upsertMember(member('cats', person(4), { deliveryInbox: W, state: 'pending' }));
      expect(await inboxesOf(s, 'cats'), 'a member back to pending').to.deep.equal([]);
      await s.members.upsertMember(member('cats', person(3), { deliveryInbox: Y }));
      await s.members.upsertMember(member('cats', person(3), { deliveryInbox: Y }));
      expect(await inboxesOf(s, 'cats'), 'a request accepted, written twice').to.deep.equal([Y]);
      await s.members.removeMember('cats', person(4));
      expect(await inboxesOf(s, 'cats'), 'a pending request removed').to.deep.equal([Y]);
      expect(await inboxesOf(s, 'dogs'), 'another group').to.deep.equal([W]);
    });

    it('lists the inbox of every accepted member after joins, leaves and moves at the same time', async () => {
      const s = store();
      // Each round: at one inbox, a member leaves and another joins, one moves away and another moves in, all at
      // once; the inboxes listed are those of the accepted members, whatever the order the writes took.
      for (let round = 0; round < 12; round++) {
        const here = `https://r${round}.example/inbox`;
        const there = `https://r${round}.example/other-inbox`;
        const [a, b, c, d] = [1, 2, 3, 4].map((n) => `https://r${round}.example/users/${n}`) as [
          string,
          string,
          string,
          string,
        ];
        await s.members.upsertMember(member('cats', a, { deliveryInbox: here }));
        await s.members.upsertMember(member('cats', c, { deliveryInbox: here }));
        await s.members.upsertMember(member('cats', d, { deliveryInbox: there }));
        await Promise.all([
          s.members.removeMember('cats', a),
          s.members.upsertMember(member('cats', b, { deliveryInbox: here })),
          s.members.upsertMember(member('cats', c, { deliveryInbox: there })),
          s.members.upsertMember(member('cats', d, { deliveryInbox: here })),
        ]);
        expect(await inboxesOf(s, 'cats'), `round ${round}`).to.deep.equal(await acceptedInboxes(s, 'cats'));
        await Promise.all([
          s.members.removeMember('cats', b),
          s.members.removeMember('cats', d),
          s.members.upsertMember(member('cats', a, { deliveryInbox: here })),
          s.members.upsertMember(member('cats', c, { deliveryInbox: here, state: 'pending' })),
        ]);
        expect(await inboxesOf(s, 'cats'), `round ${round}, back`).to.deep.equal(
          await acceptedInboxes(s, 'cats'),
        );
      }
    });
  });

  (testStoreKind() === 'mongodb' ? describe : describe.skip)('delivery inboxes (mongodb)', () => {
    let location: TestStoreLocation;
    let client: MongoClient;
    let db: Db;

    beforeEach(async () => {
      location = await newTestStoreLocation();
      if (location.options.kind !== 'mongodb') throw new Error('unreachable');
      await (await openStore(location.options)).close();
      client = new MongoClient(location.options.url, { monitorCommands: true });
      db = client.db(location.options.dbName);
    });

    afterEach(async () => {
      await client.close();
      await location.remove();
    });

    it('lists the inboxes of a store written before the list when it is opened, once', async () => {
      const inboxes = db.collection<DeliveryInboxDoc>('delivery_inboxes');
      const members = db.collection<MemberDoc>('members');
      await inboxes.drop();
      // Members as an earlier Guild stored them, with no list of inboxes; more than one batch of them.
      const docs: MemberDoc[] = [];
      for (let n = 0; n < 1_200; n++)
        docs.push({
          ...member('cats', `https://s${n % 300}.example/users/${n}`, {
            deliveryInbox: `https://s${n % 300}.example/inbox`,
            state: n % 7 === 0 ? 'pending' : 'accepted',
          }),
        });
      docs.push({ ...member('dogs', person(1), { deliveryInbox: X }) });
      await members.insertMany(docs);

      const s = await openStore(location.options);
      try {
        expect(await inboxesOf(s, 'cats', 64)).to.deep.equal(await acceptedInboxes(s, 'cats'));
        expect(await inboxesOf(s, 'cats')).to.have.length(300);
        expect(await inboxesOf(s, 'dogs')).to.deep.equal([X]);
      } finally {
        await s.close();
      }
      const indexes = await inboxes.listIndexes().toArray();
      expect(indexes.some((index) => 'groupName' in (index.key as Record<string, unknown>))).to.equal(true);
      // With the list's index in place, a later start reads nothing again.
      await inboxes.deleteMany({ groupName: 'dogs' });
      expect(await listDeliveryInboxesOnce(inboxes, members)).to.equal(0);
      expect(await inboxes.countDocuments({ groupName: 'dogs' })).to.equal(0);
    });

    it('reads on from where it stopped when the cursor of a pass was closed by the server', async () => {
      const inboxes = db.collection<DeliveryInboxDoc>('delivery_inboxes');
      const s = await openStore(location.options);
      try {
        for (let n = 0; n < 30; n++)
          await s.members.upsertMember(
            member('cats', person(n), { deliveryInbox: `https://s${n}.example/i` }),
          );
      } finally {
        await s.close();
      }
      const order = Array.from({ length: 30 }, (_, n) => `https://s${n}.example/i`).sort();
      const cursors: Long[] = [];
      const failed: string[] = [];
      client.on('commandSucceeded', (event) => {
        const id = (event.reply as { cursor?: { id?: unknown } }).cursor?.id;
        if (id instanceof Long && !id.isZero()) cursors.push(id);
        else if (typeof id === 'number' && id !== 0) cursors.push(Long.fromNumber(id));
        else if (typeof id === 'bigint' && id !== 0n) cursors.push(Long.fromBigInt(id));
      });
      client.on('commandFailed', (event) => failed.push(event.commandName));
      // Batches of 4: the cursor of the pass stays open on the server between pages.
      const reads = new MongoInboxReads(inboxes, { batch: 4 });
      try {
        const first = await reads.page('cats', null, 10);
        expect(first).to.deep.equal(order.slice(0, 10));
        expect(cursors, 'a cursor left open').to.have.length.above(0);
        await db.command({ killCursors: 'delivery_inboxes', cursors });
        const rest: string[] = [];
        let after = first[first.length - 1] ?? null;
        for (;;) {
          const page = await reads.page('cats', after, 7);
          if (page.length === 0) break;
          rest.push(...page);
          after = page[page.length - 1] ?? null;
        }
        expect(failed, 'the next page found its cursor gone').to.include('getMore');
        expect([...first, ...rest]).to.deep.equal(order);
      } finally {
        await reads.close();
      }
    });
  });
}
