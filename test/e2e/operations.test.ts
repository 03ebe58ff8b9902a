/** Operability over HTTP: health, readiness and Prometheus metrics of a running server. */
import { expect } from 'chai';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';

describe('operations endpoints', function () {
  let g: TestGuild;
  let actor: RawActor;

  before(async function () {
    g = await startTestGuild();
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
    const res = await fetch(`${g.origin}/metrics`);
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
});
