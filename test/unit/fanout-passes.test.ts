import { expect } from 'chai';
import {
  DELIVERY_PACK,
  FANOUT_PAGE,
  deliveryPackId,
  deliveryPacksOf,
  fanoutHandler,
} from '../../src/federation/job-handlers.ts';
import type { DeliverPayload, FanoutPayload } from '../../src/federation/publisher.ts';
import type { Job, Store } from '../../src/storage/store.ts';
import { createLogger } from '../../src/log.ts';
import { openTestStore } from '../support/test-store.ts';
import { member } from '../contract/store-suite/fixtures.ts';

const T = Date.UTC(2026, 0, 1);
/** More than one page of a fan-out pass. */
const SERVERS = FANOUT_PAGE + 40;
const activity = (n: number): string => `https://guild.example/activities/${n}`;

describe('fan-out passes', function () {
  this.timeout(120_000);
  let store: Store;
  let reads = 0;
  /** The store, counting the reads of delivery inboxes. */
  let counted: Store;

  beforeEach(async () => {
    store = await openTestStore();
    for (let i = 0; i < SERVERS; i++) {
      const server = `https://s${String(i).padStart(5, '0')}.example`;
      // Two members per server sharing its inbox: one delivery per server.
      for (const name of ['ann', 'bob'])
        await store.members.upsertMember(
          member('club', `${server}/users/${name}`, {
            sharedInbox: `${server}/inbox`,
            deliveryInbox: `${server}/inbox`,
          }),
        );
    }
    reads = 0;
    counted = {
      ...store,
      members: new Proxy(store.members, {
        get(target, key, receiver) {
          if (key === 'listDeliveryInboxes') reads++;
          const value: unknown = Reflect.get(target, key, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      }),
    };
  });

  afterEach(async () => {
    await store.close();
  });

  /** Queues a fan-out of `payload` and runs it to its end; returns the deliveries it queued. */
  async function fanOut(id: string, payload: FanoutPayload): Promise<Job[]> {
    await store.jobs.enqueue([{ id, queue: 'fanout', key: 'club', payload, runAt: T }], T);
    const [job] = await store.jobs.claim('fanout', 'me', T, 60_000, 1);
    if (!job) throw new Error('no fan-out job');
    const handler = fanoutHandler(counted, { notify: () => undefined }, 60_000, null, () => T);
    expect((await handler(job, { owner: 'me', log: createLogger('silent') })).kind).to.equal('done');
    await store.jobs.complete(job.id, 'me', T);
    return store.jobs.claim('deliver', 'me', T, 60_000, 10 * SERVERS);
  }

  const inboxesOf = (deliveries: Job[], activityId: string): string[] =>
    deliveries
      .map((d) => d.payload as DeliverPayload)
      .filter((p) => p.activityId === activityId)
      .map((p) => p.inbox)
      .sort();

  it("reads a group's inboxes once for the activities fanned out one after the other", async () => {
    const one = await fanOut('fanout:1', { activityId: activity(1), groupName: 'club', after: null });
    const onePass = reads;
    expect(onePass, 'the pages of one pass, and the empty one that ends it').to.be.at.least(3);
    expect(inboxesOf(one, activity(1))).to.have.length(SERVERS);

    reads = 0;
    const two = await fanOut('fanout:2', {
      activityId: activity(2),
      more: [activity(3)],
      groupName: 'club',
      after: null,
    });
    expect(reads, 'the second pass reads no page again').to.equal(onePass);
    expect(two).to.have.length(2 * SERVERS);
    expect(inboxesOf(two, activity(2))).to.deep.equal(inboxesOf(one, activity(1)));
    expect(inboxesOf(two, activity(3))).to.deep.equal(inboxesOf(one, activity(1)));
  });

  it('packs a page by the places of its inboxes: one inbox fewer changes one pack', () => {
    const page = Array.from({ length: 2 * DELIVERY_PACK + 20 }, (_, i) => `https://s${i}.example/inbox`);
    const idsOf = (inboxes: string[]): string[] =>
      deliveryPacksOf(page, inboxes).map((pack) => deliveryPackId(activity(1), pack));
    const all = deliveryPacksOf(page, page);
    expect(all.map((pack) => pack.length)).to.deep.equal([DELIVERY_PACK, DELIVERY_PACK, 20]);
    expect(all.flat()).to.deep.equal(page);
    const fewer = idsOf(page.filter((_, i) => i !== DELIVERY_PACK + 3));
    const before = idsOf(page);
    expect(fewer[0]).to.equal(before[0]);
    expect(fewer[1]).not.to.equal(before[1]);
    expect(fewer[2]).to.equal(before[2]);
    expect(idsOf(page), 'the same inboxes, the same packs').to.deep.equal(before);
  });
});
