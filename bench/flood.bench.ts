/**
 * Row "flood": how long a member's post takes to reach another member while one outsider floods the group with
 * direct messages (each a command Guild would answer with a refusal). A group of two members, each on a server
 * of its own, and an outsider on a third; the clock runs from just before the member's signed POST to the
 * other member's server receiving the group's Announce{Create}. First without load (the bound, measured in the
 * same run on the same Guild process), then while the outsider's messages are sent as fast as the client's
 * connections allow, posting at evenly spaced points of the flood.
 *
 * The row is measured twice, each time on a fresh store and Guild process: with the default configuration (the
 * verdict), and with the inbox's per-sender rates off, so that every message is accepted and the intake's
 * fairness and the answer limits alone keep the member's post moving (in the notes).
 */
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { Pool, request } from 'undici';
import { signRequest } from '../src/federation/http-signature.ts';
import { actorDocument, benchActor, keyPairs, signedCreate, type BenchActor } from './actors.bench.ts';
import { fields, num, type ChildHandle, type Fields } from './ipc.bench.ts';
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
  type SeededGroup,
} from './setup.bench.ts';

export interface FloodSizes {
  /** Direct messages the outsider sends. */
  messages: number;
  /** Connections the outsider sends them on. */
  concurrency: number;
  /** Member posts measured without load, and as many during the flood. */
  trials: number;
}

export const FLOOD_TARGET = 'post under the flood <= max(2 x unloaded, 500 ms)';

/** How long one member post may take before it counts as not delivered. */
const POST_TIMEOUT_MS = 60_000;

const wallNow = (): number => performance.timeOrigin + performance.now();

/** A direct message (`Create{Note}` addressed to the group alone) by `a`, signed with its parsed key. */
function signedDirectMessage(a: BenchActor, key: KeyObject, group: SeededGroup, text: string) {
  const uuid = randomUUID();
  const body = JSON.stringify({
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${a.id}/statuses/${uuid}/activity`,
    type: 'Create',
    actor: a.id,
    to: [group.groupId],
    cc: [],
    object: {
      id: `${a.id}/statuses/${uuid}`,
      type: 'Note',
      attributedTo: a.id,
      content: `<p>${text}</p>`,
      to: [group.groupId],
      cc: [],
      tag: [{ type: 'Mention', href: group.groupId }],
    },
  });
  const headers = signRequest({
    method: 'POST',
    url: group.inboxUrl,
    headers: { 'Content-Type': 'application/activity+json' },
    body,
    keyId: a.keyId,
    privateKeyPem: key,
  });
  return { path: new URL(group.inboxUrl).pathname, headers, body };
}

/**
 * One member post: its latency to the other member's inbox (ms), or null when it did not arrive in time; the
 * status the inbox answered the post with.
 */
async function memberPost(
  sinks: ChildHandle,
  author: BenchActor,
  group: SeededGroup,
  otherInbox: string,
  deadline: number,
): Promise<{ latencyMs: number | null; status: number }> {
  const post = signedCreate(author, group.groupId, group.inboxUrl, 'a member post');
  await sinks.call('watch', {
    createId: post.createId,
    noteId: post.noteId,
    keyId: group.keyId,
    ownerId: group.groupId,
    publicKeyPem: group.publicKeyPem,
    sampleEvery: 1_000_000,
  });
  const t0 = wallNow();
  const res = await request(post.url, { method: 'POST', headers: post.headers, body: post.body });
  await res.body.dump();
  if (res.statusCode !== 202) return { latencyMs: null, status: res.statusCode };
  const until = Math.min(deadline, Date.now() + POST_TIMEOUT_MS);
  for (;;) {
    const create = fields(fields(await sinks.call('report'), 'report')['create'], 'create');
    const at = fields(create['firstAtByInbox'], 'firstAtByInbox')[otherInbox];
    if (typeof at === 'number') return { latencyMs: at - t0, status: 202 };
    if (Date.now() > until) return { latencyMs: null, status: 202 };
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface PhaseResult {
  unloaded: Array<number | null>;
  flooded: Array<{ latencyMs: number | null; status: number; afterSent: number }>;
  statuses: string;
  floodMs: number;
  answersToOutsider: number;
  processedMs: number | null;
  jobs: string;
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;

async function phase(
  ctx: RowContext,
  sizes: FloodSizes,
  sinks: ChildHandle,
  people: { a: BenchActor; b: BenchActor; o: BenchActor; oKey: KeyObject },
  extraEnv: Record<string, string>,
  label: string,
): Promise<PhaseResult> {
  const store = await newBenchStore(ctx);
  let guild: GuildProcess | null = null;
  let pool: Pool | null = null;
  try {
    const port = await guildPort();
    const env = guildEnv(port, store, extraEnv);
    const { a, b, o, oKey } = people;
    const group = await seedGroup(ctx, store, env, 'bench', 2, (i) => {
      const m = i === 0 ? a : b;
      return { actorId: m.id, inbox: m.inbox, sharedInbox: m.sharedInbox };
    });
    guild = await startGuildProcess(ctx, env, `flood-${label}-${ctx.kind}`);
    const otherInbox = new URL(b.sharedInbox).host + new URL(b.sharedInbox).pathname;
    // Answers go to the outsider's own inbox (direct messages), not its server's shared inbox.
    const outsiderHost = new URL(o.id).host;

    ctx.progress(`flood/${ctx.kind} (${label}): signing ${int(sizes.messages)} direct messages`);
    const flood = Array.from({ length: sizes.messages }, (_, i) =>
      signedDirectMessage(o, oKey, group, i % 2 ? 'help' : 'ban @someone@example.com'),
    );
    // Warm-up: the actor cache, both members' servers and the outsider's key.
    await memberPost(sinks, a, group, otherInbox, ctx.deadline);
    const warm = signedDirectMessage(o, oKey, group, 'help');
    await (
      await request(group.inboxUrl, { method: 'POST', headers: warm.headers, body: warm.body })
    ).body.dump();

    ctx.progress(`flood/${ctx.kind} (${label}): ${sizes.trials} member posts without load`);
    const unloaded: Array<number | null> = [];
    for (let k = 0; k < sizes.trials; k++)
      unloaded.push((await memberPost(sinks, a, group, otherInbox, ctx.deadline)).latencyMs);

    ctx.progress(`flood/${ctx.kind} (${label}): the flood, with ${sizes.trials} member posts during it`);
    const answered0 = postsTo(fields(await sinks.call('report'), 'report'), outsiderHost);
    pool = new Pool(guild.origin, { connections: sizes.concurrency, pipelining: 1 });
    const statuses = new Map<string, number>();
    let next = 0;
    let answered = 0;
    const started = performance.now();
    const sender = async (): Promise<void> => {
      for (let i = next++; i < flood.length && Date.now() < ctx.deadline; i = next++) {
        const m = flood[i];
        if (!m) continue;
        let status: string;
        try {
          const res = await pool!.request({ path: m.path, method: 'POST', headers: m.headers, body: m.body });
          await res.body.dump();
          status = String(res.statusCode);
        } catch (e) {
          status = e instanceof Error ? e.name : 'error';
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        answered++;
      }
    };
    const sending = Promise.all(Array.from({ length: sizes.concurrency }, sender));
    let floodMs = NaN;
    void sending.then(() => (floodMs = performance.now() - started));
    const flooded: PhaseResult['flooded'] = [];
    for (let k = 1; k <= sizes.trials; k++) {
      const mark = Math.floor((k * flood.length) / (sizes.trials + 1));
      while (answered < mark && Number.isNaN(floodMs) && Date.now() < ctx.deadline)
        await new Promise((r) => setTimeout(r, 5));
      const afterSent = answered;
      flooded.push({ ...(await memberPost(sinks, a, group, otherInbox, ctx.deadline)), afterSent });
    }
    await sending;
    // Bounded wait for the accepted messages to be handled (the intake queue drained), for the count of answers.
    let processedMs: number | null = null;
    for (;;) {
      const intake = (await guild.jobs())['intake'] ?? {};
      if ((intake['done'] ?? 0) + (intake['failed'] ?? 0) >= (intake['enqueued'] ?? 0)) {
        processedMs = performance.now() - started;
        break;
      }
      if (Date.now() > ctx.deadline || performance.now() - started > 120_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const report = fields(await sinks.call('report'), 'report');
    return {
      unloaded,
      flooded,
      statuses: JSON.stringify(Object.fromEntries(statuses)),
      floodMs,
      answersToOutsider: postsTo(report, outsiderHost) - answered0,
      processedMs,
      jobs: jobsSummary(await guild.jobs()),
    };
  } finally {
    await pool?.close();
    await guild?.handle.stop();
    await store.remove().catch((e: unknown) => ctx.progress(`could not remove the store: ${String(e)}`));
  }
}

/** POSTs the sinks received on `host` (every inbox there), from a sink report. */
function postsTo(report: Fields, host: string): number {
  const byInbox = fields(report['postsByInbox'], 'postsByInbox');
  let n = 0;
  for (const inbox of Object.keys(byInbox)) if (inbox.startsWith(`${host}/`)) n += num(byInbox, inbox);
  return n;
}

export async function runFlood(ctx: RowContext, sizes: FloodSizes): Promise<RowResult> {
  let sinks: ChildHandle | null = null;
  try {
    const s = await startSinks(ctx, 3, 0);
    sinks = s.handle;
    const [ka, kb, ko] = await keyPairs(3);
    if (!ka || !kb || !ko) throw new Error('no keys');
    const at = (i: number): string => `http://127.0.0.1:${s.ports[i] ?? 0}`;
    const a = benchActor(at(0), 'alice', ka);
    const b = benchActor(at(1), 'bob', kb);
    const o = benchActor(at(2), 'outsider', ko);
    await sinks.call('serve', { documents: [a, b, o].map((x) => [x.path, actorDocument(x)]) });
    const people = { a, b, o, oKey: createPrivateKey(ko.privateKeyPem) };
    const main = await phase(ctx, sizes, sinks, people, {}, 'default');
    const open =
      Date.now() < ctx.deadline
        ? await phase(
            ctx,
            sizes,
            sinks,
            people,
            { GUILD_INBOX_RATE_PER_KEY: '0', GUILD_INBOX_RATE_PER_HOST: '0' },
            'rates-off',
          )
        : null;
    const unloaded = median(main.unloaded.filter((x): x is number => x !== null));
    const bound = Math.max(2 * unloaded, 500);
    const worst = main.flooded.some((f) => f.latencyMs === null)
      ? Infinity
      : Math.max(...main.flooded.map((f) => f.latencyMs ?? Infinity));
    const describe = (p: PhaseResult): string =>
      `unloaded ${p.unloaded.map((x) => (x === null ? 'lost' : ms(x))).join(', ')}; during the flood ` +
      p.flooded
        .map(
          (f) =>
            `${f.latencyMs === null ? `not delivered (${f.status})` : ms(f.latencyMs)} after ${int(f.afterSent)} sent`,
        )
        .join(', ') +
      `; the flood's ${int(sizes.messages)} requests took ${secs(p.floodMs)} (statuses ${p.statuses}); ` +
      `answers delivered to the outsider: ${int(p.answersToOutsider)}; ` +
      (p.processedMs === null
        ? 'the accepted messages were not all handled in time'
        : `all handled ${secs(p.processedMs)} after the flood began`) +
      `; jobs: ${p.jobs}`;
    const notes = [
      `a group of 2 members on servers of their own; ${int(sizes.messages)} direct messages from one outsider on a ` +
        `third server at concurrency ${sizes.concurrency}; latency from just before the member's POST to the ` +
        `other member's server receiving the Announce{Create}`,
      `default configuration: ${describe(main)}`,
      open
        ? `inbox per-sender rates off (every message accepted): ${describe(open)}`
        : 'inbox rates off: skipped (deadline)',
    ];
    return {
      row: 'flood',
      store: ctx.kind,
      result: Number.isFinite(worst)
        ? `slowest post under the flood ${ms(worst)} (unloaded median ${ms(unloaded)})`
        : 'a post under the flood was not delivered in time',
      bound: `${ms(bound)} (max of 2 x unloaded, 500 ms)`,
      ratio: Number.isFinite(worst) ? worst / bound : null,
      target: FLOOD_TARGET,
      verdict: Number.isFinite(worst) && worst <= bound ? 'PASS' : 'FAIL',
      notes,
    };
  } finally {
    await sinks?.stop();
  }
}
