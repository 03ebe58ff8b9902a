import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { expect } from 'chai';
import { openStore } from '../../../src/storage/open-store.ts';
import { SQLITE_MIGRATIONS, migrateSqlite } from '../../../src/storage/sqlite/migrations.sqlite.ts';
import { newTestStoreLocation, testStoreKind } from '../../support/test-store.ts';
import { type StoreProvider, post, readAllPages } from './fixtures.ts';

const note = (n: number): string => `https://remote.example/notes/${String(n).padStart(3, '0')}`;
const ALICE = 'https://remote.example/users/alice';
const BOB = 'https://remote.example/users/bob';

/** Pins, locks and per-author counts of posts (PostFlagsRepository). */
export function describePostFlags(store: StoreProvider): void {
  describe('post flags', () => {
    it('pins and unpins existing posts only, listing the most recently pinned first', async () => {
      for (let n = 0; n < 5; n++) await store().posts.putPost(post('cats', note(n)));
      await store().posts.putPost(post('dogs', note(9)));
      expect(await store().postFlags.setPinned('cats', note(99), 1_000)).to.equal(false);
      expect(await store().postFlags.setPinned('cats', note(9), 1_000)).to.equal(false);
      expect(await store().postFlags.listPinned('cats', 10)).to.deep.equal([]);
      expect(await store().postFlags.setPinned('cats', note(1), 100)).to.equal(true);
      expect(await store().postFlags.setPinned('cats', note(3), 300)).to.equal(true);
      expect(await store().postFlags.setPinned('cats', note(0), 200)).to.equal(true);
      expect(await store().postFlags.setPinned('dogs', note(9), 400)).to.equal(true);
      expect(await store().postFlags.listPinned('cats', 10)).to.deep.equal([note(3), note(0), note(1)]);
      expect(await store().postFlags.listPinned('cats', 2)).to.deep.equal([note(3), note(0)]);
      expect(await store().postFlags.setPinned('cats', note(1), 500)).to.equal(true);
      expect(await store().postFlags.setPinned('cats', note(3), null)).to.equal(true);
      expect(await store().postFlags.setPinned('cats', note(4), null)).to.equal(true);
      expect(await store().postFlags.listPinned('cats', 10)).to.deep.equal([note(1), note(0)]);
      expect(await store().postFlags.listPinned('dogs', 10)).to.deep.equal([note(9)]);
      // The post itself is unchanged by its pin.
      expect(await store().posts.getPost('cats', note(1))).to.deep.equal(post('cats', note(1)));
    });

    it('locks and unlocks a thread by its root', async () => {
      const root = note(1);
      await store().posts.putPost(post('cats', root));
      await store().posts.putPost(post('cats', note(2), { threadRoot: root, inReplyTo: root }));
      await store().posts.putPost(post('dogs', root));
      expect(await store().postFlags.isLocked('cats', root)).to.equal(false);
      expect(await store().postFlags.setLocked('cats', note(99), 1_000)).to.equal(false);
      expect(await store().postFlags.isLocked('cats', note(99))).to.equal(false);
      expect(await store().postFlags.setLocked('cats', root, 1_000)).to.equal(true);
      expect(await store().postFlags.isLocked('cats', root)).to.equal(true);
      expect(await store().postFlags.isLocked('dogs', root)).to.equal(false);
      expect(await store().postFlags.isLocked('cats', note(2))).to.equal(false);
      expect(await store().postFlags.listPinned('cats', 10)).to.deep.equal([]);
      expect(await store().posts.getPost('cats', root)).to.deep.equal(post('cats', root));
      expect(await store().postFlags.setLocked('cats', root, null)).to.equal(true);
      expect(await store().postFlags.isLocked('cats', root)).to.equal(false);
    });

    it("counts an author's posts in a group, all of them or since a time, deleted ones included", async () => {
      const times = [100, 200, 200, 300, 400];
      for (const [n, createdAt] of times.entries()) {
        await store().posts.putPost(post('cats', note(n), { authorId: ALICE, createdAt }));
      }
      await store().posts.markPostDeleted('cats', note(4), 500, null);
      await store().posts.putPost(post('cats', note(10), { authorId: BOB, createdAt: 300 }));
      await store().posts.putPost(post('dogs', note(11), { authorId: ALICE, createdAt: 300 }));
      expect(await store().postFlags.countPostsByAuthor('cats', ALICE)).to.equal(5);
      expect(await store().postFlags.countPostsByAuthor('cats', BOB)).to.equal(1);
      expect(await store().postFlags.countPostsByAuthor('birds', ALICE)).to.equal(0);
      expect(await store().postFlags.countPostsByAuthorSince('cats', ALICE, 0)).to.equal(5);
      expect(await store().postFlags.countPostsByAuthorSince('cats', ALICE, 200)).to.equal(4);
      expect(await store().postFlags.countPostsByAuthorSince('cats', ALICE, 201)).to.equal(2);
      expect(await store().postFlags.countPostsByAuthorSince('cats', ALICE, 401)).to.equal(0);
      expect(await store().postFlags.countPostsByAuthorSince('dogs', ALICE, 300)).to.equal(1);
    });

    it("lists an author's posts in a group by objectId, in pages of any size", async () => {
      const mine = [7, 2, 9, 4, 1].map((n) => note(n));
      for (const objectId of mine) await store().posts.putPost(post('cats', objectId, { authorId: ALICE }));
      await store().posts.putPost(post('cats', note(3), { authorId: BOB }));
      await store().posts.putPost(post('dogs', note(5), { authorId: ALICE }));
      for (const size of [1, 2, 100]) {
        const pages = await readAllPages<string, string>(
          size,
          (after, limit) => store().postFlags.listPostsByAuthor('cats', ALICE, after, limit),
          (objectId) => objectId,
        );
        expect(pages, `pages of ${size}`).to.deep.equal([...mine].sort());
      }
      expect(await store().postFlags.listPostsByAuthor('cats', BOB, note(3), 10)).to.deep.equal([]);
    });

    if (testStoreKind() === 'sqlite') {
      it('adds pins and locks to the posts of a database made before they existed', async () => {
        const location = await newTestStoreLocation();
        try {
          if (location.options.kind !== 'sqlite') throw new Error('unreachable');
          await mkdir(dirname(location.options.path), { recursive: true });
          const old = new BetterSqlite3(location.options.path);
          try {
            migrateSqlite(
              old,
              SQLITE_MIGRATIONS.filter((m) => m.version === 1),
            );
            old
              .prepare(
                `INSERT INTO posts (group_name, object_id, author_id, thread_root, create_id, created_at)
                 VALUES ('cats', ?, ?, ?, 'https://remote.example/create', 4000)`,
              )
              .run(note(1), ALICE, note(1));
          } finally {
            old.close();
          }
          const upgraded = await openStore(location.options);
          try {
            const before = await upgraded.posts.getPost('cats', note(1));
            expect(before?.authorId).to.equal(ALICE);
            expect(await upgraded.postFlags.isLocked('cats', note(1))).to.equal(false);
            expect(await upgraded.postFlags.listPinned('cats', 10)).to.deep.equal([]);
            expect(await upgraded.postFlags.setPinned('cats', note(1), 5_000)).to.equal(true);
            expect(await upgraded.postFlags.listPinned('cats', 10)).to.deep.equal([note(1)]);
            expect(await upgraded.postFlags.countPostsByAuthorSince('cats', ALICE, 4_000)).to.equal(1);
          } finally {
            await upgraded.close();
          }
        } finally {
          await location.remove();
        }
      });
    }
  });
}
