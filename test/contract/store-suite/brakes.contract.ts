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
    state: 'Like',
    activityId: `${ALICE}/likes/1`,
    at: 1_000,
    ...overrides,
  };
}

/** The current vote of each member on each post (VoteRepository) and rate-limit hits (RateLimitRepository). */
export function describeBrakes(store: StoreProvider): void {
  describe('vote state', () => {
    it('keeps one vote per (group, actor, post), replaced by the next', async () => {
      const votes = store().votes;
      expect(await votes.getVote('cats', ALICE, NOTE)).to.equal(null);
      await votes.putVote(vote());
      await votes.putVote(vote({ actorId: BOB, state: 'Dislike', activityId: `${BOB}/d/1` }));
      await votes.putVote(vote({ objectId: OTHER, activityId: `${ALICE}/likes/2` }));
      await votes.putVote(vote({ groupName: 'dogs', activityId: `${ALICE}/likes/3` }));
      expect(await votes.getVote('cats', ALICE, NOTE)).to.deep.equal(vote());
      expect(await votes.getVote('cats', BOB, NOTE)).to.deep.include({ state: 'Dislike' });
      const undone = vote({ state: 'undone', activityId: `${ALICE}/undo/9`, at: 2_000 });
      await votes.putVote(undone);
      expect(await votes.getVote('cats', ALICE, NOTE)).to.deep.equal(undone);
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

    it('never lets callers racing on one bucket pass its limit together', async () => {
      for (let round = 0; round < 4; round++) {
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            store().rateLimits.tryHit(`race${round}`, `h${i}`, 1_000, 100, 5),
          ),
        );
        expect(results.filter(Boolean), `round ${round}`).to.have.length(5);
      }
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

  describe('claims', () => {
    it('lets one owner hold a key, the same owner claim again, and another take it once released', async () => {
      const claims = store().claims;
      expect(await claims.claim('k', 'a', 100, null)).to.equal('a');
      expect(await claims.claim('k', 'b', 200, null)).to.equal('a');
      expect(await claims.claim('k', 'a', 300, null), 'the same owner again').to.equal('a');
      expect(await claims.release('k', 'b')).to.equal(false);
      expect(await claims.claim('k', 'b', 400, null)).to.equal('a');
      expect(await claims.release('k', 'a')).to.equal(true);
      expect(await claims.release('k', 'a')).to.equal(false);
      expect(await claims.claim('k', 'b', 500, null)).to.equal('b');
      expect(await claims.claim('other', 'c', 500, null)).to.equal('c');
    });

    it('frees a claim once it expired, and purges expired claims only', async () => {
      const claims = store().claims;
      expect(await claims.claim('k', 'a', 100, 1_000)).to.equal('a');
      expect(await claims.claim('k', 'b', 999, 2_000)).to.equal('a');
      expect(await claims.claim('k', 'b', 1_000, 2_000), 'expired at 1000').to.equal('b');
      await claims.claim('old', 'x', 0, 10);
      await claims.claim('forever', 'y', 0, null);
      expect(await claims.purgeExpiredClaims(1_500, 10)).to.equal(1);
      expect(await claims.purgeExpiredClaims(1_500, 10)).to.equal(0);
      expect(await claims.claim('old', 'z', 20, null), 'purged').to.equal('z');
      expect(await claims.claim('forever', 'z', 10_000_000, null)).to.equal('y');
      expect(await claims.claim('k', 'c', 1_500, null)).to.equal('b');
    });

    it('gives a free key to exactly one of several owners claiming it at once', async () => {
      for (let round = 0; round < 5; round++) {
        const owners = ['a', 'b', 'c', 'd', 'e'].map((o) => `${o}${round}`);
        const holders = await Promise.all(
          owners.map((o) => store().claims.claim(`race${round}`, o, 100, null)),
        );
        expect(new Set(holders).size, `round ${round}`).to.equal(1);
        expect(owners).to.include(holders[0]);
      }
    });
  });
}
