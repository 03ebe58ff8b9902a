/**
 * The durable delivery queue over real HTTP: one delivery per distinct shared inbox, back-off retries on
 * network errors, 5xx and 429, permanent failure on other 4xx, and signed requests.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { freePort, waitUntil } from '../support/net.ts';
import { deliveryJobId } from '../../src/federation/publisher.ts';
import { verifyRequest } from '../../src/federation/http-signature.ts';
import { groupKeyOwner } from '../../src/activitypub/urls.ts';

interface Hit {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A loopback server whose answers (status, headers, body) are scripted per path; the last answer repeats. */
async function scriptedSink(
  script: Record<string, Array<number | [number, Record<string, string>, string?]>>,
) {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      hits.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answers = script[path] ?? [404];
      const n = hits.filter((h) => h.path === path).length;
      const a = answers[Math.min(n, answers.length) - 1] ?? 404;
      const [status, headers, body] = Array.isArray(a) ? a : [a, {}];
      res.writeHead(status, headers).end(body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    hits,
    count: (path: string) => hits.filter((h) => h.path === path).length,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('delivery queue', function () {
  this.timeout(30_000);
  let g: TestGuild;
  let sink: Awaited<ReturnType<typeof scriptedSink>>;
  const group = 'deliveries';
  const sequenceGroup = 'sequences';

  before(async function () {
    g = await startTestGuild({
      GUILD_DELIVERY_MAX_ATTEMPTS: '3',
      GUILD_DELIVERY_RETRY_BASE_MS: '50',
      GUILD_DELIVERY_RETRY_MAX_MS: '200',
    });
    await g.createGroup(group);
    sink = await scriptedSink({
      '/shared/inbox': [202],
      '/flaky/inbox': [500, 503, 202],
      '/busy/inbox': [[429, { 'retry-after': '0' }], 202],
      // Lemmy's refusals: 400 with the reason as JSON (LemmyNet/lemmy crates/utils/src/error.rs).
      '/bad/inbox': [
        [
          400,
          { 'content-type': 'application/json' },
          `{"error":"object_is_not_public"}\n${'x'.repeat(2000)}`,
        ],
      ],
      '/gone/inbox': [410],
    });
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await g?.close();
    await sink?.close();
  });

  async function addMember(actor: string, inbox: string, sharedInbox: string | null): Promise<void> {
    const t = Date.now();
    await g.store.members.upsertMember({
      groupName: group,
      actorId: actor,
      inbox,
      sharedInbox,
      deliveryInbox: sharedInbox ?? inbox,
      state: 'accepted',
      followId: `${actor}#follow`,
      createdAt: t,
      updatedAt: t,
    });
  }

  async function publish(): Promise<string> {
    const id = g.guild.services.urls.activity(group, randomUUID());
    await g.guild.services.publisher.publishToMembers(
      group,
      {
        '@context': 'https://www.w3.org/ns/activitystreams',
        id,
        type: 'Announce',
        actor: g.groupUrl(group),
        object: `${sink.origin}/notes/1`,
      },
      { inOutbox: true, objectId: null },
    );
    return id;
  }

  const jobOf = (activityId: string, inbox: string) => g.store.jobs.getJob(deliveryJobId(activityId, inbox));

  it('delivers once per distinct shared inbox, signed by the group', async function () {
    const deadPort = await freePort();
    for (let i = 0; i < 5; i++)
      await addMember(
        `${sink.origin}/users/s${i}`,
        `${sink.origin}/users/s${i}/inbox`,
        `${sink.origin}/shared/inbox`,
      );
    await addMember(`${sink.origin}/users/flaky`, `${sink.origin}/flaky/inbox`, null);
    await addMember(`${sink.origin}/users/busy`, `${sink.origin}/busy/inbox`, null);
    await addMember(`${sink.origin}/users/bad`, `${sink.origin}/bad/inbox`, null);
    await addMember(`${sink.origin}/users/gone`, `${sink.origin}/gone/inbox`, null);
    await addMember(`http://127.0.0.1:${deadPort}/users/dead`, `http://127.0.0.1:${deadPort}/inbox`, null);

    const id = await publish();
    const inboxes = ['/shared/inbox', '/flaky/inbox', '/busy/inbox', '/bad/inbox', '/gone/inbox'].map(
      (p) => `${sink.origin}${p}`,
    );
    const dead = `http://127.0.0.1:${deadPort}/inbox`;
    await waitUntil(
      async () => {
        for (const inbox of [...inboxes, dead]) {
          const job = await jobOf(id, inbox);
          if (!job || job.state === 'queued') return false;
        }
        return true;
      },
      { what: 'every delivery to finish', timeoutMs: 20_000 },
    );

    expect(sink.count('/shared/inbox'), 'one delivery for five members on one shared inbox').to.equal(1);
    expect((await jobOf(id, inboxes[0]!))?.state).to.equal('done');

    expect(sink.count('/flaky/inbox'), '5xx retried until success').to.equal(3);
    expect((await jobOf(id, inboxes[1]!))?.state).to.equal('done');

    expect(sink.count('/busy/inbox'), '429 retried').to.equal(2);
    expect((await jobOf(id, inboxes[2]!))?.state).to.equal('done');

    expect(sink.count('/bad/inbox'), '400 is permanent').to.equal(1);
    const bad = await jobOf(id, inboxes[3]!);
    expect(bad?.state).to.equal('failed');
    // The refusal is visible: in the job and in the log, with host, status and the start of the answer.
    expect(bad?.lastError).to.match(/^HTTP 400: \{"error":"object_is_not_public"\} x+…$/);
    expect(bad?.lastError?.length).to.be.below(320);
    const failures = g.logs
      .filter((l) => l.includes('delivery failed for good'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(failures.find((f) => f.inbox === inboxes[3])).to.deep.include({
      host: new URL(sink.origin).host,
      status: 400,
      activityId: id,
    });
    expect(String(failures.find((f) => f.inbox === inboxes[3])?.answer)).to.match(
      /^\{"error":"object_is_not_public"\} x{200,}/,
    );
    expect(failures.find((f) => f.inbox === inboxes[4])).to.deep.include({ status: 410, answer: '' });
    expect(sink.count('/gone/inbox'), '410 is permanent').to.equal(1);
    expect((await jobOf(id, inboxes[4]!))?.state).to.equal('failed');

    const deadJob = await jobOf(id, dead);
    expect(deadJob?.state, 'connection refused: retried, then given up').to.equal('failed');
    expect(deadJob?.attempts, 'GUILD_DELIVERY_MAX_ATTEMPTS').to.equal(3);
    expect(deadJob?.lastError).to.match(/ECONNREFUSED|connect|fetch failed/i);
    expect(failures.find((f) => f.inbox === dead)).to.deep.include({ status: null, attempts: 3 });
    const health = await g.store.hosts.getHost(`127.0.0.1:${deadPort}`);
    expect(health?.consecutiveFailures, 'failures recorded per host').to.equal(3);
    expect(health?.failureDays).to.have.length(1);
    const listed = await g.store.hosts.listFailingHosts(1, null, 10);
    expect(listed.map((h) => h.host)).to.include(`127.0.0.1:${deadPort}`);

    // Every request was signed by the group's key and carried the stored activity unchanged.
    const publicKeyPem = (await g.store.keys.getPublicKey(groupKeyOwner(group)))!;
    for (const hit of sink.hits) {
      expect(JSON.parse(hit.body).id).to.equal(id);
      const v = await verifyRequest({
        method: 'POST',
        path: hit.path,
        headers: hit.headers,
        rawBody: Buffer.from(hit.body),
        now: new Date(),
        resolveKey: async () => ({ publicKeyPem, ownerId: g.groupUrl(group) }),
      });
      expect(v.ok, JSON.stringify(v)).to.equal(true);
    }
  });

  it('fans several activities out in passes: every inbox gets the first before any gets the next', async function () {
    // One delivery at a time to the host, so that the order of arrival is the order of the queue; a sink of
    // its own, so that what it records is this test's alone.
    const ordered = await startTestGuild({ GUILD_DELIVERY_PER_HOST: '1' });
    const sink = await scriptedSink({
      '/seq-a/inbox': [202],
      '/seq-b/inbox': [202],
      '/seq-c/inbox': [202],
      '/seq-d/inbox': [202],
    });
    try {
      await ordered.createGroup(sequenceGroup);
      const paths = ['/seq-a/inbox', '/seq-b/inbox', '/seq-c/inbox', '/seq-d/inbox'];
      const t = Date.now();
      for (const path of paths)
        await ordered.store.members.upsertMember({
          groupName: sequenceGroup,
          actorId: `${sink.origin}/users${path}`,
          inbox: `${sink.origin}${path}`,
          sharedInbox: null,
          deliveryInbox: `${sink.origin}${path}`,
          state: 'accepted',
          followId: `${sink.origin}/users${path}#follow`,
          createdAt: t,
          updatedAt: t,
        });
      const activity = (id: string) => ({
        '@context': 'https://www.w3.org/ns/activitystreams',
        id,
        type: 'Announce',
        actor: ordered.groupUrl(sequenceGroup),
        object: `${sink.origin}/notes/2`,
      });
      const ids = [randomUUID(), randomUUID(), randomUUID()].map((u) =>
        ordered.guild.services.urls.activity(sequenceGroup, u),
      );
      await ordered.guild.services.publisher.publishAllToMembers(
        sequenceGroup,
        ids.map((id, i) => ({ activity: activity(id), inOutbox: i === 0, objectId: null })),
      );
      const received = () =>
        sink.hits
          .filter((h) => paths.includes(h.path))
          .map((h) => ({ path: h.path, id: (JSON.parse(h.body) as { id: string }).id }));
      await waitUntil(() => received().length === paths.length * ids.length || undefined, {
        what: 'every activity at every inbox',
        timeoutMs: 20_000,
      });
      const got = received();
      expect(
        got.map((h) => h.id),
        'the first to every inbox, then the second, then the third',
      ).to.deep.equal(ids.flatMap((id) => paths.map(() => id)));
      for (const id of ids) expect(got.filter((h) => h.id === id).map((h) => h.path)).to.have.members(paths);
      // Outcomes are recorded in batches, shortly after the deliveries.
      const states = async (): Promise<(string | undefined)[]> =>
        Promise.all(
          ids.flatMap((id) =>
            paths.map(
              async (path) =>
                (await ordered.store.jobs.getJob(deliveryJobId(id, `${sink.origin}${path}`)))?.state,
            ),
          ),
        );
      await waitUntil(async () => (await states()).every((s) => s === 'done') || undefined, {
        what: 'every delivery recorded as done',
      });
    } finally {
      await ordered.close();
      await sink.close();
    }
  });
});
