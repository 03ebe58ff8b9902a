/**
 * Row "fan-out": one post to a group whose members live on many servers. The post enters through Guild's real
 * inbox (a signed Create from a member); the clock runs from that POST's 202 to the last sink receipt of the
 * group's Announce{Create}. Deliveries of other activities are counted apart (a top-level post is also boosted
 * with a plain Announce{Note}, which the same workers sign and send at the same time).
 */
import { request } from 'undici';
import { actorDocument, benchActor, keyPairs, signedCreate, type BenchActor } from './actors.bench.ts';
import { fields, num, type Fields } from './ipc.bench.ts';
import { signRateMeter, type Rate } from './baseline.bench.ts';
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
  emptyClaimsOf,
  type CommandCounts,
  type GuildProcess,
  type RowContext,
  type SeededGroup,
} from './setup.bench.ts';
import type { ChildHandle } from './ipc.bench.ts';

export interface FanoutSizes {
  members: number;
  servers: number;
  /** Measured posts (SQLite rows; one on MongoDB rows); the row reports the median. */
  trials: number;
  /** Posts before the trials, each to a group of its own on servers of its own (SQLite rows; one on MongoDB). */
  warmUps: number;
  /** How long each signing-rate measurement next to a trial runs. */
  signMs: number;
}

const TARGET = '>= 0.5 x one-core signing (aim 0.8)';
const MONGODB_TARGET = '>= 600 deliveries/s and <= 0.2 commands per delivery';
/** Bounds of the MongoDB row: deliveries of the Announce{Create} per second, commands per delivery. */
const MONGODB_MIN_RATE = 600;
const MONGODB_MAX_COMMANDS_PER_DELIVERY = 0.2;

/**
 * Servers of the warm-up post (each gets its two announces) when the store is FerretDB on SQLite; otherwise as
 * many as the measured group has. That store delivers a few jobs a second: a larger warm-up would not end.
 */
const SLOW_STORE_WARM_UP_SERVERS = 100;

interface Tally {
  count: number;
  distinct: number;
  firstAt: number;
  lastAt: number;
}

function tally(v: unknown, what: string): Tally {
  const t = fields(v, what);
  return {
    count: num(t, 'count'),
    distinct: num(t, 'distinct'),
    firstAt: num(t, 'firstAt'),
    lastAt: num(t, 'lastAt'),
  };
}

/** Polls the sinks until both announces reached every inbox, or the deadline. */
async function waitForDeliveries(
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

interface Trial {
  /** Inboxes reached by the Announce{Create}, and when the last was (ms after the 202). */
  create: Tally;
  boost: Tally;
  t0: number;
  timedOut: boolean;
  /** One-core signing rate measured just before and just after the trial. */
  signBefore: number;
  signAfter: number;
  /** Announce{Create} inboxes per second until the last one. */
  rate: number;
  lastMs: number;
  /** Both announces: signed deliveries per second until the last of either. */
  allRate: number;
  allLastMs: number;
  bound: number;
  ratio: number;
  signaturesOk: boolean;
  signatureNote: string;
  /** CPU time (all threads) from just before the POST to the last delivery. */
  guildCpuMs: number;
  sinkCpuMs: number;
  /**
   * MongoDB commands Guild sent (all threads) from just before the POST until both announces reached every inbox:
   * the intake of the post, the fan-out and every delivery. Zero on SQLite.
   */
  commands: number;
  commandsByName: CommandCounts;
  /** Of those, the claims that found nothing (idle loops polling): one `find` each. */
  emptyClaims: number;
}

/** MongoDB commands per delivery of a trial (both announces counted). */
const perDelivery = (t: Trial): number => t.commands / Math.max(1, t.create.count + t.boost.count);
/**
 * The same without the polls of idle loops (claims that found nothing): those come with time, not with
 * deliveries, and a slow store's long trial has many of them.
 */
const perDeliveryBusy = (t: Trial): number =>
  (t.commands - t.emptyClaims) / Math.max(1, t.create.count + t.boost.count);

async function runTrial(
  guild: GuildProcess,
  sinks: ChildHandle,
  poster: BenchActor,
  group: SeededGroup,
  expected: number,
  signRate: (ms: number) => Rate,
  signMs: number,
  deadline: number,
  label: string,
): Promise<Trial> {
  const post = signedCreate(poster, group.groupId, group.inboxUrl, `fan-out bench post ${label}`);
  await sinks.call('watch', {
    createId: post.createId,
    noteId: post.noteId,
    keyId: group.keyId,
    ownerId: group.groupId,
    publicKeyPem: group.publicKeyPem,
    sampleEvery: 100,
  });
  const signBefore = signRate(signMs).perSecond;
  const guildCpu0 = (await guild.usage()).cpuMs;
  const commands0 = await guild.commands();
  const empty0 = await emptyClaimsOf([guild]);
  const sinkCpu0 = num(fields(await sinks.call('report'), 'report'), 'cpuMs');
  const res = await request(post.url, { method: 'POST', headers: post.headers, body: post.body });
  const answer = await res.body.text();
  const t0 = performance.timeOrigin + performance.now();
  if (res.statusCode !== 202) throw new Error(`the inbox answered ${res.statusCode}: ${answer}`);
  const { report, timedOut } = await waitForDeliveries(sinks, expected, deadline);
  const guildCpuMs = (await guild.usage()).cpuMs - guildCpu0;
  const commands = commandsBetween(commands0, await guild.commands());
  const emptyClaims = (await emptyClaimsOf([guild])) - empty0;
  const sinkCpuMs = num(report, 'cpuMs') - sinkCpu0;
  // The next trial opens connections of its own; these would otherwise end by idle timeout in its midst.
  await sinks.call('closeIdle');
  const signAfter = signRate(signMs).perSecond;
  const create = tally(report['create'], 'create');
  const boost = tally(report['boost'], 'boost');
  const sample = fields(report['sample'], 'sample');
  const reached = create.distinct > 0;
  const lastMs = reached ? create.lastAt - t0 : NaN;
  const rate = reached ? (create.distinct * 1000) / lastMs : 0;
  const allLastMs = Math.max(create.lastAt, boost.lastAt) - t0;
  const allRate = reached ? ((create.count + boost.count) * 1000) / allLastMs : 0;
  const bound = (signBefore + signAfter) / 2;
  const sampleOk = num(sample, 'ok');
  const sampleChecked = num(sample, 'checked');
  const unsigned = num(report, 'unsigned');
  return {
    create,
    boost,
    t0,
    timedOut,
    signBefore,
    signAfter,
    rate,
    lastMs,
    allRate,
    allLastMs,
    bound,
    ratio: rate / bound,
    guildCpuMs,
    sinkCpuMs,
    commands: commands.total,
    commandsByName: commands.byName,
    emptyClaims,
    signaturesOk: sampleChecked > 0 && sampleOk === sampleChecked && unsigned === 0,
    signatureNote:
      `${int(sampleOk)}/${int(sampleChecked)} sampled deliveries verified in full against the group key` +
      `${unsigned > 0 ? `, ${int(unsigned)} POSTs without Signature/Digest` : ''}` +
      `${JSON.stringify(sample['failures']) !== '{}' ? `, failures ${JSON.stringify(sample['failures'])}` : ''}`,
  };
}

export async function runFanout(ctx: RowContext, sizes: FanoutSizes): Promise<RowResult> {
  const store = await newBenchStore(ctx);
  let sinks: ChildHandle | null = null;
  let guild: GuildProcess | null = null;
  // FerretDB on SQLite delivers a few jobs a second: one trial is all it can do within the row's budget.
  const slowStore = ctx.ferret === 'sqlite';
  const trials = slowStore ? 1 : sizes.trials;
  try {
    // Warm-up groups, each on servers of its own (fewer on a slow store).
    const warmServers = slowStore ? Math.min(sizes.servers, SLOW_STORE_WARM_UP_SERVERS) : sizes.servers;
    const warmUps = slowStore ? 1 : sizes.warmUps;
    const servers = trials * sizes.servers + warmUps * warmServers;
    ctx.progress(
      `fan-out/${ctx.kind}: ${int(servers)} sink servers ` +
        `(${int(sizes.servers)} per trial, ${int(warmServers)} per warm-up post)`,
    );
    const s = await startSinks(ctx, servers, 0);
    sinks = s.handle;
    const trialPorts = (k: number): number[] => s.ports.slice(k * sizes.servers, (k + 1) * sizes.servers);
    const warmPorts = (j: number): number[] => {
      const from = trials * sizes.servers + j * warmServers;
      return s.ports.slice(from, from + warmServers);
    };
    const [posterKeys] = await keyPairs(1);
    if (!posterKeys) throw new Error('no key');
    // The author of each post is a member on one of the group's servers (the first).
    const author = (ports: number[], name: string): BenchActor =>
      benchActor(`http://127.0.0.1:${ports[0] ?? 0}`, name, posterKeys);
    const posters = Array.from({ length: trials }, (_, k) => author(trialPorts(k), `poster${k + 1}`));
    const warmPosters = Array.from({ length: warmUps }, (_, j) => author(warmPorts(j), `warm${j + 1}`));
    await sinks.call('serve', {
      documents: [...posters, ...warmPosters].map((a) => [a.path, actorDocument(a)]),
    });

    const port = await guildPort();
    const env = guildEnv(port, store);
    const seed = (name: string, members: number, ports: number[], poster: BenchActor): Promise<SeededGroup> =>
      seedGroup(ctx, store, env, name, members, (i) => {
        if (i === 0) return { actorId: poster.id, inbox: poster.inbox, sharedInbox: poster.sharedInbox };
        const origin = `http://127.0.0.1:${ports[i % ports.length] ?? 0}`;
        const id = `${origin}/users/m${i}`;
        return { actorId: id, inbox: `${id}/inbox`, sharedInbox: `${origin}/inbox` };
      });
    // One group per trial, each on servers of its own: every trial opens its connections afresh.
    const groups: SeededGroup[] = [];
    for (let k = 0; k < trials; k++) {
      ctx.progress(`fan-out/${ctx.kind}: seeding ${int(sizes.members)} members (trial ${k + 1})`);
      groups.push(await seed(`bench${k + 1}`, sizes.members, trialPorts(k), posters[k] as BenchActor));
    }
    // Warm-up groups shaped like the measured ones (as many members; on a slow store one per server): their
    // posts warm up Guild and the sinks (code compiled and heaps grown, as in servers that have been running)
    // before the measured posts.
    const warmMembers = slowStore ? warmServers : sizes.members;
    const warmGroups: SeededGroup[] = [];
    for (let j = 0; j < warmUps; j++) {
      warmGroups.push(await seed(`warmup${j + 1}`, warmMembers, warmPorts(j), warmPosters[j] as BenchActor));
    }
    guild = await startGuildProcess(ctx, env, `fanout-${ctx.kind}`);

    // Every server of a warm-up group (the author's too) gets both announces. A slow store (FerretDB) may not
    // finish the warm-up in a reasonable time: the row goes on after a third of what is left of its budget, and
    // says so.
    const warmDeliveries = 2 * warmServers * warmUps;
    const warmDeadline = Date.now() + (ctx.deadline - Date.now()) / 3;
    let warmed = 0;
    for (let j = 0; j < warmUps; j++) {
      const group = warmGroups[j] as SeededGroup;
      ctx.progress(`fan-out/${ctx.kind}: warm-up post ${j + 1} of ${warmUps}`);
      const warm = signedCreate(warmPosters[j] as BenchActor, group.groupId, group.inboxUrl, 'warm-up post');
      const warmRes = await request(warm.url, { method: 'POST', headers: warm.headers, body: warm.body });
      const warmAnswer = await warmRes.body.text();
      if (warmRes.statusCode !== 202)
        throw new Error(`the inbox answered ${warmRes.statusCode}: ${warmAnswer}`);
      for (;;) {
        warmed = num(fields(await sinks.call('report'), 'report'), 'other');
        if (warmed >= 2 * warmServers * (j + 1) || Date.now() > warmDeadline) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (Date.now() > warmDeadline) break;
    }
    await sinks.call('closeIdle');

    const signRate = signRateMeter();
    const done: Trial[] = [];
    for (let k = 0; k < trials; k++) {
      const group = groups[k];
      if (!group) break;
      if (k > 0 && Date.now() > ctx.deadline) break;
      ctx.progress(`fan-out/${ctx.kind}: trial ${k + 1} of ${trials}: posting`);
      done.push(
        await runTrial(
          guild,
          sinks,
          posters[k] as BenchActor,
          group,
          sizes.servers,
          signRate,
          sizes.signMs,
          ctx.deadline,
          `${k + 1}`,
        ),
      );
    }
    const jobs = await guild.jobs();
    // The trial with the median ratio stands for the row (the lower middle one of an even count).
    const ranked = [...done].sort((a, b) => a.ratio - b.ratio);
    const median = ranked[Math.floor((ranked.length - 1) / 2)];
    if (!median) throw new Error('no trial ran');
    const expected = sizes.servers;
    const reached = median.create.distinct > 0;
    const trialNote = (t: Trial, k: number): string =>
      `trial ${k + 1}${t === median ? ' (median)' : ''}: Announce{Create} ${int(t.create.distinct)}/${int(expected)} inboxes ` +
      `(${int(t.create.count)} POSTs), first ${ms(t.create.firstAt - t.t0)} and last ${ms(t.lastMs)} after the 202: ` +
      `${int(t.rate)}/s; with the Announce{Note} boosts sent alongside, ${int(t.create.count + t.boost.count)} ` +
      `deliveries, last ${ms(t.allLastMs)}: ${int(t.allRate)}/s = ${(t.allRate / t.bound).toFixed(2)} x signing; ` +
      `one-core signing ${int(t.signBefore)}/s before, ${int(t.signAfter)}/s after: ratio ${t.ratio.toFixed(2)}; ` +
      `CPU per delivery (all threads, until the last): Guild ${(t.guildCpuMs / Math.max(1, t.create.count + t.boost.count)).toFixed(2)} ms ` +
      `(${(t.guildCpuMs / t.allLastMs).toFixed(2)} cores busy), sinks ${(t.sinkCpuMs / Math.max(1, t.create.count + t.boost.count)).toFixed(2)} ms; ` +
      `signatures: ${t.signatureNote}` +
      (ctx.kind === 'mongodb'
        ? `; MongoDB commands until both announces were out: ${int(t.commands)} = ` +
          `${perDelivery(t).toFixed(3)} per delivery (${describeCommands(t.commandsByName)}), ` +
          `${perDeliveryBusy(t).toFixed(3)} without the ${int(t.emptyClaims)} polls of idle loops`
        : '') +
      (t.timedOut ? `; timed out at the row deadline` : '');
    const notes = [
      `${int(sizes.members)} members on ${int(sizes.servers)} servers (one shared inbox each) per trial, ` +
        `${done.length} trial${done.length === 1 ? '' : 's'}, each a post to its own group on servers of its own ` +
        `(new connections); seeded in ${secs(groups.reduce((a, g) => a + g.seedMs, 0))}; ` +
        `after ${warmUps} warm-up post${warmUps === 1 ? '' : 's'} to other groups of ${int(warmMembers)} members, ` +
        `each on ${int(warmServers)} servers of its own (${int(warmDeliveries)} deliveries: code compiled and heaps ` +
        `grown as in servers that have been running)` +
        (warmed < warmDeliveries
          ? `; the warm-up was not over (${int(warmed)} of ${int(warmDeliveries)} delivered) and went on meanwhile`
          : ''),
      `bound: the harness's one-core signing rate measured for ${secs(sizes.signMs)} just before and just after ` +
        `each trial (mean of the two), while Guild is idle`,
      ...done.map(trialNote),
      `jobs: ${jobsSummary(jobs)}`,
    ];
    const complete =
      done.length === trials &&
      done.every((t) => !t.timedOut && t.create.distinct >= expected && t.signaturesOk);
    const onMongo = ctx.kind === 'mongodb';
    const passed = onMongo
      ? complete &&
        median.rate >= MONGODB_MIN_RATE &&
        done.every((t) => perDeliveryBusy(t) <= MONGODB_MAX_COMMANDS_PER_DELIVERY)
      : complete && median.ratio >= 0.5;
    return {
      row: 'fan-out',
      store: ctx.kind,
      result: reached
        ? `${int(median.rate)} deliveries/s, last at ${secs(median.lastMs)} (${int(median.create.distinct)}/${int(expected)} inboxes, ${int(sizes.members)} members` +
          `${done.length > 1 ? `; median of ${done.length} trials, ratios ${done.map((t) => t.ratio.toFixed(2)).join(', ')}` : ''})` +
          (onMongo
            ? `; ${done.map((t) => perDeliveryBusy(t).toFixed(3)).join(', ')} commands per delivery ` +
              `(${done.map((t) => perDelivery(t).toFixed(3)).join(', ')} with the idle loops' polls)`
            : '')
        : `no delivery before the row's deadline (0/${int(expected)} inboxes, ${int(sizes.members)} members)`,
      bound: `${int(median.bound)} signs/s (1 core)`,
      ratio: median.ratio,
      target: onMongo ? MONGODB_TARGET : TARGET,
      verdict: passed ? 'PASS' : 'FAIL',
      notes,
    };
  } finally {
    await guild?.handle.stop();
    await sinks?.stop();
    await store.remove().catch((e: unknown) => ctx.progress(`could not remove the store: ${String(e)}`));
  }
}

/** The target of the row on `kind`. */
export const fanoutTarget = (kind: 'sqlite' | 'mongodb'): string =>
  kind === 'mongodb' ? MONGODB_TARGET : TARGET;
