/**
 * `npx tsx bench/sizes.ts [N]`: bytes stored per member, per delivery job and per post, measured on a real SQLite
 * store (tables and indexes, from SQLite's `dbstat`) and, for MongoDB, as BSON documents with their index keys.
 * The numbers behind docs/scaling.md. N (default 20,000) members of one group, each with an inbox on one of
 * N / 20 servers, and one delivery job per member.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { BSON } from 'mongodb';
import { deliveryJobId } from '../src/federation/publisher.ts';
import { openStore } from '../src/storage/open-store.ts';
import { deliveryInboxDocsOf } from '../src/storage/mongodb/delivery-inboxes.mongodb.ts';
import type { Member, NewActivity, NewJob, Post } from '../src/storage/store.ts';
import type { PackEntry } from '../src/storage/mongodb/documents.mongodb.ts';
import { closedCopy, newPack, packChange } from '../src/storage/mongodb/pack-entries.mongodb.ts';

const n = Number(process.argv[2] ?? 20_000);
const origin = 'https://guild.example';
const group = 'rustaceans';
const servers = Math.max(1, Math.round(n / 20));

function member(i: number): Member {
  const server = `https://server${i % servers}.social.example`;
  const actorId = `${server}/users/member${i}`;
  return {
    groupName: group,
    actorId,
    inbox: `${actorId}/inbox`,
    sharedInbox: `${server}/inbox`,
    deliveryInbox: `${server}/inbox`,
    state: 'accepted',
    followId: `${server}/${randomUUID()}`,
    createdAt: 1_764_000_000_000 + i,
    updatedAt: 1_764_000_000_000 + i,
  };
}

/** A post as a group stores it: the member's Create, the Announce{Create}, the boost and the post row. */
function post(i: number): { activities: NewActivity[]; post: Post } {
  const author = member(i);
  const noteId = `${author.actorId}/statuses/${100_000_000 + i}`;
  const note = {
    id: noteId,
    type: 'Note',
    attributedTo: author.actorId,
    content: `<p>${'A post of ordinary length, about three hundred characters of text. '.repeat(5)}</p>`,
    to: ['https://www.w3.org/ns/activitystreams#Public', `${origin}/groups/${group}`],
    cc: [`${author.actorId}/followers`],
    published: new Date(1_764_000_000_000 + i).toISOString(),
    tag: [{ type: 'Mention', href: `${origin}/groups/${group}`, name: `@${group}@guild.example` }],
  };
  const create = {
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: `${noteId}/activity`,
    type: 'Create',
    actor: author.actorId,
    object: note,
  };
  const announce = (id: string, object: unknown) => ({
    '@context': 'https://www.w3.org/ns/activitystreams',
    id,
    type: 'Announce',
    actor: `${origin}/groups/${group}`,
    object,
    to: ['https://www.w3.org/ns/activitystreams#Public'],
    cc: [`${origin}/groups/${group}/followers`],
  });
  const stored = (id: string, type: string, json: unknown, inOutbox: boolean): NewActivity => ({
    id,
    groupName: group,
    type,
    objectId: noteId,
    json: JSON.stringify(json),
    published: 1_764_000_000_000 + i,
    inOutbox,
  });
  const a1 = `${origin}/groups/${group}/activities/${randomUUID()}`;
  const a2 = `${origin}/groups/${group}/activities/${randomUUID()}`;
  return {
    activities: [
      stored(a1, 'Announce', announce(a1, create), true),
      stored(a2, 'Announce', announce(a2, noteId), false),
    ],
    post: {
      objectId: noteId,
      groupName: group,
      authorId: author.actorId,
      inReplyTo: null,
      threadRoot: noteId,
      createId: create.id,
      boostId: a2,
      createdAt: 1_764_000_000_000 + i,
      deletedAt: null,
      removedBy: null,
    },
  };
}

function job(i: number, activityId: string): NewJob {
  const inbox = member(i).inbox;
  return {
    id: deliveryJobId(activityId, inbox),
    queue: 'deliver',
    key: new URL(inbox).host,
    payload: { activityId, inbox, signer: `group:${group}` },
    runAt: 1_764_000_000_000,
  };
}

const kb = (bytes: number): string => `${bytes.toFixed(0)} B`;

async function sqliteSizes(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'guild-sizes-'));
  const path = join(dir, 'guild.sqlite');
  try {
    const store = await openStore({ kind: 'sqlite', path });
    for (let i = 0; i < n; i++) await store.members.upsertMember(member(i));
    const posts = Math.max(1, Math.round(n / 100));
    for (let i = 0; i < posts; i++) {
      const p = post(i);
      for (const a of p.activities) await store.activities.putActivity(a);
      await store.posts.putPost(p.post);
    }
    const activityId = `${origin}/groups/${group}/activities/${randomUUID()}`;
    for (let from = 0; from < n; from += 500)
      await store.jobs.enqueue(
        Array.from({ length: Math.min(500, n - from) }, (_, k) => job(from + k, activityId)),
        1_764_000_000_000,
      );
    await store.close();
    const db = new BetterSqlite3(path);
    db.exec('VACUUM');
    const owner = new Map(
      db
        .prepare<[], { name: string; tbl_name: string }>(
          "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')",
        )
        .all()
        .map((r) => [r.name, r.tbl_name]),
    );
    const bytes = new Map<string, { table: number; indexes: number }>();
    for (const row of db
      .prepare<[], { name: string; size: number }>(
        'SELECT name, SUM(pgsize) AS size FROM dbstat GROUP BY name',
      )
      .all()) {
      const table = owner.get(row.name) ?? row.name;
      const b = bytes.get(table) ?? { table: 0, indexes: 0 };
      if (table === row.name) b.table += row.size;
      else b.indexes += row.size;
      bytes.set(table, b);
    }
    db.close();
    const per = (table: string, count: number): string => {
      const b = bytes.get(table) ?? { table: 0, indexes: 0 };
      return `${kb((b.table + b.indexes) / count)} (rows ${kb(b.table / count)}, indexes ${kb(b.indexes / count)})`;
    };
    console.log(`SQLite, ${n} members on ${servers} servers, ${posts} posts, ${n} delivery jobs:`);
    console.log(`  per member: ${per('members', n)}`);
    console.log(`  per delivery job: ${per('jobs', n)}`);
    console.log(
      `  per post: activities ${per('activities', posts / 1)} for its two announces, posts row ${per('posts', posts)}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function mongoSizes(): void {
  const m = member(7);
  const memberDoc = { _id: new BSON.ObjectId(), ...m };
  const activityId = `${origin}/groups/${group}/activities/${randomUUID()}`;
  const j = job(7, activityId);
  const jobDoc = {
    _id: j.id,
    queue: j.queue,
    key: j.key,
    payload: JSON.stringify(j.payload),
    state: 'queued',
    runAt: j.runAt,
    attempts: 0,
    leaseOwner: null,
    leaseUntil: 0,
    lastError: null,
    createdAt: j.runAt,
    updatedAt: j.runAt,
    rev: randomUUID(),
    seq: 0,
  };
  const transition = {
    _id: `${jobDoc.rev}:0`,
    rev: jobDoc.rev,
    jobId: j.id,
    at: j.runAt,
    change: { leaseOwner: '12345-t0-abcdef12', leaseUntil: j.runAt + 35_000, updatedAt: j.runAt, seq: 1 },
  };
  const p = post(7);
  const size = (doc: object): number => BSON.calculateObjectSize(doc as BSON.Document);
  // A pack of 50 deliveries as the fan-out queues it (job-packs.mongodb.ts): open, its claim and outcome
  // transitions, then closed (slim) and its copy in job_packs_done, all kept until purged.
  const jobs = Array.from({ length: 50 }, (_, i) => job(i, activityId));
  const open = newPack('pack:' + 'x'.repeat(43), 'deliver', jobs, j.runAt);
  const entries = JSON.parse(open.entries) as PackEntry[];
  const leased = entries.map((e) => ({
    ...e,
    leaseOwner: '12345-t0-abcdef12',
    leaseUntil: j.runAt + 35_000,
  }));
  const done = entries.map((e) => ({ ...e, state: 'done' as const, leaseOwner: null, leaseUntil: 0 }));
  const transitionOf = (change: object) => ({
    _id: `${open.rev}:0`,
    rev: open.rev,
    jobId: open._id,
    at: j.runAt,
    change,
  });
  const claim = transitionOf({ ...packChange(leased, 1, j.runAt), claimed: entries.map((e) => e.id) });
  const outcome = transitionOf(packChange(done, 2, j.runAt));
  const closed = { ...open, ...packChange(done, 2, j.runAt) };
  const copy = closedCopy({ ...open, entries: done }, packChange(done, 2, j.runAt), done);
  const kept = size(closed) + size(copy) + size(claim) + size(outcome);
  console.log('MongoDB, BSON document sizes (before WiredTiger compression; index keys not counted):');
  const [inboxDoc] = deliveryInboxDocsOf([memberDoc]);
  console.log(
    `  member: ${kb(size(memberDoc))}, in 4 indexes (2 of them unique); ` +
      `and per distinct inbox of a group, ${kb(size(inboxDoc ?? {}))} in 2 indexes (delivery_inboxes)`,
  );
  console.log(
    `  a job alone: ${kb(size(jobDoc))} in 4 indexes, plus 2 transitions (claim, outcome) of ${kb(size(transition))} each`,
  );
  console.log(
    `  a pack of 50 deliveries: ${kb(size(open))} while open; kept until purged: closed ${kb(size(closed))}, ` +
      `its copy ${kb(size(copy))}, 2 transitions of ${kb(size(claim))} and ${kb(size(outcome))}: ` +
      `${kb(kept / 50)} per delivery`,
  );
  console.log(
    `  post: announces ${p.activities.map((a) => kb(size({ _id: a.id, ...a }))).join(' + ')}, post ${kb(size(p.post))}`,
  );
}

await sqliteSizes();
mongoSizes();
