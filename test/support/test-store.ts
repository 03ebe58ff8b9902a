import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { openStore, type StoreOptions } from '../../src/storage/open-store.ts';
import type { Store } from '../../src/storage/store.ts';

export type TestStoreKind = 'sqlite' | 'mongodb';

/** The store the tests run against: `GUILD_TEST_STORE` = `sqlite` (default) or `mongodb`. */
export function testStoreKind(): TestStoreKind {
  const value = process.env['GUILD_TEST_STORE'] ?? 'sqlite';
  if (value === 'sqlite' || value === 'mongodb') return value;
  throw new Error(`GUILD_TEST_STORE must be "sqlite" or "mongodb", not ${JSON.stringify(value)}`);
}

/** A fresh, empty place to keep a store, and how to delete it. */
export interface TestStoreLocation {
  options: StoreOptions;
  /** Deletes everything stored there. Close the stores opened on it first. */
  remove(): Promise<void>;
}

/**
 * A new location for the selected kind: an SQLite file in a fresh temp dir, or a database named
 * `guild_test_<random>` on `MONGODB_URL`. Nothing is created until a store is opened on it.
 */
export async function newTestStoreLocation(): Promise<TestStoreLocation> {
  if (testStoreKind() === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'guild-test-store-'));
    return {
      options: { kind: 'sqlite', path: join(dir, 'data', 'guild.sqlite') },
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const url = process.env['MONGODB_URL'];
  if (!url) {
    throw new Error('GUILD_TEST_STORE=mongodb needs MONGODB_URL (npm test starts FerretDB and sets it)');
  }
  const dbName = `guild_test_${randomBytes(6).toString('hex')}`;
  return {
    options: { kind: 'mongodb', url, dbName },
    remove: async () => {
      const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
      try {
        await client.db(dbName).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

/** A store on a fresh location of the selected kind; its close() also deletes the data. */
export async function openTestStore(): Promise<Store> {
  return (await openTestStoreAt()).store;
}

/** {@link openTestStore}, with where the store keeps its data (to read the raw file or database). */
export async function openTestStoreAt(): Promise<{ store: Store; options: StoreOptions }> {
  const location = await newTestStoreLocation();
  let store: Store;
  try {
    store = await openStore(location.options);
  } catch (error) {
    await location.remove().catch(() => undefined);
    throw error;
  }
  const opened = store;
  const wrapped: Store = {
    kind: opened.kind,
    groups: opened.groups,
    keys: opened.keys,
    members: opened.members,
    remoteActors: opened.remoteActors,
    activities: opened.activities,
    posts: opened.posts,
    jobs: opened.jobs,
    moderators: opened.moderators,
    bans: opened.bans,
    domains: opened.domains,
    reports: opened.reports,
    held: opened.held,
    audit: opened.audit,
    owners: opened.owners,
    groupRequests: opened.groupRequests,
    codes: opened.codes,
    sessions: opened.sessions,
    postFlags: opened.postFlags,
    hosts: opened.hosts,
    votes: opened.votes,
    rateLimits: opened.rateLimits,
    claims: opened.claims,
    moves: opened.moves,
    groupFollows: opened.groupFollows,
    peerings: opened.peerings,
    directory: opened.directory,
    peers: opened.peers,
    ping: () => opened.ping(),
    close: async () => {
      await opened.close();
      await location.remove();
    },
  };
  return { store: wrapped, options: location.options };
}
