/** MongoDB adapter of the storage port: what the summaries of packs of jobs (job-packs.mongodb.ts) answer. */
import type { Collection } from 'mongodb';
import type { QueueName, QueueStats } from '../store.ts';
import type { PackDoc } from './documents.mongodb.ts';

/** Counts the entries of the packs of `queue` from the packs' summaries. */
export async function packStats(
  packs: Collection<PackDoc>,
  queue: QueueName,
  now: number,
): Promise<QueueStats> {
  const stats: QueueStats = { queued: 0, leased: 0, failed: 0, oldestCreatedAt: null };
  const summary = { _id: 0, state: 1, open: 1, failed: 1, leaseEnds: 1, createdAt: 1 } as const;
  const [open, failing] = await Promise.all([
    packs.find({ queue, state: 'open' }, { projection: summary }).toArray(),
    packs.find({ queue, state: 'closed', hasFailed: true }, { projection: summary }).toArray(),
  ]);
  for (const pack of [...open, ...failing]) {
    stats.failed += pack.failed;
    if (pack.state !== 'open') continue;
    const leased = pack.leaseEnds.filter((until) => until > now).length;
    stats.leased += leased;
    stats.queued += pack.open - leased;
    if (stats.oldestCreatedAt === null || pack.createdAt < stats.oldestCreatedAt)
      stats.oldestCreatedAt = pack.createdAt;
  }
  return stats;
}

/** Forgets up to `limit` packs kept as stubs by purgeFinished, created before `createdBefore`. */
export async function forgetPurgedPacks(
  packs: Collection<PackDoc>,
  queue: QueueName,
  createdBefore: number,
  limit: number,
): Promise<number> {
  const batch = await packs
    .find({ queue, state: 'purged', createdAt: { $lt: createdBefore } }, { projection: { _id: 1 } })
    .limit(Math.max(0, limit))
    .toArray();
  if (batch.length === 0) return 0;
  const result = await packs.deleteMany({ _id: { $in: batch.map((p) => p._id) }, state: 'purged' });
  return result.deletedCount;
}

/** Owners of entries leased until after `now`, from the packs' summaries. */
export async function packLeaseOwners(packs: Collection<PackDoc>, now: number): Promise<Set<string>> {
  const owners = new Set<string>();
  const found = await packs.find({ state: 'open' }, { projection: { _id: 0, leases: 1 } }).toArray();
  for (const pack of found) for (const l of pack.leases) if (l.until > now) owners.add(l.owner);
  return owners;
}
