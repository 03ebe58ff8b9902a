import { expect } from 'chai';
import { openStore } from '../../../src/storage/open-store.ts';
import type { Job, Store } from '../../../src/storage/store.ts';
import { newTestStoreLocation } from '../../support/test-store.ts';
import { type StoreProvider, newJob } from './fixtures.ts';

const LEASE = 60_000;
const ids = (jobs: Job[]): string[] => jobs.map((job) => job.id);

export function describeJobQueue(store: StoreProvider): void {
  describe('job queue', () => {
    it('enqueues new ids only and leaves existing jobs untouched', async () => {
      const jobs = store().jobs;
      expect(await jobs.enqueue([newJob('a'), newJob('b')], 1_000)).to.equal(2);
      expect(
        await jobs.enqueue([newJob('a', { payload: { changed: true } }), newJob('c'), newJob('c')], 2_000),
      ).to.equal(1);
      expect(await jobs.enqueue([], 2_000)).to.equal(0);
      expect(await jobs.getJob('a')).to.deep.equal({
        id: 'a',
        queue: 'deliver',
        key: 'remote.example',
        payload: { id: 'a', nested: { n: 1 } },
        state: 'queued',
        runAt: 0,
        attempts: 0,
        leaseOwner: null,
        leaseUntil: 0,
        lastError: null,
        createdAt: 1_000,
        updatedAt: 1_000,
      });
      expect((await jobs.getJob('c'))?.createdAt).to.equal(2_000);
      expect(await jobs.getJob('zzz')).to.equal(null);
    });

    it('claims due jobs of one queue, oldest runAt first, up to the limit', async () => {
      const jobs = store().jobs;
      await jobs.enqueue(
        [
          newJob('late', { runAt: 500 }),
          newJob('first', { runAt: 10 }),
          newJob('second', { runAt: 20 }),
          newJob('third', { runAt: 30 }),
          newJob('intake', { queue: 'intake', runAt: 0 }),
        ],
        0,
      );
      const claimed = await jobs.claim('deliver', 'w1', 100, LEASE, 2);
      expect(ids(claimed)).to.deep.equal(['first', 'second']);
      for (const job of claimed) {
        expect(job.leaseOwner).to.equal('w1');
        expect(job.leaseUntil).to.equal(100 + LEASE);
        expect(job.state).to.equal('queued');
      }
      expect(ids(await jobs.claim('deliver', 'w2', 100, LEASE, 10))).to.deep.equal(['third']);
      expect(await jobs.claim('deliver', 'w2', 100, LEASE, 10)).to.deep.equal([]);
      expect(ids(await jobs.claim('deliver', 'w2', 500, LEASE, 10))).to.deep.equal(['late']);
      expect(ids(await jobs.claim('intake', 'w3', 0, LEASE, 10))).to.deep.equal(['intake']);
      expect(await jobs.claim('deliver', 'w3', 500, LEASE, 0)).to.deep.equal([]);
    });

    it('skips the excluded keys', async () => {
      const jobs = store().jobs;
      await jobs.enqueue(
        [
          newJob('a', { key: 'a.example' }),
          newJob('b', { key: 'b.example' }),
          newJob('c', { key: 'c.example' }),
        ],
        0,
      );
      const claimed = await jobs.claim('deliver', 'w1', 0, LEASE, 10, ['a.example', 'c.example']);
      expect(ids(claimed)).to.deep.equal(['b']);
      expect(ids(await jobs.claim('deliver', 'w1', 0, LEASE, 10, []))).to.deep.equal(['a', 'c']);
    });

    it('lets another owner claim a job only once its lease has expired', async () => {
      const jobs = store().jobs;
      await jobs.enqueue([newJob('a')], 0);
      expect(ids(await jobs.claim('deliver', 'w1', 1_000, 500, 10))).to.deep.equal(['a']);
      expect(await jobs.claim('deliver', 'w2', 1_499, 500, 10)).to.deep.equal([]);
      const stolen = await jobs.claim('deliver', 'w2', 1_500, 500, 10);
      expect(ids(stolen)).to.deep.equal(['a']);
      expect(stolen[0]?.leaseOwner).to.equal('w2');
      expect(await jobs.complete('a', 'w1', 1_600)).to.equal(false);
      expect(await jobs.complete('a', 'w2', 1_600)).to.equal(true);
    });

    it('completes a job only for its lease owner, and only once', async () => {
      const jobs = store().jobs;
      await jobs.enqueue([newJob('a'), newJob('b')], 0);
      await jobs.claim('deliver', 'w1', 0, LEASE, 1);
      expect(await jobs.complete('a', 'w2', 10)).to.equal(false);
      expect(await jobs.complete('b', 'w1', 10)).to.equal(false);
      expect(await jobs.complete('a', 'w1', 10)).to.equal(true);
      expect(await jobs.complete('a', 'w1', 11)).to.equal(false);
      expect(await jobs.getJob('a')).to.include({
        state: 'done',
        leaseOwner: null,
        leaseUntil: 0,
        updatedAt: 10,
      });
      expect(ids(await jobs.claim('deliver', 'w1', LEASE * 2, LEASE, 10))).to.deep.equal(['b']);
    });

    it('retries a job: released, one more attempt, runs again at runAt', async () => {
      const jobs = store().jobs;
      await jobs.enqueue([newJob('a')], 0);
      await jobs.claim('deliver', 'w1', 0, LEASE, 1);
      expect(await jobs.retry('a', 'w2', 5_000, 'nope', 10)).to.equal(false);
      expect(await jobs.retry('a', 'w1', 5_000, 'HTTP 503', 10)).to.equal(true);
      expect(await jobs.getJob('a')).to.include({
        state: 'queued',
        runAt: 5_000,
        attempts: 1,
        lastError: 'HTTP 503',
        leaseOwner: null,
        leaseUntil: 0,
        updatedAt: 10,
      });
      expect(await jobs.complete('a', 'w1', 20)).to.equal(false);
      expect(await jobs.claim('deliver', 'w1', 4_999, LEASE, 1)).to.deep.equal([]);
      const again = await jobs.claim('deliver', 'w2', 5_000, LEASE, 1);
      expect(again.map((job) => [job.id, job.attempts, job.leaseOwner])).to.deep.equal([['a', 1, 'w2']]);
    });

    it('fails a job for good', async () => {
      const jobs = store().jobs;
      await jobs.enqueue([newJob('a')], 0);
      await jobs.claim('deliver', 'w1', 0, LEASE, 1);
      expect(await jobs.fail('a', 'w2', 'nope', 10)).to.equal(false);
      expect(await jobs.fail('a', 'w1', 'HTTP 410', 10)).to.equal(true);
      expect(await jobs.getJob('a')).to.include({
        state: 'failed',
        attempts: 1,
        lastError: 'HTTP 410',
        leaseOwner: null,
        leaseUntil: 0,
      });
      expect(await jobs.claim('deliver', 'w1', LEASE * 10, LEASE, 1)).to.deep.equal([]);
      expect(await jobs.retry('a', 'w1', 0, 'again', 20)).to.equal(false);
    });

    it('records the outcomes of several leased jobs in one call, each for its lease owner only', async () => {
      const jobs = store().jobs;
      await jobs.enqueue(
        ['a', 'b', 'c', 'd', 'e'].map((id) => newJob(id)),
        0,
      );
      expect(ids(await jobs.claim('deliver', 'w1', 0, LEASE, 4))).to.deep.equal(['a', 'b', 'c', 'd']);
      expect(ids(await jobs.claim('deliver', 'w2', 0, LEASE, 4))).to.deep.equal(['e']);
      expect(await jobs.finish([])).to.deep.equal([]);
      expect(
        await jobs.finish([
          { kind: 'done', id: 'a', owner: 'w1', now: 10 },
          { kind: 'retry', id: 'b', owner: 'w1', runAt: 5_000, error: 'HTTP 503', now: 11 },
          { kind: 'fail', id: 'c', owner: 'w1', error: 'HTTP 410', now: 12 },
          { kind: 'done', id: 'e', owner: 'w1', now: 13 },
          { kind: 'done', id: 'zzz', owner: 'w1', now: 14 },
        ]),
      ).to.deep.equal([true, true, true, false, false]);
      expect(await jobs.getJob('a')).to.include({ state: 'done', leaseOwner: null, updatedAt: 10 });
      expect(await jobs.getJob('b')).to.include({
        state: 'queued',
        runAt: 5_000,
        attempts: 1,
        lastError: 'HTTP 503',
        leaseOwner: null,
        leaseUntil: 0,
        updatedAt: 11,
      });
      expect(await jobs.getJob('c')).to.include({ state: 'failed', attempts: 1, lastError: 'HTTP 410' });
      expect(await jobs.getJob('e')).to.include({ state: 'queued', leaseOwner: 'w2' });
      // Recorded once: the same outcomes again change nothing.
      expect(
        await jobs.finish([
          { kind: 'done', id: 'a', owner: 'w1', now: 20 },
          { kind: 'fail', id: 'b', owner: 'w1', error: 'again', now: 20 },
          { kind: 'done', id: 'd', owner: 'w1', now: 20 },
          { kind: 'done', id: 'e', owner: 'w2', now: 20 },
        ]),
      ).to.deep.equal([false, false, true, true]);
      expect(await jobs.getJob('a')).to.include({ updatedAt: 10 });
      expect(ids(await jobs.claim('deliver', 'w3', 5_000, LEASE, 10))).to.deep.equal(['b']);
    });

    it('records outcomes and changes made through another connection to the same data', async function () {
      const location = await newTestStoreLocation();
      const opened: Store[] = [];
      try {
        const first = await openStore(location.options);
        opened.push(first);
        const second = await openStore(location.options);
        opened.push(second);
        await first.jobs.enqueue([newJob('a'), newJob('b'), newJob('c')], 0);
        expect(ids(await first.jobs.claim('deliver', 'w1', 0, LEASE, 3))).to.deep.equal(['a', 'b', 'c']);
        // The same owner through another connection (a process restarted under its owner id)...
        expect(await second.jobs.extendLease('a', 'w1', 90_000)).to.equal(true);
        expect(await second.jobs.complete('b', 'w1', 10)).to.equal(true);
        // ...and then through the first again, which last saw these jobs as it claimed them.
        expect(
          await first.jobs.finish([
            { kind: 'done', id: 'a', owner: 'w1', now: 20 },
            { kind: 'done', id: 'b', owner: 'w1', now: 20 },
            { kind: 'retry', id: 'c', owner: 'w1', runAt: 0, error: 'x', now: 20 },
          ]),
        ).to.deep.equal([true, false, true]);
        expect(await second.jobs.getJob('a')).to.include({ state: 'done', updatedAt: 20 });
        expect(await second.jobs.getJob('b')).to.include({ state: 'done', updatedAt: 10 });
        expect(await second.jobs.getJob('c')).to.include({ state: 'queued', attempts: 1, leaseOwner: null });
        // A job the first connection claimed, taken over by another owner once its lease expired.
        expect(ids(await first.jobs.claim('deliver', 'w1', 100, 500, 1))).to.deep.equal(['c']);
        expect(ids(await second.jobs.claim('deliver', 'w2', 600, 500, 1))).to.deep.equal(['c']);
        expect(await first.jobs.complete('c', 'w1', 700)).to.equal(false);
        expect(await second.jobs.complete('c', 'w2', 700)).to.equal(true);
      } finally {
        for (const s of opened) await s.close();
        await location.remove();
      }
    });

    it('updates the payload and extends the lease for the owner only', async () => {
      const jobs = store().jobs;
      await jobs.enqueue([newJob('a')], 0);
      await jobs.claim('deliver', 'w1', 0, 1_000, 1);
      expect(await jobs.updatePayload('a', 'w2', { cursor: 'x' }, 10)).to.equal(false);
      expect(await jobs.updatePayload('a', 'w1', { cursor: 'page-2', done: [1, 2] }, 10)).to.equal(true);
      expect(await jobs.extendLease('a', 'w2', 9_000)).to.equal(false);
      expect(await jobs.extendLease('a', 'w1', 5_000)).to.equal(true);
      const job = await jobs.getJob('a');
      expect(job?.payload).to.deep.equal({ cursor: 'page-2', done: [1, 2] });
      expect(job).to.include({ leaseOwner: 'w1', leaseUntil: 5_000 });
      expect(await jobs.claim('deliver', 'w2', 1_000, 1_000, 1)).to.deep.equal([]);
      expect(ids(await jobs.claim('deliver', 'w2', 5_000, 1_000, 1))).to.deep.equal(['a']);
    });

    it('counts queued, leased and failed jobs per queue', async () => {
      const jobs = store().jobs;
      expect(await jobs.stats('deliver', 0)).to.deep.equal({
        queued: 0,
        leased: 0,
        failed: 0,
        oldestCreatedAt: null,
      });
      await jobs.enqueue([newJob('a'), newJob('b')], 100);
      await jobs.enqueue([newJob('c'), newJob('d'), newJob('e')], 200);
      await jobs.enqueue([newJob('i', { queue: 'intake' })], 50);
      await jobs.claim('deliver', 'w1', 300, 1_000, 3);
      await jobs.fail('c', 'w1', 'gone', 300);
      await jobs.complete('b', 'w1', 300);
      expect(await jobs.stats('deliver', 300)).to.deep.equal({
        queued: 2,
        leased: 1,
        failed: 1,
        oldestCreatedAt: 100,
      });
      // Once the lease of "a" expires it counts as queued again.
      expect(await jobs.stats('deliver', 1_300)).to.deep.equal({
        queued: 3,
        leased: 0,
        failed: 1,
        oldestCreatedAt: 100,
      });
      expect(await jobs.stats('intake', 300)).to.deep.equal({
        queued: 1,
        leased: 0,
        failed: 0,
        oldestCreatedAt: 50,
      });
    });

    it('never gives one job to two of several concurrent claimers', async function () {
      this.timeout(120_000);
      const jobs = store().jobs;
      const total = 200;
      const batch = Array.from({ length: total }, (_, n) =>
        newJob(`job-${String(n).padStart(3, '0')}`, { key: `host${n % 7}.example`, runAt: n % 13 }),
      );
      expect(await jobs.enqueue(batch, 0)).to.equal(total);
      const claimedBy = new Map<string, string[]>();
      const completions: boolean[] = [];
      const worker = async (owner: string): Promise<number> => {
        let mine = 0;
        for (let round = 0; round < 1_000; round++) {
          const claimed = await jobs.claim('deliver', owner, 100, LEASE, 7);
          if (claimed.length === 0) {
            if ((await jobs.stats('deliver', 100)).queued === 0) return mine;
            continue;
          }
          for (const job of claimed) {
            expect(job.leaseOwner).to.equal(owner);
            claimedBy.set(job.id, [...(claimedBy.get(job.id) ?? []), owner]);
          }
          mine += claimed.length;
          completions.push(...(await Promise.all(claimed.map((job) => jobs.complete(job.id, owner, 200)))));
        }
        throw new Error(`${owner} did not finish`);
      };
      const perWorker = await Promise.all(['w1', 'w2', 'w3', 'w4', 'w5'].map(worker));
      const twice = [...claimedBy].filter(([, owners]) => owners.length > 1);
      expect(twice, 'jobs claimed more than once').to.deep.equal([]);
      expect(claimedBy.size).to.equal(total);
      expect(perWorker.reduce((a, b) => a + b, 0)).to.equal(total);
      expect(completions.filter((ok) => !ok)).to.deep.equal([]);
      expect(await jobs.stats('deliver', 100)).to.include({ queued: 0, leased: 0, failed: 0 });
    });
  });
}
