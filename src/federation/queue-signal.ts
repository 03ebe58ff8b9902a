/** In-process wake-ups of the queue loops, carried to the other threads of the process. */
import { EventEmitter } from 'node:events';
import type { QueueName } from '../storage/store.ts';
import type { QueueSignal } from './publisher.ts';

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
