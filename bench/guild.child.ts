/**
 * Guild under test, in its own process so that its peak RSS is its own and the harness and sinks do not share
 * its event loop. Started with `{ env, pollMs }` as JSON in argv[2]: `env` is the GUILD_* configuration
 * (validated by loadConfig), including where the data lives. Guild opens its store itself and runs its queues
 * in background threads exactly as `npm start` does.
 *
 * The harness follows progress through Guild's own metrics (the same values `/metrics` serves, summed over the
 * background threads): jobs queued, finished by outcome, and claims made, per queue.
 *
 * Commands: `usage` (memory), `jobs` (counters), `commands` (MongoDB commands sent, by name), `close`.
 */
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { startGuild } from '../src/app/start.ts';
import type { MetricsSnapshot } from '../src/federation/metrics.ts';
import { fields, num, serveIpc } from './ipc.bench.ts';

/**
 * Per queue: jobs inserted, completed, failed, retried, and the claims made: calls, jobs returned, time spent.
 */
type Counters = Record<string, Record<Counted, number>>;
type Counted = 'enqueued' | 'done' | 'failed' | 'retried' | 'claims' | 'claimed' | 'claimMs' | 'emptyClaims';

function decodeArgs(raw: string | undefined): { env: Record<string, string>; pollMs: number } {
  const a = fields(JSON.parse(raw ?? 'null'), 'arguments');
  const envIn = fields(a['env'], 'env');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(envIn)) if (typeof v === 'string') env[k] = v;
  return { env, pollMs: num(a, 'pollMs') };
}

function counters(snapshot: MetricsSnapshot): Counters {
  const out: Counters = {};
  const add = (queue: string | undefined, what: Counted, v: number): void => {
    if (!queue) return;
    const c = (out[queue] ??= {
      enqueued: 0,
      done: 0,
      failed: 0,
      retried: 0,
      claims: 0,
      claimed: 0,
      claimMs: 0,
      emptyClaims: 0,
    });
    c[what] += v;
  };
  const each = (name: string, f: (labels: Record<string, string>, v: number) => void): void => {
    for (const { labels, value } of snapshot.find((m) => m.name === name)?.values ?? []) {
      f(Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)])), value);
    }
  };
  each('guild_jobs_enqueued_total', (l, v) => add(l['queue'], 'enqueued', v));
  each('guild_jobs_total', (l, v) => {
    const outcome = l['outcome'];
    if (outcome === 'done') add(l['queue'], 'done', v);
    else if (outcome === 'fail') add(l['queue'], 'failed', v);
    else if (outcome === 'retry' || outcome === 'error') add(l['queue'], 'retried', v);
  });
  each('guild_queue_claims_total', (l, v) => add(l['queue'], 'claims', v));
  each('guild_queue_claimed_jobs_total', (l, v) => add(l['queue'], 'claimed', v));
  each('guild_queue_claim_seconds_total', (l, v) => add(l['queue'], 'claimMs', v * 1000));
  each('guild_queue_empty_claims_total', (l, v) => add(l['queue'], 'emptyClaims', v));
  return out;
}

const args = decodeArgs(process.argv[2]);
const config = loadConfig(args.env);
const log = createLogger(config.logLevel, { service: 'guild-bench' });
const guild = await startGuild(config, { log, pollMs: args.pollMs });

serveIpc(
  {
    async usage() {
      const m = process.memoryUsage();
      const cpu = process.cpuUsage();
      return {
        rss: m.rss,
        heapUsed: m.heapUsed,
        maxRss: process.resourceUsage().maxRSS * 1024,
        // Every thread of the process (web, background and signer threads), in ms.
        cpuMs: (cpu.user + cpu.system) / 1000,
      };
    },
    async jobs() {
      return counters(await guild.metrics());
    },
    async commands() {
      // guild_store_commands_total, summed over the threads: command name -> count.
      const out: Record<string, number> = {};
      const metric = (await guild.metrics()).find((m) => m.name === 'guild_store_commands_total');
      for (const { labels, value } of metric?.values ?? []) {
        const name = labels['command'];
        if (name !== undefined) out[String(name)] = (out[String(name)] ?? 0) + value;
      }
      return out;
    },
    async close() {
      await guild.close();
      setImmediate(() => process.exit(0));
      return {};
    },
  },
  { port: guild.port },
);
