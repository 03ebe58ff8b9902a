import { expect } from 'chai';
import { MongoClient, type Db } from 'mongodb';
import { openStore } from '../../../src/storage/open-store.ts';
import type { Store } from '../../../src/storage/store.ts';
import type {
  JobChange,
  JobDoc,
  JobTransitionDoc,
  PackChange,
  PackDoc,
  PackEntry,
} from '../../../src/storage/mongodb/documents.mongodb.ts';
import { MongoJobQueue } from '../../../src/storage/mongodb/job-queue.mongodb.ts';
import { HELP_AFTER_MS } from '../../../src/storage/mongodb/job-transitions.mongodb.ts';
import { newTestStoreLocation, testStoreKind } from '../../support/test-store.ts';
import { type StoreProvider, member, newJob, remoteActor } from './fixtures.ts';

const LEASE = 60_000;

/** Runs `body` on a fresh MongoDB store and a client of its database, then removes both. */
async function withMongoStore(body: (s: Store, db: Db) => Promise<void>): Promise<void> {
  const location = await newTestStoreLocation();
  if (location.options.kind !== 'mongodb') throw new Error('unreachable');
  const s = await openStore(location.options);
  const client = new MongoClient(location.options.url);
  try {
    await body(s, client.db(location.options.dbName));
  } finally {
    await client.close();
    await s.close();
    await location.remove();
  }
}

/**
 * Takes, as a process killed right after would have, the transition of `change` from job `jobId`'s present state
 * (job-transitions.mongodb.ts), without writing the job; `change.seq` is filled in.
 */
async function takeTransition(
  db: Db,
  jobId: string,
  change: Omit<JobChange, 'seq'>,
  at = Date.now(),
): Promise<void> {
  const doc = await db.collection<{ _id: string; rev: string; seq: number }>('jobs').findOne({ _id: jobId });
  if (!doc) throw new Error(`no job ${jobId}`);
  await db.collection<JobTransitionDoc>('job_transitions').insertOne({
    _id: `${doc.rev}:${doc.seq}`,
    rev: doc.rev,
    jobId,
    at,
    change: { ...change, seq: doc.seq + 1 },
  });
}

/** What keeps the store bounded (purges) and what lets a restarted process take its jobs back at once. */
export function describePurges(store: StoreProvider): void {
  describe('purges and lease recovery', () => {
    it('purges done and failed jobs of one queue by age, each with its own limit of time', async () => {
      const jobs = store().jobs;
      await jobs.enqueue(
        ['a', 'b', 'c', 'q', 'f', 'g'].map((id) => newJob(id)),
        0,
      );
      await jobs.enqueue([newJob('i', { queue: 'intake' })], 0);
      await jobs.claim('deliver', 'w1', 0, LEASE, 10);
      await jobs.claim('intake', 'w1', 0, LEASE, 10);
      await jobs.complete('a', 'w1', 100);
      await jobs.complete('b', 'w1', 200);
      await jobs.complete('c', 'w1', 300);
      await jobs.complete('i', 'w1', 100);
      await jobs.fail('f', 'w1', 'x', 100);
      await jobs.fail('g', 'w1', 'x', 500);
      const o = { doneBefore: 300, failedBefore: 200, keepIds: false };
      expect(await jobs.purgeFinished('deliver', o, 100)).to.equal(3);
      for (const gone of ['a', 'b', 'f']) expect(await jobs.getJob(gone), gone).to.equal(null);
      for (const kept of ['c', 'q', 'g', 'i']) expect(await jobs.getJob(kept), kept).not.to.equal(null);
      expect(await jobs.purgeFinished('deliver', o, 100)).to.equal(0);
      // Without kept ids, a purged id can be enqueued again, as a new job.
      expect(await jobs.enqueue([newJob('a', { payload: { again: true } })], 400)).to.equal(1);
      const claimed = await jobs.claim('deliver', 'w2', 400, LEASE, 10);
      expect(claimed.map((job) => [job.id, job.payload])).to.deep.equal([['a', { again: true }]]);
      expect(await jobs.complete('a', 'w2', 500)).to.equal(true);
    });

    it('purges at most the limit per call', async () => {
      const jobs = store().jobs;
      const ids = Array.from({ length: 7 }, (_, i) => `j${i}`);
      await jobs.enqueue(
        ids.map((id) => newJob(id)),
        0,
      );
      await jobs.claim('deliver', 'w1', 0, LEASE, 10);
      for (const id of ids) await jobs.complete(id, 'w1', 10);
      const o = { doneBefore: 100, failedBefore: 100, keepIds: true };
      expect(await jobs.purgeFinished('deliver', o, 3)).to.equal(3);
      expect(await jobs.purgeFinished('deliver', o, 3)).to.equal(3);
      expect(await jobs.purgeFinished('deliver', o, 3)).to.equal(1);
      expect(await jobs.purgeFinished('deliver', o, 3)).to.equal(0);
      expect(await jobs.forgetPurgedIds('deliver', 1, 5)).to.equal(5);
      expect(await jobs.forgetPurgedIds('deliver', 1, 5)).to.equal(2);
    });

    it('keeps the ids of purged jobs for de-duplication until they are forgotten', async () => {
      const jobs = store().jobs;
      await jobs.enqueue([newJob('seen', { queue: 'intake' })], 1_000);
      await jobs.enqueue([newJob('later', { queue: 'intake' })], 5_000);
      await jobs.claim('intake', 'w1', 5_000, LEASE, 10);
      await jobs.complete('seen', 'w1', 5_000);
      await jobs.fail('later', 'w1', 'bad', 5_000);
      const o = { doneBefore: 6_000, failedBefore: 6_000, keepIds: true };
      expect(await jobs.purgeFinished('intake', o, 100)).to.equal(2);
      expect(await jobs.getJob('seen')).to.equal(null);
      expect(await jobs.getJob('later')).to.equal(null);
      // Both ids are still known: enqueueing them again inserts nothing, and nothing is there to claim.
      expect(
        await jobs.enqueue(
          [newJob('seen', { queue: 'intake' }), newJob('later', { queue: 'intake' })],
          7_000,
        ),
      ).to.equal(0);
      expect(await jobs.claim('intake', 'w2', 7_000, LEASE, 10)).to.deep.equal([]);
      expect((await jobs.stats('intake', 7_000)).failed).to.equal(0);
      // Ids are forgotten by the time their job was first created, per queue.
      expect(await jobs.forgetPurgedIds('deliver', 10_000, 100)).to.equal(0);
      expect(await jobs.forgetPurgedIds('intake', 2_000, 100)).to.equal(1);
      expect(await jobs.enqueue([newJob('seen', { queue: 'intake' })], 8_000)).to.equal(1);
      expect(await jobs.enqueue([newJob('later', { queue: 'intake' })], 8_000)).to.equal(0);
      expect(await jobs.forgetPurgedIds('intake', 10_000, 100)).to.equal(1);
      expect(await jobs.enqueue([newJob('later', { queue: 'intake' })], 9_000)).to.equal(1);
      expect((await jobs.getJob('later'))?.createdAt).to.equal(9_000);
    });

    it('never purges a queued job', async () => {
      const jobs = store().jobs;
      await jobs.enqueue([newJob('waiting'), newJob('leased')], 0);
      await jobs.claim('deliver', 'w1', 0, LEASE, 1);
      const o = { doneBefore: 1e12, failedBefore: 1e12, keepIds: true };
      expect(await jobs.purgeFinished('deliver', o, 100)).to.equal(0);
      expect((await jobs.getJob('waiting'))?.state).to.equal('queued');
      expect((await jobs.getJob('leased'))?.state).to.equal('queued');
    });

    it('lists the owners of leases in force and releases those of one owner at once', async () => {
      const jobs = store().jobs;
      await jobs.enqueue(
        ['a', 'b', 'c', 'd'].map((id) => newJob(id)),
        0,
      );
      await jobs.enqueue([newJob('i', { queue: 'intake' })], 0);
      await jobs.claim('deliver', 'dead', 100, LEASE, 2);
      await jobs.claim('deliver', 'alive', 100, LEASE, 1);
      await jobs.claim('intake', 'dead', 100, LEASE, 1);
      await jobs.claim('deliver', 'expired', 100, 10, 1);
      expect(await jobs.listLeaseOwners(200, 10)).to.have.members(['dead', 'alive']);
      expect(await jobs.listLeaseOwners(200, 1)).to.have.length(1);
      expect(await jobs.releaseLeases('dead', 200)).to.equal(3);
      expect(await jobs.listLeaseOwners(200, 10)).to.deep.equal(['alive']);
      // Claimable at once, long before the lease would have ended, with no attempt counted.
      const again = await jobs.claim('deliver', 'new', 200, LEASE, 10);
      expect(again.map((j) => j.id)).to.have.members(['a', 'b', 'd']);
      for (const job of again) expect(job.attempts).to.equal(0);
      expect((await jobs.claim('intake', 'new', 200, LEASE, 10)).map((j) => j.id)).to.deep.equal(['i']);
      // The old owner can no longer complete what it held; the alive owner's lease is untouched.
      expect(await jobs.complete('a', 'dead', 300)).to.equal(false);
      expect((await jobs.getJob('c'))?.leaseOwner).to.equal('alive');
      expect(await jobs.releaseLeases('dead', 300)).to.equal(0);
    });

    if (testStoreKind() === 'mongodb') {
      it('takes back at once the jobs of a holder that died between the two writes of a change (MongoDB)', async () => {
        // A change of a job is a transition record, then the job written (job-queue.mongodb.ts): a process
        // killed between the two leaves its transition unwritten, which blocked the release until the lease
        // ended.
        await withMongoStore(async (s, db) => {
          await s.jobs.enqueue([newJob('sent'), newJob('claimed')], 0);
          await s.jobs.claim('deliver', 'dead', 100, LEASE, 2);
          // The holder delivered 'sent', took the transition of its completion, and was killed.
          await takeTransition(db, 'sent', {
            state: 'done',
            leaseOwner: null,
            leaseUntil: 0,
            updatedAt: 150,
          });
          expect(await s.jobs.releaseLeases('dead', 200)).to.equal(1);
          expect((await s.jobs.getJob('sent'))?.state, 'its completion written on its behalf').to.equal(
            'done',
          );
          expect(await s.jobs.listLeaseOwners(200, 10)).to.deep.equal([]);
          const again = await s.jobs.claim('deliver', 'new', 200, LEASE, 10);
          expect(again.map((j) => j.id)).to.deep.equal(['claimed']);

          // A claim taken, never written: a claimer that keeps losing against it for HELP_AFTER_MS gets the job
          // (written free first, not leased to the dead claimer).
          let wall = Date.now();
          const queue = new MongoJobQueue(
            db.collection<JobDoc>('jobs'),
            db.collection<JobTransitionDoc>('job_transitions'),
            db.collection<PackDoc>('job_packs'),
            db.collection<PackDoc>('job_packs_done'),
            () => wall,
          );
          await queue.enqueue([newJob('unwritten')], 0);
          const claim = { leaseOwner: 'dead', leaseUntil: 100 + LEASE, updatedAt: 100 };
          await takeTransition(db, 'unwritten', claim, wall - 60_000);
          expect(await queue.claim('deliver', 'new', 300, LEASE, 10), 'lost to the transition').to.deep.equal(
            [],
          );
          wall += HELP_AFTER_MS;
          expect(
            await queue.claim('deliver', 'new', 300, LEASE, 10),
            "lost again, the transition written free on its taker's behalf",
          ).to.deep.equal([]);
          expect((await queue.getJob('unwritten'))?.leaseOwner ?? null).to.equal(null);
          const taken = await queue.claim('deliver', 'new', 300, LEASE, 10);
          expect(taken.map((j) => [j.id, j.leaseOwner])).to.deep.equal([['unwritten', 'new']]);
        });
      });

      it('frees at once the jobs a gone holder took a claim of and never wrote (MongoDB)', async () => {
        // Killed between the transition of a claim and the write of its jobs, a holder leaves jobs that are not
        // leased to it: releasing its leases must free them too, or claimers wait HELP_AFTER_MS for them.
        await withMongoStore(async (s, db) => {
          await s.jobs.enqueue([newJob('taken'), newJob('other')], 0);
          await takeTransition(db, 'taken', { leaseOwner: 'dead', leaseUntil: 100 + LEASE, updatedAt: 100 });
          expect(
            (await s.jobs.claim('deliver', 'new', 200, LEASE, 10)).map((j) => j.id),
            'the unwritten claim blocks its job',
          ).to.deep.equal(['other']);
          expect(await s.jobs.releaseLeases('dead', 200)).to.equal(1);
          expect((await s.jobs.getJob('taken'))?.leaseOwner ?? null, 'written free').to.equal(null);
          expect((await s.jobs.claim('deliver', 'new', 200, LEASE, 10)).map((j) => j.id)).to.deep.equal([
            'taken',
          ]);
          expect(await s.jobs.releaseLeases('dead', 200), 'nothing more to free').to.equal(0);
        });
      });

      it('frees at once the entries of a pack a gone holder took a claim of and never wrote (MongoDB)', async () => {
        await withMongoStore(async (s, db) => {
          await s.jobs.enqueue([newJob('p-0', { pack: 'p' }), newJob('p-1', { pack: 'p' })], 0);
          const packs = db.collection<PackDoc>('job_packs');
          const pack = await packs.findOne({ _id: 'p' });
          if (!pack) throw new Error('no pack');
          const leased = (JSON.parse(pack.entries) as PackEntry[]).map((e) => ({
            ...e,
            leaseOwner: 'dead',
            leaseUntil: 100 + LEASE,
          }));
          // The claim's transition (job-packs.mongodb.ts), taken by a holder killed before it wrote the pack.
          await db.collection<JobTransitionDoc<PackChange>>('job_transitions').insertOne({
            _id: `${pack.rev}:${pack.seq}`,
            rev: pack.rev,
            jobId: 'p',
            at: Date.now(),
            change: {
              seq: pack.seq + 1,
              entries: JSON.stringify(leased),
              owners: ['dead'],
              nextAt: 100 + LEASE,
              claimed: ['p-0', 'p-1'],
            },
          });
          expect(await s.jobs.claim('deliver', 'new', 200, LEASE, 10), 'blocked').to.deep.equal([]);
          await s.jobs.releaseLeases('dead', 200);
          expect((await s.jobs.claim('deliver', 'new', 200, LEASE, 10)).map((j) => j.id)).to.deep.equal([
            'p-0',
            'p-1',
          ]);
        });
      });

      it('keeps only the failed entries of a pack in force once all are finished, and a copy of it whole (MongoDB)', async () => {
        await withMongoStore(async (s, db) => {
          const pack = ['a', 'b', 'c'].map((id) => newJob(id, { pack: 'done-pack' }));
          await s.jobs.enqueue(pack, 0);
          await s.jobs.claim('deliver', 'w', 0, LEASE, 10);
          await s.jobs.finish([
            { kind: 'done', id: 'a', owner: 'w', now: 10 },
            { kind: 'fail', id: 'b', owner: 'w', error: 'HTTP 403', now: 10 },
          ]);
          const stored = () => db.collection<PackDoc>('job_packs').findOne({ _id: 'done-pack' });
          expect((await stored())?.ids, 'open: every entry is kept').to.have.length(3);
          await s.jobs.complete('c', 'w', 20);
          const closed = await stored();
          expect(closed?.state).to.equal('closed');
          expect(closed?.ids).to.deep.equal(['b']);
          expect((JSON.parse(closed?.entries ?? '[]') as PackEntry[]).map((e) => e.id)).to.deep.equal(['b']);
          const copy = await db.collection<PackDoc>('job_packs_done').findOne({ _id: 'done-pack' });
          expect(copy?.ids).to.deep.equal(['a', 'b', 'c']);
          expect((await s.jobs.getJob('b'))?.state).to.equal('failed');
          expect(await s.jobs.getJob('c')).to.deep.include({ state: 'done', updatedAt: 20 });
          expect(await s.jobs.stats('deliver', 20)).to.include({ queued: 0, leased: 0, failed: 1 });
          const purge = { doneBefore: 1_000, failedBefore: 1_000, keepIds: false };
          expect(await s.jobs.purgeFinished('deliver', purge, 100), 'every entry of the pack').to.equal(3);
          expect(await s.jobs.getJob('a')).to.equal(null);
          expect(await db.collection('job_packs_done').countDocuments()).to.equal(0);
        });
      });
    }

    it('purges bans that ended before a time, never permanent ones', async () => {
      const bans = store().bans;
      const ban = (actorId: string, expiresAt: number | null, groupName = 'g') => ({
        groupName,
        actorId,
        reason: 'r',
        by: 'admin',
        createdAt: 0,
        expiresAt,
      });
      await bans.putBan(ban('https://r.example/old', 100));
      await bans.putBan(ban('https://r.example/old', 150, 'h'));
      await bans.putBan(ban('https://r.example/recent', 900));
      await bans.putBan(ban('https://r.example/forever', null));
      expect(await bans.purgeExpired(500)).to.equal(2);
      expect((await bans.listBans('g', null, 10)).map((b) => b.actorId)).to.deep.equal([
        'https://r.example/forever',
        'https://r.example/recent',
      ]);
      expect(await bans.listBans('h', null, 10)).to.deep.equal([]);
      expect(await bans.purgeExpired(500)).to.equal(0);
    });

    it('purges stale copies of remote actors that are neither members nor moderators', async () => {
      const s = store();
      const ids = ['stranger', 'member', 'pending', 'moderator', 'fresh'].map(
        (n) => `https://r.example/${n}`,
      );
      for (const id of ids)
        await s.remoteActors.putRemoteActor(remoteActor(id, { fetchedAt: id.endsWith('fresh') ? 900 : 100 }));
      await s.members.upsertMember(member('g', 'https://r.example/member'));
      await s.members.upsertMember(member('g', 'https://r.example/pending', { state: 'pending' }));
      await s.moderators.addModerator({
        groupName: 'g',
        actorId: 'https://r.example/moderator',
        addedBy: 'admin',
        addedAt: 0,
      });
      expect(await s.remoteActors.purgeStale(500, 100)).to.equal(1);
      expect(await s.remoteActors.getRemoteActor('https://r.example/stranger')).to.equal(null);
      for (const kept of ids.slice(1))
        expect(await s.remoteActors.getRemoteActor(kept), kept).not.to.equal(null);
      expect(await s.remoteActors.purgeStale(500, 100)).to.equal(0);
      expect(await s.remoteActors.purgeStale(1_000, 0)).to.equal(0);
      expect(await s.remoteActors.purgeStale(1_000, 100)).to.equal(1);
    });
  });
}
