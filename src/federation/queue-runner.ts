/**
 * Runs the jobs of one queue with bounded concurrency (overall and per key), leasing them from the store so
 * that several processes share the work and a crashed process's jobs are taken over when their lease ends.
 * A job leaves the queue only after its handler reports success or permanent failure.
 *
 * Store round trips are shared by many jobs: claims may take jobs ahead of free slots (`prefetch`), and the
 * outcomes of finished jobs are recorded together (JobQueue.finish) before the next claim, before the loop
 * waits for work, and at the latest OUTCOME_FLUSH_MS after the first of them (IDLE_OUTCOME_FLUSH_MS when the
 * queue has nothing more to claim); a job's slot is free as soon as its handler returns. An outcome not yet recorded when the process dies is lost with it: that job runs again
 * when its lease ends (at least once, never lost).
 */
import type { Job, JobOutcome, JobQueue, QueueName } from '../storage/store.ts';
import type { Logger } from '../log.ts';
import type { LocalQueueSignal } from './queue-signal.ts';

export type JobResult =
  { kind: 'done' } | { kind: 'retry'; delayMs: number; error: string } | { kind: 'fail'; error: string };

/** Longest wait for more free slots before claiming a small batch. */
const BATCH_WAIT_MS = 20;
/** Outcomes are recorded at the latest this long after the first of them finished... */
const OUTCOME_FLUSH_MS = 1000;
/** ...or this long when the loop has no more work to claim (the last jobs of a batch finishing). */
const IDLE_OUTCOME_FLUSH_MS = 50;
/** Outcomes recorded in one call at most (more wait for the next). */
const MAX_OUTCOMES_PER_FLUSH = 500;
/** Jobs asked for in one claim at most. */
const MAX_CLAIM = 500;

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** First and longest wait before recording a job's outcome again when the store failed to take it. */
const OUTCOME_RETRY_FIRST_MS = 200;
const OUTCOME_RETRY_MAX_MS = 5_000;

/** A job whose handler keeps throwing is given up after this many attempts. */
const MAX_ATTEMPTS_ON_ERROR = 10;

export type JobHandler = (job: Job, ctx: { owner: string; log: Logger }) => Promise<JobResult>;

export interface QueueRunnerOptions {
  jobs: JobQueue;
  queue: QueueName;
  owner: string;
  handler: JobHandler;
  signal: LocalQueueSignal;
  log: Logger;
  concurrency: number;
  /** At most this many jobs of one key in flight (deliveries: per destination host). */
  perKeyConcurrency?: number;
  leaseMs: number;
  /**
   * Jobs claimed ahead of free slots (default 0), so that claims are larger: they wait here, leased, and start as
   * slots free up; one whose lease has run half its course has it extended first.
   */
  prefetch?: number;
  pollMs?: number;
  /** Keys whose jobs are left unclaimed for now (hosts with an open circuit). */
  skipKeys?: () => string[];
  /** Called after every finished job with its outcome (metrics). */
  onOutcome?: (job: Job, result: JobResult | { kind: 'error'; error: string }, ms: number) => void;
  now?: () => number;
}

export class QueueRunner {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly perKey = new Map<string, number>();
  private readonly parked = new Map<string, Job[]>();
  private parkedCount = 0;
  /** Claimed ahead of free slots (prefetch), in claim order. */
  private readonly ready: Job[] = [];
  /** Outcomes of finished jobs not yet recorded, and the recording under way. */
  private outcomes: { job: Job; outcome: JobOutcome }[] = [];
  private recording: Promise<void> = Promise.resolve();
  private outcomeTimer: NodeJS.Timeout | null = null;
  /** Jobs whose outcome is waiting or being recorded. */
  private readonly unrecorded = new Set<string>();
  /** Wait before the next try when the store failed to take a batch of outcomes. */
  private outcomeRetryMs = OUTCOME_RETRY_FIRST_MS;
  /** True while the loop waits for new work (the queue had nothing more to claim). */
  private idle = false;
  private readonly now: () => number;

  constructor(private readonly o: QueueRunnerOptions) {
    this.now = o.now ?? Date.now;
  }

  get active(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming, waits for the jobs in flight to finish and records their outcomes. */
  async stop(): Promise<void> {
    this.running = false;
    this.o.signal.local(this.o.queue);
    await this.loop;
    await Promise.allSettled([...this.inflight.values()]);
    // Jobs claimed ahead are left to their lease, which ends and lets any worker take them.
    this.ready.length = 0;
    await this.flushOutcomes();
  }

  /** Slots free to start a job now. */
  private free(): number {
    return this.o.concurrency - this.inflight.size;
  }

  /**
   * Jobs the next claim may take: the slots and the room for jobs claimed ahead, less the jobs running, waiting
   * for a slot (ready) and waiting for their key (parked).
   */
  private room(): number {
    return (
      this.o.concurrency + (this.o.prefetch ?? 0) - this.inflight.size - this.parkedCount - this.ready.length
    );
  }

  private async run(): Promise<void> {
    const poll = this.o.pollMs ?? 500;
    const prefetch = this.o.prefetch ?? 0;
    // Claim in batches: letting a few more slots free up (briefly) saves a store round trip per job. With jobs
    // claimed ahead, the next claim waits until half of the room is free, the slots staying busy meanwhile.
    const batch = Math.max(
      1,
      Math.floor(prefetch > 0 ? (this.o.concurrency + prefetch) / 2 : this.o.concurrency / 4),
    );
    while (this.running) {
      this.pump();
      // Outcomes the store keeps refusing hold new claims back: no more work is taken on while as many finished
      // jobs as this runner may hold wait to be recorded.
      if (this.unrecorded.size >= this.o.concurrency + prefetch) {
        await this.flushOutcomes();
        if (this.unrecorded.size >= this.o.concurrency + prefetch) await delay(this.outcomeRetryMs);
        continue;
      }
      if (this.room() <= 0) {
        await Promise.race(this.inflight.values());
        continue;
      }
      if (this.room() < batch && this.inflight.size > 0) {
        // Jobs claimed ahead keep the slots busy: wait for room without a deadline while there are any.
        const deadline = this.ready.length > 0 ? Infinity : this.now() + BATCH_WAIT_MS;
        while (this.running && this.room() < batch && this.inflight.size > 0) {
          const left = deadline - this.now();
          if (left <= 0) break;
          await Promise.race([
            Promise.race(this.inflight.values()),
            ...(left === Infinity ? [] : [delay(left)]),
          ]);
          this.pump();
          if (this.ready.length === 0 && left === Infinity) break;
        }
        if (this.room() <= 0) continue;
      }
      const want = Math.min(this.room(), MAX_CLAIM);
      const generation = this.o.signal.generation(this.o.queue);
      let claimed: Job[] = [];
      let exclude: string[] = [];
      try {
        // Outcomes first: a claim sees the retries due now, and shares its turn with their round trips.
        await this.flushOutcomes();
        // Keys with a full round of jobs waiting here already are left out: more would only wait longer.
        const limit = this.o.perKeyConcurrency ?? Infinity;
        exclude = [...this.parked.entries()].filter(([, list]) => list.length >= limit).map(([k]) => k);
        if (this.o.skipKeys) exclude.push(...this.o.skipKeys());
        claimed = await this.o.jobs.claim(
          this.o.queue,
          this.o.owner,
          this.now(),
          this.o.leaseMs,
          want,
          exclude,
        );
      } catch (e) {
        this.o.log.error('claiming jobs failed', { queue: this.o.queue, err: e });
      }
      const got = claimed.length;
      // A job still finishing here (its outcome not recorded yet, or waiting here for a slot) can come back when
      // its lease ran out: it is this runner's again, and is not started twice.
      const mine = this.heldIds();
      this.ready.push(...claimed.filter((job) => !mine.has(job.id)));
      this.pump();
      if (got >= want) continue;
      // Fewer than asked: nothing else is ready now. Wait for new work (or, when busy keys were left out, for
      // one of their jobs to finish) instead of asking again at once; record the outcomes first.
      await this.flushOutcomes();
      const anyDone =
        exclude.length > 0 && this.inflight.size > 0 ? Promise.race(this.inflight.values()) : undefined;
      this.idle = true;
      try {
        await this.o.signal.wait(this.o.queue, poll, anyDone, generation);
      } finally {
        this.idle = false;
      }
    }
  }

  /** Starts jobs claimed ahead while slots are free (parking those whose key is at its limit). */
  private pump(): void {
    while (this.running && this.free() > 0 && this.ready.length > 0) {
      const job = this.ready.shift();
      if (!job) break;
      for (const admitted of this.admitPerKey([job])) this.begin(admitted);
    }
  }

  /** Starts a job, extending its lease first when it has run half its course while the job waited here. */
  private begin(job: Job): void {
    if (job.leaseUntil - this.now() > this.o.leaseMs / 2) {
      this.launch(job);
      return;
    }
    this.extendThenLaunch(job);
  }

  /**
   * Jobs claimed beyond their key's limit are parked here (still leased to this runner, counted against the room
   * of the next claim) and start when a job of the same key finishes; releasing them would count an attempt that
   * never happened.
   */
  private admitPerKey(jobs: Job[]): Job[] {
    const limit = this.o.perKeyConcurrency;
    if (limit === undefined) return jobs;
    const out: Job[] = [];
    for (const job of jobs) {
      const n = this.perKey.get(job.key) ?? 0;
      if (n >= limit) {
        const list = this.parked.get(job.key) ?? [];
        list.push(job);
        this.parked.set(job.key, list);
        this.parkedCount++;
        continue;
      }
      this.perKey.set(job.key, n + 1);
      out.push(job);
    }
    return out;
  }

  /** Starts the next parked job of `key`, if any (extending its lease first when it has run half its course). */
  private unpark(key: string): void {
    if (!this.running) {
      // Stopping: parked jobs are left to their lease, which ends and lets any worker take them.
      this.parked.clear();
      this.parkedCount = 0;
      return;
    }
    const list = this.parked.get(key);
    const job = list?.shift();
    if (!list || !job) return;
    if (list.length === 0) this.parked.delete(key);
    this.parkedCount--;
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    this.begin(job);
  }

  /** Extends the lease of a job counted against its key, then starts it (or lets its key go when lost). */
  private extendThenLaunch(job: Job): void {
    const key = job.key;
    const held = this.o.jobs.extendLease(job.id, this.o.owner, this.now() + this.o.leaseMs).then(
      (ok) => {
        if (ok) {
          this.launch(job);
        } else {
          this.release(key);
          this.unpark(key);
        }
      },
      (e: unknown) => {
        this.o.log.warn('extending a lease failed', { jobId: job.id, err: e });
        this.release(key);
      },
    );
    this.inflight.set(
      `held:${job.id}`,
      held.finally(() => this.inflight.delete(`held:${job.id}`)),
    );
  }

  private release(key: string): void {
    const n = (this.perKey.get(key) ?? 1) - 1;
    if (n <= 0) this.perKey.delete(key);
    else this.perKey.set(key, n);
  }

  private launch(job: Job): void {
    if (this.o.perKeyConcurrency === undefined) this.perKey.set(job.key, (this.perKey.get(job.key) ?? 0) + 1);
    const p = this.execute(job).finally(() => {
      this.inflight.delete(job.id);
      this.release(job.key);
      this.unpark(job.key);
      this.pump();
    });
    this.inflight.set(job.id, p);
  }

  private async execute(job: Job): Promise<void> {
    const log = this.o.log.child({ jobId: job.id, queue: this.o.queue });
    const started = this.now();
    let result: JobResult;
    try {
      result = await this.o.handler(job, { owner: this.o.owner, log });
    } catch (e) {
      log.error('job handler failed', { err: e });
      const error = e instanceof Error ? e.message : String(e);
      result =
        job.attempts + 1 >= MAX_ATTEMPTS_ON_ERROR
          ? { kind: 'fail', error }
          : { kind: 'retry', delayMs: Math.min(60_000, 1000 * 2 ** job.attempts), error };
    }
    this.o.onOutcome?.(job, result, this.now() - started);
    const t = this.now();
    const outcome: JobOutcome =
      result.kind === 'done'
        ? { kind: 'done', id: job.id, owner: this.o.owner, now: t }
        : result.kind === 'fail'
          ? { kind: 'fail', id: job.id, owner: this.o.owner, error: result.error, now: t }
          : {
              kind: 'retry',
              id: job.id,
              owner: this.o.owner,
              runAt: t + result.delayMs,
              error: result.error,
              now: t,
            };
    this.outcomes.push({ job, outcome });
    this.unrecorded.add(job.id);
    // A retry due before the next poll wakes this loop when it is due (the claim records it first).
    if (result.kind === 'retry' && result.delayMs < (this.o.pollMs ?? 500))
      setTimeout(() => this.o.signal.local(this.o.queue), Math.max(0, result.delayMs)).unref();
    if (this.outcomes.length >= MAX_OUTCOMES_PER_FLUSH) void this.flushOutcomes();
    else
      this.outcomeTimer ??= setTimeout(
        () => void this.flushOutcomes(),
        this.idle ? IDLE_OUTCOME_FLUSH_MS : OUTCOME_FLUSH_MS,
      );
  }

  /** Records the outcomes waiting, after the recording under way; resolves when all of them are recorded. */
  private flushOutcomes(): Promise<void> {
    if (this.outcomeTimer) {
      clearTimeout(this.outcomeTimer);
      this.outcomeTimer = null;
    }
    if (this.outcomes.length === 0) return this.recording;
    const batch = this.outcomes.splice(0, MAX_OUTCOMES_PER_FLUSH);
    if (this.outcomes.length > 0) this.outcomeTimer = setTimeout(() => void this.flushOutcomes(), 0);
    this.recording = this.recording.then(() => this.record(batch));
    return this.recording;
  }

  /**
   * Records a batch of outcomes in one call. When the store fails to take them, they wait for the next
   * recording, tried again after a growing delay: while this runner runs, an outcome of work done is recorded
   * once the store is back, never left to the lease. Once it stops, a batch that fails is left to the lease
   * (the jobs run again when it ends). Never throws.
   */
  private async record(batch: { job: Job; outcome: JobOutcome }[]): Promise<void> {
    let recorded: boolean[];
    try {
      recorded = await this.o.jobs.finish(batch.map((b) => b.outcome));
    } catch (e) {
      if (!this.running) {
        this.o.log.error('recording job outcomes failed; the jobs run again when their lease ends', {
          queue: this.o.queue,
          jobs: batch.length,
          err: e,
        });
        for (const b of batch) this.unrecorded.delete(b.job.id);
        return;
      }
      const wait = this.outcomeRetryMs;
      this.outcomeRetryMs = Math.min(wait * 2, OUTCOME_RETRY_MAX_MS);
      this.o.log.warn('recording job outcomes failed; trying again', {
        queue: this.o.queue,
        jobs: batch.length,
        err: e,
        inMs: wait,
      });
      this.outcomes.unshift(...batch);
      if (this.outcomeTimer) clearTimeout(this.outcomeTimer);
      this.outcomeTimer = setTimeout(() => void this.flushOutcomes(), wait);
      return;
    }
    this.outcomeRetryMs = OUTCOME_RETRY_FIRST_MS;
    batch.forEach((b, i) => {
      this.unrecorded.delete(b.job.id);
      if (!recorded[i])
        this.o.log.warn('job outcome not recorded: the lease was lost', {
          jobId: b.job.id,
          queue: this.o.queue,
          outcome: b.outcome.kind,
        });
    });
  }

  /** Ids of the jobs this runner holds: running, waiting for a slot or their key, or with an outcome to record. */
  private heldIds(): Set<string> {
    const ids = new Set<string>(this.unrecorded);
    for (const id of this.inflight.keys()) ids.add(id.startsWith('held:') ? id.slice('held:'.length) : id);
    for (const job of this.ready) ids.add(job.id);
    for (const list of this.parked.values()) for (const job of list) ids.add(job.id);
    return ids;
  }
}
