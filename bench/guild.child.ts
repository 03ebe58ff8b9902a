/**
 * Guild under test, in its own process so that its peak RSS is its own and the harness and sinks do not share
 * its event loop. Started with `{ env, store, pollMs }` as JSON in argv[2]: `env` is the GUILD_* configuration
 * (validated by loadConfig), `store` where the data lives.
 *
 * The store handed to Guild counts the jobs enqueued and finished per queue (by job id prefix), so the harness
 * can follow fan-out and intake progress without querying the database from outside.
 *
 * Commands: `usage` (memory), `jobs` (counters), `errors` (last job error per queue), `close`.
 */
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { startGuild } from '../src/server.ts';
import { openStore, type StoreOptions } from '../src/storage/open-store.ts';
import type { JobQueue, Store } from '../src/storage/store.ts';
import { fields, num, serveIpc, text } from './ipc.bench.ts';

/**
 * Per queue (the job id prefix before `:`): jobs inserted, completed, failed, retried after an error, and
 * released unrun (handed back with an empty error), and the claims made: calls, jobs returned, time spent.
 */
type Counters = Record<string, Record<Counted, number>>;
type Counted = 'enqueued' | 'done' | 'failed' | 'retried' | 'released' | 'claims' | 'claimed' | 'claimMs';

function queueOf(id: string): string {
  const colon = id.indexOf(':');
  return colon === -1 ? '?' : id.slice(0, colon);
}

/** The last error a job of each queue was retried or failed with. */
type LastErrors = Record<string, string>;

function counting(store: Store, counters: Counters, errors: LastErrors): Store {
  const bump = (id: string, what: Counted, by = 1): void => {
    const q = queueOf(id);
    const c = (counters[q] ??= {
      enqueued: 0,
      done: 0,
      failed: 0,
      retried: 0,
      released: 0,
      claims: 0,
      claimed: 0,
      claimMs: 0,
    });
    c[what] += by;
  };
  const j = store.jobs;
  const jobs: JobQueue = {
    async enqueue(list, now) {
      const n = await j.enqueue(list, now);
      const first = list[0];
      if (first !== undefined) bump(first.id, 'enqueued', n);
      return n;
    },
    async claim(queue, ...rest) {
      const started = performance.now();
      const jobs = await j.claim(queue, ...rest);
      bump(`${queue}:`, 'claims');
      bump(`${queue}:`, 'claimed', jobs.length);
      bump(`${queue}:`, 'claimMs', performance.now() - started);
      return jobs;
    },
    async complete(id, owner, now) {
      const ok = await j.complete(id, owner, now);
      if (ok) bump(id, 'done');
      return ok;
    },
    async retry(id, owner, runAt, error, now) {
      const ok = await j.retry(id, owner, runAt, error, now);
      if (ok) bump(id, error === '' ? 'released' : 'retried');
      if (ok && error !== '') errors[queueOf(id)] = error.slice(0, 300);
      return ok;
    },
    async fail(id, owner, error, now) {
      const ok = await j.fail(id, owner, error, now);
      if (ok) bump(id, 'failed');
      if (ok) errors[queueOf(id)] = error.slice(0, 300);
      return ok;
    },
    updatePayload: (...a) => j.updatePayload(...a),
    extendLease: (...a) => j.extendLease(...a),
    getJob: (id) => j.getJob(id),
    stats: (q, now) => j.stats(q, now),
    purgeDone: (q, before) => j.purgeDone(q, before),
  };
  // Everything but `jobs` goes to the real store (methods bound to it), whatever repositories it has.
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'jobs') return jobs;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

function decodeArgs(raw: string | undefined): {
  env: Record<string, string>;
  store: StoreOptions;
  pollMs: number;
} {
  const a = fields(JSON.parse(raw ?? 'null'), 'arguments');
  const envIn = fields(a['env'], 'env');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(envIn)) if (typeof v === 'string') env[k] = v;
  const s = fields(a['store'], 'store');
  const store: StoreOptions =
    text(s, 'kind') === 'sqlite'
      ? { kind: 'sqlite', path: text(s, 'path') }
      : { kind: 'mongodb', url: text(s, 'url'), dbName: text(s, 'dbName') };
  return { env, store, pollMs: num(a, 'pollMs') };
}

const args = decodeArgs(process.argv[2]);
const config = loadConfig(args.env);
const log = createLogger(config.logLevel, { service: 'guild-bench' });
const counters: Counters = {};
const errors: LastErrors = {};
const store = counting(await openStore(args.store), counters, errors);
const guild = await startGuild(config, { log, store, pollMs: args.pollMs });

serveIpc(
  {
    async usage() {
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, maxRss: process.resourceUsage().maxRSS * 1024 };
    },
    async jobs() {
      return counters;
    },
    async errors() {
      return errors;
    },
    async close() {
      await guild.close();
      setImmediate(() => process.exit(0));
      return {};
    },
  },
  { port: guild.port },
);
