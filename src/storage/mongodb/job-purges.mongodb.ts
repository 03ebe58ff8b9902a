/** MongoDB adapter of the storage port: purges of finished jobs (one document each) and of the ids kept. */
import type { Collection } from 'mongodb';
import type { QueueName } from '../store.ts';
import type { JobDoc } from './documents.mongodb.ts';
import type { JobTransitions } from './job-transitions.mongodb.ts';

/** Finished jobs deleted per round trip. */
const PURGE_BATCH = 1000;

/**
 * Deletes up to `limit` done and failed jobs of `queue` last changed before their limit of time, with their
 * transitions. A purged job whose id is kept stays as a stub (`state: 'purged'`, empty payload): its `_id` still
 * makes an enqueue of the same id a duplicate, at no extra round trip on the enqueue. Returns how many.
 */
export async function purgeFinishedJobs(
  jobs: Collection<JobDoc>,
  transitions: JobTransitions,
  queue: QueueName,
  o: { doneBefore: number; failedBefore: number; keepIds: boolean },
  limit: number,
): Promise<number> {
  let purged = 0;
  for (const [state, before] of [
    ['done', o.doneBefore],
    ['failed', o.failedBefore],
  ] as const) {
    while (purged < limit) {
      const batch = await jobs
        .find({ queue, state, updatedAt: { $lt: before } }, { projection: { _id: 1, rev: 1 } })
        .limit(Math.min(PURGE_BATCH, limit - purged))
        .toArray();
      if (batch.length === 0) break;
      // Done and failed are final: nothing changes such a job, so the ids read above are still in `state`.
      const filter = { _id: { $in: batch.map((doc) => doc._id) }, state };
      const count = o.keepIds
        ? (
            await jobs.updateMany(filter, {
              $set: { state: 'purged', payload: '{}', lastError: null, leaseOwner: null, leaseUntil: 0 },
            })
          ).modifiedCount
        : (await jobs.deleteMany(filter)).deletedCount;
      purged += count;
      await transitions.purge(batch.map((doc) => doc.rev));
      if (batch.length < PURGE_BATCH) break;
    }
  }
  return purged;
}

/** Deletes up to `limit` stubs of purged jobs of `queue` created before `createdBefore`. Returns how many. */
export async function forgetPurgedJobIds(
  jobs: Collection<JobDoc>,
  queue: QueueName,
  createdBefore: number,
  limit: number,
): Promise<number> {
  let forgotten = 0;
  while (forgotten < limit) {
    const batch = await jobs
      .find({ queue, state: 'purged', createdAt: { $lt: createdBefore } }, { projection: { _id: 1 } })
      .limit(Math.min(PURGE_BATCH, limit - forgotten))
      .toArray();
    if (batch.length === 0) break;
    const result = await jobs.deleteMany({ _id: { $in: batch.map((doc) => doc._id) }, state: 'purged' });
    forgotten += result.deletedCount;
    if (batch.length < PURGE_BATCH) break;
  }
  return forgotten;
}
