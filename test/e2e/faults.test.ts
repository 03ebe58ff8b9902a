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
} from '../support/sinks.ts';
import { testStoreKind } from '../support/test-store.ts';
import { announceIds, coverage, type Posted } from '../support/announces.ts';
import { openStore } from '../../src/storage/open-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { deliveryJobId } from '../../src/federation/publisher.ts';
import { groupKeyOwner } from '../../src/activitypub/urls.ts';
import { DELIVERY_PREFETCH_FACTOR } from '../../src/app/queues.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;
const MONGO = testStoreKind() === 'mongodb';
const GROUP = 'club';

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

  /**
   * The member posts a new public note to the group's inbox at the public origin, through `via` (a web process)
   * when given.
   */
  async function post(via?: string): Promise<Posted> {
    const inboxUrl = `${origin}/groups/${GROUP}/inbox`;
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
    const res = await poster.post(inboxUrl, create, undefined, via === undefined ? {} : { via });
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

  it('a worker killed with SIGKILL in the middle of a fan-out takes its jobs back when it starts again, long before its leases end', async function () {
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
    // Leases far longer than the test: only their release on restart lets the fan-out finish in time.
    const extra = {
      GUILD_DELIVERY_CONCURRENCY: String(concurrency),
      GUILD_DELIVERY_PER_HOST: '2',
      GUILD_DELIVERY_TIMEOUT_MS: '300000',
      GUILD_QUEUE_LEASE_MS: '3600000',
    };
    await start('web', extra);
    const worker = await start('worker', extra);

    const p = await post();
    const want = inboxes.length * 2;
    await waitUntil(
      () => {
        const c = coverage(sinks, inboxes, p);
        return c.have >= Math.ceil(want / 10) ? c.have : undefined;
      },
      { what: 'a tenth of the deliveries', timeoutMs: 60_000 },
    );
    expect(await worker.kill('SIGKILL')).to.equal(-1);
    const atKill = coverage(sinks, inboxes, p).have;
    expect(atKill, 'the kill landed in the middle of the fan-out').to.be.below(want);

    // Which (inbox, announce) pairs the killed worker held: those alone may arrive twice (sent, not recorded).
    const heldAtKill = new Set<string>();
    const now = Date.now();
    for (const id of await storedAnnounceIdsOf([p])) {
      for (const inbox of inboxes) {
        const job = await store.jobs.getJob(deliveryJobId(id, inbox));
        if (job?.state === 'queued' && job.leaseUntil > now) heldAtKill.add(`${inbox} ${id}`);
      }
    }
    const countsAtKill = new Map(deliveryCounts(sinks));
    const restartedAt = Date.now();
    const restarted = await start('worker', extra);
    await waitUntil(() => coverage(sinks, inboxes, p).have === want || undefined, {
      what: 'every member to get both announces',
      timeoutMs: 90_000,
    });
    await waitUntil(deliveriesIdle, { what: 'the queues to drain', timeoutMs: 30_000 });

    const lastAt = Math.max(...sinks.flatMap((s) => s.posts.map((hit) => hit.at)));
    const totals = deliveryTotals(sinks);
    console.log(
      `      ${inboxes.length} members on ${hosts} hosts; killed at ${atKill} of ${want} deliveries, ` +
        `${heldAtKill.size} held by the killed worker; last delivery ${lastAt - restartedAt} ms after the restart; ` +
        `${totals.total} POSTs, ${totals.duplicates} duplicates`,
    );
    expect(
      restarted.output.some((l) => l.includes('released the jobs of a process that is gone')),
      "the restarted worker released the killed one's leases",
    ).to.equal(true);
    expect(coverage(sinks, inboxes, p).missing).to.deep.equal([]);
    expect(totals.distinct, 'only the two announces of the post were sent').to.equal(want);
    const ids = await storedAnnounceIdsOf([p]);
    expect(ids).to.have.length(2);
    const counts = deliveryCounts(sinks);
    for (const id of ids) {
      for (const inbox of inboxes) {
        const pair = `${inbox} ${id}`;
        const n = counts.get(pair) ?? 0;
        if (heldAtKill.has(pair))
          expect(n, `${pair}: held at the kill, sent at most twice`).to.be.within(1, 2);
        else if ((countsAtKill.get(pair) ?? 0) === 0)
          expect(n, `${pair}: sent after the restart`).to.equal(1);
        else expect(n, `${pair}: sent before the kill`).to.equal(1);
      }
    }
    // A worker holds its deliveries in flight, those claimed ahead of its slots (DELIVERY_PREFETCH_FACTOR times
    // its concurrency), and those finished whose outcome waits for the next claim to be recorded (within that
    // same room).
    expect(
      heldAtKill.size,
      'the killed worker held no more than its deliveries in flight and those claimed ahead',
    ).to.be.at.most(concurrency * (1 + DELIVERY_PREFETCH_FACTOR[MONGO ? 'mongodb' : 'sqlite']));
    const key = await groupKey();
    for (const s of sinks) {
      for (const hit of s.posts)
        expect((await verifySinkPost(hit, key)).ok, `signature of ${hit.inbox}`).to.equal(true);
    }
  });

  it('members whose servers hang or refuse connections do not hold up the others', async function () {
    const sinks = await startSinks(20);
    const hanging: HangingServer = await startHangingServer();
    servers.push(...sinks, hanging);
    const healthy = inboxesOn(
      sinks.map((s) => s.origin),
      3,
    );
    const bad = [...inboxesOn([hanging.origin], 3), ...inboxesOn([await refusingOrigin()], 3)];
    await seed([...healthy, ...bad]);
    // The hanging server is never answered within the test: a delivery waiting on it would never end in time.
    await start('all', { GUILD_DELIVERY_TIMEOUT_MS: '600000', GUILD_DELIVERY_MAX_ATTEMPTS: '3' });

    const started = Date.now();
    const p = await post();
    await waitUntil(
      () =>
        (coverage(sinks, healthy, p).have === healthy.length * 2 && hanging.openWithRequest() > 0) ||
        undefined,
      {
        what: 'every healthy member to get both announces, and the hanging server its requests',
        timeoutMs: 90_000,
      },
    );
    const stillHanging = hanging.openWithRequest();
    console.log(
      `      all healthy members served in ${Date.now() - started} ms, ${stillHanging} requests hanging`,
    );
    expect(coverage(sinks, healthy, p).missing).to.deep.equal([]);
    expect(stillHanging, 'requests to the hanging server are still waiting for an answer').to.be.above(0);
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

  it('one web and one worker, then two of each: the workers share the deliveries, each sent exactly once', async function () {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // Phase 2's destinations answer only once the test opens them: deliveries pile up in flight.
    const sinks = await startSinks(MONGO ? 8 : 12, { delayMs: 20 });
    const held = await startSinks(MONGO ? 4 : 6, { gate });
    servers.push(...sinks, ...held);
    const inboxes = inboxesOn(
      sinks.map((s) => s.origin),
      3,
    );
    const heldInboxes = inboxesOn(
      held.map((s) => s.origin),
      3,
    );
    await seed(inboxes);
    const all = [...sinks, ...held];

    // Held deliveries must not time out (and be sent again) while the test waits for both workers to hold some.
    const slow = {
      GUILD_DELIVERY_CONCURRENCY: '4',
      GUILD_DELIVERY_PER_HOST: '1',
      GUILD_DELIVERY_TIMEOUT_MS: '300000',
    };
    await start('web');
    await start('worker', slow);
    const first = await post();
    await waitUntil(() => coverage(sinks, inboxes, first).have === inboxes.length * 2 || undefined, {
      what: 'every member to get both announces',
      timeoutMs: 90_000,
    });
    await waitUntil(deliveriesIdle, { what: 'the queues to drain', timeoutMs: 30_000 });
    const t1 = deliveryTotals(all);
    expect(t1.distinct, 'one web, one worker: deliveries').to.equal(inboxes.length * 2);
    expect(t1.total, 'one web, one worker: each sent once').to.equal(t1.distinct);

    const port2 = await freePort();
    const web2 = `http://127.0.0.1:${port2}`;
    await start('web', { GUILD_PORT: String(port2) });
    await start('worker', slow);
    await seed(heldInboxes);
    // A post through each web process. The held destinations keep each worker's few delivery slots busy, so the
    // deliveries can only all be in flight with both workers holding some: the proof that they share the queue.
    const posted = [await post(), await post(web2)];
    const owners = await waitUntil(
      async () => {
        const now = Date.now();
        const found = new Set<string>();
        for (const id of await storedAnnounceIdsOf(posted))
          for (const inbox of heldInboxes) {
            const job = await store.jobs.getJob(deliveryJobId(id, inbox));
            if (job?.leaseOwner && job.leaseUntil > now)
              found.add(job.leaseOwner.split(':').slice(0, 2).join(':'));
          }
        return found.size >= 2 ? found : undefined;
      },
      { what: 'deliveries to the held destinations leased by both worker processes', timeoutMs: 90_000 },
    );
    expect(owners.size, 'worker processes holding deliveries at once').to.equal(2);
    open();
    const everyone = [...inboxes, ...heldInboxes];
    await waitUntil(
      () => posted.every((p) => coverage(all, everyone, p).have === everyone.length * 2) || undefined,
      { what: 'every member to get every announce', timeoutMs: 90_000 },
    );
    await waitUntil(deliveriesIdle, { what: 'the queues to drain', timeoutMs: 30_000 });
    const t2 = deliveryTotals(all);
    console.log(
      `      two webs, two workers: ${t2.total} POSTs, ${t2.distinct} distinct (inbox, activity) pairs`,
    );
    expect(t2.distinct, 'two webs, two workers: deliveries').to.equal(
      inboxes.length * 2 + everyone.length * 4,
    );
    expect(t2.total, 'two webs, two workers: each sent exactly once').to.equal(t2.distinct);
  });

  /** The ids of the announces stored for the given posts: the Announce{Create} and the boost of each. */
  async function storedAnnounceIdsOf(posted: Posted[]): Promise<string[]> {
    const about = new Set(posted.flatMap((p) => [p.createId, p.noteId]));
    const ids = (await store.activities.listOutbox(GROUP, null, 50))
      .filter((a) => a.objectId !== null && about.has(a.objectId))
      .map((a) => a.id);
    for (const p of posted) {
      const boost = (await store.posts.getPost(GROUP, p.noteId))?.boostId;
      if (boost) ids.push(boost);
    }
    return [...new Set(ids)];
  }
});
