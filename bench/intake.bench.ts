/**
 * Row "intake": how many signed Creates Guild's inbox accepts per second. Member actors are served by a sink and
 * warmed into Guild's actor cache by one request each; then every request is signed in advance and the clock
 * runs while they are sent at a fixed concurrency with undici. Guild's workers run meanwhile, as in production
 * (each accepted Create is processed and announced to the members).
 */
import { Pool } from 'undici';
import {
  actorDocument,
  benchActor,
  keyPairs,
  signedCreate,
  type BenchActor,
  type SignedPost,
} from './actors.bench.ts';
import type { Baselines } from './baseline.bench.ts';
import type { ChildHandle } from './ipc.bench.ts';
import { int, ms, secs, type RowResult } from './report.bench.ts';
import {
  guildEnv,
  guildPort,
  newBenchStore,
  seedGroup,
  startGuildProcess,
  startSinks,
  type GuildProcess,
  type RowContext,
} from './setup.bench.ts';

export interface IntakeSizes {
  activities: number;
  actors: number;
  concurrency: number;
}

export const INTAKE_TARGET = '>= 1,000/s and p99 < 100 ms (SQLite)';

/** Sends every post at `concurrency`, returning each latency (ms) and the statuses seen. */
async function sendAll(
  pool: Pool,
  posts: SignedPost[],
  concurrency: number,
  deadline: number,
): Promise<{ latencies: number[]; statuses: Map<string, number>; elapsedMs: number; abandoned: number }> {
  const latencies: number[] = [];
  const statuses = new Map<string, number>();
  let next = 0;
  let abandoned = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < posts.length; i = next++) {
      if (Date.now() > deadline) {
        abandoned++;
        continue;
      }
      const p = posts[i];
      if (!p) continue;
      const t = performance.now();
      let status: string;
      try {
        const res = await pool.request({
          path: new URL(p.url).pathname,
          method: 'POST',
          headers: p.headers,
          body: p.body,
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        await res.body.dump();
        status = String(res.statusCode);
      } catch (e) {
        status = e instanceof Error ? e.name : 'error';
      }
      latencies.push(performance.now() - t);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, statuses, elapsedMs: performance.now() - started, abandoned };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

/** Waits (bounded) until Guild has processed `count` intake jobs; returns when, or null. */
async function waitProcessed(guild: GuildProcess, count: number, deadline: number): Promise<number | null> {
  for (;;) {
    const intake = (await guild.jobs())['intake'] ?? {};
    if ((intake['done'] ?? 0) + (intake['failed'] ?? 0) >= count) return performance.now();
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runIntake(
  ctx: RowContext,
  sizes: IntakeSizes,
  baselines: Baselines,
): Promise<RowResult> {
  const store = await newBenchStore(ctx);
  let sinks: ChildHandle | null = null;
  let guild: GuildProcess | null = null;
  let pool: Pool | null = null;
  try {
    ctx.progress(`intake/${ctx.kind}: generating ${sizes.actors} member keys`);
    const s = await startSinks(ctx, 1, 0);
    sinks = s.handle;
    const origin = `http://127.0.0.1:${s.ports[0] ?? 0}`;
    const actors: BenchActor[] = (await keyPairs(sizes.actors)).map((k, i) => benchActor(origin, `a${i}`, k));
    await sinks.call('serve', { documents: actors.map((a) => [a.path, actorDocument(a)]) });

    const port = await guildPort();
    const env = guildEnv(port, store);
    const group = await seedGroup(ctx, store, env, 'bench', actors.length, (i) => {
      const a = actors[i];
      if (!a) throw new Error('no actor');
      return { actorId: a.id, inbox: a.inbox, sharedInbox: a.sharedInbox };
    });
    guild = await startGuildProcess(ctx, store, env, `intake-${ctx.kind}`);
    pool = new Pool(guild.origin, { connections: sizes.concurrency, pipelining: 1 });

    ctx.progress(`intake/${ctx.kind}: warming the actor cache`);
    const warm = actors.map((a) => signedCreate(a, group.groupId, group.inboxUrl, 'warm-up'));
    const warmed = await sendAll(pool, warm, 16, ctx.deadline);
    if (warmed.statuses.get('202') !== warm.length) {
      throw new Error(`warm-up: expected ${warm.length} x 202, got ${JSON.stringify([...warmed.statuses])}`);
    }
    const warmDone = await waitProcessed(guild, warm.length, ctx.deadline);
    if (warmDone === null) throw new Error('warm-up activities were not processed before the deadline');

    ctx.progress(`intake/${ctx.kind}: signing ${int(sizes.activities)} requests`);
    const posts = Array.from({ length: sizes.activities }, (_, i) => {
      const a = actors[i % actors.length];
      if (!a) throw new Error('no actor');
      return signedCreate(a, group.groupId, group.inboxUrl, `intake bench post ${i}`);
    });
    ctx.progress(`intake/${ctx.kind}: sending at concurrency ${sizes.concurrency}`);
    const started = performance.now();
    const sent = await sendAll(pool, posts, sizes.concurrency, ctx.deadline);
    const processedAt = await waitProcessed(guild, warm.length + posts.length, ctx.deadline);

    const accepted = sent.statuses.get('202') ?? 0;
    const rate = (accepted * 1000) / sent.elapsedMs;
    const sorted = [...sent.latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 0.5);
    const p99 = percentile(sorted, 0.99);
    const ratio = rate / baselines.verify.perSecond;
    const onSqlite = ctx.kind === 'sqlite';
    const met = accepted === posts.length && rate >= 1000 && p99 < 100;
    const notes = [
      `${int(posts.length)} signed Creates from ${int(actors.length)} members (each its own key), concurrency ${sizes.concurrency}; ` +
        `statuses ${JSON.stringify(Object.fromEntries(sent.statuses))}${sent.abandoned > 0 ? `, ${sent.abandoned} not sent (deadline)` : ''}`,
      `latency p50 ${ms(p50)}, p90 ${ms(percentile(sorted, 0.9))}, p99 ${ms(p99)}, max ${ms(sorted[sorted.length - 1] ?? NaN)}`,
      processedAt === null
        ? 'the intake queue was not drained before the deadline'
        : `processing (intake queue, announces queued) finished ${secs(processedAt - started)} after the first request: ` +
          `${int(((warm.length + posts.length - warm.length) * 1000) / (processedAt - started))} activities/s end to end`,
    ];
    if (!onSqlite) notes.push('the target applies to SQLite; shown here for comparison');
    return {
      row: 'intake',
      store: ctx.kind,
      result: `${int(rate)} accepted/s, p50 ${ms(p50)}, p99 ${ms(p99)}`,
      bound: `${int(baselines.verify.perSecond)} verifies/s (1 core)`,
      ratio,
      target: INTAKE_TARGET,
      verdict: onSqlite ? (met ? 'PASS' : 'FAIL') : 'n/a',
      notes,
    };
  } finally {
    await pool?.close();
    await guild?.handle.stop();
    await sinks?.stop();
    await store.remove().catch((e: unknown) => ctx.progress(`could not remove the store: ${String(e)}`));
  }
}
