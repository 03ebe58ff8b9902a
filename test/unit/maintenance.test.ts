/**
 * The maintenance loop and lease holders: who is known to be gone, and one pass over a real SQLite store with a
 * fixed clock (what is purged, what is kept, and for how long received activity ids outlive their jobs).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isGoneHolder,
  leaseOwnerName,
  parseLeaseOwner,
  probeProcess,
  thisProcess,
  type ProcessIdentity,
} from '../../src/federation/lease-owner.ts';
import { Maintenance, MIN_SAFE_REPLAY_WINDOW_MS } from '../../src/federation/maintenance.ts';
import { openSqliteStore } from '../../src/storage/sqlite/store.sqlite.ts';
import type { Store } from '../../src/storage/store.ts';
import { createLogger } from '../../src/log.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('lease holders', function () {
  const me: ProcessIdentity = { host: 'box', pid: 100, started: '5000' };
  const running = new Map<number, string>([[200, '6000']]);
  const probe = (pid: number): { started: string } | null => {
    const started = running.get(pid);
    return started === undefined ? null : { started };
  };

  it('names an owner by host, process id, start and part, and reads it back', function () {
    const name = leaseOwnerName({ host: 'a:b', pid: 7, started: '42' }, 't1');
    expect(name).to.match(/^a:b:7:42:t1-[0-9a-f]{8}$/);
    expect(parseLeaseOwner(name)).to.deep.equal({ host: 'a:b', pid: 7, started: '42' });
    expect(parseLeaseOwner('1234-t0-abcdef12'), 'the form of earlier versions').to.equal(null);
    expect(parseLeaseOwner('w1')).to.equal(null);
  });

  it('knows a holder is gone only on this host: an earlier start of this pid, or a pid that stopped or was reused', function () {
    const gone = (owner: string): boolean => isGoneHolder(owner, me, probe);
    expect(gone('box:100:4000:main-aaaaaaaa'), 'an earlier start of this process').to.equal(true);
    expect(gone('box:100:5000:t0-aaaaaaaa'), 'a thread of this very process').to.equal(false);
    expect(gone('box:300:4000:main-aaaaaaaa'), 'a process that no longer runs').to.equal(true);
    expect(gone('box:200:4000:main-aaaaaaaa'), 'a pid now used by another process').to.equal(true);
    expect(gone('box:200:6000:main-aaaaaaaa'), 'a sibling still running').to.equal(false);
    expect(gone('other:300:4000:main-aaaaaaaa'), 'another host: never judged').to.equal(false);
    expect(gone('300-t0-aaaaaaaa'), 'a name in another form').to.equal(false);
  });

  it('tells a real process that ran and stopped from one that runs (Linux /proc or kill 0)', async function () {
    const real = thisProcess();
    expect(probeProcess(process.pid)).not.to.equal(null);
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const pid = child.pid ?? -1;
    const started = probeProcess(pid)?.started ?? '0';
    const owner = `${real.host}:${pid}:${started}:main-aaaaaaaa`;
    expect(isGoneHolder(owner, real), 'while it runs').to.equal(false);
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
    expect(isGoneHolder(owner, real), 'once it was killed').to.equal(true);
  });
});

describe('maintenance pass', function () {
  let dir: string;
  let store: Store;
  let clock: number;
  const log = createLogger('silent', { service: 'test' });
  const me: ProcessIdentity = { host: 'box', pid: 100, started: '5000' };
  const config = { intervalMs: 60_000, doneRetentionMs: HOUR, replayWindowMs: DAY };
  const maintenance = (): Maintenance =>
    new Maintenance({ store, config, me, log, now: () => clock, probe: () => null });

  beforeEach(async function () {
    dir = mkdtempSync(join(tmpdir(), 'guild-maintenance-'));
    store = await openSqliteStore(join(dir, 'guild.sqlite'));
    clock = 10 * DAY;
  });
  afterEach(async function () {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const job = (id: string, queue: 'intake' | 'deliver') => ({
    id,
    queue,
    key: 'r.example',
    payload: { id },
    runAt: 0,
  });

  it('keeps a safe replay window by default', function () {
    expect(MIN_SAFE_REPLAY_WINDOW_MS).to.equal(14 * HOUR);
    expect(config.replayWindowMs).to.be.at.least(MIN_SAFE_REPLAY_WINDOW_MS);
  });

  it('purges finished jobs after their retention, and remembers received activity ids for the replay window', async function () {
    const t0 = clock;
    await store.jobs.enqueue(
      [job('intake:1', 'intake'), job('deliver:1', 'deliver'), job('deliver:2', 'deliver')],
      t0,
    );
    await store.jobs.claim('intake', 'w', t0, 60_000, 10);
    await store.jobs.claim('deliver', 'w', t0, 60_000, 10);
    await store.jobs.complete('intake:1', 'w', t0);
    await store.jobs.complete('deliver:1', 'w', t0);
    await store.jobs.fail('deliver:2', 'w', 'gone', t0);

    clock = t0 + HOUR - 1;
    expect((await maintenance().pass()).purgedJobs, 'nothing before the retention').to.equal(0);
    clock = t0 + HOUR + 1;
    const report = await maintenance().pass();
    expect(report.purgedJobs).to.equal(2);
    expect(await store.jobs.getJob('intake:1')).to.equal(null);
    expect(await store.jobs.getJob('deliver:1')).to.equal(null);
    expect((await store.jobs.getJob('deliver:2'))?.state, 'failed jobs stay a week').to.equal('failed');
    // The activity's id outlives its job: a replay within the window inserts nothing.
    expect(await store.jobs.enqueue([job('intake:1', 'intake')], clock)).to.equal(0);
    clock = t0 + DAY - 1;
    expect((await maintenance().pass()).forgottenIds).to.equal(0);
    expect(await store.jobs.enqueue([job('intake:1', 'intake')], clock)).to.equal(0);
    clock = t0 + DAY + 1;
    expect((await maintenance().pass()).forgottenIds).to.equal(1);
    expect(await store.jobs.enqueue([job('intake:1', 'intake')], clock)).to.equal(1);
    clock = t0 + 8 * DAY;
    expect((await maintenance().pass()).purgedJobs, 'the failed delivery after a week').to.equal(1);
  });

  it('releases the leases of gone holders on this host and leaves the others', async function () {
    await store.jobs.enqueue([job('d1', 'deliver'), job('d2', 'deliver')], clock);
    await store.jobs.claim('deliver', 'box:100:4000:main-aaaaaaaa', clock, HOUR, 1);
    await store.jobs.claim('deliver', 'elsewhere:9:1:main-aaaaaaaa', clock, HOUR, 1);
    const report = await maintenance().pass();
    expect(report.releasedLeases).to.equal(1);
    expect(await store.jobs.listLeaseOwners(clock, 10)).to.deep.equal(['elsewhere:9:1:main-aaaaaaaa']);
  });

  it('purges bans a week after they ended, and stale copies of strangers', async function () {
    const ban = (actorId: string, expiresAt: number | null) => ({
      groupName: 'g',
      actorId,
      reason: '',
      by: 'admin',
      createdAt: 0,
      expiresAt,
    });
    await store.bans.putBan(ban('https://r.example/old', clock - 8 * DAY));
    await store.bans.putBan(ban('https://r.example/recent', clock - DAY));
    await store.bans.putBan(ban('https://r.example/forever', null));
    const actor = (id: string, fetchedAt: number) => ({
      id,
      type: 'Person',
      inbox: `${id}/inbox`,
      sharedInbox: null,
      preferredUsername: null,
      name: null,
      url: null,
      keyId: null,
      publicKeyPem: null,
      fetchedAt,
    });
    await store.remoteActors.putRemoteActor(actor('https://r.example/stranger', clock - 31 * DAY));
    await store.remoteActors.putRemoteActor(actor('https://r.example/seen', clock - 29 * DAY));
    const report = await maintenance().pass();
    expect(report.purgedBans).to.equal(1);
    expect(report.purgedActors).to.equal(1);
    expect((await store.bans.listBans('g', null, 10)).map((b) => b.actorId)).to.deep.equal([
      'https://r.example/forever',
      'https://r.example/recent',
    ]);
    expect(await store.remoteActors.getRemoteActor('https://r.example/seen')).not.to.equal(null);
  });

  it('purges expired sign-in links, deletion codes and sessions, and keeps live ones', async function () {
    const code = (hash: string, expiresAt: number) => ({
      hash,
      purpose: 'sign-in' as const,
      actorId: 'https://r.example/a',
      subject: '',
      createdAt: 0,
      expiresAt,
      usedAt: null,
    });
    await store.codes.putCode(code('old', clock - 1));
    await store.codes.putCode(code('live', clock + 60_000));
    const session = (hash: string, expiresAt: number) => ({
      hash,
      actorId: 'https://r.example/a',
      createdAt: 0,
      expiresAt,
    });
    await store.sessions.putSession(session('old', clock - 1));
    await store.sessions.putSession(session('live', clock + DAY));
    const report = await maintenance().pass();
    expect(report.purgedCodes).to.equal(1);
    expect(report.purgedSessions).to.equal(1);
    expect(await store.sessions.getSession('live', clock)).not.to.equal(null);
    expect(await store.codes.useCode('live', clock)).not.to.equal(null);
  });
});
