import BetterSqlite3 from 'better-sqlite3';
import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import { openStore } from '../../../src/storage/open-store.ts';
import { newTestStoreLocation, testStoreKind, type TestStoreLocation } from '../../support/test-store.ts';

/** Lookups across groups, each with the index that must serve it. */
const LOOKUPS = [
  {
    what: 'listGroupsOfActor',
    sql: "SELECT group_name FROM members WHERE actor_id = 'x' ORDER BY group_name LIMIT 100",
    sqliteIndex: 'members_by_actor (actor_id=?)',
    collection: 'members',
    key: { actorId: 1, groupName: 1 },
  },
  {
    what: 'listGroupsOfPost',
    sql: "SELECT group_name FROM posts WHERE object_id = 'x' ORDER BY group_name LIMIT 100",
    sqliteIndex: 'posts_by_object (object_id=?)',
    collection: 'posts',
    key: { objectId: 1, groupName: 1 },
  },
  {
    what: 'hasActiveBan',
    sql: "SELECT 1 AS found FROM bans WHERE actor_id = 'x' AND (expires_at IS NULL OR expires_at > 5) LIMIT 1",
    sqliteIndex: 'bans_by_actor (actor_id=?)',
    collection: 'bans',
    key: { actorId: 1, expiresAt: 1 },
  },
] as const;

/** The indexes behind the lookups that do not start with a group name. */
export function describeIndexes(): void {
  describe('indexes', () => {
    let location: TestStoreLocation;

    beforeEach(async () => {
      location = await newTestStoreLocation();
      await (await openStore(location.options)).close();
    });

    afterEach(async () => {
      await location.remove();
    });

    it(`serves the groups of an actor and of a post from an index (${testStoreKind()})`, async () => {
      const options = location.options;
      if (options.kind === 'sqlite') {
        const db = new BetterSqlite3(options.path, { readonly: true });
        try {
          for (const lookup of LOOKUPS) {
            const plan = db
              .prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN ${lookup.sql}`)
              .all()
              .map((row) => row.detail)
              .join('\n');
            expect(plan, lookup.what).to.include(`USING COVERING INDEX ${lookup.sqliteIndex}`);
            expect(plan, lookup.what).not.to.include('TEMP B-TREE');
          }
        } finally {
          db.close();
        }
        return;
      }
      const client = new MongoClient(options.url, { serverSelectionTimeoutMS: 5000 });
      try {
        const db = client.db(options.dbName);
        for (const lookup of LOOKUPS) {
          const keys = (await db.collection(lookup.collection).indexes()).map((index) => index.key);
          expect(keys, lookup.what).to.deep.include(lookup.key);
        }
      } finally {
        await client.close();
      }
    });
  });
}
