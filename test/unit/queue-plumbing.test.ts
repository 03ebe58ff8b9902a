/**
 * The plumbing under the queues: group commit of SQLite writes, wake-ups that cross threads, and metrics added up
 * over background threads.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { WriteBatch } from '../../src/storage/sqlite/write-batch.sqlite.ts';
import { LocalQueueSignal } from '../../src/federation/queue-signal.ts';
import { Metrics } from '../../src/federation/metrics.ts';

describe('WriteBatch (SQLite group commit)', function () {
  let dir: string;
  let db: Database;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'guild-batch-'));
    db = new BetterSqlite3(join(dir, 'b.sqlite'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  });
  afterEach(function () {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the writes of one turn of the event loop in one transaction, in order, and returns each result', async function () {
    const batch = new WriteBatch(db);
    const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
    const seen: boolean[] = [];
    const results = await Promise.all(
      [1, 2, 3].map((id) =>
        batch.submit(() => {
          seen.push(db.inTransaction);
          return insert.run(id, `v${id}`).changes;
        }),
      ),
    );
    expect(results).to.deep.equal([1, 1, 1]);
    expect(seen, 'every write ran inside the transaction').to.deep.equal([true, true, true]);
    expect(db.prepare('SELECT id FROM t ORDER BY rowid').all()).to.deep.equal([
      { id: 1 },
      { id: 2 },
      { id: 3 },
    ]);
  });

  it('fails a failing write alone: the other writes of its batch are committed', async function () {
    const batch = new WriteBatch(db);
    const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
    const a = batch.submit(() => insert.run(1, 'a'));
    const b = batch.submit(() => {
      insert.run(2, 'written, then rolled back with its failing write');
      return insert.run(1, 'duplicate id');
    });
    const c = batch.submit(() => insert.run(3, 'c'));
    const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
    expect(ra.status).to.equal('fulfilled');
    expect(rb.status).to.equal('rejected');
    expect(String((rb as PromiseRejectedResult).reason)).to.match(/UNIQUE|constraint/i);
    expect(rc.status).to.equal('fulfilled');
    expect(db.prepare('SELECT id, v FROM t ORDER BY id').all()).to.deep.equal([
      { id: 1, v: 'a' },
      { id: 3, v: 'c' },
    ]);
  });

  it('commits pending writes on flush() before their turn comes', async function () {
    const batch = new WriteBatch(db);
    const pending = batch.submit(() => db.prepare('INSERT INTO t (id, v) VALUES (7, ?)').run('x'));
    batch.flush();
    expect(db.prepare('SELECT v FROM t WHERE id = 7').get()).to.deep.equal({ v: 'x' });
    expect((await pending).changes).to.equal(1);
  });

  /** Runs `fn` with a batch on `db` while a second connection to the file holds the write lock. */
  async function withLockHeld(
    fn: (o: { batch: WriteBatch; insert: Statement; other: Database }) => Promise<void>,
  ): Promise<void> {
    const other = new BetterSqlite3(join(dir, 'b.sqlite'));
    try {
      other.exec('BEGIN IMMEDIATE');
      await fn({
        batch: new WriteBatch(db),
        insert: db.prepare('INSERT INTO t (id, v) VALUES (?, ?)'),
        other,
      });
    } finally {
      other.close();
    }
  }

  it('keeps the event loop running while another connection holds the write lock, then commits', async function () {
    db.pragma('busy_timeout = 3000');
    await withLockHeld(async ({ batch, insert, other }) => {
      let settled = false;
      const first = batch.submit(() => insert.run(1, 'a')).finally(() => (settled = true));
      // A timer of 20 ms: SQLite's busy handler would hold the thread for the whole 3 s busy_timeout.
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(performance.now() - started, 'the event loop was not stopped').to.be.below(1_000);
      expect(settled, 'not committed while the lock is held').to.equal(false);
      // Writes that arrive meanwhile join the waiting ones, in order.
      const second = batch.submit(() => insert.run(2, 'b'));
      other.exec('COMMIT');
      expect((await first).changes).to.equal(1);
      expect((await second).changes).to.equal(1);
      expect(db.prepare('SELECT id FROM t ORDER BY rowid').all()).to.deep.equal([{ id: 1 }, { id: 2 }]);
    });
  });

  it('fails the writes with SQLITE_BUSY when the lock stays held for busy_timeout, writing nothing', async function () {
    db.pragma('busy_timeout = 100');
    await withLockHeld(async ({ batch, insert, other }) => {
      const outcome = await batch
        .submit(() => insert.run(1, 'a'))
        .then(
          () => 'committed',
          (e: unknown) => (e as { code?: string }).code,
        );
      expect(outcome).to.equal('SQLITE_BUSY');
      expect(db.pragma('busy_timeout', { simple: true }), 'busy_timeout restored').to.equal(100);
      other.exec('ROLLBACK');
      expect(db.prepare('SELECT count(*) AS n FROM t').get()).to.deep.equal({ n: 0 });
      // The database is usable again at once.
      expect((await batch.submit(() => insert.run(2, 'b'))).changes).to.equal(1);
    });
  });

  it('refuses writes once the database is closed, without writing', async function () {
    const batch = new WriteBatch(db);
    const pending = batch.submit(() => 1);
    db.close();
    let error: unknown = null;
    await pending.catch((e: unknown) => (error = e));
    expect(String(error)).to.contain('closed');
    db = new BetterSqlite3(join(dir, 'b.sqlite'));
  });
});

describe('LocalQueueSignal', function () {
  it('carries a notification to the loops of another thread of the process (broadcast channel)', async function () {
    const here = new LocalQueueSignal();
    const there = new LocalQueueSignal();
    const name = `test-${Math.random()}`;
    here.bridge(name);
    there.bridge(name);
    try {
      const since = there.generation('intake');
      const woke = there.wait('intake', 5_000, undefined, since).then(() => there.generation('intake'));
      here.notify('intake');
      expect(await woke, 'woken by the notification, not by the 5 s timer').to.equal(since + 1);
      // Other queues are not woken.
      expect(there.generation('deliver')).to.equal(0);
    } finally {
      here.close();
      there.close();
    }
  });

  it('does not wait when a notification came after the loop last looked for work', async function () {
    const s = new LocalQueueSignal();
    const since = s.generation('deliver');
    s.notify('deliver');
    const started = Date.now();
    await s.wait('deliver', 10_000, undefined, since);
    expect(Date.now() - started).to.be.below(1_000);
  });
});

describe('Metrics of background threads', function () {
  it('adds counters and histograms up and keeps the larger gauge', async function () {
    const main = new Metrics();
    const t1 = new Metrics();
    const t2 = new Metrics();
    main.inboxRequests.inc({ status: '202' }, 5);
    t1.jobs.inc({ outcome: 'done', queue: 'deliver' }, 3);
    t2.jobs.inc({ outcome: 'done', queue: 'deliver' }, 4);
    t2.jobs.inc({ outcome: 'done', queue: 'intake' });
    t1.jobSeconds.observe({ queue: 'deliver' }, 0.02);
    t2.jobSeconds.observe({ queue: 'deliver' }, 2);
    t1.circuitOpen.set({ host: 'a.example' }, 0);
    t2.circuitOpen.set({ host: 'a.example' }, 1);
    const threads = [await t1.snapshot(), await t2.snapshot()];
    const text = await main.render(threads);
    expect(text).to.match(/^guild_inbox_requests_total\{status="202"\} 5$/m);
    expect(text).to.match(/^guild_jobs_total\{outcome="done",queue="deliver"\} 7$/m);
    expect(text).to.match(/^guild_jobs_total\{outcome="done",queue="intake"\} 1$/m);
    expect(text).to.match(/^guild_job_seconds_count\{queue="deliver"\} 2$/m);
    expect(text).to.match(/^guild_job_seconds_bucket\{le="0.05",queue="deliver"\} 1$/m);
    expect(text).to.match(/^guild_job_seconds_bucket\{le="5",queue="deliver"\} 2$/m);
    expect(text).to.match(/^guild_delivery_circuit_open\{host="a.example"\} 1$/m);
    // The same sums as plain data (what a thread posts), and the threads' own registries left as they were.
    const jobs = (await main.snapshot(threads)).find((m) => m.name === 'guild_jobs_total');
    expect(jobs?.values).to.deep.include({ labels: { outcome: 'done', queue: 'deliver' }, value: 7 });
    expect(await t1.render()).to.match(/^guild_jobs_total\{outcome="done",queue="deliver"\} 3$/m);
  });
});
