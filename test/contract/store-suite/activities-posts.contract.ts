import { expect } from 'chai';
import type { OutboxCursor, Post, StoredActivity } from '../../../src/storage/store.ts';
import { type StoreProvider, activity, post, readAllPages } from './fixtures.ts';

const id = (n: number): string => `https://guild.example/activities/${String(n).padStart(3, '0')}`;

export function describeActivitiesAndPosts(store: StoreProvider): void {
  describe('activities', () => {
    it('stores an activity once and reads it back', async () => {
      const first = activity(id(1), 'cats', 10_000, false);
      expect(await store().activities.putActivity(first)).to.equal(true);
      expect(await store().activities.putActivity({ ...first, json: '{}', inOutbox: true })).to.equal(false);
      expect(await store().activities.getActivity(id(1))).to.deep.equal(first);
      expect(await store().activities.getActivity(id(2))).to.equal(null);
    });

    it('lists the outbox newest first (published, then id), in pages of any size', async () => {
      // Several activities share a published time, so the cursor must break ties by id.
      const published = [10, 20, 20, 20, 30, 40, 40, 50];
      const stored = published.map((p, n) => activity(id(n), 'cats', p));
      for (const a of [...stored].reverse()) await store().activities.putActivity(a);
      await store().activities.putActivity(activity(id(90), 'cats', 35, false));
      await store().activities.putActivity(activity(id(91), 'dogs', 35));
      const expected = [...stored].sort((a, b) => b.published - a.published || (a.id < b.id ? 1 : -1));
      expect(await store().activities.countOutbox('cats')).to.equal(stored.length);
      for (const size of [1, 2, 3, 100]) {
        const all = await readAllPages<StoredActivity, OutboxCursor>(
          size,
          (before, limit) => store().activities.listOutbox('cats', before, limit),
          (a) => ({ published: a.published, id: a.id }),
        );
        expect(
          all.map((a) => a.id),
          `pages of ${size}`,
        ).to.deep.equal(expected.map((a) => a.id));
      }
      const older = await store().activities.listOutbox('cats', { published: 20, id: id(2) }, 10);
      expect(older.map((a) => a.id)).to.deep.equal([id(1), id(0)]);
      expect(await store().activities.countOutbox('nobody')).to.equal(0);
    });
  });

  describe('activities about an object', () => {
    it('lists the activities of a group about an object oldest first, withdrawn ones included, in pages', async () => {
      const note = 'https://remote.example/notes/1';
      const published = [30, 10, 20, 20, 20, 40];
      const about = published.map((p, n) => activity(id(n), 'cats', p, n % 2 === 0, note));
      for (const a of about) await store().activities.putActivity(a);
      await store().activities.putActivity(
        activity(id(50), 'cats', 15, true, 'https://remote.example/notes/2'),
      );
      await store().activities.putActivity(activity(id(51), 'dogs', 15, true, note));
      await store().posts.putPost(post('cats', note));
      await store().posts.markPostDeleted('cats', note, 50, null);
      const expected = about
        .map((a) => ({ ...a, withdrawnAt: 50 }))
        .sort((a, b) => a.published - b.published || (a.id < b.id ? -1 : 1));
      for (const size of [1, 2, 4, 100]) {
        const all = await readAllPages<StoredActivity, OutboxCursor>(
          size,
          (after, limit) => store().activities.listActivitiesAbout('cats', note, after, limit),
          (a) => ({ published: a.published, id: a.id }),
        );
        expect(all, `pages of ${size}`).to.deep.equal(expected);
      }
      expect(await store().activities.listActivitiesAbout('birds', note, null, 10)).to.deep.equal([]);
      expect(await store().activities.listActivitiesAbout('cats', note, null, 0)).to.deep.equal([]);
    });
  });

  describe('posts', () => {
    it('stores a post once per group and reads it back', async () => {
      const p = post('cats', 'https://remote.example/notes/1');
      expect(await store().posts.putPost(p)).to.equal(true);
      expect(await store().posts.putPost({ ...p, authorId: 'someone else' })).to.equal(false);
      expect(await store().posts.putPost({ ...p, groupName: 'dogs' })).to.equal(true);
      expect(await store().posts.getPost('cats', p.objectId)).to.deep.equal(p);
      expect(await store().posts.getPost('birds', p.objectId)).to.equal(null);
    });

    it('marks a post deleted once, and only when it exists', async () => {
      const p = post('cats', 'https://remote.example/notes/1', { boostId: 'https://guild.example/boost/1' });
      await store().posts.putPost(p);
      expect(
        await store().posts.markPostDeleted('cats', 'https://remote.example/notes/2', 7_000, null),
      ).to.equal(false);
      expect(await store().posts.markPostDeleted('cats', p.objectId, 7_000, null)).to.equal(true);
      expect(await store().posts.markPostDeleted('cats', p.objectId, 8_000, 'admin')).to.equal(false);
      expect(await store().posts.getPost('cats', p.objectId)).to.deep.equal({ ...p, deletedAt: 7_000 });
    });

    it('records who removed a post, apart from its author deleting it', async () => {
      const mod = 'https://remote.example/users/mod';
      const p = post('cats', 'https://remote.example/notes/1');
      await store().posts.putPost(p);
      expect(await store().posts.markPostDeleted('cats', p.objectId, 7_000, mod)).to.equal(true);
      expect(await store().posts.getPost('cats', p.objectId)).to.include({
        deletedAt: 7_000,
        removedBy: mod,
      });
    });

    it('restores a deleted post once, with its new boost, and only a deleted one', async () => {
      const p = post('cats', 'https://remote.example/notes/1', { boostId: 'https://guild.example/boost/1' });
      await store().posts.putPost(p);
      await store().posts.putPost({ ...p, groupName: 'dogs' });
      const boost = 'https://guild.example/boost/2';
      expect(await store().posts.restorePost('cats', p.objectId, boost), 'a live post').to.equal(false);
      expect(await store().posts.restorePost('cats', 'https://remote.example/notes/2', boost)).to.equal(
        false,
      );
      await store().posts.markPostDeleted('cats', p.objectId, 7_000, 'admin');
      await store().posts.markPostDeleted('dogs', p.objectId, 7_000, null);
      expect(await store().posts.restorePost('cats', p.objectId, boost)).to.equal(true);
      expect(await store().posts.restorePost('cats', p.objectId, null), 'already restored').to.equal(false);
      expect(await store().posts.getPost('cats', p.objectId)).to.deep.equal({ ...p, boostId: boost });
      expect(await store().posts.getPost('dogs', p.objectId), 'the other group').to.include({
        deletedAt: 7_000,
        removedBy: null,
      });
      // A restored post can be deleted again.
      expect(await store().posts.markPostDeleted('cats', p.objectId, 9_000, null)).to.equal(true);
    });

    it('lists the groups that hold a post, by name', async () => {
      const note = 'https://remote.example/notes/1';
      for (const name of ['dogs', 'cats', 'birds']) await store().posts.putPost(post(name, note));
      await store().posts.putPost(post('cows', 'https://remote.example/notes/2'));
      await store().posts.putPost(post('ants', `${note}/reply`, { threadRoot: note, inReplyTo: note }));
      expect(await store().posts.listGroupsOfPost(note)).to.deep.equal(['birds', 'cats', 'dogs']);
      expect(await store().posts.listGroupsOfPost('https://remote.example/notes/2')).to.deep.equal(['cows']);
      expect(await store().posts.listGroupsOfPost('https://remote.example/notes/3')).to.deep.equal([]);
    });

    it('lists at most 100 groups that hold a post, the first by name', async () => {
      const note = 'https://remote.example/notes/1';
      const names = Array.from({ length: 105 }, (_, n) => `g${String(n).padStart(3, '0')}`);
      for (const name of [...names].reverse()) await store().posts.putPost(post(name, note));
      expect(await store().posts.listGroupsOfPost(note)).to.deep.equal(names.slice(0, 100));
    });

    it('lists a thread oldest first (createdAt, then objectId), in pages of any size', async () => {
      const root = 'https://remote.example/notes/root';
      const reply = (n: number, createdAt: number): Post =>
        post('cats', `https://remote.example/notes/r${n}`, { threadRoot: root, inReplyTo: root, createdAt });
      const thread = [
        post('cats', root, { createdAt: 100 }),
        reply(1, 200),
        reply(2, 200),
        reply(3, 200),
        reply(4, 300),
        reply(5, 400),
      ];
      for (const p of [...thread].reverse()) await store().posts.putPost(p);
      await store().posts.putPost(post('cats', 'https://remote.example/notes/other', { createdAt: 250 }));
      await store().posts.putPost({ ...reply(9, 250), groupName: 'dogs' });
      for (const size of [1, 2, 4, 100]) {
        const all = await readAllPages<Post, OutboxCursor>(
          size,
          (after, limit) => store().posts.listThread('cats', root, after, limit),
          (p) => ({ published: p.createdAt, id: p.objectId }),
        );
        expect(all, `pages of ${size}`).to.deep.equal(thread);
      }
    });
  });
}
