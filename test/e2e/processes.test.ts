/**
 * Guild as an admin runs it: `npx guild` and `npm start` as real processes on one store; web and worker as
 * separate processes; a worker killed with SIGKILL in the middle of a delivery loses nothing.
 */
import { expect } from 'chai';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  runGuildCli,
  sharedStoreEnv,
  startGuildProcess,
  type GuildProcess,
} from '../support/guild-process.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { freePort, waitUntil } from '../support/net.ts';
import { openStore } from '../../src/storage/open-store.ts';
import type { Store } from '../../src/storage/store.ts';

describe('processes: CLI, npm start, web and worker apart', function () {
  this.timeout(120_000);
  const procs: GuildProcess[] = [];
  let shared: Awaited<ReturnType<typeof sharedStoreEnv>>;
  let env: Record<string, string>;
  let port: number;
  let origin: string;

  before(async function () {
    shared = await sharedStoreEnv();
    port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    env = {
      ...shared.env,
      GUILD_ORIGIN: origin,
      GUILD_PORT: String(port),
      GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
      GUILD_LOG_LEVEL: 'info',
      GUILD_DELIVERY_RETRY_BASE_MS: '100',
      GUILD_DELIVERY_RETRY_MAX_MS: '500',
      GUILD_DELIVERY_TIMEOUT_MS: '1500',
      GUILD_QUEUE_LEASE_MS: '2000',
    };
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') {
      for (const p of procs)
        process.stderr.write(`---- output of guild (${p.origin}) ----\n${p.output.slice(-100).join('\n')}\n`);
    }
  });
  after(async function () {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await shared?.remove();
  });

  it('refuses a bad configuration with a clear message and exit code 2', async function () {
    const p = await startGuildProcess(
      { ...env, GUILD_PORT: 'eighty', GUILD_STORE: 'postgres' },
      { wait: false },
    );
    expect(await p.exited).to.equal(2);
    const text = p.output.join('\n');
    expect(text).to.contain('GUILD_PORT').and.contain('GUILD_STORE');
  });

  it('says clearly when the database is unreachable', async function () {
    const dead = await freePort();
    const p = await startGuildProcess(
      { ...env, GUILD_STORE: 'mongodb', GUILD_MONGODB_URL: `mongodb://127.0.0.1:${dead}/guild` },
      { wait: false },
    );
    expect(await p.exited).to.equal(1);
    expect(p.output.join('\n')).to.match(/could not start: .*127\.0\.0\.1/);
  });

  /** Creates a group with the CLI, unless it exists. */
  async function cliGroup(name: string, ...more: string[]): Promise<string> {
    const list = await runGuildCli(['group', 'list'], env);
    if (!new RegExp(`^${name}\t`, 'm').test(list.stdout)) {
      const created = await runGuildCli(['group', 'create', name, ...more], env);
      expect(created.code, created.stderr).to.equal(0);
    }
    return `${origin}/groups/${name}`;
  }

  it('creates and lists groups with the CLI, refusing bad names and taken names', async function () {
    const created = await runGuildCli(
      ['group', 'create', 'rust', '--title', 'Rustaceans', '--summary', 'All about Rust'],
      env,
    );
    expect(created.code, created.stderr).to.equal(0);
    expect(created.stdout).to.contain(`@rust@127.0.0.1:${port}`);
    const again = await runGuildCli(['group', 'create', 'rust'], env);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('taken');
    const bad = await runGuildCli(['group', 'create', 'Not A Name'], env);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.contain('lowercase');
    const list = await runGuildCli(['group', 'list'], env);
    expect(list.stdout).to.match(/^rust\t0 members\topen\tRustaceans$/m);
    expect(list.stdout).not.to.contain('Not A Name');
  });

  it('npm start serves WebFinger, the group actor and NodeInfo for a group made with the CLI', async function () {
    await cliGroup('served', '--title', 'Served');
    const groups = (await runGuildCli(['group', 'list'], env)).stdout.trim().split('\n').length;
    const web = await startGuildProcess(env);
    procs.push(web);
    const wf = (await (
      await fetch(`${origin}/.well-known/webfinger?resource=acct:served@127.0.0.1:${port}`)
    ).json()) as { subject: string };
    expect(wf.subject).to.equal(`acct:served@127.0.0.1:${port}`);
    const actor = (await (
      await fetch(`${origin}/groups/served`, { headers: { accept: 'application/activity+json' } })
    ).json()) as { type: string; name: string };
    expect(actor).to.include({ type: 'Group', name: 'Served' });
    const ni = (await (await fetch(`${origin}/nodeinfo/2.1`)).json()) as {
      metadata: { localGroups: number };
    };
    expect(ni.metadata.localGroups).to.equal(groups);
    expect(await web.kill('SIGTERM')).to.equal(0);
    procs.pop();
  });

  it('npm start runs the queues in background threads: Follows are answered, /metrics adds the threads up', async function () {
    const group = await cliGroup('threads');
    const metricsPort = await freePort();
    const all = await startGuildProcess({
      ...env,
      GUILD_WORKER_THREADS: '2',
      GUILD_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
    });
    procs.push(all);
    const bob = await startFedifyPeer({ username: 'bob' });
    try {
      expect(all.output.some((l) => l.includes('"worker running"') && l.includes('"threads":2'))).to.equal(
        true,
      );
      await bob.follow(group);
      await bob.waitFor((a) => a.type === 'Accept', {
        what: 'Accept from a background thread',
        timeoutMs: 20_000,
      });
      // The Follow was taken in by the main thread and processed by a background thread. The handler's outcome
      // is logged after the Accept is queued, so the line may reach this process after the Accept itself.
      const joined = await waitUntil(() => all.output.find((l) => l.includes('joined threads')), {
        what: 'the log line of the join',
        timeoutMs: 20_000,
      });
      expect(joined).to.match(/"thread":[01]/);
      // Metrics are not public: served on their own listener (GUILD_METRICS_LISTEN), not on the web port.
      expect((await fetch(`${origin}/metrics`)).status).to.equal(404);
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(text).to.match(/^guild_inbox_requests_total\{status="202"\} 1$/m);
      expect(text).to.match(/^guild_jobs_enqueued_total\{queue="intake"\} 1$/m);
      expect(text).to.match(/^guild_jobs_total\{outcome="done",queue="intake"\} 1$/m);
      expect(text).to.match(/^guild_jobs_total\{outcome="done",queue="deliver"\} 1$/m);
      // Both threads look for work from the start: their claims add up in one series.
      const claims = /^guild_queue_claims_total\{queue="intake"\} (\d+)$/m.exec(text);
      expect(Number(claims?.[1] ?? 0)).to.be.at.least(2);
      expect(await all.kill('SIGTERM'), 'SIGTERM stops the threads and exits cleanly').to.equal(0);
      procs.pop();
    } finally {
      await bob.close();
    }
  });

  describe('web and worker as separate processes', function () {
    let alice: FedifyPeer;
    let web: GuildProcess;
    let worker: GuildProcess;
    let workerMetrics: string;
    let group: string;

    /** Alice follows `groupId` and is accepted. */
    async function aliceJoins(groupId: string): Promise<void> {
      const followId = await alice.follow(groupId);
      await alice.waitFor((a) => a.type === 'Accept' && JSON.stringify(a.json).includes(followId), {
        what: 'Accept from the worker',
        timeoutMs: 20_000,
      });
    }

    before(async function () {
      group = await cliGroup('apart');
      alice = await startFedifyPeer({ username: 'alice' });
      web = await startGuildProcess({ ...env, GUILD_ROLE: 'web' });
      workerMetrics = `http://127.0.0.1:${await freePort()}/metrics`;
      worker = await startGuildProcess({
        ...env,
        GUILD_ROLE: 'worker',
        GUILD_METRICS_LISTEN: new URL(workerMetrics).host,
      });
      procs.push(web, worker);
    });
    after(async () => alice?.close());

    it('the web process takes the Follow, the worker process answers it', async function () {
      await aliceJoins(group);
      // Logged after the Accept is queued, so the line may reach this process after the Accept itself.
      await waitUntil(() => worker.output.some((l) => l.includes('joined apart')) || undefined, {
        what: "the worker's log line of the join",
        timeoutMs: 20_000,
      });
      expect(web.output.some((l) => l.includes('joined apart'))).to.equal(false);
      // A worker process serves its own metrics on GUILD_METRICS_LISTEN.
      await waitUntil(
        async () =>
          /^guild_jobs_total\{outcome="done",queue="intake"\} [1-9]\d*$/m.test(
            await (await fetch(workerMetrics)).text(),
          ),
        { what: 'the intake job in the worker process metrics' },
      );
    });

    it('a worker killed with SIGKILL in the middle of a delivery loses nothing', async function () {
      // A member whose server hangs on the first delivery and accepts the next ones.
      const pending: ServerResponse[] = [];
      const bodies: string[] = [];
      const sink = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          bodies.push(body);
          if (bodies.length === 1) pending.push(res);
          else res.writeHead(202).end();
        });
      });
      await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
      const sinkOrigin = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
      let store: Store | null = null;
      try {
        await aliceJoins(group);
        store = await openStore(
          env.GUILD_STORE === 'sqlite'
            ? { kind: 'sqlite', path: env.GUILD_SQLITE_PATH! }
            : { kind: 'mongodb', url: env.GUILD_MONGODB_URL! },
        );
        const t = Date.now();
        await store.members.upsertMember({
          groupName: 'apart',
          actorId: `${sinkOrigin}/users/slow`,
          inbox: `${sinkOrigin}/inbox`,
          sharedInbox: null,
          deliveryInbox: `${sinkOrigin}/inbox`,
          state: 'accepted',
          followId: `${sinkOrigin}/follow/1`,
          createdAt: t,
          updatedAt: t,
        });
        // alice posts; the worker fans out to alice and to the hanging member.
        const { createId } = await alice.post({
          to: [group],
          content: `<p>${randomUUID()}</p>`,
        });
        await waitUntil(() => bodies.length >= 1 || undefined, {
          what: 'the first delivery to hang',
          timeoutMs: 20_000,
        });
        expect(await worker.kill('SIGKILL')).to.equal(-1);
        pending.forEach((r) => r.destroy());

        // The new worker takes the place of the killed one for the other tests, metrics listener included.
        const restarted = await startGuildProcess({
          ...env,
          GUILD_ROLE: 'worker',
          GUILD_METRICS_LISTEN: new URL(workerMetrics).host,
        });
        procs.push(restarted);
        worker = restarted;
        await waitUntil(() => bodies.some((b, i) => i > 0 && b.includes(createId)) || undefined, {
          what: 'the delivery to be retried by the new worker',
          timeoutMs: 30_000,
        });
        await alice.waitFor((a) => a.type === 'Announce' && JSON.stringify(a.json).includes(createId), {
          what: 'Announce at alice',
        });
      } finally {
        await store?.close();
        sink.closeAllConnections();
        await new Promise<void>((r) => sink.close(() => r()));
      }
    });

    it('tells members when a group is deleted with the CLI, and keeps the name', async function () {
      const doomed = await cliGroup('doomed');
      await aliceJoins(doomed);
      const del = await runGuildCli(['group', 'delete', 'doomed'], env);
      expect(del.code, del.stderr).to.equal(0);
      const d = await alice.waitFor((a) => a.type === 'Delete' && a.actorId === doomed, {
        what: 'Delete of the group',
        timeoutMs: 20_000,
      });
      expect(d.json.object).to.equal(doomed);
      const gone = await fetch(doomed, { headers: { accept: 'application/activity+json' } });
      expect(gone.status).to.equal(410);
      const again = await runGuildCli(['group', 'create', 'doomed'], env);
      expect(again.code).to.equal(1);
    });
  });
});
