/**
 * Row "intake": how many signed Creates Guild's inbox accepts per second. Every request is signed in advance;
 * member actors are served by a sink and warmed into Guild's actor cache by one request each, sent at the
 * measured concurrency (which also opens the client's connections); then the clock runs while the requests are
 * sent at that concurrency with undici. Guild's workers run meanwhile, as in production
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
import { int, jobsSummary, ms, secs, type RowResult } from './report.bench.ts';
import {
  guildEnv,
  guildPort,
  newBenchStore,
  seedGroup,
  startGuildProcess,
  startSinks,
  commandsBetween,
  describeCommands,
  type CommandCounts,
  type GuildProcess,
  type RowContext,
} from './setup.bench.ts';

export interface IntakeSizes {
  activities: number;
  actors: number;
  concurrency: number;
}

const SQLITE_TARGET = '>= 1,000/s and p99 < 100 ms';
const MONGODB_TARGET = '>= 1,000/s and p99 < 200 ms in the web role; <= 2 commands per activity';
/** Most MongoDB commands per accepted activity in the web role (the inbox path). */
const MONGODB_MAX_COMMANDS_PER_ACTIVITY = 2;

/** The target of the row on `kind`. */
export const intakeTarget = (kind: 'sqlite' | 'mongodb'): string =>
  kind === 'mongodb' ? MONGODB_TARGET : SQLITE_TARGET;

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

interface PhaseResult {
  rate: number;
  accepted: number;
  sent: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  statuses: string;
  abandoned: number;
  /** ms from the first measured request until every activity was processed; null when not (web role). */
  processedMs: number | null;
  jobs: string;
  /** False when the workers had not finished the warm-up activities when the measurement began. */
  warmProcessed: boolean;
  /** MongoDB commands (all threads) while the requests were sent, and until they were processed (role all). */
  commandsSending: number;
  commandsSendingByName: CommandCounts;
  commandsProcessed: number | null;
}

/**
 * One measurement on a fresh store and a fresh Guild process: seed the members, warm the actor cache, send the
 * pre-signed Creates. `role` is Guild's GUILD_ROLE: `all` (inbox and workers in one process, the default
 * deployment) or `web` (the inbox alone; nothing is processed).
 */
async function phase(
  ctx: RowContext,
  sizes: IntakeSizes,
  actors: BenchActor[],
  role: 'all' | 'web',
): Promise<PhaseResult> {
  const store = await newBenchStore(ctx);
  let guild: GuildProcess | null = null;
  let pool: Pool | null = null;
  try {
    const port = await guildPort();
    const env = guildEnv(port, store, { GUILD_ROLE: role });
    const group = await seedGroup(ctx, store, env, 'bench', actors.length, (i) => {
      const a = actors[i];
      if (!a) throw new Error('no actor');
      return { actorId: a.id, inbox: a.inbox, sharedInbox: a.sharedInbox };
    });
    guild = await startGuildProcess(ctx, env, `intake-${role}-${ctx.kind}`);
    pool = new Pool(guild.origin, { connections: sizes.concurrency, pipelining: 1 });

    ctx.progress(`intake/${ctx.kind} (role ${role}): signing ${int(sizes.activities)} requests`);
    const posts = Array.from({ length: sizes.activities }, (_, i) => {
      const a = actors[i % actors.length];
      if (!a) throw new Error('no actor');
      return signedCreate(a, group.groupId, group.inboxUrl, `intake bench post ${i}`);
    });
    // The warm-up fills the actor cache and opens the client's connections (as many as the concurrency), so that
    // the measurement sees a steady state, not connection set-up.
    ctx.progress(`intake/${ctx.kind} (role ${role}): warming the actor cache`);
    const warm = actors.map((a) => signedCreate(a, group.groupId, group.inboxUrl, 'warm-up'));
    const warmed = await sendAll(pool, warm, sizes.concurrency, ctx.deadline);
    if (warmed.statuses.get('202') !== warm.length) {
      throw new Error(`warm-up: expected ${warm.length} x 202, got ${JSON.stringify([...warmed.statuses])}`);
    }
    // Start from a quiet Guild when its workers keep up; do not wait long when they do not (the note says so).
    const warmProcessed =
      role === 'web' ||
      (await waitProcessed(guild, warm.length, Math.min(ctx.deadline, Date.now() + 30_000))) !== null;

    ctx.progress(`intake/${ctx.kind} (role ${role}): sending at concurrency ${sizes.concurrency}`);
    const commands0 = await guild.commands();
    const started = performance.now();
    const sent = await sendAll(pool, posts, sizes.concurrency, ctx.deadline);
    const commandsSent = commandsBetween(commands0, await guild.commands());
    const processedAt =
      role === 'all' ? await waitProcessed(guild, warm.length + posts.length, ctx.deadline) : null;
    const commandsProcessed =
      processedAt === null ? null : commandsBetween(commands0, await guild.commands()).total;
    const sorted = [...sent.latencies].sort((a, b) => a - b);
    const accepted = sent.statuses.get('202') ?? 0;
    return {
      rate: (accepted * 1000) / sent.elapsedMs,
      accepted,
      sent: posts.length,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: sorted[sorted.length - 1] ?? NaN,
      statuses: JSON.stringify(Object.fromEntries(sent.statuses)),
      abandoned: sent.abandoned,
      processedMs: processedAt === null ? null : processedAt - started,
      warmProcessed,
      jobs: jobsSummary(await guild.jobs()),
      commandsSending: commandsSent.total,
      commandsSendingByName: commandsSent.byName,
      commandsProcessed,
    };
  } finally {
    await pool?.close();
    await guild?.handle.stop();
    await store.remove().catch((e: unknown) => ctx.progress(`could not remove the store: ${String(e)}`));
  }
}

const describe = (p: PhaseResult): string => `${int(p.rate)} accepted/s, p50 ${ms(p.p50)}, p99 ${ms(p.p99)}`;

export async function runIntake(
  ctx: RowContext,
  sizes: IntakeSizes,
  baselines: Baselines,
): Promise<RowResult> {
  let sinks: ChildHandle | null = null;
  try {
    ctx.progress(`intake/${ctx.kind}: generating ${sizes.actors} member keys`);
    const s = await startSinks(ctx, 1, 0);
    sinks = s.handle;
    const origin = `http://127.0.0.1:${s.ports[0] ?? 0}`;
    const actors: BenchActor[] = (await keyPairs(sizes.actors)).map((k, i) => benchActor(origin, `a${i}`, k));
    await sinks.call('serve', { documents: actors.map((a) => [a.path, actorDocument(a)]) });

    // The first phase may use 60% of what is left, so that the second one always gets its turn.
    const firstDeadline = Date.now() + 0.6 * (ctx.deadline - Date.now());
    const all = await phase({ ...ctx, deadline: firstDeadline }, sizes, actors, 'all');
    const web = await phase(ctx, sizes, actors, 'web');
    const onSqlite = ctx.kind === 'sqlite';
    const perActivity = (p: PhaseResult, n: number): number => n / Math.max(1, p.accepted);
    const met = onSqlite
      ? all.accepted === all.sent && all.rate >= 1000 && all.p99 < 100
      : web.accepted === web.sent &&
        web.rate >= 1000 &&
        web.p99 < 200 &&
        perActivity(web, web.commandsSending) <= MONGODB_MAX_COMMANDS_PER_ACTIVITY;
    const notes: string[] = [
      `${int(all.sent)} signed Creates from ${int(actors.length)} members (each its own key, all on one server), ` +
        `concurrency ${sizes.concurrency}, actors warmed into the cache first`,
    ];
    for (const [name, p] of [
      ['role all (inbox and workers in one process, the default)', all],
      ['role web (the inbox alone, nothing processed)', web],
    ] as const) {
      notes.push(
        `${name}: ${describe(p)}, p90 ${ms(p.p90)}, max ${ms(p.max)}; statuses ${p.statuses}` +
          `${p.abandoned > 0 ? `, ${p.abandoned} not sent (deadline)` : ''}`,
      );
    }
    notes.push(
      all.processedMs === null
        ? 'role all: the intake queue was not drained before the deadline'
        : `role all: every activity processed (announces queued) ${secs(all.processedMs)} after the first request, ` +
            `${int((all.sent * 1000) / all.processedMs)} activities/s end to end`,
    );
    if (!all.warmProcessed)
      notes.push('role all: the workers were still processing the warm-up when the clock started');
    notes.push(`role all, jobs: ${all.jobs}`);
    if (!onSqlite) {
      notes.push(
        `MongoDB commands per accepted activity: web role ${perActivity(web, web.commandsSending).toFixed(2)} ` +
          `while sending (the inbox path: ${describeCommands(web.commandsSendingByName)}); role all ` +
          `${perActivity(all, all.commandsSending).toFixed(2)} while sending (${describeCommands(all.commandsSendingByName)})` +
          (all.commandsProcessed === null
            ? ''
            : ` and ${perActivity(all, all.commandsProcessed).toFixed(2)} until every activity was processed and ` +
              "announced (inbox, processing, fan-out and the deliveries to the members' server)"),
      );
    }
    const result = onSqlite
      ? `${describe(all)} (web role alone: ${describe(web)})`
      : `web role: ${describe(web)}, ${perActivity(web, web.commandsSending).toFixed(2)} commands per activity ` +
        `(role all: ${describe(all)})`;
    return {
      row: 'intake',
      store: ctx.kind,
      result,
      bound: `${int(baselines.verify.perSecond)} verifies/s (1 core)`,
      ratio: (onSqlite ? all.rate : web.rate) / baselines.verify.perSecond,
      target: intakeTarget(ctx.kind),
      verdict: met ? 'PASS' : 'FAIL',
      notes,
    };
  } finally {
    await sinks?.stop();
  }
}
