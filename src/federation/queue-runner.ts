/**
 * Runs the jobs of one queue with bounded concurrency (overall and per key), leasing them from the store so
 * that several processes share the work and a crashed process's jobs are taken over when their lease ends.
 * A job leaves the queue only after its handler reports success or permanent failure.
 */
import { EventEmitter } from 'node:events';
import type { Job, JobQueue, QueueName } from '../storage/store.ts';
import type { Logger } from '../log.ts';
import type { QueueSignal } from './publisher.ts';

export type JobResult =
  { kind: 'done' } | { kind: 'retry'; delayMs: number; error: string } | { kind: 'fail'; error: string };

/** Longest wait for more free slots before claiming a small batch. */
const BATCH_WAIT_MS = 20;

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A job whose handler keeps throwing is given up after this many attempts. */
const MAX_ATTEMPTS_ON_ERROR = 10;

export type JobHandler = (job: Job, ctx: { owner: string; log: Logger }) => Promise<JobResult>;

/** In-process wake-ups: loops of this process start at once instead of waiting for their next poll. */
export class LocalQueueSignal implements QueueSignal {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  notify(queue: QueueName): void {
    this.emitter.emit(queue);
  }
  /** Resolves on the next notify of `queue` or after `ms`. */
  wait(queue: QueueName, ms: number, extra?: Promise<unknown>): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.emitter.off(queue, done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.emitter.once(queue, done);
      extra?.then(done, done);
    });
  }
}

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

  /** Stops claiming, waits for the jobs in flight to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.o.signal.notify(this.o.queue);
    await this.loop;
    await Promise.allSettled([...this.inflight.values()]);
  }

  private async run(): Promise<void> {
    const poll = this.o.pollMs ?? 500;
    while (this.running) {
      let free = this.o.concurrency - this.inflight.size - this.parkedCount;
      if (free <= 0) {
        await Promise.race(this.inflight.values());
        continue;
      }
      // Claim in batches: letting a few more slots free up (briefly) saves a store round trip per job.
      const batch = Math.max(1, Math.floor(this.o.concurrency / 4));
      if (free < batch && this.inflight.size > 0) {
        await Promise.race([Promise.race(this.inflight.values()), delay(BATCH_WAIT_MS)]);
        free = this.o.concurrency - this.inflight.size - this.parkedCount;
        if (free <= 0) continue;
      }
      let claimed: Job[] = [];
      let exclude: string[] = [];
      try {
        const limit = this.o.perKeyConcurrency ?? Infinity;
        exclude = [...this.perKey.entries()].filter(([, n]) => n >= limit).map(([k]) => k);
        if (this.o.skipKeys) exclude.push(...this.o.skipKeys());
        claimed = await this.o.jobs.claim(
          this.o.queue,
          this.o.owner,
          this.now(),
          this.o.leaseMs,
          Math.min(free, 100),
          exclude,
        );
      } catch (e) {
        this.o.log.error('claiming jobs failed', { queue: this.o.queue, err: e });
      }
      claimed = this.admitPerKey(claimed);
      for (const job of claimed) this.launch(job);
      if (claimed.length === 0) {
        const anyDone = this.inflight.size > 0 ? Promise.race(this.inflight.values()) : undefined;
        if (exclude.length > 0 && anyDone) {
          // Whatever is left waits for busy keys: a finished job frees one; new jobs would not help.
          await Promise.race([anyDone, new Promise((r) => setTimeout(r, poll))]);
        } else {
          await this.o.signal.wait(this.o.queue, poll, anyDone);
        }
      }
    }
  }

  /**
   * Jobs claimed in one batch beyond their key's limit are parked here (still leased to this runner) and start
   * when a job of the same key finishes; releasing them would count an attempt that never happened.
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

  /** Starts the next parked job of `key`, if any, once its lease is confirmed. */
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
      `parked:${job.id}`,
      held.finally(() => this.inflight.delete(`parked:${job.id}`)),
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
    try {
      const t = this.now();
      if (result.kind === 'done') await this.o.jobs.complete(job.id, this.o.owner, t);
      else if (result.kind === 'fail') await this.o.jobs.fail(job.id, this.o.owner, result.error, t);
      else await this.o.jobs.retry(job.id, this.o.owner, t + result.delayMs, result.error, t);
    } catch (e) {
      // The lease will expire and another attempt will run: at-least-once, never lost.
      log.error('recording a job outcome failed', { err: e });
    }
  }
}
