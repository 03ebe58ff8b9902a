/**
 * The storage port's contract, run unchanged against the store GUILD_TEST_STORE selects (sqlite by default,
 * mongodb with MONGODB_URL). Every test gets a fresh, empty store.
 */
import type { Store } from '../../src/storage/store.ts';
import { openTestStore, testStoreKind } from '../support/test-store.ts';
import { describeActivitiesAndPosts } from './store-suite/activities-posts.contract.ts';
import { describeBrakes } from './store-suite/brakes.contract.ts';
import { describeGroupsAndKeys } from './store-suite/groups-keys.contract.ts';
import { describeHosts } from './store-suite/hosts.contract.ts';
import { describeIndexes } from './store-suite/indexes.contract.ts';
import { describeJobQueue } from './store-suite/job-queue.contract.ts';
import { describeJobPacks } from './store-suite/job-packs.contract.ts';
import { describeLinks } from './store-suite/links.contract.ts';
import { describeLifecycle } from './store-suite/lifecycle.contract.ts';
import { describeMembersAndActors } from './store-suite/members-actors.contract.ts';
import { describeDeliveryInboxes } from './store-suite/delivery-inboxes.contract.ts';
import { describeModeration } from './store-suite/moderation.contract.ts';
import { describePeerSoftware } from './store-suite/peer-software.contract.ts';
import { describePurges } from './store-suite/purges.contract.ts';
import { describeWithdrawal } from './store-suite/withdrawal.contract.ts';
import { describeSelfService } from './store-suite/self-service.contract.ts';

describe(`Store contract (${testStoreKind()})`, () => {
  let current: Store | undefined;
  const store = (): Store => {
    if (!current) throw new Error('no store open');
    return current;
  };

  beforeEach(async () => {
    current = await openTestStore();
  });

  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  describeGroupsAndKeys(store);
  describeMembersAndActors(store);
  describeDeliveryInboxes(store);
  describeActivitiesAndPosts(store);
  describeWithdrawal(store);
  describeJobQueue(store);
  describeJobPacks(store);
  describeModeration(store);
  describeHosts(store);
  describePeerSoftware(store);
  describePurges(store);
  describeBrakes(store);
  describeLinks(store);
  describeSelfService(store);
  describeLifecycle();
  describeIndexes();
});
