import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { expect } from 'chai';
import { openStore } from '../../../src/storage/open-store.ts';
import { SQLITE_MIGRATIONS, migrateSqlite } from '../../../src/storage/sqlite/migrations.sqlite.ts';
import { newTestStoreLocation, testStoreKind } from '../../support/test-store.ts';
import { type StoreProvider, activity, post } from './fixtures.ts';

const id = (n: number): string =>
  `https://guild.example/groups/cats/activities/${String(n).padStart(3, '0')}`;
const NOTE = 'https://remote.example/notes/1';
const OTHER = 'https://remote.example/notes/2';

/** Deleting a post withdraws the activities that carried it (ActivityRepository + PostRepository). */
export function describeWithdrawal(store: StoreProvider): void {
  describe('withdrawal of a deleted post', () => {
    it("withdraws the group's activities about the post: out of the outbox, read back with the time", async () => {
      for (const name of ['cats', 'dogs']) await store().posts.putPost(post(name, NOTE));
      await store().posts.putPost(post('cats', OTHER));
      const create = activity(id(1), 'cats', 10, true, NOTE);
      const boost = activity(id(2), 'cats', 10, false, NOTE);
      const update = activity(id(3), 'cats', 20, true, NOTE);
      const other = activity(id(4), 'cats', 30, true, OTHER);
      const inDogs = activity(id(5), 'dogs', 10, true, NOTE);
      for (const a of [create, boost, update, other, inDogs]) await store().activities.putActivity(a);

      expect(await store().posts.markPostDeleted('cats', NOTE, 7_000, null)).to.equal(true);

      expect((await store().activities.listOutbox('cats', null, 10)).map((a) => a.id)).to.deep.equal([id(4)]);
      expect(await store().activities.countOutbox('cats')).to.equal(1);
      for (const a of [create, boost, update])
        expect(await store().activities.getActivity(a.id)).to.deep.equal({ ...a, withdrawnAt: 7_000 });
      expect(await store().activities.getActivity(id(4))).to.deep.equal(other);
      // The same post in another group is not touched.
      expect(await store().activities.getActivity(id(5))).to.deep.equal(inDogs);
      expect((await store().activities.listOutbox('dogs', null, 10)).map((a) => a.id)).to.deep.equal([id(5)]);
      expect((await store().posts.getPost('cats', NOTE))?.deletedAt).to.equal(7_000);
    });

    it('keeps what is stored after the deletion (its announcement), also when the deletion is repeated', async () => {
      await store().posts.putPost(post('cats', NOTE));
      await store().activities.putActivity(activity(id(1), 'cats', 10, true, NOTE));
      expect(await store().posts.markPostDeleted('cats', NOTE, 7_000, null)).to.equal(true);
      const announced = activity(id(2), 'cats', 7_000, true, NOTE);
      await store().activities.putActivity(announced);

      expect(await store().posts.markPostDeleted('cats', NOTE, 8_000, null)).to.equal(false);
      expect(await store().activities.getActivity(id(2))).to.deep.equal(announced);
      expect((await store().activities.listOutbox('cats', null, 10)).map((a) => a.id)).to.deep.equal([id(2)]);
      expect((await store().activities.getActivity(id(1)))?.withdrawnAt).to.equal(7_000);
    });

    it('brings the withdrawn activities back when the post is restored, and withdraws them again', async () => {
      await store().posts.putPost(post('cats', NOTE));
      const create = activity(id(1), 'cats', 10, true, NOTE);
      await store().activities.putActivity(create);
      expect(await store().posts.markPostDeleted('cats', NOTE, 7_000, 'admin')).to.equal(true);
      // The announcement of the removal, stored under the id of the Delete it announces.
      const removal = activity(id(2), 'cats', 7_000, true, `${NOTE}#delete`);
      await store().activities.putActivity(removal);
      expect(await store().posts.restorePost('cats', NOTE, null)).to.equal(true);
      expect(await store().activities.getActivity(id(1))).to.deep.equal(create);
      expect((await store().activities.listOutbox('cats', null, 10)).map((a) => a.id)).to.deep.equal([
        id(2),
        id(1),
      ]);
      expect(await store().posts.restorePost('cats', NOTE, null), 'restored already').to.equal(false);
      expect(await store().posts.markPostDeleted('cats', NOTE, 9_000, null)).to.equal(true);
      expect((await store().activities.getActivity(id(1)))?.withdrawnAt).to.equal(9_000);
      expect(await store().activities.getActivity(id(2))).to.deep.equal(removal);
    });

    it('withdraws nothing when the post is absent', async () => {
      const a = activity(id(1), 'cats', 10, true, NOTE);
      await store().activities.putActivity(a);
      expect(await store().posts.markPostDeleted('cats', NOTE, 7_000, null)).to.equal(false);
      expect(await store().activities.getActivity(id(1))).to.deep.equal(a);
      expect(await store().activities.countOutbox('cats')).to.equal(1);
    });

    if (testStoreKind() === 'sqlite') {
      it('withdraws the activities of a database made before withdrawal existed', async () => {
        const location = await newTestStoreLocation();
        try {
          if (location.options.kind !== 'sqlite') throw new Error('unreachable');
          await mkdir(dirname(location.options.path), { recursive: true });
          const old = new BetterSqlite3(location.options.path);
          try {
            migrateSqlite(
              old,
              SQLITE_MIGRATIONS.filter((m) => m.version < 5),
            );
            const insert = old.prepare(
              `INSERT INTO activities (id, group_name, type, object_id, json, published, in_outbox)
               VALUES (?, 'cats', 'Announce', ?, '{}', ?, 1)`,
            );
            insert.run(id(1), NOTE, 10);
            insert.run(id(2), OTHER, 20);
            old
              .prepare(
                `INSERT INTO posts (group_name, object_id, author_id, thread_root, create_id, created_at)
                 VALUES ('cats', ?, 'https://remote.example/users/alice', ?, 'https://remote.example/c', 5)`,
              )
              .run(NOTE, NOTE);
          } finally {
            old.close();
          }
          const upgraded = await openStore(location.options);
          try {
            expect(await upgraded.activities.countOutbox('cats')).to.equal(2);
            expect((await upgraded.activities.getActivity(id(1)))?.withdrawnAt).to.equal(null);
            expect(await upgraded.posts.markPostDeleted('cats', NOTE, 7_000, null)).to.equal(true);
            expect((await upgraded.activities.listOutbox('cats', null, 10)).map((a) => a.id)).to.deep.equal([
              id(2),
            ]);
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
