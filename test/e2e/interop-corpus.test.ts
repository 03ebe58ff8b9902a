/**
 * Real payloads of other servers (Lemmy, Mastodon, Mbin, Pleroma, Friendica; test/fixtures/interop)
 * delivered to a real Guild over loopback HTTP, signed by the actor that sent them. Each one must be handled:
 * a 202 whose intake job ends `done` with a log line naming the activity (applied, or `not applied: <reason>`),
 * or a 4xx with a JSON error; never a 5xx, a dropped connection or a handler that throws. The decision expected
 * for each payload is listed in `interop-expectations.ts`; a table of what happened is printed at the end.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { waitUntil } from '../support/net.ts';
import { intakeJobId } from '../../src/federation/inbox.receiver.ts';
import { parseInbound } from '../../src/activitypub/inbound.parser.ts';
import { AS_CONTEXT, idOf, isObject, type ApObject } from '../../src/activitypub/vocab.ts';
import type { Job } from '../../src/storage/store.ts';
import {
  corpusActors,
  deliveryRank,
  historyOf,
  hostsIn,
  interopFixturesDir,
  loadInteropCorpus,
  prepareActivity,
  rewriteDocument,
  type InboxChoice,
  type InteropFixture,
  type PreparedActivity,
  type RewriteContext,
} from '../support/interop-fixtures.ts';
import { InteropPeers, type DeliveryAnswer } from '../support/interop-peers.ts';
import { EXPECTED, type Decision } from '../support/interop-expectations.ts';

const DIR = interopFixturesDir();
const RUN = randomUUID().slice(0, 8);

interface Row {
  fixture: string;
  group: string;
  inbox: InboxChoice;
  status: number;
  decision: Decision | 'error';
  outcome: string;
}

interface LogEntry {
  msg: string;
  level: string;
  loop?: string;
}

describe('interop corpus: real payloads of other servers', function () {
  this.timeout(120_000);

  const corpus = loadInteropCorpus(DIR);
  const actors = corpusActors(corpus);
  const servers = [...new Set(corpus.map((f) => f.server))];
  const fixture = (name: string): InteropFixture => {
    const f = corpus.find((x) => x.name === name);
    if (!f) throw new Error(`fixture ${name} is missing`);
    return f;
  };

  let g: TestGuild;
  let peers: InteropPeers;
  const rows: Row[] = [];
  let sequence = 0;

  before(async function () {
    g = await startTestGuild();
    const hosts = new Set<string>();
    for (const f of corpus) hostsIn(f.json, hosts);
    peers = await InteropPeers.start(hosts);
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    if (rows.length > 0) console.log(table(rows));
    await g?.close();
    await peers?.close();
  });

  function contextFor(groupId: string): RewriteContext {
    return { originOf: (host) => peers.originOf(host), groupId };
  }

  /** A new group for one server's payloads; the corpus's objects and collections served as it may fetch them. */
  async function groupFor(server: string, groupName: string): Promise<void> {
    const groupId = await g.createGroup(groupName, { title: `Interop ${server}` });
    // Objects and collections of the corpus are documents a group may fetch: each on its own peer.
    for (const f of corpus.filter((x) => x.server === server && x.kind !== 'activity')) {
      const doc = rewriteDocument(f.json, contextFor(groupId));
      const id = idOf(doc);
      if (id && !id.startsWith(groupId)) peers.serve(id, doc);
    }
  }

  function prepare(f: InteropFixture, groupName: string): PreparedActivity {
    return prepareActivity(f, {
      ctx: contextFor(g.groupUrl(groupName)),
      runTag: `${RUN}-${++sequence}`,
      actors,
      publicKeyPem: peers.publicKeyPem,
    });
  }

  /** The intake job once it finished or failed at least once (a handler that throws leaves a lastError). */
  async function settled(activityId: string): Promise<Job> {
    return waitUntil(
      async () => {
        const job = await g.store.jobs.getJob(intakeJobId(activityId));
        return job && (job.state !== 'queued' || job.lastError !== null) ? job : undefined;
      },
      { what: `the intake job of ${activityId}` },
    );
  }

  function logsAbout(activityId: string): LogEntry[] {
    const out: LogEntry[] = [];
    for (const line of g.logs) {
      if (!line.includes(activityId)) continue;
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry['activityId'] !== activityId) continue;
      out.push({
        msg: String(entry['msg']),
        level: String(entry['level']),
        ...(typeof entry['loop'] === 'string' ? { loop: entry['loop'] } : {}),
      });
    }
    return out;
  }

  /** Makes `actorId` an accepted member with a Follow of its own, so that membership hides no decision. */
  async function ensureMember(groupName: string, actorId: string): Promise<void> {
    if ((await g.store.members.getMember(groupName, actorId))?.state === 'accepted') return;
    const groupId = g.groupUrl(groupName);
    const follow = {
      '@context': AS_CONTEXT,
      id: `${actorId}/follows/${randomUUID()}`,
      type: 'Follow',
      actor: actorId,
      object: groupId,
    };
    const res = await peers.post(`${groupId}/inbox`, follow, actorId);
    expect(res.status, `membership Follow of ${actorId}: ${res.text}`).to.equal(202);
    expect((await settled(follow.id)).state).to.equal('done');
    expect((await g.store.members.getMember(groupName, actorId))?.state).to.equal('accepted');
  }

  /**
   * Serves what the activity's peer must serve, makes its actor a member, delivers it and checks the answer;
   * the row goes to the table unless `history` (what is delivered first for another payload).
   */
  async function deliver(
    p: PreparedActivity,
    groupName: string,
    inbox = p.inbox,
    history = false,
  ): Promise<Row> {
    peers.serve(p.signerId, p.actorDocument);
    for (const d of p.documents) peers.serve(d.url, d.doc);
    await ensureMember(groupName, p.signerId);
    const url = inbox === 'shared' ? `${g.origin}/inbox` : `${g.groupUrl(groupName)}/inbox`;
    const res: DeliveryAnswer = await peers.post(url, p.activity, p.signerId);
    const row: Row = {
      fixture: p.fixture,
      group: groupName,
      inbox,
      status: res.status,
      decision: 'error',
      outcome: res.text,
    };
    if (!history) rows.push(row);
    expect(res.status, `answer to ${p.fixture}: ${res.text}`).to.satisfy(
      (s: number) => s === 202 || (s >= 400 && s < 500),
    );
    if (res.status !== 202) {
      const body: unknown = JSON.parse(res.text);
      expect(isObject(body) && typeof body['error'] === 'string', `JSON error: ${res.text}`).to.equal(true);
      row.decision = 'rejected';
      row.outcome = isObject(body) ? String(body['error']) : res.text;
      return row;
    }
    // What parses is queued for the groups; what does not is refused at the inbox with a logged reason.
    if (parseInbound(p.activity).ok) {
      const job = await settled(p.id);
      if (job.state !== 'done') row.outcome = `intake job ${job.state}: ${job.lastError ?? ''}`;
      expect(job.state, `intake job of ${p.fixture} (lastError: ${job.lastError ?? 'none'})`).to.equal(
        'done',
      );
    }
    const lines = logsAbout(p.id);
    row.outcome = lines.map((l) => l.msg).join(' | ') || '(no log line)';
    expect(lines.length, `log lines about ${p.id}`).to.be.above(0);
    const applied = lines.some((l) => l.loop === 'intake' && !l.msg.startsWith('not applied:'));
    row.decision = applied ? 'applied' : 'refused';
    return row;
  }

  for (const server of servers) {
    const activities = corpus
      .filter((f) => f.server === server && f.kind === 'activity')
      .sort((a, b) => deliveryRank(a.json) - deliveryRank(b.json) || a.name.localeCompare(b.name));
    if (activities.length === 0) continue;
    describe(`${server} payloads, each after those it builds on`, function () {
      activities.forEach((f, index) => {
        const expected = EXPECTED[f.name];
        const title = f.name;
        it(title, async function () {
          // A group of its own, where the payloads this one builds on are delivered first, in delivery order.
          const groupName = `interop_${server}_${index}`;
          await groupFor(server, groupName);
          for (const before of historyOf(f, activities.slice(0, index)))
            await deliver(prepare(before, groupName), groupName, undefined, true);
          const p = prepare(f, groupName);
          const row = await deliver(p, groupName);
          expect(expected, `an expectation for ${f.name} in interop-expectations.ts`).to.not.equal(undefined);
          if (!expected) return;
          expect(row.decision, `decision on ${f.name}: ${row.outcome}`).to.equal(expected.decision);
          await expected.check?.({ store: g.store, groupName, prepared: p });
        });
      });
    });
  }

  describe('accepted as posts', function () {
    it('a Lemmy Create{Page} with the group as audience', async function () {
      await g.createGroup('accept_lemmy');
      const p = prepare(fixture('lemmy/activities/create_or_update/create_page.json'), 'accept_lemmy');
      expect(p.activity['audience']).to.equal(g.groupUrl('accept_lemmy'));
      const row = await deliver(p, 'accept_lemmy', 'group');
      expect(row.decision, row.outcome).to.equal('applied');
      await expectAnnouncedPost('accept_lemmy', p);
    });

    it('a Mastodon Create{Note} that mentions the group', async function () {
      await g.createGroup('accept_mastodon');
      const p = prepare(mastodonCreate(fixture('mastodon/objects/page.json')), 'accept_mastodon');
      const note = p.activity['object'];
      expect(isObject(note) && JSON.stringify(note['tag'])).to.contain(g.groupUrl('accept_mastodon'));
      const row = await deliver(p, 'accept_mastodon', 'shared');
      expect(row.decision, row.outcome).to.equal('applied');
      await expectAnnouncedPost('accept_mastodon', p);
    });

    it('a Mastodon Delete of that post, delivered to the shared inbox, deletes it', async function () {
      // Mastodon sends Delete{Tombstone} addressed to the public only, to the shared inboxes that saw the
      // status (the group boosted it): the group can only find the post by its id.
      await g.createGroup('delete_mastodon');
      const create = prepare(mastodonCreate(fixture('mastodon/objects/page.json')), 'delete_mastodon');
      expect((await deliver(create, 'delete_mastodon', 'shared', true)).decision).to.equal('applied');
      const noteFixture = fixture('mastodon/objects/page.json');
      const noteId = String(noteFixture.json['id']);
      const del = fixture('mastodon/activities/delete.json').json;
      const original: InteropFixture = {
        server: 'mastodon',
        name: 'mastodon/activities/delete.json (of objects/page.json)',
        kind: 'activity',
        json: {
          ...del,
          id: `${noteId}#delete`,
          actor: noteFixture.json['attributedTo'],
          object: { ...(isObject(del['object']) ? del['object'] : {}), id: noteId, atomUri: noteId },
        },
      };
      const p = prepare(original, 'delete_mastodon');
      const objectId = String(idOf(p.activity['object']));
      expect(await g.store.posts.getPost('delete_mastodon', objectId), 'the post to delete').to.not.equal(
        null,
      );
      const row = await deliver(p, 'delete_mastodon', 'shared');
      expect(row.decision, row.outcome).to.equal('applied');
      const post = await g.store.posts.getPost('delete_mastodon', objectId);
      expect(post?.deletedAt ?? null, 'the post is marked deleted').to.not.equal(null);
    });
  });

  describe('payloads as stored', function () {
    it('a Lemmy Create{Page} without any @context is read as ActivityStreams', async function () {
      // Lemmy's test assets drop the @context that Lemmy sends. AS2 Core 2.1: a document served as
      // application/activity+json without the AS2 context is read as if the AS2 context applied.
      await g.createGroup('as_stored');
      const p = prepare(fixture('lemmy/activities/create_or_update/create_page.json'), 'as_stored');
      delete p.activity['@context'];
      const row = await deliver(p, 'as_stored', 'group');
      expect(row.decision, `${row.status} ${row.outcome}`).to.equal('applied');
      expect(await g.store.posts.getPost('as_stored', String(idOf(p.activity['object'])))).to.not.equal(null);
    });
  });

  async function expectAnnouncedPost(groupName: string, p: PreparedActivity): Promise<void> {
    const objectId = String(idOf(p.activity['object']));
    const post = await g.store.posts.getPost(groupName, objectId);
    expect(post, 'the post').to.not.equal(null);
    expect(post?.authorId).to.equal(p.signerId);
    const outbox = await g.store.activities.listOutbox(groupName, null, 50);
    const announces = outbox.filter((a) => a.type === 'Announce' && a.objectId === objectId);
    expect(announces, 'an Announce of the post in the outbox').to.have.length(1);
    const json = JSON.parse(announces[0]?.json ?? '{}') as ApObject;
    expect(idOf(json['object']), 'the Announce wraps the Create').to.equal(p.id);
  }
});

/** A Mastodon status as Mastodon wraps it for delivery: `Create` with the status's addressing. */
function mastodonCreate(note: InteropFixture): InteropFixture {
  const { '@context': context, ...object } = note.json;
  return {
    server: note.server,
    name: `${note.name} (as Create)`,
    kind: 'activity',
    json: {
      '@context': context,
      id: `${String(object['id'])}/activity`,
      type: 'Create',
      actor: object['attributedTo'],
      published: object['published'],
      to: object['to'],
      cc: object['cc'],
      object,
    },
  };
}

function table(rows: Row[]): string {
  const width = Math.max(...rows.map((r) => r.fixture.length));
  const lines = rows.map((r) => {
    const outcome = r.outcome.length > 110 ? `${r.outcome.slice(0, 107)}...` : r.outcome;
    return `${r.fixture.padEnd(width)}  ${r.group.padEnd(18)}  ${r.inbox.padEnd(6)}  ${String(r.status).padEnd(3)}  ${r.decision.padEnd(8)}  ${outcome}`;
  });
  const head = `${'fixture'.padEnd(width)}  ${'group'.padEnd(18)}  ${'inbox'.padEnd(6)}  st.  ${'decision'.padEnd(8)}  outcome`;
  return [
    '',
    'Interop corpus: what Guild did with each payload',
    head,
    '-'.repeat(head.length + 40),
    ...lines,
  ].join('\n');
}
