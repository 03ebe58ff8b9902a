/** MongoDB adapter of the storage port: delivery failures per remote host. */
import { randomUUID } from 'node:crypto';
import type { Collection, Filter } from 'mongodb';
import { withFailure } from '../host-status.ts';
import type { HostRepository, HostStatus } from '../moderation.store.ts';
import { isDuplicateKeyError } from './errors.mongodb.ts';
import type { HostDoc } from './moderation-documents.mongodb.ts';

/*
 * How a failure is recorded without transactions.
 *
 * recordFailure reads the host's document, computes the next status (the shared arithmetic of host-status.ts:
 * the day window cannot be written with the update operators FerretDB 1.24 supports), and writes it back only
 * if nobody wrote in between: a new host is inserted (a concurrent insert makes it fail on the duplicate `_id`),
 * a known one is replaced on the condition that its random `rev` is unchanged. A writer that loses reads again
 * and retries, so a duplicate-key race never reaches the caller.
 *
 * On MongoDB the conditional replace is atomic and no failure is lost. FerretDB 1.x does not apply an update's
 * filter atomically with the write (it reads, then writes back), so two workers recording a failure of the same
 * host at the same moment may both "win" and one increment is lost. That is accepted: the status is a health
 * estimate for backing off from dead hosts, not an exact count. Likewise, after MAX_ATTEMPTS lost rounds (many
 * workers failing on one host at once) the failure is dropped rather than reported as an error.
 */

/** Rounds of read, compute, conditional write before a failure is given up as lost. */
const MAX_ATTEMPTS = 8;

function toStatus(doc: HostDoc): HostStatus {
  return {
    host: doc._id,
    firstFailureAt: doc.firstFailureAt,
    lastFailureAt: doc.lastFailureAt,
    consecutiveFailures: doc.consecutiveFailures,
    failureDays: Array.isArray(doc.failureDays)
      ? doc.failureDays.filter((day): day is string => typeof day === 'string')
      : [],
  };
}

function toDoc(status: HostStatus): HostDoc {
  return {
    _id: status.host,
    firstFailureAt: status.firstFailureAt,
    lastFailureAt: status.lastFailureAt,
    consecutiveFailures: status.consecutiveFailures,
    failureDays: [...status.failureDays],
    failureDayCount: status.failureDays.length,
    rev: randomUUID(),
  };
}

/** Delivery health in the `host_status` collection, `_id` = host; a success deletes the document. */
export class MongoHostRepository implements HostRepository {
  readonly #hosts: Collection<HostDoc>;

  constructor(hosts: Collection<HostDoc>) {
    this.#hosts = hosts;
  }

  async recordFailure(host: string, at: number): Promise<HostStatus> {
    let next: HostStatus | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const current = await this.#hosts.findOne({ _id: host });
      next = withFailure(current ? toStatus(current) : null, host, at);
      if (await this.#write(current, toDoc(next))) return next;
    }
    if (!next) throw new Error('unreachable');
    return next;
  }

  async recordSuccess(host: string, at: number): Promise<void> {
    await this.#hosts.deleteOne({ _id: host, lastFailureAt: { $lte: at } });
  }

  async getHost(host: string): Promise<HostStatus | null> {
    const doc = await this.#hosts.findOne({ _id: host });
    return doc ? toStatus(doc) : null;
  }

  async listFailingHosts(
    minDistinctDays: number,
    after: string | null,
    limit: number,
  ): Promise<HostStatus[]> {
    if (limit <= 0) return [];
    const filter: Filter<HostDoc> = { failureDayCount: { $gte: minDistinctDays } };
    if (after !== null) filter._id = { $gt: after };
    const docs = await this.#hosts.find(filter).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map(toStatus);
  }

  /** Writes `next` over `current` (or inserts it when there was none); false when another writer came first. */
  async #write(current: HostDoc | null, next: HostDoc): Promise<boolean> {
    if (current === null) {
      try {
        await this.#hosts.insertOne(next);
        return true;
      } catch (error) {
        if (isDuplicateKeyError(error)) return false;
        throw error;
      }
    }
    const result = await this.#hosts.replaceOne({ _id: current._id, rev: current.rev }, next);
    return result.matchedCount === 1;
  }
}
