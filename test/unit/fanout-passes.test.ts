import { expect } from 'chai';
import { fanoutHandler } from '../../src/federation/job-handlers.ts';
import type { DeliverPayload, FanoutPayload } from '../../src/federation/publisher.ts';
import type { Store } from '../../src/storage/store.ts';
import { createLogger } from '../../src/log.ts';
import { openTestStore } from '../support/test-store.ts';
import { member } from '../contract/store-suite/fixtures.ts';

const T = Date.UTC(2026, 0, 1);
/** More than one page of the fan-out (500 inboxes). */
const SERVERS = 620;

describe('fan-out passes', function () {
  this.timeout(60_000);
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore();
    for (let i = 0; i < SERVERS; i++) {
      const server = `https://s${String(i).padStart(4, '0')}.example`;
      // Two members per server sharing its inbox: one delivery per server.
      for (const name of ['ann', 'bob'])
        await store.members.upsertMember(
          member('club', `${server}/users/${name}`, {
            sharedInbox: `${server}/inbox`,
            deliveryInbox: `${server}/inbox`,
          }),
        );
    }
  });

  afterEach(async () => {
    await store.close();
  });

  it("reads a group's inboxes once for the activities fanned out one after the other", async () => {
    let reads = 0;
    const members = store.members;
    const counted: Store = {
      ...store,
      members: new Proxy(members, {
        get(target, key, receiver) {
          if (key === 'listDeliveryInboxes') reads++;
          const value: unknown = Reflect.get(target, key, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    } as Store;
    const payload: FanoutPayload = {
      activityId: 'https://guild.example/a/1',
      more: ['https://guild.example/a/2'],
      groupName: 'club',
      after: null,
    };
    await store.jobs.enqueue([{ id: 'fanout:1', queue: 'fanout', key: 'club', payload, runAt: T }], T);
    const [job] = await store.jobs.claim('fanout', 'me', T, 60_000, 1);
    if (!job) throw new Error('no fan-out job');
    const handler = fanoutHandler(counted, { notify: () => undefined }, 60_000, null, () => T);
    expect((await handler(job, { owner: 'me', log: createLogger('silent') })).kind).to.equal('done');
    // Two pages and the empty one that ends the pass; the second activity's pass reads none of them again.
    expect(reads).to.equal(3);
    const deliveries = await store.jobs.claim('deliver', 'me', T, 60_000, 10_000);
    const inboxesOf = (activityId: string): Set<string> =>
      new Set(
        deliveries
          .map((d) => d.payload as DeliverPayload)
          .filter((p) => p.activityId === activityId)
          .map((p) => p.inbox),
      );
    expect(deliveries).to.have.length(2 * SERVERS);
    expect(inboxesOf('https://guild.example/a/1').size).to.equal(SERVERS);
    expect(inboxesOf('https://guild.example/a/2')).to.deep.equal(inboxesOf('https://guild.example/a/1'));
  });
});
