/**
 * Row "scale-out": Guild as the MongoDB deployment runs it, web and worker processes apart on one MongoDB-wire
 * server: two web processes (GUILD_ROLE=web) take the posts, and 1, then 2, then 4 worker processes
 * (GUILD_ROLE=worker, each with its default background thread) share the queues through leases. For each number
 * of workers, a member's post to a group of its own on servers of its own: deliveries per second until the last
 * Announce{Create}, whether every inbox got each announce exactly once, the MongoDB commands of all the
 * processes per delivery, and the peak memory of each process.
 */
import { request } from 'undici';
import { actorDocument, benchActor, keyPairs, signedCreate, type BenchActor } from './actors.bench.ts';
import { fields, num, type ChildHandle, type Fields } from './ipc.bench.ts';
import { int, mb, secs, type RowResult } from './report.bench.ts';
import {
  commandsBetween,
  describeCommands,
  emptyClaimsOf,
  guildEnv,
  guildPort,
  newBenchStore,
  seedGroup,
  startGuildProcess,
  startSinks,
  type CommandCounts,
  type GuildProcess,
  type RowContext,
  type SeededGroup,
} from './setup.bench.ts';

export interface ScaleOutSizes {
  members: number;
  servers: number;
  /** Worker processes of each measurement, in order. */
  workers: number[];
  webs: number;
}

export const SCALE_OUT_TARGET = 'each announce exactly once per inbox; rates and memory per process reported';

interface Tally {
  count: number;
  distinct: number;
  lastAt: number;
}

function tally(v: unknown, what: string): Tally {
  const t = fields(v, what);
  return { count: num(t, 'count'), distinct: num(t, 'distinct'), lastAt: num(t, 'lastAt') };
}

interface Measurement {
  workers: number;
  /** The web process that took the post (1-based). */
  web: number;
  create: Tally;
  boost: Tally;
  /** Announce{Create} inboxes per second until the last one; both announces per second until the last. */
  rate: number;
  allRate: number;
  lastMs: number;
  timedOut: boolean;
  commands: number;
  commandsByName: CommandCounts;
  /** Of those, the claims that found nothing (idle loops polling; one `find` each). */
  emptyClaims: number;
  /** Peak RSS of each worker process, then of each web process. */
  workerPeaks: number[];
  webPeaks: number[];
}

/** Sums the commands of several processes. */
async function commandsOf(processes: GuildProcess[]): Promise<CommandCounts> {
  const sum: CommandCounts = {};
  for (const p of processes) {
    for (const [name, n] of Object.entries(await p.commands())) sum[name] = (sum[name] ?? 0) + n;
  }
  return sum;
}

async function waitForAnnounces(
  sinks: ChildHandle,
  expected: number,
  deadline: number,
): Promise<{ report: Fields; timedOut: boolean }> {
  for (;;) {
    const report = fields(await sinks.call('report'), 'report');
    const create = tally(report['create'], 'create');
    const boost = tally(report['boost'], 'boost');
    if (create.distinct >= expected && boost.distinct >= expected) return { report, timedOut: false };
    if (Date.now() > deadline) return { report, timedOut: true };
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function runScaleOut(ctx: RowContext, sizes: ScaleOutSizes): Promise<RowResult> {
  if (ctx.kind !== 'mongodb') {
    return {
      row: 'scale-out',
      store: ctx.kind,
      result: 'n/a: measured on the MongoDB-wire server, which several machines would share',
      bound: '',
      ratio: null,
      target: SCALE_OUT_TARGET,
      verdict: 'n/a',
      notes: [],
    };
  }
  const store = await newBenchStore(ctx);
  let sinks: ChildHandle | null = null;
  const webs: GuildProcess[] = [];
  let workers: GuildProcess[] = [];
  try {
    const runs = sizes.workers.length;
    ctx.progress(
      `scale-out: ${int(runs * sizes.servers)} sink servers (${int(sizes.servers)} per measurement)`,
    );
    const s = await startSinks(ctx, runs * sizes.servers, 0);
    sinks = s.handle;
    const portsOf = (k: number): number[] => s.ports.slice(k * sizes.servers, (k + 1) * sizes.servers);
    const [posterKeys] = await keyPairs(1);
    if (!posterKeys) throw new Error('no key');
    const posters: BenchActor[] = sizes.workers.map((_, k) =>
      benchActor(`http://127.0.0.1:${portsOf(k)[0] ?? 0}`, `poster${k + 1}`, posterKeys),
    );
    await sinks.call('serve', { documents: posters.map((a) => [a.path, actorDocument(a)]) });

    // Every web process answers for the same public origin (the first one's address), as behind a proxy.
    const originPort = await guildPort();
    const env = guildEnv(originPort, store);
    const groups: SeededGroup[] = [];
    for (let k = 0; k < runs; k++) {
      ctx.progress(`scale-out: seeding ${int(sizes.members)} members (measurement ${k + 1})`);
      const ports = portsOf(k);
      const poster = posters[k] as BenchActor;
      groups.push(
        await seedGroup(ctx, store, env, `scale${k + 1}`, sizes.members, (i) => {
          if (i === 0) return { actorId: poster.id, inbox: poster.inbox, sharedInbox: poster.sharedInbox };
          const origin = `http://127.0.0.1:${ports[i % ports.length] ?? 0}`;
          const id = `${origin}/users/m${i}`;
          return { actorId: id, inbox: `${id}/inbox`, sharedInbox: `${origin}/inbox` };
        }),
      );
    }
    for (let w = 0; w < sizes.webs; w++) {
      const port = w === 0 ? originPort : await guildPort();
      webs.push(
        await startGuildProcess(
          ctx,
          { ...env, GUILD_PORT: String(port), GUILD_ROLE: 'web' },
          `scale-out-web${w + 1}`,
        ),
      );
    }

    const done: Measurement[] = [];
    for (let k = 0; k < runs; k++) {
      const count = sizes.workers[k] ?? 1;
      if (Date.now() > ctx.deadline) break;
      ctx.progress(`scale-out: ${count} worker process${count === 1 ? '' : 'es'}`);
      workers = [];
      for (let w = 0; w < count; w++) {
        workers.push(
          await startGuildProcess(
            ctx,
            { ...env, GUILD_ROLE: 'worker' },
            `scale-out-${count}w-worker${w + 1}`,
          ),
        );
      }
      const group = groups[k] as SeededGroup;
      const post = signedCreate(
        posters[k] as BenchActor,
        group.groupId,
        group.inboxUrl,
        `scale-out ${count}`,
      );
      await sinks.call('watch', {
        createId: post.createId,
        noteId: post.noteId,
        keyId: group.keyId,
        ownerId: group.groupId,
        publicKeyPem: group.publicKeyPem,
        sampleEvery: 100,
      });
      const all = [...webs, ...workers];
      const commands0 = await commandsOf(all);
      const empty0 = await emptyClaimsOf(all);
      // The posts alternate between the web processes, each reached at its own address with the origin's Host.
      const webIndex = k % webs.length;
      const web = webs[webIndex] as GuildProcess;
      const res = await request(`${web.origin}${new URL(post.url).pathname}`, {
        method: 'POST',
        headers: post.headers,
        body: post.body,
      });
      const answer = await res.body.text();
      const t0 = performance.timeOrigin + performance.now();
      if (res.statusCode !== 202) throw new Error(`the inbox answered ${res.statusCode}: ${answer}`);
      const { report, timedOut } = await waitForAnnounces(sinks, sizes.servers, ctx.deadline);
      const commands = commandsBetween(commands0, await commandsOf(all));
      const emptyClaims = (await emptyClaimsOf(all)) - empty0;
      const create = tally(report['create'], 'create');
      const boost = tally(report['boost'], 'boost');
      const lastMs = create.lastAt - t0;
      const allLastMs = Math.max(create.lastAt, boost.lastAt) - t0;
      const peak = async (p: GuildProcess): Promise<number> => {
        const u = await p.usage();
        return Math.max(u.maxRss, u.rss);
      };
      done.push({
        workers: count,
        web: webIndex + 1,
        create,
        boost,
        rate: create.distinct > 0 ? (create.distinct * 1000) / lastMs : 0,
        allRate: create.distinct > 0 ? ((create.count + boost.count) * 1000) / allLastMs : 0,
        lastMs,
        timedOut,
        commands: commands.total,
        commandsByName: commands.byName,
        emptyClaims,
        workerPeaks: await Promise.all(workers.map(peak)),
        webPeaks: await Promise.all(webs.map(peak)),
      });
      await Promise.all(workers.map((w) => w.handle.stop()));
      workers = [];
      await sinks.call('closeIdle');
    }

    const exact = (m: Measurement): boolean =>
      !m.timedOut &&
      m.create.distinct === sizes.servers &&
      m.create.count === sizes.servers &&
      m.boost.distinct === sizes.servers &&
      m.boost.count === sizes.servers;
    const perDelivery = (m: Measurement): number => m.commands / Math.max(1, m.create.count + m.boost.count);
    const notes = [
      `${int(sizes.members)} members on ${int(sizes.servers)} servers (one shared inbox each) per measurement, ` +
        `each a post to a group of its own; ${sizes.webs} web processes (GUILD_ROLE=web) for one origin, the ` +
        'worker processes (GUILD_ROLE=worker) started afresh for each measurement; all share this machine\u2019s ' +
        'cores with the MongoDB-wire server and the sinks',
      ...done.map(
        (m) =>
          `${m.workers} worker${m.workers === 1 ? '' : 's'} (post taken by web ${m.web}): Announce{Create} ` +
          `${int(m.create.distinct)}/${int(sizes.servers)} inboxes in ${int(m.create.count)} POSTs, last ` +
          `${secs(m.lastMs)}: ${int(m.rate)}/s; both announces ${int(m.create.count + m.boost.count)} POSTs, ` +
          `${int(m.allRate)}/s; ${exact(m) ? 'each exactly once' : 'NOT exactly once'}` +
          `${m.timedOut ? ' (timed out at the row deadline)' : ''}; ${int(m.commands)} MongoDB commands = ` +
          `${perDelivery(m).toFixed(3)} per delivery (${describeCommands(m.commandsByName)}), ` +
          `${((m.commands - m.emptyClaims) / Math.max(1, m.create.count + m.boost.count)).toFixed(3)} without the ` +
          `${int(m.emptyClaims)} polls of idle loops; peak RSS of the ` +
          `workers ${m.workerPeaks.map(mb).join(', ')}, of the webs ${m.webPeaks.map(mb).join(', ')}`,
      ),
    ];
    const allExact = done.length === runs && done.every(exact);
    return {
      row: 'scale-out',
      store: ctx.kind,
      result:
        done.map((m) => `${m.workers} worker${m.workers === 1 ? '' : 's'}: ${int(m.rate)}/s`).join(', ') +
        ` (${int(sizes.servers)} inboxes each; ${allExact ? 'every announce exactly once' : 'NOT exactly once'}; ` +
        `peak RSS per worker up to ${mb(Math.max(0, ...done.flatMap((m) => m.workerPeaks)))}, per web up to ` +
        `${mb(Math.max(0, ...done.flatMap((m) => m.webPeaks)))})`,
      bound: '',
      ratio: null,
      target: SCALE_OUT_TARGET,
      verdict: allExact ? 'PASS' : 'FAIL',
      notes,
    };
  } finally {
    await Promise.all(workers.map((w) => w.handle.stop()));
    await Promise.all(webs.map((w) => w.handle.stop()));
    await sinks?.stop();
    await store.remove().catch((e: unknown) => ctx.progress(`could not remove the store: ${String(e)}`));
  }
}
