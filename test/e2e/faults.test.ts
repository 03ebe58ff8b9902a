/**
 * Faults, with Guild as real processes on one store (the one GUILD_TEST_STORE selects): a worker killed with
 * SIGKILL in the middle of a fan-out, destinations that hang, refuse connections or answer 410, and several web
 * and worker processes sharing the queues. Members are seeded in the store on loopback sinks; posts enter
 * through the real inbox, signed by a member.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  runGuildCli,
  sharedStoreEnv,
  startGuildProcess,
  type GuildProcess,
} from '../support/guild-process.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { freePort, waitUntil } from '../support/net.ts';
import {
  closeAll,
  deliveryCounts,
  deliveryTotals,
  refusingOrigin,
  startHangingServer,
  startSinks,
  verifySinkPost,
  type HangingServer,
  type Sink,
} from '../support/sinks.ts';
import { testStoreKind } from '../support/test-store.ts';
import { openStore } from '../../src/storage/open-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { deliveryJobId } from '../../src/federation/publisher.ts';
import { groupKeyOwner } from '../../src/groups/urls.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;
const MONGO = testStoreKind() === 'mongodb';
const GROUP = 'club';

/** A post made by the member, and the ids of the two activities the group sends for it once they are seen. */
interface Posted {
  createId: string;
  noteId: string;
}

type AnnounceKind = 'create' | 'boost';

/** Which of a post's two announces a body is: Announce{Create} (the activity) or the boost of the note. */
function kindOf(body: string, post: Posted): AnnounceKind | null {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof doc !== 'object' || doc === null) return null;
  const { type, object } = doc as { type?: unknown; object?: unknown };
  if (type !== 'Announce') return null;
  if (object === post.noteId) return 'boost';
  if (typeof object === 'object' && object !== null && (object as { id?: unknown }).id === post.createId)
    return 'create';
  return null;
}

/** The activity ids of a post's announces seen so far at the sinks. */
function announceIds(sinks: Sink[], post: Posted): Map<AnnounceKind, string> {
  const ids = new Map<AnnounceKind, string>();
  for (const sink of sinks) {
    for (const p of sink.posts) {
      if (ids.size === 2) return ids;
      if (p.activityId === null) continue;
      const kind = kindOf(p.body, post);
      if (kind && !ids.has(kind)) ids.set(kind, p.activityId);
    }
  }
  return ids;
}

/** How many (inbox, announce) pairs of a post have arrived at least once, of `inboxes.length * 2`. */
function coverage(
  sinks: Sink[],
  inboxes: string[],
  post: Posted,
): { have: number; want: number; missing: string[] } {
  const ids = [...announceIds(sinks, post).values()];
  const counts = deliveryCounts(sinks);
  const missing: string[] = [];
  for (const inbox of inboxes) {
    const got = ids.filter((id) => (counts.get(`${inbox} ${id}`) ?? 0) > 0).length;
    if (got < 2) missing.push(inbox);
  }
  let have = 0;
  for (const inbox of inboxes) for (const id of ids) if ((counts.get(`${inbox} ${id}`) ?? 0) > 0) have++;
  return { have, want: inboxes.length * 2, missing };
}

describe('faults: crashes, bad destinations, several processes', function () {
  this.timeout(150_000);
  const procs: GuildProcess[] = [];
  const servers: Array<{ close(): Promise<void> }> = [];
  let shared: Awaited<ReturnType<typeof sharedStoreEnv>>;
  let env: Record<string, string>;
  let origin: string;
  let store: Store;
  let poster: RawActor;

  beforeEach(async function () {
    // A fresh store, origin and group for every test: queues left by one test never hold up the next.
    shared = await sharedStoreEnv();
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    env = {
      ...shared.env,
      GUILD_ORIGIN: origin,
      GUILD_PORT: String(port),
      GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
      GUILD_LOG_LEVEL: 'info',
      GUILD_DELIVERY_RETRY_BASE_MS: '100',
      GUILD_DELIVERY_RETRY_MAX_MS: '500',
    };
    const created = await runGuildCli(['group', 'create', GROUP], env);
    expect(created.code, created.stderr).to.equal(0);
    store = await openStore(
      shared.env.GUILD_STORE === 'sqlite'
        ? { kind: 'sqlite', path: shared.env.GUILD_SQLITE_PATH ?? '' }
        : { kind: 'mongodb', url: shared.env.GUILD_MONGODB_URL ?? '' },
    );
    await seed([`${poster.actorId}/inbox`]);
  });
  before(async function () {
    poster = await startRawActor('poster');
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const p of procs)
        process.stderr.write(`---- output of guild ${p.proc.pid} ----\n${p.output.slice(-60).join('\n')}\n`);
    }
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    procs.length = 0;
    await closeAll(servers);
    servers.length = 0;
    await store?.close();
    await shared?.remove();
  });
  after(async function () {
    await poster?.close();
  });

  /** Makes each inbox's actor (`<inbox without /inbox>`) an accepted member with its own delivery inbox. */
  async function seed(inboxes: string[]): Promise<void> {
    const t = Date.now();
    for (let i = 0; i < inboxes.length; i += 25) {
      await Promise.all(
        inboxes.slice(i, i + 25).map((inbox) => {
          const actorId = inbox.replace(/\/inbox$/, '');
          return store.members.upsertMember({
            groupName: GROUP,
            actorId,
            inbox,
            sharedInbox: null,
            deliveryInbox: inbox,
            state: 'accepted',
            followId: `${actorId}#follow`,
            createdAt: t,
            updatedAt: t,
          });
        }),
      );
    }
  }

  /** `perHost` member inboxes on each of the given origins. */
  function inboxesOn(origins: string[], perHost: number): string[] {
    return origins.flatMap((o) => Array.from({ length: perHost }, (_, i) => `${o}/users/m${i}/inbox`));
  }

  async function start(
    role: 'web' | 'worker' | 'all',
    extra: Record<string, string> = {},
  ): Promise<GuildProcess> {
    const p = await startGuildProcess({ ...env, GUILD_ROLE: role, ...extra });
    procs.push(p);
    return p;
  }

  /** The member posts a new public note to the group through the inbox at `inboxUrl`. */
  async function post(inboxUrl = `${origin}/groups/${GROUP}/inbox`): Promise<Posted> {
    const groupId = `${origin}/groups/${GROUP}`;
    const noteId = `${poster.actorId}/notes/${randomUUID()}`;
    const object = {
      id: noteId,
      type: 'Note',
      attributedTo: poster.actorId,
      content: '<p>hello</p>',
      to: [PUBLIC],
      cc: [groupId],
    };
    const create = {
      '@context': AS,
      id: `${noteId}/activity`,
      type: 'Create',
      actor: poster.actorId,
      to: [PUBLIC],
      cc: [groupId],
      object,
    };
    const res = await poster.post(inboxUrl, create);
    expect(res.status, `inbox answer: ${res.text}`).to.equal(202);
    return { createId: create.id, noteId };
  }

  async function deliveriesIdle(): Promise<boolean> {
    const now = Date.now();
    for (const q of ['intake', 'fanout', 'deliver'] as const) {
      const s = await store.jobs.stats(q, now);
      if (s.queued > 0 || s.leased > 0) return false;
    }
    return true;
  }

  async function groupKey(): Promise<{ publicKeyPem: string; ownerId: string }> {
    const publicKeyPem = await store.keys.getPublicKey(groupKeyOwner(GROUP));
    if (!publicKeyPem) throw new Error(`no key for ${GROUP}`);
    return { publicKeyPem, ownerId: `${origin}/groups/${GROUP}` };
  }

  it('a worker killed with SIGKILL in the middle of a fan-out: every member gets it, few get it twice', async function () {
    const hosts = MONGO ? 30 : 60;
    const perHost = 5;
    const concurrency = 8;
    const sinks = await startSinks(hosts, { delayMs: 40 });
    servers.push(...sinks);
    const inboxes = inboxesOn(
      sinks.map((s) => s.origin),
      perHost,
    );
    await seed(inboxes);
    const extra = {
      GUILD_DELIVERY_CONCURRENCY: String(concurrency),
      GUILD_DELIVERY_PER_HOST: '2',
      GUILD_DELIVERY_TIMEOUT_MS: '1000',
      GUILD_QUEUE_LEASE_MS: '1000',
    };
    await start('web', extra);
    const worker = await start('worker', extra);

    const p = await post();
    const want = inboxes.length * 2;
    const early = await waitUntil(
      () => {
        const c = coverage(sinks, inboxes, p);
        return c.have >= Math.ceil(want / 10) ? c.have : undefined;
      },
      { what: 'a tenth of the deliveries', timeoutMs: 60_000 },
    );
    expect(await worker.kill('SIGKILL')).to.equal(-1);
    const atKill = coverage(sinks, inboxes, p).have;
    expect(atKill, 'the kill landed in the middle of the fan-out').to.be.below(want);
    const killedAt = Date.now();

    await start('worker', extra);
    await waitUntil(() => coverage(sinks, inboxes, p).have === want || undefined, {
      what: 'every member to get both announces',
      timeoutMs: 90_000,
    });
    await waitUntil(deliveriesIdle, { what: 'the queues to drain', timeoutMs: 30_000 });

    const totals = deliveryTotals(sinks);
    console.log(
      `      ${inboxes.length} members on ${hosts} hosts; killed at ${early}..${atKill} of ${want} deliveries; ` +
        `all delivered ${Date.now() - killedAt} ms after the kill; ${totals.total} POSTs, ${totals.duplicates} duplicates`,
    );
    expect(coverage(sinks, inboxes, p).missing).to.deep.equal([]);
    expect(totals.distinct, 'only the two announces of the post were sent').to.equal(want);
    // The killed worker's unrecorded work is sent again: the deliveries in flight, and those finished since it
    // last recorded outcomes (before each claim): at most one claim's worth (concurrency plus as many claimed
    // ahead) on top of the ones in flight when that claim was made.
    expect(
      totals.duplicates,
      'duplicates: at most the deliveries the killed worker had not recorded as done',
    ).to.be.at.most(3 * concurrency);
    const key = await groupKey();
    for (const s of sinks) {
      for (const hit of s.posts)
        expect((await verifySinkPost(hit, key)).ok, `signature of ${hit.inbox}`).to.equal(true);
    }
  });

  it('members whose servers hang or refuse connections do not delay the others', async function () {
    const sinks = await startSinks(20);
    const hanging: HangingServer = await startHangingServer();
    servers.push(...sinks, hanging);
    const healthy = inboxesOn(
      sinks.map((s) => s.origin),
      3,
    );
    await seed(healthy);
    await start('all', { GUILD_DELIVERY_TIMEOUT_MS: '20000', GUILD_DELIVERY_MAX_ATTEMPTS: '3' });

    // The same post twice: first with healthy members only (the baseline), then with the bad ones too.
    const timeToAll = async (): Promise<number> => {
      const started = Date.now();
      const p = await post();
      await waitUntil(() => coverage(sinks, healthy, p).have === healthy.length * 2 || undefined, {
        what: 'every healthy member to get both announces',
        timeoutMs: 60_000,
      });
      return Date.now() - started;
    };
    const baseline = await timeToAll();
    await seed([...inboxesOn([hanging.origin], 3), ...inboxesOn([await refusingOrigin()], 3)]);
    const withBad = await timeToAll();
    const stillHanging = hanging.openWithRequest();
    console.log(`      all healthy members served in ${baseline} ms alone, ${withBad} ms with the bad ones`);
    expect(stillHanging, 'requests to the hanging server are still waiting for an answer').to.be.above(0);
    expect(withBad, 'healthy members are served well before the 20 s timeout').to.be.below(10_000);
    expect(withBad, 'and not much later than without the bad members').to.be.at.most(baseline * 2 + 3_000);
  });

  it('a member whose inbox answers 410 is tried once and dropped', async function () {
    const [ok] = await startSinks(1);
    const [goneSink] = await startSinks(1, { status: 410 });
    if (!ok || !goneSink) throw new Error('sinks did not start');
    servers.push(ok, goneSink);
    const goneInbox = `${goneSink.origin}/users/left/inbox`;
    await seed([...inboxesOn([ok.origin], 2), goneInbox]);
    await start('all', { GUILD_DELIVERY_TIMEOUT_MS: '2000', GUILD_DELIVERY_MAX_ATTEMPTS: '5' });

    const p = await post();
    await waitUntil(() => announceIds([ok], p).size === 2 || undefined, {
      what: 'both announces at the healthy member',
    });
    await waitUntil(deliveriesIdle, { what: 'the queues to drain', timeoutMs: 30_000 });
    const ids = [...announceIds([ok], p).values()];
    expect(ids).to.have.length(2);
    for (const id of ids) {
      expect(goneSink.count(id, goneInbox), `POSTs of ${id} to the 410 inbox`).to.equal(1);
      const job = await store.jobs.getJob(deliveryJobId(id, goneInbox));
      expect(job?.state, `delivery job of ${id}`).to.equal('failed');
      expect(job?.attempts).to.equal(1);
      expect(job?.lastError).to.contain('410');
    }
    expect(goneSink.posts, 'nothing else was sent to the 410 inbox').to.have.length(2);
  });

  it('one web and one worker, then two of each: every delivery is sent exactly once', async function () {
    const sinks = await startSinks(MONGO ? 8 : 12, { delayMs: 40 });
    servers.push(...sinks);
    const inboxes = inboxesOn(
      sinks.map((s) => s.origin),
      3,
    );
    await seed(inboxes);
    const postsPerPhase = MONGO ? 3 : 5;

    // Lease owners of deliveries seen while they ran: evidence that both workers took part.
    const owners = new Set<string>();
    const sampleOwners = async (posted: Posted[]): Promise<void> => {
      const counts = deliveryCounts(sinks);
      const pending: string[] = [];
      for (const p of posted)
        for (const id of announceIds(sinks, p).values())
          for (const inbox of inboxes)
            if (!counts.has(`${inbox} ${id}`)) pending.push(deliveryJobId(id, inbox));
      // A random sample: leased jobs may be anywhere in the list.
      for (let i = 0; i < (MONGO ? 15 : 150) && pending.length > 0; i++) {
        const jobId = pending.splice(Math.floor(Math.random() * pending.length), 1)[0] ?? '';
        const job = await store.jobs.getJob(jobId);
        if (job?.leaseOwner && job.leaseUntil > Date.now()) owners.add(job.leaseOwner);
      }
    };
    const phase = async (webs: string[]): Promise<Posted[]> => {
      owners.clear();
      const posted = await Promise.all(
        Array.from({ length: postsPerPhase }, (_, i) =>
          post(`${webs[i % webs.length] ?? origin}/groups/${GROUP}/inbox`),
        ),
      );
      await waitUntil(
        async () => {
          await sampleOwners(posted);
          return posted.every((p) => coverage(sinks, inboxes, p).have === inboxes.length * 2) || undefined;
        },
        { what: 'every member to get every announce', timeoutMs: 90_000 },
      );
      await waitUntil(deliveriesIdle, { what: 'the queues to drain', timeoutMs: 30_000 });
      return posted;
    };
    const check = (label: string, postsSoFar: number): void => {
      const t = deliveryTotals(sinks);
      console.log(
        `      ${label}: ${t.total} POSTs, ${t.distinct} distinct (inbox, activity) pairs; ` +
          `deliveries seen leased by ${owners.size} worker(s)`,
      );
      expect(t.distinct, `${label}: deliveries expected`).to.equal(postsSoFar * 2 * inboxes.length);
      expect(t.total, `${label}: every delivery sent exactly once`).to.equal(t.distinct);
    };

    // Few deliveries in flight per worker: the queue outlasts a poll, so the second worker must take its share.
    const slow = { GUILD_DELIVERY_CONCURRENCY: '4' };
    await start('web');
    const worker1 = await start('worker', slow);
    const started = Date.now();
    await phase([origin]);
    check('one web, one worker', postsPerPhase);
    const phase1 = Date.now() - started;

    const port2 = await freePort();
    const web2 = `http://127.0.0.1:${port2}`;
    await start('web', { GUILD_PORT: String(port2) });
    await waitUntil(
      async () => (await fetch(`${web2}/readyz`).catch(() => null))?.status === 200 || undefined,
      {
        what: 'the second web process',
        timeoutMs: 20_000,
      },
    );
    const worker2 = await start('worker', slow);
    const started2 = Date.now();
    await phase([origin, web2]);
    check('two webs, two workers', postsPerPhase * 2);
    expect(owners.size, 'deliveries of the second phase were leased by both workers').to.equal(2);
    const posts = (w: GuildProcess): number => w.output.filter((l) => l.includes(' announced to ')).length;
    console.log(
      `      phase 1 took ${phase1} ms, phase 2 ${Date.now() - started2} ms; ` +
        `posts taken in by worker 1: ${posts(worker1)}, worker 2: ${posts(worker2)}`,
    );
  });
});
