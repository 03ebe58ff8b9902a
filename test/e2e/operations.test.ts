/**
 * Operability over HTTP: health, readiness and Prometheus metrics of a running server, which are not public;
 * and the limits that keep slow or greedy clients from holding the server (connection caps, request deadline).
 */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { freePort, waitUntil } from '../support/net.ts';
import { get, slowPost, type SlowRequest } from '../support/slow-client.ts';

const TOKEN = 'metrics-test-token-0123456789';

describe('operations endpoints', function () {
  let g: TestGuild;
  let actor: RawActor;
  let metricsPort: number;

  before(async function () {
    metricsPort = await freePort();
    g = await startTestGuild({
      GUILD_ADMIN_TOKEN: TOKEN,
      GUILD_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
    });
    actor = await startRawActor('ops');
    await g.createGroup('ops');
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await g?.close();
    await actor?.close();
  });

  it('answers /healthz and /readyz', async function () {
    expect((await fetch(`${g.origin}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${g.origin}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.equal({ status: 'ready' });
  });

  it('counts inbox requests by status, and shows queues, in /metrics', async function () {
    const follow = {
      '@context': 'https://www.w3.org/ns/activitystreams',
      id: `${actor.actorId}/f/1`,
      type: 'Follow',
      actor: actor.actorId,
      object: g.groupUrl('ops'),
    };
    expect((await actor.post(`${g.groupUrl('ops')}/inbox`, follow)).status).to.equal(202);
    expect((await fetch(`${g.groupUrl('ops')}/inbox`, { method: 'POST', body: '{}' })).status).to.equal(401);
    await g.processed(follow.id);
    await g.idle();
    const res = await fetch(`${g.origin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.headers.get('content-type')).to.match(/text\/plain/);
    const text = await res.text();
    expect(text).to.match(/^guild_inbox_requests_total\{status="202"\} 1$/m);
    expect(text).to.match(/^guild_inbox_requests_total\{status="401"\} 1$/m);
    expect(text).to.match(/^guild_inbox_request_seconds_count 2$/m);
    expect(text).to.match(/^guild_jobs_total\{outcome="done",queue="intake"\} 1$/m);
    expect(text).to.match(/^guild_jobs_total\{outcome="done",queue="deliver"\} 1$/m);
    expect(text).to.match(/^guild_queue_depth\{queue="deliver"\} 0$/m);
    expect(text).to.match(/^process_resident_memory_bytes \d+$/m);
  });

  it('serves /metrics on the public listener only with the admin token', async function () {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: TOKEN },
    ]) {
      const res = await fetch(`${g.origin}/metrics`, { headers });
      expect(res.status, JSON.stringify(headers)).to.equal(401);
      expect(await res.text()).not.to.contain('guild_');
    }
    const ok = await fetch(`${g.origin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).to.equal(200);
  });

  it('serves /metrics without a token on GUILD_METRICS_LISTEN, and nothing else there', async function () {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).to.equal(200);
    expect(await res.text()).to.match(/^# TYPE guild_inbox_requests_total counter$/m);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/groups/ops`)).status).to.equal(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).to.equal(404);
  });

  it('does not serve /metrics at all on the public listener of a server without an admin token', async function () {
    const plain = await startTestGuild();
    try {
      const res = await fetch(`${plain.origin}/metrics`);
      expect(res.status).to.equal(404);
      expect(await res.text()).not.to.contain('guild_');
    } finally {
      await plain.close();
    }
  });
});

describe('connection limits', function () {
  this.timeout(30_000);
  let g: TestGuild;
  let port: number;
  const open: SlowRequest[] = [];

  before(async function () {
    g = await startTestGuild({
      GUILD_ADMIN_TOKEN: TOKEN,
      GUILD_MAX_CONNECTIONS: '10',
      GUILD_CONNECTIONS_PER_CLIENT: '4',
      // Long enough that no slow request of these tests is cut while the test runs.
      GUILD_REQUEST_TIMEOUT_MS: '120000',
    });
    port = Number(new URL(g.origin).port);
    await g.createGroup('ops');
  });
  afterEach(async function () {
    printLogsOnFailure(this, [g]);
    // Close this test's slow requests and wait until the server has let go of them.
    for (const r of open.splice(0)) r.destroy();
    for (const from of ['127.0.0.1', '127.0.0.3', '127.0.0.4', '127.0.0.5']) {
      await waitUntil(async () => (await get(port, '/healthz', from)).status === 200, {
        what: `the server to take connections from ${from} again`,
      });
    }
  });
  after(async () => g?.close());

  const slowInboxPost = async (from: string): Promise<SlowRequest> => {
    const r = await slowPost(port, '/groups/ops/inbox', from, { declaredBytes: 200_000, sentBytes: 1_000 });
    open.push(r);
    return r;
  };

  it('refuses connections beyond the per-client cap while /healthz answers other clients', async function () {
    for (let i = 0; i < 4; i++) await slowInboxPost('127.0.0.1');
    for (let i = 0; i < 3; i++) {
      const refused = await get(port, '/healthz', '127.0.0.1');
      expect(refused.status, 'closed without an answer').to.equal(null);
    }
    expect((await get(port, '/healthz', '127.0.0.2')).status).to.equal(200);
    expect(
      open.every((r) => !r.closed),
      'the slow requests within the cap are still open',
    ).to.equal(true);
    const metrics = await get(port, '/metrics', '127.0.0.2', { authorization: `Bearer ${TOKEN}` });
    expect(metrics.body).to.match(
      /^guild_http_connections_refused_total\{reason="client-connection-cap"\} [3-9]$/m,
    );
    expect(
      g.logs.some((l) => l.includes('connection refused') && l.includes('client-connection-cap')),
    ).to.equal(true);
  });

  it('refuses connections beyond the total cap, and takes them again when some close', async function () {
    for (const from of ['127.0.0.1', '127.0.0.3']) for (let i = 0; i < 4; i++) await slowInboxPost(from);
    for (let i = 0; i < 2; i++) await slowInboxPost('127.0.0.4');
    expect((await get(port, '/healthz', '127.0.0.5')).status, 'closed without an answer').to.equal(null);
    open.slice(0, 2).forEach((r) => r.destroy());
    await waitUntil(async () => (await get(port, '/healthz', '127.0.0.5')).status === 200, {
      what: '/healthz to answer once two connections closed',
    });
  });
});

describe('request deadline', function () {
  this.timeout(30_000);
  let g: TestGuild;

  before(async function () {
    g = await startTestGuild({ GUILD_REQUEST_TIMEOUT_MS: '1000' });
    await g.createGroup('ops');
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async () => g?.close());

  it('answers 408 and closes a request whose body has not arrived in time; others are served', async function () {
    const port = Number(new URL(g.origin).port);
    const slow = await slowPost(port, '/groups/ops/inbox', '127.0.0.1', {
      declaredBytes: 200_000,
      sentBytes: 1_000,
    });
    try {
      expect((await get(port, '/healthz', '127.0.0.2')).status).to.equal(200);
      const answer = await waitUntil(() => (slow.closed ? slow.response : undefined), {
        what: 'the slow request to be cut',
        timeoutMs: 8_000,
      });
      expect(answer).to.match(/^HTTP\/1\.1 408 /);
    } finally {
      slow.destroy();
    }
  });
});
