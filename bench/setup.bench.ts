/**
 * Setting up one row: a fresh store (an SQLite file in a temp dir, or a new database on the MongoDB-wire
 * server), a group with members seeded directly through the storage port, and Guild started on it in a child
 * process; plus the sink process.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { compose } from '../src/app/compose.ts';
import { openStore, type StoreOptions } from '../src/storage/open-store.ts';
import { groupKeyOwner } from '../src/activitypub/urls.ts';
import type { Member, Store } from '../src/storage/store.ts';
import type { MemberDoc } from '../src/storage/mongodb/documents.mongodb.ts';
import {
  deliveryInboxDocsOf,
  type DeliveryInboxDoc,
} from '../src/storage/mongodb/delivery-inboxes.mongodb.ts';
import { insertManyIgnoringDuplicates } from '../src/storage/mongodb/errors.mongodb.ts';
import { memberDocOf } from '../src/storage/mongodb/member.repository.mongodb.ts';
import { int } from './report.bench.ts';
import { freePort } from '../test/support/net.ts';
import { ChildHandle, fields, num } from './ipc.bench.ts';

export type StoreKind = 'sqlite' | 'mongodb';

/** What every row is given by the runner. */
export interface RowContext {
  kind: StoreKind;
  /** The MongoDB-wire server (for `kind` mongodb). */
  mongoUrl: string | null;
  /**
   * The backend of FerretDB when the bench started one for `mongodb` (null with MONGODB_URL). On SQLite it scans
   * a collection for nearly every command: the rows then use smaller warm-ups and one trial, which is all it can
   * finish in their time.
   */
  ferret: 'postgresql' | 'sqlite' | null;
  /** Absolute time (epoch ms) by which the row must be over. */
  deadline: number;
  /** Echo the children's output. */
  verbose: boolean;
  /** Directory for CPU profiles of the Guild process, or null. */
  profileDir: string | null;
  /** Progress line on stderr. */
  progress(msg: string): void;
}

/** A fresh place for a store and how to delete it. */
export interface BenchStore {
  options: StoreOptions & { dbName?: string };
  /** GUILD_* settings that point the configuration at it. */
  env: Record<string, string>;
  remove(): Promise<void>;
}

export async function newBenchStore(ctx: RowContext): Promise<BenchStore> {
  if (ctx.kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'guild-bench-'));
    const path = join(dir, 'guild.sqlite');
    return {
      options: { kind: 'sqlite', path },
      env: { GUILD_STORE: 'sqlite', GUILD_SQLITE_PATH: path },
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const url = ctx.mongoUrl;
  if (url === null) throw new Error('no MongoDB-wire server');
  const dbName = `guild_bench_${randomBytes(6).toString('hex')}`;
  return {
    options: { kind: 'mongodb', url, dbName },
    env: { GUILD_STORE: 'mongodb', GUILD_MONGODB_URL: `${url.replace(/\/?$/, '/')}${dbName}` },
    remove: async () => {
      const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
      try {
        await client.db(dbName).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

/** The GUILD_* configuration of a bench Guild on `port`. */
export function guildEnv(
  port: number,
  store: BenchStore,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    GUILD_ORIGIN: `http://127.0.0.1:${port}`,
    GUILD_HOST: '127.0.0.1',
    GUILD_PORT: String(port),
    GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
    GUILD_LOG_LEVEL: 'warn',
    // Background threads as configured by default, unless the harness's own environment says otherwise.
    GUILD_WORKER_THREADS: process.env.GUILD_WORKER_THREADS ?? 'auto',
    GUILD_WORKER_NICE: process.env.GUILD_WORKER_NICE ?? '10',
    GUILD_DELIVERY_CONCURRENCY: '64',
    GUILD_DELIVERY_PER_HOST: '4',
    GUILD_DELIVERY_TIMEOUT_MS: '15000',
    GUILD_DELIVERY_RETRY_BASE_MS: '1000',
    ...store.env,
    ...extra,
  };
}

/** One seeded member: where it lives and where deliveries to it go. */
export interface SeedMember {
  actorId: string;
  inbox: string;
  sharedInbox: string | null;
}

export interface SeededGroup {
  name: string;
  groupId: string;
  inboxUrl: string;
  keyId: string;
  publicKeyPem: string;
  seedMs: number;
}

/**
 * Creates group `name` (with its key) and stores `count` accepted members given by `member(i)` (SQLite: through
 * the storage port; MongoDB: bulk inserts, see {@link insertAllMongo}), checks the count through the port, then
 * closes the store. Stops with an error at the row's deadline.
 */
export async function seedGroup(
  ctx: RowContext,
  store: BenchStore,
  env: Record<string, string>,
  name: string,
  count: number,
  member: (i: number) => SeedMember,
): Promise<SeededGroup> {
  const config = loadConfig(env);
  const core = await compose(config, {
    log: createLogger('warn', { service: 'guild-bench-seed' }),
    store: await openStore(store.options),
  });
  try {
    const created = await core.groups.create(name, { title: 'Bench group' });
    if (!created.ok) throw new Error(`could not create the group: ${JSON.stringify(created.error)}`);
    const publicKeyPem = await core.store.keys.getPublicKey(groupKeyOwner(name));
    if (publicKeyPem === null) throw new Error('the group has no key');
    const started = performance.now();
    if (store.options.kind === 'mongodb')
      await insertAllMongo(ctx, store.options.url, store.options.dbName, name, count, member);
    else if (count > SQLITE_PORT_SEED_MAX)
      await insertAllSqlite(ctx, store.options.path, name, count, member);
    else await upsertAll(ctx, core.store, name, count, member);
    const seeded = await core.store.members.countMembers(name, 'accepted');
    if (seeded !== count) throw new Error(`seeding: the store counts ${seeded} members, not ${count}`);
    return {
      name,
      groupId: core.urls.group(name),
      inboxUrl: core.urls.inbox(name),
      keyId: core.urls.groupKeyId(name),
      publicKeyPem,
      seedMs: performance.now() - started,
    };
  } finally {
    await core.close();
  }
}

function memberOf(name: string, m: SeedMember, t: number): Member {
  return {
    groupName: name,
    actorId: m.actorId,
    inbox: m.inbox,
    sharedInbox: m.sharedInbox,
    deliveryInbox: m.sharedInbox ?? m.inbox,
    state: 'accepted',
    followId: `${m.actorId}#follow`,
    createdAt: t,
    updatedAt: t,
  };
}

/**
 * Groups up to this size are seeded through the SQLite adapter's port (one `upsertMember`, one commit, each);
 * larger ones with bulk inserts in its table (minutes saved for a million).
 */
const SQLITE_PORT_SEED_MAX = 20_000;

/**
 * Seeds an SQLite store with bulk inserts into the adapter's `members` table, many rows per transaction. The
 * caller checks the result through the port; the store is open meanwhile (WAL lets both write in turn).
 */
async function insertAllSqlite(
  ctx: RowContext,
  path: string,
  name: string,
  count: number,
  member: (i: number) => SeedMember,
): Promise<void> {
  const db = new BetterSqlite3(path);
  try {
    db.pragma('busy_timeout = 5000');
    const insert = db.prepare(
      `INSERT INTO members (group_name, actor_id, inbox, shared_inbox, delivery_inbox, state, follow_id,
         created_at, updated_at)
       VALUES (@groupName, @actorId, @inbox, @sharedInbox, @deliveryInbox, @state, @followId, @createdAt, @updatedAt)`,
    );
    const insertMany = db.transaction((rows: Member[]) => {
      for (const row of rows) insert.run(row);
    });
    const batch = 10_000;
    let last = performance.now();
    for (let from = 0; from < count; from += batch) {
      if (Date.now() > ctx.deadline) throw new Error(`deadline reached while seeding (${from} of ${count})`);
      const t = Date.now();
      const rows: Member[] = [];
      for (let i = from; i < Math.min(count, from + batch); i++) rows.push(memberOf(name, member(i), t));
      insertMany(rows);
      if (performance.now() - last > 10_000) {
        last = performance.now();
        ctx.progress(`  seeded ${int(from + rows.length)} of ${int(count)} members`);
      }
    }
  } finally {
    db.close();
  }
}

/** Seeds through the storage port, one `upsertMember` at a time. */
async function upsertAll(
  ctx: RowContext,
  store: Store,
  name: string,
  count: number,
  member: (i: number) => SeedMember,
): Promise<void> {
  let last = performance.now();
  for (let i = 0; i < count; i++) {
    if (Date.now() > ctx.deadline) throw new Error(`deadline reached while seeding (${i} of ${count})`);
    await store.members.upsertMember(memberOf(name, member(i), Date.now()));
    if (performance.now() - last > 10_000) {
      last = performance.now();
      ctx.progress(`  seeded ${int(i)} of ${int(count)} members`);
    }
  }
}

/**
 * Seeds a MongoDB-wire store with bulk inserts in the adapter's document shape (members, and the group's list of
 * distinct inboxes). FerretDB 1.x (SQLite backend) pushes down only `_id` filters, so every `upsertMember` scans
 * the whole collection and seeding through the port grows with the square of the group's size. The caller checks
 * the result through the port.
 */
async function insertAllMongo(
  ctx: RowContext,
  url: string,
  dbName: string | undefined,
  name: string,
  count: number,
  member: (i: number) => SeedMember,
): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    const members = client.db(dbName).collection<MemberDoc>('members');
    const inboxes = client.db(dbName).collection<DeliveryInboxDoc>('delivery_inboxes');
    const batch = 1000;
    for (let from = 0; from < count; from += batch) {
      if (Date.now() > ctx.deadline) throw new Error(`deadline reached while seeding (${from} of ${count})`);
      const t = Date.now();
      const docs: MemberDoc[] = [];
      for (let i = from; i < Math.min(count, from + batch); i++)
        docs.push(memberDocOf(memberOf(name, member(i), t)));
      // The group's list of distinct inboxes first, as the adapter writes it (delivery-inboxes.mongodb.ts).
      await insertManyIgnoringDuplicates(inboxes, deliveryInboxDocsOf(docs));
      await members.insertMany(docs, { ordered: true });
    }
  } finally {
    await client.close();
  }
}

/** Guild running in a child process. */
export interface GuildProcess {
  handle: ChildHandle;
  /** Where it serves HTTP; empty for a worker process. */
  origin: string;
  /** Current and peak memory of the Guild process. */
  usage(): Promise<{ rss: number; heapUsed: number; maxRss: number; cpuMs: number }>;
  /** Jobs enqueued and finished per queue (`intake`, `fanout`, `deliver`). */
  jobs(): Promise<Record<string, Record<string, number>>>;
  /** MongoDB commands the process (all its threads) has sent so far, by command name; empty on SQLite. */
  commands(): Promise<CommandCounts>;
}

/** MongoDB commands by name (`find`, `insert`, `update`, `getMore`...). */
export type CommandCounts = Record<string, number>;

/** The commands sent between two readings, by name, and their total. */
export function commandsBetween(
  before: CommandCounts,
  after: CommandCounts,
): { total: number; byName: CommandCounts } {
  const byName: CommandCounts = {};
  let total = 0;
  for (const [name, n] of Object.entries(after)) {
    const d = n - (before[name] ?? 0);
    if (d <= 0) continue;
    byName[name] = d;
    total += d;
  }
  return { total, byName };
}

/** Claims that found nothing (each one `find` on MongoDB: the polls of idle loops), over every queue. */
export async function emptyClaimsOf(processes: GuildProcess[]): Promise<number> {
  let n = 0;
  for (const p of processes) for (const c of Object.values(await p.jobs())) n += c['emptyClaims'] ?? 0;
  return n;
}

/** `find 12, insert 4, update 3` (most first). */
export function describeCommands(byName: CommandCounts): string {
  const parts = Object.entries(byName)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${int(n)}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export async function startGuildProcess(
  ctx: RowContext,
  env: Record<string, string>,
  label: string,
): Promise<GuildProcess> {
  const execArgv = ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.profileDir, label)}`] : [];
  const { handle, ready } = await ChildHandle.start(
    'guild',
    here('./guild.child.ts'),
    // Guild's default poll interval: idle loops poll the store as they would in production (their commands count).
    { env, pollMs: 500 },
    { timeoutMs: 60_000, execArgv, echo: ctx.verbose },
  );
  // A worker process (GUILD_ROLE=worker) serves no HTTP: it has no port, and no origin of its own.
  const port = fields(ready, 'guild ready')['port'];
  return {
    handle,
    origin: typeof port === 'number' ? `http://127.0.0.1:${port}` : '',
    async usage() {
      const u = fields(await handle.call('usage', {}, 10_000), 'usage');
      return {
        rss: num(u, 'rss'),
        heapUsed: num(u, 'heapUsed'),
        maxRss: num(u, 'maxRss'),
        cpuMs: num(u, 'cpuMs'),
      };
    },
    async jobs() {
      const out: Record<string, Record<string, number>> = {};
      for (const [q, c] of Object.entries(fields(await handle.call('jobs', {}, 10_000), 'jobs'))) {
        const counts = fields(c, q);
        out[q] = Object.fromEntries(Object.entries(counts).map(([k]) => [k, num(counts, k)]));
      }
      return out;
    },
    async commands() {
      const counts = fields(await handle.call('commands', {}, 10_000), 'commands');
      return Object.fromEntries(Object.keys(counts).map((k) => [k, num(counts, k)]));
    },
  };
}

/** The sink process (see sink.child.ts). */
export async function startSinks(
  ctx: RowContext,
  count: number,
  delayMs: number,
): Promise<{ handle: ChildHandle; ports: number[] }> {
  const { handle } = await ChildHandle.start(
    'sinks',
    here('./sink.child.ts'),
    {},
    { timeoutMs: 30_000, echo: ctx.verbose },
  );
  const r = fields(await handle.call('listen', { count, delayMs }, 120_000), 'listen');
  const ports = r['ports'];
  if (!Array.isArray(ports) || !ports.every((p) => typeof p === 'number'))
    throw new Error('listen: no ports');
  return { handle, ports: ports as number[] };
}

/** A free loopback port for Guild (its origin must be known before the group is seeded). */
export const guildPort = freePort;
