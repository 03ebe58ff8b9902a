import { expect } from 'chai';
import type { Vote } from '../../../src/storage/brakes.store.ts';
import type { StoreProvider } from './fixtures.ts';

const ALICE = 'https://remote.example/users/alice';
const BOB = 'https://remote.example/users/bob';
const NOTE = 'https://remote.example/notes/1';
const OTHER = 'https://remote.example/notes/2';

function vote(overrides: Partial<Vote> = {}): Vote {
  return {
    groupName: 'cats',
    actorId: ALICE,
    objectId: NOTE,
    type: 'Like',
    activityId: `${ALICE}/likes/1`,
    at: 1_000,
    ...overrides,
  };
}

/** The current vote of each member on each post (VoteRepository) and rate-limit hits (RateLimitRepository). */
export function describeBrakes(store: StoreProvider): void {
  describe('vote state', () => {
    it('keeps one vote per (group, actor, post), replaced by the next and removed by an undo', async () => {
      const votes = store().votes;
      expect(await votes.getVote('cats', ALICE, NOTE)).to.equal(null);
      await votes.putVote(vote());
      await votes.putVote(vote({ actorId: BOB, type: 'Dislike', activityId: `${BOB}/d/1` }));
      await votes.putVote(vote({ objectId: OTHER, activityId: `${ALICE}/likes/2` }));
      await votes.putVote(vote({ groupName: 'dogs', activityId: `${ALICE}/likes/3` }));
      expect(await votes.getVote('cats', ALICE, NOTE)).to.deep.equal(vote());
      expect(await votes.getVote('cats', BOB, NOTE)).to.deep.include({ type: 'Dislike' });
      await votes.putVote(vote({ type: 'Dislike', activityId: `${ALICE}/d/9`, at: 2_000 }));
      expect(await votes.getVote('cats', ALICE, NOTE)).to.deep.equal(
        vote({ type: 'Dislike', activityId: `${ALICE}/d/9`, at: 2_000 }),
      );
      expect(await votes.removeVote('cats', ALICE, NOTE)).to.equal(true);
      expect(await votes.removeVote('cats', ALICE, NOTE)).to.equal(false);
      expect(await votes.getVote('cats', ALICE, NOTE)).to.equal(null);
      // The other votes are untouched.
      expect(await votes.getVote('cats', ALICE, OTHER)).to.deep.include({ activityId: `${ALICE}/likes/2` });
      expect(await votes.getVote('dogs', ALICE, NOTE)).to.deep.include({ activityId: `${ALICE}/likes/3` });
      expect(await votes.getVote('cats', BOB, NOTE)).to.deep.include({ activityId: `${BOB}/d/1` });
    });
  });

  describe('rate-limit hits', () => {
    it('allows `limit` hits per sliding window and keeps only the allowed ones', async () => {
      const limits = store().rateLimits;
      for (let i = 0; i < 3; i++) expect(await limits.tryHit('a', `h${i}`, 1_000 + i, 100, 3)).to.equal(true);
      expect(await limits.tryHit('a', 'h3', 1_050, 100, 3)).to.equal(false);
      // Another bucket has its own count.
      expect(await limits.tryHit('b', 'h3', 1_050, 100, 3)).to.equal(true);
      expect((await limits.listHits('a', 0, 10)).map((h) => h.hitId)).to.deep.equal(['h0', 'h1', 'h2']);
      // At 1100 the first hit (1000) is out of the window (hits after at - window count).
      expect(await limits.tryHit('a', 'h4', 1_100, 100, 3)).to.equal(true);
      expect(await limits.tryHit('a', 'h5', 1_100, 100, 3)).to.equal(false);
      expect(await limits.listHits('a', 1_000, 10)).to.deep.equal([
        { bucket: 'a', hitId: 'h1', at: 1_001 },
        { bucket: 'a', hitId: 'h2', at: 1_002 },
        { bucket: 'a', hitId: 'h4', at: 1_100 },
      ]);
    });

    it('counts a hit once: the same hit again is allowed without counting, even over the limit', async () => {
      const limits = store().rateLimits;
      expect(await limits.tryHit('a', 'x', 1_000, 100, 2)).to.equal(true);
      expect(await limits.tryHit('a', 'x', 1_001, 100, 2)).to.equal(true);
      expect(await limits.tryHit('a', 'y', 1_002, 100, 2)).to.equal(true);
      expect(await limits.tryHit('a', 'x', 1_003, 100, 2)).to.equal(true);
      expect(await limits.tryHit('a', 'z', 1_003, 100, 2)).to.equal(false);
      expect((await limits.listHits('a', 0, 10)).map((h) => [h.hitId, h.at])).to.deep.equal([
        ['x', 1_000],
        ['y', 1_002],
      ]);
      expect(await limits.tryHit('a', 'w', 1_000, 100, 0)).to.equal(false);
    });

    it('purges hits older than a time, in batches', async () => {
      const limits = store().rateLimits;
      for (let i = 0; i < 5; i++) await limits.tryHit('a', `h${i}`, 100 * i, 10_000, 100);
      await limits.tryHit('b', 'old', 50, 10_000, 100);
      expect(await limits.purgeHits(300, 2)).to.equal(2);
      expect(await limits.purgeHits(300, 100)).to.equal(2);
      expect(await limits.purgeHits(300, 100)).to.equal(0);
      expect((await limits.listHits('a', -1, 10)).map((h) => h.hitId)).to.deep.equal(['h3', 'h4']);
      expect(await limits.listHits('b', -1, 10)).to.deep.equal([]);
    });
  });
}
