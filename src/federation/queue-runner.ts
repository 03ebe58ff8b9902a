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

/** First and longest wait before recording a job's outcome again when the store failed to take it. */
const OUTCOME_RETRY_FIRST_MS = 200;
const OUTCOME_RETRY_MAX_MS = 5_000;

/** A job whose handler keeps throwing is given up after this many attempts. */
const MAX_ATTEMPTS_ON_ERROR = 10;

export type JobHandler = (job: Job, ctx: { owner: string; log: Logger }) => Promise<JobResult>;

/**
 * Wake-ups: loops start at once instead of waiting for their next poll. Within a process, `bridge` carries
 * notifications to other threads (a `BroadcastChannel`), so the web thread wakes the background thread's loops.
 */
export class LocalQueueSignal implements QueueSignal {
  private readonly emitter = new EventEmitter();
  private readonly generations = new Map<QueueName, number>();
  private channel: BroadcastChannel | null = null;
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  /** Also sends and receives notifications on a broadcast channel of this name (every thread of the process). */
  bridge(name: string): void {
    if (this.channel) return;
    const channel = new BroadcastChannel(name);
    channel.onmessage = (event: unknown) => {
      const queue = (event as { data?: unknown }).data;
      if (queue === 'intake' || queue === 'fanout' || queue === 'deliver') this.local(queue);
    };
    // A channel must not keep the thread alive.
    (channel as unknown as { unref?: () => void }).unref?.();
    this.channel = channel;
  }
  close(): void {
    this.channel?.close();
    this.channel = null;
  }
  notify(queue: QueueName): void {
    this.local(queue);
    this.channel?.postMessage(queue);
  }
  /** Wakes the loops of this thread only. */
  local(queue: QueueName): void {
    this.generations.set(queue, this.generation(queue) + 1);
    this.emitter.emit(queue);
  }
  /** Counts notifications of `queue`: a loop reads it before looking for work, and waits only if unchanged. */
  generation(queue: QueueName): number {
    return this.generations.get(queue) ?? 0;
  }
  /**
   * Resolves on the next notify of `queue`, after `ms`, or when `extra` settles; at once when `queue` was
   * notified since `since` (a generation read before the loop last looked for work).
   */
  wait(queue: QueueName, ms: number, extra?: Promise<unknown>, since?: number): Promise<void> {
    if (since !== undefined && this.generation(queue) !== since) return Promise.resolve();
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
    this.o.signal.local(this.o.queue);
    await this.loop;
    await Promise.allSettled([...this.inflight.values()]);
  }

  private free(): number {
    return this.o.concurrency - this.inflight.size - this.parkedCount;
  }

  private async run(): Promise<void> {
    const poll = this.o.pollMs ?? 500;
    // Claim in batches: letting a few more slots free up (briefly) saves a store round trip per job.
    const batch = Math.max(1, Math.floor(this.o.concurrency / 4));
    while (this.running) {
      if (this.free() <= 0) {
        await Promise.race(this.inflight.values());
        continue;
      }
      if (this.free() < batch && this.inflight.size > 0) {
        const deadline = this.now() + BATCH_WAIT_MS;
        while (this.running && this.free() < batch && this.inflight.size > 0) {
          const left = deadline - this.now();
          if (left <= 0) break;
          await Promise.race([Promise.race(this.inflight.values()), delay(left)]);
        }
        if (this.free() <= 0) continue;
      }
      const want = Math.min(this.free(), 100);
      const generation = this.o.signal.generation(this.o.queue);
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
          want,
          exclude,
        );
      } catch (e) {
        this.o.log.error('claiming jobs failed', { queue: this.o.queue, err: e });
      }
      const got = claimed.length;
      // A job still finishing here (its outcome waits for the store) can come back when its lease ran out: it is
      // this runner's again, and is not started twice.
      claimed = claimed.filter((job) => !this.inflight.has(job.id));
      for (const job of this.admitPerKey(claimed)) this.launch(job);
      if (got >= want) continue;
      // Fewer than asked: nothing else is ready now. Wait for new work (or, when busy keys were left out, for
      // one of their jobs to finish) instead of asking again at once.
      const anyDone =
        exclude.length > 0 && this.inflight.size > 0 ? Promise.race(this.inflight.values()) : undefined;
      await this.o.signal.wait(this.o.queue, poll, anyDone, generation);
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
    // The outcome is recorded as soon as the store takes it: while the store is unavailable, the job is tried
    // again only if this runner stops (or its lease ends and another process claims it), never because the
    // outcome of work already done was lost.
    for (let wait = OUTCOME_RETRY_FIRST_MS; ; wait = Math.min(wait * 2, OUTCOME_RETRY_MAX_MS)) {
      try {
        await this.record(job, result);
        return;
      } catch (e) {
        if (!this.running) {
          // The lease will expire and another attempt will run: at-least-once, never lost.
          log.error('recording a job outcome failed; the job runs again when its lease ends', { err: e });
          return;
        }
        log.warn('recording a job outcome failed; trying again', { err: e, inMs: wait });
        await delay(wait);
      }
    }
  }

  private async record(job: Job, result: JobResult): Promise<void> {
    const t = this.now();
    if (result.kind === 'done') await this.o.jobs.complete(job.id, this.o.owner, t);
    else if (result.kind === 'fail') await this.o.jobs.fail(job.id, this.o.owner, result.error, t);
    else {
      await this.o.jobs.retry(job.id, this.o.owner, t + result.delayMs, result.error, t);
      // A retry due before the next poll wakes this loop when it is due.
      if (result.delayMs < (this.o.pollMs ?? 500))
        setTimeout(() => this.o.signal.local(this.o.queue), Math.max(0, result.delayMs)).unref();
    }
  }
}
