/**
 * Background threads: the queues (intake processing, fan-out, deliveries) run in worker threads, each with its
 * own store connection, while the main thread serves HTTP. Like several worker processes on one store, the
 * threads share the work through leases. A thread that dies is started again; its jobs are taken over when
 * their leases end.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../../config/config.ts';
import type { Logger } from '../../log.ts';
import type { MetricsSnapshot } from '../../federation/metrics.ts';

/** What a background thread is started with (structured-cloned into it). */
export interface ThreadData {
  config: Config;
  /** Position of this thread (0-based) and how many there are: each takes its share of the concurrency. */
  index: number;
  count: number;
  /** Broadcast channel of this process's queue wake-ups. */
  channel: string;
  pollMs: number | null;
}

/** Messages from a thread. */
export type FromThread =
  | { kind: 'ready' }
  | { kind: 'metrics'; id: number; snapshot: MetricsSnapshot }
  | { kind: 'fatal'; error: string };

/** Messages to a thread. */
export type ToThread = { kind: 'metrics'; id: number } | { kind: 'stop' };

const RESTART_DELAY_MS = 1_000;
const METRICS_WAIT_MS = 1_000;
const STOP_WAIT_MS = 25_000;

interface Slot {
  worker: Worker | null;
  ready: boolean;
  lastMetrics: MetricsSnapshot | null;
  exited: Promise<void>;
}

export class BackgroundThreads {
  private readonly slots: Slot[] = [];
  private stopping = false;
  private nextId = 1;
  private readonly waiting = new Map<number, (snapshot: MetricsSnapshot) => void>();

  constructor(
    private readonly o: {
      config: Config;
      count: number;
      channel: string;
      pollMs: number | null;
      log: Logger;
    },
  ) {}

  /** Starts every thread and resolves when all of them run their queues (rejects if one fails to start). */
  async start(): Promise<void> {
    const started: Promise<void>[] = [];
    for (let i = 0; i < this.o.count; i++) {
      const slot: Slot = { worker: null, ready: false, lastMetrics: null, exited: Promise.resolve() };
      this.slots.push(slot);
      started.push(this.spawn(i, slot));
    }
    await Promise.all(started);
  }

  private spawn(index: number, slot: Slot): Promise<void> {
    const data: ThreadData = {
      config: this.o.config,
      index,
      count: this.o.count,
      channel: this.o.channel,
      pollMs: this.o.pollMs,
    };
    const entry = new URL('./thread.ts', import.meta.url).href;
    // Worker threads do not inherit the TypeScript loader of the main thread: register it first.
    const source = entry.endsWith('.ts')
      ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` +
        `.then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`
      : `import(${JSON.stringify(entry)})`;
    const worker = new Worker(source, {
      eval: true,
      workerData: data,
      name: `guild-worker-${index}`,
    });
    slot.worker = worker;
    slot.ready = false;
    let resolveExit: () => void = () => undefined;
    slot.exited = new Promise((r) => (resolveExit = r));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      worker.on('message', (m: FromThread) => {
        if (m.kind === 'ready') {
          slot.ready = true;
          if (!settled) {
            settled = true;
            resolve();
          }
        } else if (m.kind === 'metrics') {
          slot.lastMetrics = m.snapshot;
          this.waiting.get(m.id)?.(m.snapshot);
        } else if (m.kind === 'fatal') {
          this.o.log.error('background thread failed', { thread: index, error: m.error });
        }
      });
      worker.on('error', (e) => {
        this.o.log.error('background thread failed', { thread: index, err: e });
      });
      worker.on('exit', (code) => {
        slot.ready = false;
        slot.worker = null;
        resolveExit();
        if (!settled) {
          settled = true;
          reject(new Error(`background thread ${index} exited with code ${code} while starting`));
          return;
        }
        if (this.stopping) return;
        this.o.log.error('background thread stopped; starting it again', { thread: index, code });
        setTimeout(() => {
          if (!this.stopping) this.spawn(index, slot).catch(() => undefined);
        }, RESTART_DELAY_MS).unref();
      });
    });
  }

  /** Every thread is running its queues. */
  get ready(): boolean {
    return this.slots.length > 0 && this.slots.every((s) => s.ready);
  }

  /** The current metrics of every thread (the last known ones of a thread that does not answer in time). */
  async metrics(): Promise<MetricsSnapshot[]> {
    return Promise.all(
      this.slots.map(async (slot) => {
        const w = slot.worker;
        if (!w || !slot.ready) return slot.lastMetrics ?? [];
        const id = this.nextId++;
        const answer = new Promise<MetricsSnapshot | null>((resolve) => {
          const timer = setTimeout(() => resolve(null), METRICS_WAIT_MS);
          this.waiting.set(id, (snapshot) => {
            clearTimeout(timer);
            resolve(snapshot);
          });
        });
        w.postMessage({ kind: 'metrics', id } satisfies ToThread);
        const snapshot = await answer;
        this.waiting.delete(id);
        return snapshot ?? slot.lastMetrics ?? [];
      }),
    );
  }

  /** Asks every thread to stop taking work, finish what it runs and close its store; waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        const w = slot.worker;
        if (!w) return;
        w.postMessage({ kind: 'stop' } satisfies ToThread);
        const timer = setTimeout(() => {
          this.o.log.warn('a background thread did not stop in time; terminating it');
          void w.terminate();
        }, STOP_WAIT_MS);
        await slot.exited;
        clearTimeout(timer);
      }),
    );
  }
}
