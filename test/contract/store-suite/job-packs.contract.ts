import { expect } from 'chai';
import type { Job, NewJob } from '../../../src/storage/store.ts';
import { type StoreProvider, newJob } from './fixtures.ts';

const LEASE = 60_000;
const ids = (jobs: Job[]): string[] => jobs.map((job) => job.id);

/** `count` jobs `prefix-000`... in pack `pack`, on hosts h0..h6. */
function packOf(pack: string, prefix: string, count: number, o: Partial<NewJob> = {}): NewJob[] {
  return Array.from({ length: count }, (_, n) =>
    newJob(`${prefix}-${String(n).padStart(3, '0')}`, { key: `h${n % 7}.example`, pack, ...o }),
  );
}

/**
 * Jobs enqueued in packs (the deliveries of a fan-out page): each job keeps its own lease, attempts and outcome,
 * whatever the store does with the pack (one document on MongoDB, rows on SQLite).
 */
export function describeJobPacks(store: StoreProvider): void {
  describe('job queue: packs', () => {
    it('enqueues a pack once, and claims, completes and reads its jobs one by one', async () => {
      const jobs = store().jobs;
      expect(await jobs.enqueue([...packOf('p1', 'a', 3), newJob('alone')], 1_000)).to.equal(4);
      expect(await jobs.enqueue(packOf('p1', 'a', 3), 2_000), 'the same pack again').to.equal(0);
      const claimed = await jobs.claim('deliver', 'w1', 1_000, LEASE, 10);
      expect(ids(claimed).sort()).to.deep.equal(['a-000', 'a-001', 'a-002', 'alone']);
      const first = claimed.find((job) => job.id === 'a-001');
      expect(first).to.deep.include({
        queue: 'deliver',
        key: 'h1.example',
        payload: { id: 'a-001', nested: { n: 1 } },
        state: 'queued',
        attempts: 0,
        leaseOwner: 'w1',
        leaseUntil: 1_000 + LEASE,
        createdAt: 1_000,
      });
      expect(await jobs.complete('a-001', 'w2', 1_100), 'not the owner').to.equal(false);
      expect(await jobs.complete('a-001', 'w1', 1_100)).to.equal(true);
      expect(await jobs.complete('a-001', 'w1', 1_200), 'only once').to.equal(false);
      expect(await jobs.getJob('a-001')).to.deep.include({
        state: 'done',
        leaseOwner: null,
        updatedAt: 1_100,
      });
      expect(await jobs.getJob('a-000')).to.deep.include({ state: 'queued', leaseOwner: 'w1' });
      expect(await jobs.stats('deliver', 1_000)).to.include({ queued: 0, leased: 3, failed: 0 });
    });

    it('leases part of a pack to one claimer and the rest to another, skipping excluded keys', async () => {
      const jobs = store().jobs;
      await jobs.enqueue(packOf('p2', 'b', 10), 0);
      const one = await jobs.claim('deliver', 'w1', 0, LEASE, 4, ['h0.example']);
      expect(ids(one)).to.deep.equal(['b-001', 'b-002', 'b-003', 'b-004']);
      const two = await jobs.claim('deliver', 'w2', 0, LEASE, 10, ['h0.example']);
      expect(ids(two)).to.deep.equal(['b-005', 'b-006', 'b-008', 'b-009']);
      expect(ids(await jobs.claim('deliver', 'w3', 0, LEASE, 10))).to.deep.equal(['b-000', 'b-007']);
      // Outcomes of several owners' jobs of one pack, in one call each.
      expect(
        await jobs.finish([
          { kind: 'done', id: 'b-001', owner: 'w1', now: 5 },
          { kind: 'fail', id: 'b-002', owner: 'w1', error: 'HTTP 403', now: 5 },
          { kind: 'done', id: 'b-005', owner: 'w1', now: 5 },
        ]),
      ).to.deep.equal([true, true, false]);
      expect(
        await jobs.finish([
          { kind: 'retry', id: 'b-005', owner: 'w2', runAt: 1_000, error: 'HTTP 503', now: 6 },
          { kind: 'done', id: 'b-006', owner: 'w2', now: 6 },
        ]),
      ).to.deep.equal([true, true]);
      expect(await jobs.getJob('b-002')).to.deep.include({
        state: 'failed',
        attempts: 1,
        lastError: 'HTTP 403',
      });
      expect(await jobs.getJob('b-005')).to.deep.include({
        state: 'queued',
        attempts: 1,
        runAt: 1_000,
        leaseOwner: null,
        lastError: 'HTTP 503',
      });
      expect(await jobs.claim('deliver', 'w4', 999, LEASE, 10), 'the retry is not due yet').to.deep.equal([]);
      const again = await jobs.claim('deliver', 'w4', 1_000, LEASE, 10);
      expect(ids(again)).to.deep.equal(['b-005']);
      expect(again[0]?.attempts).to.equal(1);
      expect(await jobs.stats('deliver', 1_000)).to.include({ queued: 0, leased: 7, failed: 1 });
    });

    it('lets another owner claim an entry once its lease expired, and extends and changes leased entries', async () => {
      const jobs = store().jobs;
      await jobs.enqueue(packOf('p3', 'c', 2), 0);
      await jobs.claim('deliver', 'w1', 1_000, 500, 1);
      expect(await jobs.extendLease('c-000', 'w1', 3_000)).to.equal(true);
      expect(await jobs.extendLease('c-000', 'w2', 9_000)).to.equal(false);
      expect(await jobs.updatePayload('c-000', 'w1', { step: 2 }, 1_200)).to.equal(true);
      expect(await jobs.getJob('c-000')).to.deep.include({ leaseUntil: 3_000, payload: { step: 2 } });
      expect(ids(await jobs.claim('deliver', 'w2', 2_999, 500, 10))).to.deep.equal(['c-001']);
      const stolen = await jobs.claim('deliver', 'w2', 3_000, 500, 10);
      expect(ids(stolen)).to.deep.equal(['c-000']);
      expect(await jobs.complete('c-000', 'w1', 3_100)).to.equal(false);
      expect(await jobs.complete('c-000', 'w2', 3_100)).to.equal(true);
    });

    it('releases the leases of a gone owner and lists the owners of leases in force', async () => {
      const jobs = store().jobs;
      await jobs.enqueue(packOf('p4', 'd', 4), 0);
      await jobs.claim('deliver', 'dead', 0, LEASE, 3);
      await jobs.claim('deliver', 'alive', 0, LEASE, 3);
      expect((await jobs.listLeaseOwners(0, 10)).sort()).to.deep.equal(['alive', 'dead']);
      expect(await jobs.releaseLeases('dead', 10)).to.equal(3);
      expect(await jobs.listLeaseOwners(10, 10)).to.deep.equal(['alive']);
      expect(ids(await jobs.claim('deliver', 'new', 10, LEASE, 10))).to.deep.equal([
        'd-000',
        'd-001',
        'd-002',
      ]);
      expect((await jobs.getJob('d-003'))?.leaseOwner).to.equal('alive');
    });

    it('purges the jobs of a pack once they are all finished, and keeps the pack known when asked', async () => {
      const jobs = store().jobs;
      await jobs.enqueue(packOf('p5', 'e', 3), 0);
      const claimed = await jobs.claim('deliver', 'w1', 0, LEASE, 10);
      await jobs.finish(
        claimed.slice(0, 2).map((job) => ({ kind: 'done' as const, id: job.id, owner: 'w1', now: 10 })),
      );
      const purge = { doneBefore: 1_000, failedBefore: 1_000, keepIds: true };
      await jobs.purgeFinished('deliver', purge, 100);
      expect((await jobs.getJob('e-002'))?.state, 'the unfinished job stays').to.equal('queued');
      await jobs.complete('e-002', 'w1', 20);
      expect(await jobs.purgeFinished('deliver', purge, 100)).to.be.greaterThan(0);
      for (const id of ['e-000', 'e-001', 'e-002']) expect(await jobs.getJob(id), id).to.equal(null);
      expect(await jobs.enqueue(packOf('p5', 'e', 3), 2_000), 'a purged pack whose id is kept').to.equal(0);
      expect(await jobs.forgetPurgedIds('deliver', 1, 100)).to.be.greaterThan(0);
      expect(await jobs.enqueue(packOf('p5', 'e', 3), 3_000), 'forgotten: queued anew').to.equal(3);
    });

    it('never gives one job of a pack to two of several concurrent claimers', async function () {
      this.timeout(120_000);
      const jobs = store().jobs;
      const batch = [0, 1, 2, 3].flatMap((p) => packOf(`pc${p}`, `job${p}`, 50, { runAt: p }));
      expect(await jobs.enqueue(batch, 0)).to.equal(batch.length);
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
          for (const job of claimed) claimedBy.set(job.id, [...(claimedBy.get(job.id) ?? []), owner]);
          mine += claimed.length;
          completions.push(...(await Promise.all(claimed.map((job) => jobs.complete(job.id, owner, 200)))));
        }
        throw new Error(`${owner} did not finish`);
      };
      const perWorker = await Promise.all(['w1', 'w2', 'w3', 'w4', 'w5'].map(worker));
      expect(
        [...claimedBy].filter(([, owners]) => owners.length > 1),
        'claimed twice',
      ).to.deep.equal([]);
      expect(claimedBy.size).to.equal(batch.length);
      expect(perWorker.reduce((a, b) => a + b, 0)).to.equal(batch.length);
      expect(completions.filter((ok) => !ok)).to.deep.equal([]);
      expect(await jobs.stats('deliver', 100)).to.include({ queued: 0, leased: 0, failed: 0 });
    });
  });
}
