/**
 * Row "storage": the store stops growing. A steady stream of posts and votes by members, with junk from a
 * stranger (Likes of objects that are not here, and Likes of the group's posts, which the group refuses), then
 * junk alone. Finished jobs are purged after a retention shortened for the bench, and received activity ids are
 * remembered for a shortened replay window, so that steady state comes within the row. Prints the bytes the store
 * grows by per accepted activity at steady state (posts and votes stay: they are served in the outbox), and its
 * growth while only junk arrives (the target: none once the retention has passed).
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { MongoClient } from 'mongodb';
import { request } from 'undici';
import { signRequest } from '../src/federation/http-signature.ts';
import {
  actorDocument,
  benchActor,
  keyPairs,
  PUBLIC,
  signedCreate,
  type BenchActor,
} from './actors.bench.ts';
import type { ChildHandle } from './ipc.bench.ts';
import { int, mb, type RowResult } from './report.bench.ts';
import {
  guildEnv,
  guildPort,
  newBenchStore,
  seedGroup,
  startGuildProcess,
  startSinks,
  type BenchStore,
  type GuildProcess,
  type RowContext,
} from './setup.bench.ts';

export interface StorageSizes {
  /** Length of each phase: mixed traffic, then junk alone. */
  phaseMs: number;
  /** Retention of finished jobs and replay window given to Guild (shortened so that steady state comes). */
  retentionMs: number;
  replayWindowMs: number;
  /** Per second: posts, votes, junk Likes. */
  posts: number;
  votes: number;
  junk: number;
}

export const STORAGE_TARGET = 'no growth under junk once the retention has passed';

/** Bytes the store takes: the SQLite file and its log, or MongoDB's data and index sizes. */
async function storeBytes(store: BenchStore): Promise<number> {
  const o = store.options;
  if (o.kind === 'sqlite') {
    let total = 0;
    for (const f of [o.path, `${o.path}-wal`])
      total += await stat(f).then(
        (s) => s.size,
        () => 0,
      );
    return total;
  }
  const client = new MongoClient(o.url, { serverSelectionTimeoutMS: 5000 });
  try {
    const s = await client.db(o.dbName).command({ dbStats: 1 });
    const size = (k: string): number => (typeof s[k] === 'number' ? (s[k] as number) : 0);
    return size('dataSize') + size('indexSize');
  } finally {
    await client.close();
  }
}

function signed(
  a: BenchActor,
  url: string,
  doc: Record<string, unknown>,
): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({ '@context': 'https://www.w3.org/ns/activitystreams', ...doc });
  const headers = signRequest({
    method: 'POST',
    url,
    headers: { 'Content-Type': 'application/activity+json' },
    body,
    keyId: a.keyId,
    privateKeyPem: a.keys.privateKeyPem,
  });
  return { headers, body };
}

export async function runStorage(ctx: RowContext, sizes: StorageSizes): Promise<RowResult> {
  const store = await newBenchStore(ctx);
  let sinks: ChildHandle | null = null;
  let guild: GuildProcess | null = null;
  try {
    const s = await startSinks(ctx, 10, 0);
    sinks = s.handle;
    const origin = `http://127.0.0.1:${s.ports[0] ?? 0}`;
    const keys = await keyPairs(3);
    const [k0, k1, k2] = keys;
    if (!k0 || !k1 || !k2) throw new Error('no keys');
    const poster = benchActor(origin, 'poster', k0);
    const voter = benchActor(origin, 'voter', k1);
    const stranger = benchActor(`http://127.0.0.1:${s.ports[1] ?? 0}`, 'stranger', k2);
    await sinks.call('serve', { documents: [poster, voter].map((a) => [a.path, actorDocument(a)]) });
    await sinks.call('serve', { documents: [[stranger.path, actorDocument(stranger)]] });
    const port = await guildPort();
    const env = guildEnv(port, store, {
      GUILD_DONE_JOBS_RETENTION_MS: String(sizes.retentionMs),
      GUILD_REPLAY_WINDOW_MS: String(sizes.replayWindowMs),
      GUILD_MAINTENANCE_INTERVAL_MS: '1000',
    });
    const group = await seedGroup(ctx, store, env, 'bench', 20, (i) => {
      if (i === 0) return { actorId: poster.id, inbox: poster.inbox, sharedInbox: null };
      if (i === 1) return { actorId: voter.id, inbox: voter.inbox, sharedInbox: null };
      const id = `http://127.0.0.1:${s.ports[i % s.ports.length] ?? 0}/users/m${i}`;
      return { actorId: id, inbox: `${id}/inbox`, sharedInbox: null };
    });
    guild = await startGuildProcess(ctx, env, `storage-${ctx.kind}`);

    const posts: string[] = [];
    let accepted = 0;
    let refused = 0;
    const send = async (url: string, r: { headers: Record<string, string>; body: string }): Promise<void> => {
      const res = await request(url, { method: 'POST', headers: r.headers, body: r.body });
      await res.body.text();
      if (res.statusCode === 202) accepted++;
      else refused++;
    };
    const like = (a: BenchActor, object: string): Promise<void> =>
      send(
        group.inboxUrl,
        signed(a, group.inboxUrl, {
          id: `${a.id}/likes/${randomUUID()}`,
          type: 'Like',
          actor: a.id,
          object,
          to: [PUBLIC],
        }),
      );

    /** One second of traffic: members' posts and votes (when `mixed`), and the stranger's junk. */
    const second = async (mixed: boolean): Promise<void> => {
      const started = performance.now();
      const work: Promise<void>[] = [];
      if (mixed) {
        for (let i = 0; i < sizes.posts; i++) {
          const p = signedCreate(poster, group.groupId, group.inboxUrl, `storage bench ${posts.length}`);
          posts.push(p.noteId);
          work.push(send(p.url, p));
        }
        for (let i = 0; i < sizes.votes; i++)
          work.push(like(voter, posts[posts.length - 1 - (i % Math.max(1, posts.length))] ?? ''));
      }
      for (let i = 0; i < sizes.junk; i++) {
        const target =
          i % 2 === 0
            ? `https://elsewhere.example/notes/${randomUUID()}`
            : (posts[i % Math.max(1, posts.length)] ?? group.groupId);
        work.push(like(stranger, target));
      }
      await Promise.all(work);
      const left = 1000 - (performance.now() - started);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    };

    const samples: Array<{ at: number; bytes: number; accepted: number }> = [];
    const run = async (mixed: boolean): Promise<void> => {
      const end = performance.now() + sizes.phaseMs;
      while (performance.now() < end && Date.now() < ctx.deadline) {
        await second(mixed);
        samples.push({ at: performance.now(), bytes: await storeBytes(store), accepted });
      }
    };
    const at0 = await storeBytes(store);
    ctx.progress(`storage/${ctx.kind}: mixed traffic for ${sizes.phaseMs / 1000} s`);
    await run(true);
    const mixedSamples = samples.splice(0);
    ctx.progress(`storage/${ctx.kind}: junk alone for ${sizes.phaseMs / 1000} s`);
    await run(false);
    const junkSamples = samples.splice(0);

    // Steady state: the second half of each phase, once the retention has passed since the phase began.
    const half = <T>(list: T[]): T[] => list.slice(Math.floor(list.length / 2));
    const mixedSteady = half(mixedSamples);
    const junkSteady = half(junkSamples);
    const first = mixedSteady[0];
    const last = mixedSteady[mixedSteady.length - 1];
    const jFirst = junkSteady[0];
    const jLast = junkSteady[junkSteady.length - 1];
    if (!first || !last || !jFirst || !jLast) throw new Error('the row ended before steady state');
    const perActivity = (last.bytes - first.bytes) / Math.max(1, last.accepted - first.accepted);
    const junkGrowth = jLast.bytes - jFirst.bytes;
    const junkAccepted = jLast.accepted - jFirst.accepted;
    const flat = junkGrowth <= 0.01 * jFirst.bytes;
    return {
      row: 'storage',
      store: ctx.kind,
      result:
        `${int(perActivity)} bytes per accepted activity at steady state (posts and votes stay in the outbox); ` +
        `junk alone: ${junkGrowth >= 0 ? '+' : ''}${int(junkGrowth / 1024)} KB over ${int(junkAccepted)} accepted`,
      bound: `store ${mb(jFirst.bytes)} at the start of the junk's steady state`,
      ratio: jFirst.bytes > 0 ? junkGrowth / jFirst.bytes : null,
      target: STORAGE_TARGET,
      verdict: flat ? 'PASS' : 'FAIL',
      notes: [
        `per second: ${sizes.posts} posts, ${sizes.votes} votes by members, ${sizes.junk} junk Likes by a stranger ` +
          `(half of objects not here, answered without being stored; half of the group's posts, refused by the handlers)`,
        `retention of finished jobs ${sizes.retentionMs / 1000} s, replay window ${sizes.replayWindowMs / 1000} s (shortened for the bench)`,
        `store: ${mb(at0)} seeded, ${mb(mixedSamples[mixedSamples.length - 1]?.bytes ?? 0)} after the mixed phase, ` +
          `${mb(jLast.bytes)} at the end; ${int(accepted)} activities accepted, ${int(refused)} refused`,
      ],
    };
  } finally {
    await guild?.handle.stop();
    await sinks?.stop();
    await store.remove().catch((e: unknown) => ctx.progress(`could not remove the store: ${String(e)}`));
  }
}
