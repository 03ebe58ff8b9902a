/**
 * Row "fan-out": one post to a group whose members live on many servers. The post enters through Guild's real
 * inbox (a signed Create from a member); the clock runs from that POST's 202 to the last sink receipt of the
 * group's Announce{Create}. Deliveries of other activities are counted apart (a top-level post is also boosted
 * with a plain Announce{Note}, which the same workers sign and send at the same time).
 */
import { request } from 'undici';
import { actorDocument, benchActor, keyPairs, signedCreate } from './actors.bench.ts';
import { fields, num, type Fields } from './ipc.bench.ts';
import type { Baselines } from './baseline.bench.ts';
import { int, jobsSummary, ms, secs, type RowResult } from './report.bench.ts';
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
import type { ChildHandle } from './ipc.bench.ts';

export interface FanoutSizes {
  members: number;
  servers: number;
}

const TARGET = '>= 0.5 x one-core signing (aim 0.8)';

/**
 * Servers of the warm-up post (each gets its two announces) on MongoDB rows; on SQLite as many as the measured
 * group has. FerretDB, which stands for MongoDB here, delivers a few jobs a second: a larger warm-up would not end.
 */
const MONGODB_WARM_UP_SERVERS = 100;

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

export async function runFanout(
  ctx: RowContext,
  sizes: FanoutSizes,
  baselines: Baselines,
): Promise<RowResult> {
  const store = await newBenchStore(ctx);
  let sinks: ChildHandle | null = null;
  let guild: GuildProcess | null = null;
  try {
    // The warm-up group: one member on each of as many other servers (fewer on MongoDB rows).
    const warmServers =
      ctx.kind === 'sqlite' ? sizes.servers : Math.min(sizes.servers, MONGODB_WARM_UP_SERVERS);
    ctx.progress(
      `fan-out/${ctx.kind}: ${int(sizes.servers + warmServers)} sink servers (${int(warmServers)} for a warm-up)`,
    );
    const s = await startSinks(ctx, sizes.servers + warmServers, 0);
    sinks = s.handle;
    const ports = s.ports.slice(0, sizes.servers);
    const warmPorts = s.ports.slice(sizes.servers, sizes.servers + warmServers);
    const [posterKeys] = await keyPairs(1);
    if (!posterKeys) throw new Error('no key');
    const poster = benchActor(`http://127.0.0.1:${ports[0] ?? 0}`, 'poster', posterKeys);
    await sinks.call('serve', { documents: [[poster.path, actorDocument(poster)]] });

    const port = await guildPort();
    const env = guildEnv(port, store);
    ctx.progress(`fan-out/${ctx.kind}: seeding ${int(sizes.members)} members`);
    const group = await seedGroup(ctx, store, env, 'bench', sizes.members, (i) => {
      if (i === 0) return { actorId: poster.id, inbox: poster.inbox, sharedInbox: poster.sharedInbox };
      const origin = `http://127.0.0.1:${ports[i % ports.length] ?? 0}`;
      const id = `${origin}/users/m${i}`;
      return { actorId: id, inbox: `${id}/inbox`, sharedInbox: `${origin}/inbox` };
    });
    // A second group, with one member on each of as many other servers: its post warms up Guild and the sinks
    // (code compiled, as in a server that has been running) before the measured post, whose deliveries still
    // open their connections afresh.
    const warmup = await seedGroup(ctx, store, env, 'warmup', warmServers, (i) => {
      if (i === 0) return { actorId: poster.id, inbox: poster.inbox, sharedInbox: poster.sharedInbox };
      const origin = `http://127.0.0.1:${warmPorts[i % warmPorts.length] ?? 0}`;
      const id = `${origin}/users/w${i}`;
      return { actorId: id, inbox: `${id}/inbox`, sharedInbox: `${origin}/inbox` };
    });
    guild = await startGuildProcess(ctx, env, `fanout-${ctx.kind}`);

    ctx.progress(`fan-out/${ctx.kind}: warm-up post to another group`);
    const warm = signedCreate(poster, warmup.groupId, warmup.inboxUrl, 'warm-up post');
    const warmRes = await request(warm.url, { method: 'POST', headers: warm.headers, body: warm.body });
    const warmAnswer = await warmRes.body.text();
    if (warmRes.statusCode !== 202)
      throw new Error(`the inbox answered ${warmRes.statusCode}: ${warmAnswer}`);
    // Every server but perhaps the author's own gets both announces.
    const warmDeliveries = 2 * (warmServers - 1);
    // A slow store (FerretDB) may not finish the warm-up in a reasonable time: the row goes on after a third of
    // what is left of its budget, and says so.
    const warmDeadline = Date.now() + (ctx.deadline - Date.now()) / 3;
    let warmed = 0;
    for (;;) {
      warmed = num(fields(await sinks.call('report'), 'report'), 'other');
      if (warmed >= warmDeliveries || Date.now() > warmDeadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const post = signedCreate(poster, group.groupId, group.inboxUrl, 'fan-out bench post');
    await sinks.call('watch', {
      createId: post.createId,
      noteId: post.noteId,
      keyId: group.keyId,
      ownerId: group.groupId,
      publicKeyPem: group.publicKeyPem,
      sampleEvery: 100,
    });
    ctx.progress(`fan-out/${ctx.kind}: posting`);
    const res = await request(post.url, { method: 'POST', headers: post.headers, body: post.body });
    const answer = await res.body.text();
    const t0 = performance.timeOrigin + performance.now();
    if (res.statusCode !== 202) throw new Error(`the inbox answered ${res.statusCode}: ${answer}`);

    const expected = sizes.servers;
    const { report, timedOut } = await waitForDeliveries(sinks, expected, ctx.deadline);
    const create = tally(report['create'], 'create');
    const boost = tally(report['boost'], 'boost');
    const sample = fields(report['sample'], 'sample');
    const jobs = await guild.jobs();

    const reached = create.distinct > 0;
    const lastMs = reached ? create.lastAt - t0 : NaN;
    const rate = reached ? (create.distinct * 1000) / lastMs : 0;
    const allLastMs = Math.max(create.lastAt, boost.lastAt) - t0;
    const allRate = reached ? ((create.count + boost.count) * 1000) / allLastMs : 0;
    const ratio = rate / baselines.sign.perSecond;
    const sampleOk = num(sample, 'ok');
    const sampleChecked = num(sample, 'checked');
    const signaturesOk = sampleChecked > 0 && sampleOk === sampleChecked && num(report, 'unsigned') === 0;
    const complete = !timedOut && create.distinct >= expected;
    const notes = [
      `${int(sizes.members)} members on ${int(sizes.servers)} servers (one shared inbox each); seeded in ${secs(group.seedMs)}; ` +
        `measured after a warm-up post to another group on ${int(warmServers)} other servers ` +
        `(${int(2 * warmServers)} deliveries): warm code, new connections` +
        (warmed < warmDeliveries
          ? `; the warm-up was not over (${int(warmed)} of ${int(warmDeliveries)} delivered) and went on meanwhile`
          : ''),
      reached
        ? `Announce{Create}: ${int(create.distinct)}/${int(expected)} inboxes (${int(create.count)} POSTs), ` +
          `first ${ms(create.firstAt - t0)} and last ${ms(lastMs)} after the 202`
        : `Announce{Create}: no inbox reached before the row's deadline`,
      boost.distinct > 0
        ? `Announce{Note} boost, sent alongside: ${int(boost.distinct)}/${int(expected)} inboxes, last ${ms(boost.lastAt - t0)}` +
          ` after the 202; both together ${int(allRate)} signed deliveries/s = ${(allRate / baselines.sign.perSecond).toFixed(2)} x one-core signing`
        : "Announce{Note} boost: no inbox reached before the row's deadline",
      `signatures: ${int(sampleOk)}/${int(sampleChecked)} sampled deliveries verified in full against the group key` +
        `${num(report, 'unsigned') > 0 ? `, ${int(num(report, 'unsigned'))} POSTs without Signature/Digest` : ''}` +
        `${JSON.stringify(sample['failures']) !== '{}' ? `, failures ${JSON.stringify(sample['failures'])}` : ''}`,
      `jobs: ${jobsSummary(jobs)}`,
    ];
    if (timedOut)
      notes.push(`timed out at the row deadline with ${int(create.distinct)} of ${int(expected)} delivered`);
    const passed = complete && signaturesOk && ratio >= 0.5;
    return {
      row: 'fan-out',
      store: ctx.kind,
      result: reached
        ? `${int(rate)} deliveries/s, last at ${secs(lastMs)} (${int(create.distinct)}/${int(expected)} inboxes, ${int(sizes.members)} members)`
        : `no delivery before the row's deadline (0/${int(expected)} inboxes, ${int(sizes.members)} members)`,
      bound: `${int(baselines.sign.perSecond)} signs/s (1 core)`,
      ratio,
      target: TARGET,
      verdict: passed ? 'PASS' : 'FAIL',
      notes,
    };
  } finally {
    await guild?.handle.stop();
    await sinks?.stop();
    await store.remove().catch((e: unknown) => ctx.progress(`could not remove the store: ${String(e)}`));
  }
}

export const FANOUT_TARGET = TARGET;
