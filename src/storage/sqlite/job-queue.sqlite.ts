/** SQLite adapter of the storage port: the durable job queue (intake, fan-out, deliveries) with leases. */
import type { Database, Statement, Transaction } from 'better-sqlite3';
import type { Job, JobOutcome, JobQueue, JobState, NewJob, QueueName, QueueStats } from '../store.ts';
import { parseJsonObject } from './codec.sqlite.ts';
import { WriteBatch } from './write-batch.sqlite.ts';

interface JobRow {
  id: string;
  queue: QueueName;
  key: string;
  payload: string;
  state: JobState;
  run_at: number;
  attempts: number;
  lease_owner: string | null;
  lease_until: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

interface StatsRow {
  queued: number;
  leased: number;
  failed: number;
  oldest: number | null;
}

const COLUMNS =
  'id, queue, key, payload, state, run_at, attempts, lease_owner, lease_until, last_error, created_at, updated_at';

/** The condition every owner operation checks: the job is still queued and leased to this owner. */
const HELD = "id = @id AND lease_owner = @owner AND state = 'queued'";

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    queue: row.queue,
    key: row.key,
    payload: parseJsonObject(row.payload),
    state: row.state,
    runAt: row.run_at,
    attempts: row.attempts,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function byRunAtThenId(a: Job, b: Job): number {
  return a.runAt - b.runAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The durable job queue in the `jobs` table. A claim is one IMMEDIATE transaction (select the candidates, then
 * lease them with one UPDATE), so two processes sharing the file never lease the same job at once.
 */
export class SqliteJobQueue implements JobQueue {
  readonly #enqueue: (
    rows: Omit<JobRow, 'attempts' | 'lease_owner' | 'lease_until' | 'last_error'>[],
  ) => number;
  readonly #batch: WriteBatch;
  readonly #claim: Transaction<
    (
      queue: QueueName,
      owner: string,
      now: number,
      leaseUntil: number,
      limit: number,
      exclude: string,
    ) => JobRow[]
  >;
  readonly #complete: Statement<[{ id: string; owner: string; now: number }]>;
  readonly #retry: Statement<[{ id: string; owner: string; run_at: number; error: string; now: number }]>;
  readonly #fail: Statement<[{ id: string; owner: string; error: string; now: number }]>;
  readonly #updatePayload: Statement<[{ id: string; owner: string; payload: string; now: number }]>;
  readonly #extendLease: Statement<[{ id: string; owner: string; lease_until: number }]>;
  readonly #get: Statement<[string], JobRow>;
  readonly #stats: Statement<[{ queue: QueueName; now: number }], StatsRow>;
  readonly #finished: Statement<
    [{ queue: QueueName; state: JobState; before: number; limit: number }],
    { id: string; created_at: number }
  >;
  readonly #keepIds: Statement<[{ queue: QueueName; rows: string }]>;
  readonly #deleteIds: Statement<[string]>;
  readonly #forget: Statement<[{ queue: QueueName; before: number; limit: number }]>;
  readonly #leaseOwners: Statement<[number, number], { owner: string }>;
  readonly #release: Statement<[{ owner: string; now: number }]>;

  /**
   * Enqueues and job outcomes are group-committed (`WriteBatch`): many deliveries finishing, or many inbox
   * POSTs arriving, in one turn of the event loop share one transaction.
   */
  constructor(db: Database, batch: WriteBatch = new WriteBatch(db)) {
    this.#batch = batch;
    // An id kept by purgeFinished counts as existing: de-duplication outlives the purged job.
    const insert = db.prepare<[Omit<JobRow, 'attempts' | 'lease_owner' | 'lease_until' | 'last_error'>]>(
      `INSERT INTO jobs (id, queue, key, payload, state, run_at, created_at, updated_at)
       SELECT @id, @queue, @key, @payload, @state, @run_at, @created_at, @updated_at
       WHERE NOT EXISTS (SELECT 1 FROM purged_job_ids WHERE id = @id)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.#enqueue = (rows) => {
      let inserted = 0;
      for (const row of rows) inserted += insert.run(row).changes;
      return inserted;
    };

    const candidates = db.prepare<
      [{ queue: QueueName; now: number; limit: number; exclude: string }],
      { id: string }
    >(
      `SELECT id FROM jobs
       WHERE queue = @queue AND state = 'queued' AND run_at <= @now AND lease_until <= @now
         AND key NOT IN (SELECT value FROM json_each(@exclude))
       ORDER BY run_at, id LIMIT @limit`,
    );
    const lease = db.prepare<[{ ids: string; owner: string; lease_until: number; now: number }], JobRow>(
      `UPDATE jobs SET lease_owner = @owner, lease_until = @lease_until, updated_at = @now
       WHERE id IN (SELECT value FROM json_each(@ids))
       RETURNING ${COLUMNS}`,
    );
    this.#claim = db.transaction((queue, owner, now, leaseUntil, limit, exclude): JobRow[] => {
      const ids = candidates.all({ queue, now, limit, exclude }).map((row) => row.id);
      if (ids.length === 0) return [];
      return lease.all({ ids: JSON.stringify(ids), owner, lease_until: leaseUntil, now });
    });

    this.#complete = db.prepare(
      `UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = 0, updated_at = @now WHERE ${HELD}`,
    );
    this.#retry = db.prepare(
      `UPDATE jobs SET run_at = @run_at, attempts = attempts + 1, last_error = @error, lease_owner = NULL,
         lease_until = 0, updated_at = @now
       WHERE ${HELD}`,
    );
    this.#fail = db.prepare(
      `UPDATE jobs SET state = 'failed', attempts = attempts + 1, last_error = @error, lease_owner = NULL,
         lease_until = 0, updated_at = @now
       WHERE ${HELD}`,
    );
    this.#updatePayload = db.prepare(`UPDATE jobs SET payload = @payload, updated_at = @now WHERE ${HELD}`);
    this.#extendLease = db.prepare(`UPDATE jobs SET lease_until = @lease_until WHERE ${HELD}`);
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM jobs WHERE id = ?`);
    this.#stats = db.prepare(
      `SELECT
         coalesce(sum(state = 'queued' AND lease_until <= @now), 0) AS queued,
         coalesce(sum(state = 'queued' AND lease_until > @now), 0) AS leased,
         coalesce(sum(state = 'failed'), 0) AS failed,
         min(CASE WHEN state = 'queued' THEN created_at END) AS oldest
       FROM jobs WHERE queue = @queue AND state IN ('queued', 'failed')`,
    );
    this.#finished = db.prepare(
      `SELECT id, created_at FROM jobs WHERE queue = @queue AND state = @state AND updated_at < @before
       LIMIT @limit`,
    );
    this.#keepIds = db.prepare(
      `INSERT OR IGNORE INTO purged_job_ids (id, queue, created_at)
       SELECT json_extract(value, '$[0]'), @queue, json_extract(value, '$[1]') FROM json_each(@rows)`,
    );
    this.#deleteIds = db.prepare('DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(?))');
    this.#forget = db.prepare(
      `DELETE FROM purged_job_ids WHERE id IN (
         SELECT id FROM purged_job_ids WHERE queue = @queue AND created_at < @before LIMIT @limit)`,
    );
    this.#leaseOwners = db.prepare(
      `SELECT DISTINCT lease_owner AS owner FROM jobs
       WHERE state = 'queued' AND lease_until > ? AND lease_owner IS NOT NULL LIMIT ?`,
    );
    this.#release = db.prepare(
      `UPDATE jobs SET lease_owner = NULL, lease_until = 0, updated_at = @now
       WHERE lease_owner = @owner AND state = 'queued'`,
    );
  }

  async enqueue(jobs: NewJob[], now: number): Promise<number> {
    if (jobs.length === 0) return 0;
    // Serialized before the batch, so that a payload that cannot be stored fails alone.
    const rows = jobs.map((job) => ({
      id: job.id,
      queue: job.queue,
      key: job.key,
      payload: JSON.stringify(job.payload),
      state: 'queued' as const,
      run_at: job.runAt,
      created_at: now,
      updated_at: now,
    }));
    return this.#batch.submit(() => this.#enqueue(rows));
  }

  async claim(
    queue: QueueName,
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    excludeKeys: string[] = [],
  ): Promise<Job[]> {
    if (limit <= 0) return [];
    // Outcomes and enqueues waiting for their batch are written first: a claim sees what this process did.
    this.#batch.flush();
    const rows = this.#claim.immediate(queue, owner, now, now + leaseMs, limit, JSON.stringify(excludeKeys));
    return rows.map(toJob).sort(byRunAtThenId);
  }

  async complete(id: string, owner: string, now: number): Promise<boolean> {
    return this.#batch.submit(() => this.#complete.run({ id, owner, now }).changes === 1);
  }

  async retry(id: string, owner: string, runAt: number, error: string, now: number): Promise<boolean> {
    return this.#batch.submit(() => this.#retry.run({ id, owner, run_at: runAt, error, now }).changes === 1);
  }

  async fail(id: string, owner: string, error: string, now: number): Promise<boolean> {
    return this.#batch.submit(() => this.#fail.run({ id, owner, error, now }).changes === 1);
  }

  async finish(outcomes: JobOutcome[]): Promise<boolean[]> {
    if (outcomes.length === 0) return [];
    return this.#batch.submit(() => outcomes.map((o) => this.#record(o)));
  }

  /** Writes one outcome (inside a batch); true when the owner still held the lease. */
  #record(o: JobOutcome): boolean {
    switch (o.kind) {
      case 'done':
        return this.#complete.run({ id: o.id, owner: o.owner, now: o.now }).changes === 1;
      case 'retry':
        return (
          this.#retry.run({ id: o.id, owner: o.owner, run_at: o.runAt, error: o.error, now: o.now })
            .changes === 1
        );
      case 'fail':
        return this.#fail.run({ id: o.id, owner: o.owner, error: o.error, now: o.now }).changes === 1;
      default: {
        const unknown: never = o;
        throw new Error(`unknown job outcome ${JSON.stringify(unknown)}`);
      }
    }
  }

  async updatePayload(
    id: string,
    owner: string,
    payload: Record<string, unknown>,
    now: number,
  ): Promise<boolean> {
    return this.#updatePayload.run({ id, owner, payload: JSON.stringify(payload), now }).changes === 1;
  }

  async extendLease(id: string, owner: string, leaseUntil: number): Promise<boolean> {
    return this.#extendLease.run({ id, owner, lease_until: leaseUntil }).changes === 1;
  }

  /** The write batch of this queue (its health tells whether the database takes writes). */
  get batch(): WriteBatch {
    return this.#batch;
  }

  /** Commits the writes waiting for their batch. */
  flush(): void {
    this.#batch.flush();
  }

  async getJob(id: string): Promise<Job | null> {
    const row = this.#get.get(id);
    return row ? toJob(row) : null;
  }

  async stats(queue: QueueName, now: number): Promise<QueueStats> {
    const row = this.#stats.get({ queue, now });
    return {
      queued: row?.queued ?? 0,
      leased: row?.leased ?? 0,
      failed: row?.failed ?? 0,
      oldestCreatedAt: row?.oldest ?? null,
    };
  }

  async purgeFinished(
    queue: QueueName,
    o: { doneBefore: number; failedBefore: number; keepIds: boolean },
    limit: number,
  ): Promise<number> {
    if (limit <= 0) return 0;
    // Through the write batch: a write lock held elsewhere never stops this thread's event loop.
    return this.#batch.submit(() => {
      const rows = this.#finished.all({ queue, state: 'done', before: o.doneBefore, limit });
      if (rows.length < limit)
        rows.push(
          ...this.#finished.all({
            queue,
            state: 'failed',
            before: o.failedBefore,
            limit: limit - rows.length,
          }),
        );
      if (rows.length === 0) return 0;
      if (o.keepIds)
        this.#keepIds.run({ queue, rows: JSON.stringify(rows.map((r) => [r.id, r.created_at])) });
      return this.#deleteIds.run(JSON.stringify(rows.map((r) => r.id))).changes;
    });
  }

  async forgetPurgedIds(queue: QueueName, createdBefore: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    return this.#batch.submit(() => this.#forget.run({ queue, before: createdBefore, limit }).changes);
  }

  async listLeaseOwners(now: number, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    this.#batch.flush();
    return this.#leaseOwners.all(now, limit).map((row) => row.owner);
  }

  async releaseLeases(owner: string, now: number): Promise<number> {
    return this.#batch.submit(() => this.#release.run({ owner, now }).changes);
  }
}
