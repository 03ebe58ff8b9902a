/**
 * Row "memory": peak RSS of the Guild process holding a large group and a large delivery backlog. Every member
 * has its own inbox, so one post fans out to one delivery job per member (twice: Announce{Create} and the
 * Announce{Note} boost); the sinks answer slowly, so the backlog stays while Guild works through it. The peak is
 * the child's own `maxRSS`, so the harness's memory does not count. Measured for each group size in turn (on a
 * fresh store and a fresh process), so that the row shows whether memory stays flat as groups grow tenfold.
 */
import { actorDocument, benchActor, keyPairs, signedCreate } from './actors.bench.ts';
import { fields, num, type ChildHandle } from './ipc.bench.ts';
import { request } from 'undici';
import { int, jobsSummary, mb, secs, type RowResult } from './report.bench.ts';
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

export interface MemorySizes {
  /** Group sizes, each measured on its own store and process. */
  members: number[];
  servers: number;
  /** How long each sink takes to answer a delivery. */
  sinkDelayMs: number;
  /** How long to keep delivering (and sampling) once the backlog is fully queued. */
  holdMs: number;
}

export const MEMORY_TARGET = 'peak RSS < 300 MB at every group size';
const LIMIT_BYTES = 300 * 1024 * 1024;
/** The least time a group size gets, however small (seeding, fan-out and the hold on a busy machine). */
const MIN_PHASE_MS = 240_000;

interface Phase {
  members: number;
  peak: number;
  backlog: number;
  /** The backlog reached what the target asks (at least 100,000 jobs, or every member's). */
  reached: boolean;
  notes: string[];
}

export async function runMemory(ctx: RowContext, sizes: MemorySizes): Promise<RowResult> {
  if (ctx.kind === 'mongodb' && ctx.ferret !== null) {
    return {
      row: 'memory',
      store: ctx.kind,
      result:
        'n/a on FerretDB: its seeding alone runs at about 2,200 members a second (10,000 in 4.5 s in the fan-out ' +
        `row), about ${int(Math.round(sizes.members.reduce((a, b) => a + b, 0) / 2_200))} s for this row's ` +
        'groups before any delivery is queued; the row is measured on SQLite, and on MongoDB with MONGODB_URL',
      bound: `${mb(LIMIT_BYTES)} limit`,
      ratio: null,
      target: MEMORY_TARGET,
      verdict: 'n/a',
      notes: [],
    };
  }
  const phases: Phase[] = [];
  for (const [index, members] of sizes.members.entries()) {
    if (phases.length > 0 && Date.now() > ctx.deadline) break;
    // Each size gets a share of the time left in proportion to its members (the larger ones take longer).
    const left = sizes.members.slice(index).reduce((a, b) => a + b, 0);
    const share = Math.max(MIN_PHASE_MS, ((ctx.deadline - Date.now()) * members) / left);
    const deadline = Math.min(ctx.deadline, Date.now() + share);
    ctx.progress(`memory/${ctx.kind}: ${int(members)} members`);
    phases.push(await runPhase({ ...ctx, deadline }, sizes, members));
  }
  const worst = Math.max(...phases.map((p) => p.peak));
  const passed =
    phases.length === sizes.members.length && phases.every((p) => p.reached && p.peak < LIMIT_BYTES);
  return {
    row: 'memory',
    store: ctx.kind,
    result:
      'peak RSS ' +
      phases
        .map((p) => `${mb(p.peak)} with ${int(p.members)} members (backlog ${int(p.backlog)} jobs)`)
        .join(', '),
    bound: `${mb(LIMIT_BYTES)} limit`,
    ratio: worst / LIMIT_BYTES,
    target: MEMORY_TARGET,
    verdict: passed ? 'PASS' : 'FAIL',
    notes: phases.flatMap((p) => p.notes.map((n) => `${int(p.members)} members: ${n}`)),
  };
}

async function runPhase(ctx: RowContext, sizes: MemorySizes, members: number): Promise<Phase> {
  const store = await newBenchStore(ctx);
  let sinks: ChildHandle | null = null;
  let guild: GuildProcess | null = null;
  try {
    const s = await startSinks(ctx, sizes.servers, sizes.sinkDelayMs);
    sinks = s.handle;
    const ports = s.ports;
    const [posterKeys] = await keyPairs(1);
    if (!posterKeys) throw new Error('no key');
    const poster = benchActor(`http://127.0.0.1:${ports[0] ?? 0}`, 'poster', posterKeys);
    await sinks.call('serve', { documents: [[poster.path, actorDocument(poster)]] });

    const port = await guildPort();
    const env = guildEnv(port, store);
    ctx.progress(`memory/${ctx.kind}: seeding ${int(members)} members`);
    const group = await seedGroup(ctx, store, env, 'bench', members, (i) => {
      if (i === 0) return { actorId: poster.id, inbox: poster.inbox, sharedInbox: null };
      const id = `http://127.0.0.1:${ports[i % ports.length] ?? 0}/users/m${i}`;
      return { actorId: id, inbox: `${id}/inbox`, sharedInbox: null };
    });
    guild = await startGuildProcess(ctx, env, `memory-${ctx.kind}`);
    const g = guild;
    const startUsage = await g.usage();

    let peakSampled = startUsage.rss;
    let samples = 0;
    const sample = async (): Promise<void> => {
      const u = await g.usage();
      samples++;
      peakSampled = Math.max(peakSampled, u.rss);
    };

    const post = signedCreate(poster, group.groupId, group.inboxUrl, 'memory bench post');
    ctx.progress(`memory/${ctx.kind}: posting, fanning out to ${int(members)} inboxes`);
    const res = await request(post.url, { method: 'POST', headers: post.headers, body: post.body });
    const answer = await res.body.text();
    if (res.statusCode !== 202) throw new Error(`the inbox answered ${res.statusCode}: ${answer}`);
    const t0 = performance.now();

    const expected = 2 * members;
    let queuedAt: number | null = null;
    let enqueued = 0;
    let lastProgress = t0;
    /** Deliveries the sinks were answering, sampled while the backlog is held. */
    const holdInFlight: number[] = [];
    for (;;) {
      await sample();
      const jobs = await g.jobs();
      enqueued = jobs['deliver']?.['enqueued'] ?? 0;
      const fanout = jobs['fanout'] ?? {};
      const fanoutOver =
        (fanout['enqueued'] ?? 0) >= 2 && (fanout['done'] ?? 0) + (fanout['failed'] ?? 0) >= 2;
      if (queuedAt === null && (enqueued >= expected || fanoutOver)) {
        queuedAt = performance.now();
        ctx.progress(
          `memory/${ctx.kind}: ${int(enqueued)} deliveries queued in ${secs(queuedAt - t0)}; holding`,
        );
      }
      if (queuedAt !== null) {
        const r = fields(await sinks.call('report'), 'report');
        holdInFlight.push(num(r, 'inFlight'));
      }
      if (queuedAt !== null && performance.now() - queuedAt >= sizes.holdMs) break;
      if (Date.now() > ctx.deadline) break;
      if ((jobs['intake']?.['failed'] ?? 0) > 0) break; // the post itself was given up: nothing will fan out
      if (performance.now() - lastProgress > 10_000) {
        lastProgress = performance.now();
        ctx.progress(`  ${int(enqueued)} of ${int(expected)} deliveries queued, rss ${mb(peakSampled)}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const end = await g.usage();
    const sinkReport = fields(await sinks.call('report'), 'report');
    const meanInFlight = holdInFlight.reduce((a, b) => a + b, 0) / Math.max(1, holdInFlight.length);
    const jobs = await g.jobs();
    const deliver = jobs['deliver'] ?? {};
    const done = (deliver['done'] ?? 0) + (deliver['failed'] ?? 0);
    const backlog = (deliver['enqueued'] ?? 0) - done;
    const peak = Math.max(end.maxRss, peakSampled);
    const notes = [
      `${int(members)} members, one inbox each on ${int(sizes.servers)} servers; sinks answer after ${sizes.sinkDelayMs} ms; ` +
        `seeded in ${secs(group.seedMs)}`,
      queuedAt === null
        ? `fan-out did not finish before the deadline: ${int(enqueued)} of ${int(expected)} deliveries queued`
        : `${int(enqueued)} delivery jobs queued ${secs(queuedAt - t0)} after the 202; ${int(done)} done by the end, ` +
          `backlog ${int(backlog)} jobs when measured`,
      `RSS at start ${mb(startUsage.rss)}, at end ${mb(end.rss)} (heap ${mb(end.heapUsed)}); ` +
        `peak: maxRSS ${mb(end.maxRss)}, highest of ${samples} samples ${mb(peakSampled)}`,
      `sinks: ${int(num(sinkReport, 'posts'))} deliveries received; ` +
        (holdInFlight.length === 0
          ? 'the backlog was never fully queued'
          : `while the backlog was held, on average ${meanInFlight.toFixed(1)} were in flight`) +
        ` (at most ${int(num(sinkReport, 'maxInFlight'))}), with a delivery ` +
        `concurrency of ${env['GUILD_DELIVERY_CONCURRENCY'] ?? '?'} (${env['GUILD_DELIVERY_PER_HOST'] ?? '?'} per host, ${int(sizes.servers)} hosts)`,
      `jobs: ${jobsSummary(jobs)}`,
    ];
    return {
      members,
      peak,
      backlog,
      reached: queuedAt !== null && backlog >= Math.min(100_000, members),
      notes,
    };
  } finally {
    await guild?.handle.stop();
    await sinks?.stop();
    await store.remove().catch((e: unknown) => ctx.progress(`could not remove the store: ${String(e)}`));
  }
}
