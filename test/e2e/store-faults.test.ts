/**
 * Store faults survived, with Guild as real processes: while the store cannot take writes (SQLite: another
 * connection holds the write lock beyond busy_timeout; MongoDB: the MongoDB-wire server is stopped) the inbox
 * answers 503, not 202, and /readyz reports the outage; when the store is back, the queues resume by themselves
 * and every destination of a fan-out caught in the middle gets each announce exactly once.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import {
  runGuildCli,
  sharedStoreEnv,
  startGuildProcess,
  type GuildProcess,
} from '../support/guild-process.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { freePort, waitUntil } from '../support/net.ts';
import { closeAll, deliveryCounts, deliveryTotals, startSinks, type Sink } from '../support/sinks.ts';
import { testStoreKind } from '../support/test-store.ts';
import { startFerretDb, type RunningFerretDb } from '../support/ferretdb.ts';
import { openStore } from '../../src/storage/open-store.ts';
import type { Store } from '../../src/storage/store.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;
const GROUP = 'steady';
const MONGO = testStoreKind() === 'mongodb';

describe('store faults: the store goes away in the middle of a fan-out and comes back', function () {
  this.timeout(180_000);
  const procs: GuildProcess[] = [];
  let sinks: Sink[] = [];
  let ferret: RunningFerretDb | undefined;
  let remove: (() => Promise<void>) | undefined;
  let env: Record<string, string>;
  let origin: string;
  let store: Store;
  let poster: RawActor;
  let lock: Database | undefined;

  before(async function () {
    let storeEnv: Record<string, string>;
    if (MONGO) {
      // A MongoDB-wire server of this test's own, to stop and start again.
      ferret = await startFerretDb();
      storeEnv = { GUILD_STORE: 'mongodb', GUILD_MONGODB_URL: `${ferret.url}guild_faults` };
    } else {
      const shared = await sharedStoreEnv();
      remove = () => shared.remove();
      storeEnv = shared.env;
    }
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    env = {
      ...storeEnv,
      GUILD_ORIGIN: origin,
      GUILD_PORT: String(port),
      GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
      GUILD_LOG_LEVEL: 'info',
      GUILD_DELIVERY_RETRY_BASE_MS: '100',
      GUILD_DELIVERY_RETRY_MAX_MS: '500',
      // Leases outlast the outage: nothing runs twice because a lease ended while the store was away.
      GUILD_DELIVERY_TIMEOUT_MS: '120000',
      GUILD_QUEUE_LEASE_MS: '600000',
      GUILD_DELIVERY_CONCURRENCY: '4',
      GUILD_DELIVERY_PER_HOST: '1',
    };
    const created = await runGuildCli(['group', 'create', GROUP], env);
    expect(created.code, created.stderr).to.equal(0);
    store = await openStore(
      MONGO
        ? { kind: 'mongodb', url: env.GUILD_MONGODB_URL ?? '' }
        : { kind: 'sqlite', path: env.GUILD_SQLITE_PATH ?? '' },
    );
    poster = await startRawActor('steady-poster');
    sinks = await startSinks(MONGO ? 10 : 20, { delayMs: 50 });
    const t = Date.now();
    const inboxes = [
      `${poster.actorId}/inbox`,
      ...sinks.flatMap((s) => [1, 2].map((i) => `${s.origin}/users/m${i}/inbox`)),
    ];
    for (const inbox of inboxes) {
      const actorId = inbox.replace(/\/inbox$/, '');
      await store.members.upsertMember({
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
    }
    procs.push(await startGuildProcess({ ...env, GUILD_ROLE: 'web' }));
    procs.push(await startGuildProcess({ ...env, GUILD_ROLE: 'worker' }));
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      for (const p of procs)
        process.stderr.write(`---- guild ${p.proc.pid} ----\n${p.output.slice(-60).join('\n')}\n`);
  });
  after(async function () {
    lock?.close();
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await closeAll(sinks);
    await poster?.close();
    await store?.close().catch(() => undefined);
    await ferret?.stop();
    await remove?.();
  });

  function create(): { id: string; body: Record<string, unknown> } {
    const noteId = `${poster.actorId}/notes/${randomUUID()}`;
    const groupId = `${origin}/groups/${GROUP}`;
    const object = {
      id: noteId,
      type: 'Note',
      attributedTo: poster.actorId,
      content: '<p>steady</p>',
      to: [PUBLIC],
      cc: [groupId],
    };
    const body = {
      '@context': AS,
      id: `${noteId}/activity`,
      type: 'Create',
      actor: poster.actorId,
      to: [PUBLIC],
      cc: [groupId],
      object,
    };
    return { id: body.id, body };
  }

  const readyz = async (): Promise<number> => (await fetch(`${origin}/readyz`)).status;

  /** Takes the store away: FerretDB stopped, or SQLite's write lock held by another connection. */
  async function takeStoreAway(): Promise<void> {
    if (ferret) return ferret.pause();
    lock = new BetterSqlite3(env.GUILD_SQLITE_PATH ?? '');
    lock.exec('BEGIN EXCLUSIVE');
  }

  async function bringStoreBack(): Promise<void> {
    if (ferret) return ferret.resume();
    lock?.exec('ROLLBACK');
    lock?.close();
    lock = undefined;
  }

  it('answers 503 while the store is away, reports it in /readyz, and loses nothing answered 202', async function () {
    const sinkInboxes = sinks.flatMap((s) => [1, 2].map((i) => `${s.origin}/users/m${i}/inbox`));
    const first = create();
    expect((await poster.post(`${origin}/groups/${GROUP}/inbox`, first.body)).status).to.equal(202);
    await waitUntil(() => deliveryTotals(sinks).distinct >= 4 || undefined, {
      what: 'the fan-out to start',
      timeoutMs: 60_000,
    });

    await takeStoreAway();
    const during = create();
    const status = await waitUntil(
      async () => {
        const s = (await poster.post(`${origin}/groups/${GROUP}/inbox`, during.body)).status;
        return s === 503 ? s : undefined;
      },
      { what: 'the inbox to answer 503', timeoutMs: 60_000 },
    );
    expect(status).to.equal(503);
    expect(
      await waitUntil(async () => ((await readyz()) === 503 ? 503 : undefined), {
        what: '/readyz to report the outage',
        timeoutMs: 60_000,
      }),
    ).to.equal(503);

    await bringStoreBack();
    await waitUntil(async () => (await readyz()) === 200 || undefined, {
      what: '/readyz after the outage',
      timeoutMs: 60_000,
    });
    // The refused activity is sent again by its server (here: the test), now taken.
    expect((await poster.post(`${origin}/groups/${GROUP}/inbox`, during.body)).status).to.equal(202);

    const announces = async (): Promise<string[]> =>
      (await store.activities.listOutbox(GROUP, null, 20)).map((a) => a.id);
    await waitUntil(
      async () => {
        const ids = await announces();
        if (ids.length < 2) return undefined;
        const counts = deliveryCounts(sinks);
        return (
          ids.every((id) => sinkInboxes.every((inbox) => (counts.get(`${inbox} ${id}`) ?? 0) > 0)) ||
          undefined
        );
      },
      { what: 'every member to get both posts', timeoutMs: 120_000 },
    );
    await waitUntil(
      async () => {
        const now = Date.now();
        for (const q of ['intake', 'fanout', 'deliver'] as const) {
          const s = await store.jobs.stats(q, now);
          if (s.queued > 0 || s.leased > 0) return false;
        }
        return true;
      },
      { what: 'the queues to drain', timeoutMs: 60_000 },
    );
    const totals = deliveryTotals(sinks);
    console.log(
      `      ${totals.total} POSTs to ${sinkInboxes.length} inboxes, ${totals.duplicates} duplicates`,
    );
    expect(totals.duplicates, 'each announce reached each destination exactly once').to.equal(0);
    expect(totals.distinct).to.be.at.least(sinkInboxes.length * 2);
  });
});
