/**
 * Entry of a background thread (see background.ts): lowers its own CPU priority, builds the service graph
 * on a store connection of its own and runs only the queues (never the HTTP server), answers metrics
 * requests and stops cleanly when asked.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createLogger } from '../../log.ts';
import { compose } from '../compose.ts';
import { startQueues } from '../queues.ts';
import type { FromThread, ThreadData, ToThread } from './background.ts';

const data = workerData as ThreadData;
const port = parentPort;
if (!port) throw new Error('thread.ts runs as a worker thread');
const post = (m: FromThread): void => port.postMessage(m);
const log = createLogger(data.config.logLevel, {
  service: `guild-${data.config.role}`,
  thread: data.index,
});

/** Linux schedules threads one by one: this thread's id is the last part of /proc/thread-self. */
function lowerPriority(nice: number): void {
  if (nice <= 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch (e) {
    log.warn('could not lower the priority of a background thread', { err: e });
  }
}

lowerPriority(data.config.workerNice);
try {
  const services = await compose({ ...data.config, role: 'worker' }, { log });
  services.signal.bridge(data.channel);
  const queues = startQueues(services, {
    ...(data.pollMs !== null ? { pollMs: data.pollMs } : {}),
    thread: { index: data.index, count: data.count },
  });
  let stopping = false;
  port.on('message', (m: ToThread) => {
    if (m.kind === 'metrics') {
      void services.metrics.snapshot().then((snapshot) => post({ kind: 'metrics', id: m.id, snapshot }));
    } else if (m.kind === 'stop' && !stopping) {
      stopping = true;
      queues
        .stop()
        .then(() => services.close())
        .then(
          () => port.close(),
          (e: unknown) => {
            log.error('stopping a background thread failed', { err: e });
            port.close();
          },
        );
    }
  });
  post({ kind: 'ready' });
} catch (e) {
  post({ kind: 'fatal', error: e instanceof Error ? e.message : String(e) });
  throw e;
}
