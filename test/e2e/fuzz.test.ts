/**
 * Fuzzing the inbox with mutated real payloads (test/fixtures/interop): fields deleted or given wrong types,
 * ids moved to other origins or to this server, odd unicode, truncated JSON, duplicate keys. Each request goes to
 * a group inbox or the shared inbox, signed by a member after the mutation, unsigned, or changed after signing.
 * Guild must never answer 5xx or drop a connection, must stay ready, every intake job it creates must end `done`,
 * and a refused request must leave no intake job. The PRNG seed is printed; `FUZZ_SEED` replays a run and
 * `FUZZ_COUNT` changes the number of requests. fuzz-findings.test.ts replays, by hand, what fuzzing found.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { GuildProcess } from '../support/guild-process.ts';
import type { RawActor } from '../support/raw-actor.ts';
import { waitUntil } from '../support/net.ts';
import { testStoreKind } from '../support/test-store.ts';
import {
  corpusActors,
  interopFixturesDir,
  loadInteropCorpus,
  prepareActivity,
  withRunTag,
  type InteropFixture,
} from '../support/interop-fixtures.ts';
import { signRequest } from '../../src/federation/http-signature.ts';
import { intakeJobId } from '../../src/federation/inbox.receiver.ts';
import { INBOUND_TYPES } from '../../src/activitypub/inbound.parser.ts';
import { POST_TYPES, PUBLIC, isObject, type ApObject } from '../../src/activitypub/vocab.ts';
import { REMOTE_CONTEXT_PATH, Rng, mutate, type FuzzContext } from '../support/fuzz-mutations.ts';
import {
  GROUP,
  MOD_GROUP,
  startFuzzTarget,
  type FuzzTarget,
  type IntakeRow,
} from '../support/fuzz-target.ts';

const DIR = interopFixturesDir();
const MONGO = testStoreKind() === 'mongodb';
/** A fixed seed, so that every run sends the same payloads; FUZZ_SEED explores others. */
const SEED = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : 20_261_130;
const COUNT = process.env['FUZZ_COUNT'] ? Number(process.env['FUZZ_COUNT']) : MONGO ? 600 : 2000;
const IN_FLIGHT = 8;

type Mode = 'signed' | 'unsigned' | 'tampered';
interface Case {
  n: number;
  url: string;
  mode: Mode;
  what: string;
  body: string | Buffer;
  /** The `id` of the mutated document, when it parses to an object with a string id. */
  id: string | null;
  type: string | null;
  /** What was signed, when the body was changed after signing. */
  signedBody?: string;
}
interface Answer extends Case {
  status: number;
  text: string;
  /** Milliseconds from sending to the whole answer. */
  ms: number;
}

function idAndType(body: string | Buffer): { id: string | null; type: string | null } {
  try {
    const doc: unknown = JSON.parse(body.toString());
    if (!isObject(doc)) return { id: null, type: null };
    return {
      id: typeof doc['id'] === 'string' ? doc['id'] : null,
      type: typeof doc['type'] === 'string' ? doc['type'] : null,
    };
  } catch {
    return { id: null, type: null };
  }
}

/** The Create a member's server would send for a bare post object. */
function asCreate(f: InteropFixture): InteropFixture {
  const { '@context': context, ...object } = f.json;
  const actor = object['attributedTo'];
  return {
    ...f,
    kind: 'activity',
    json: {
      '@context': context,
      id: `${String(object['id'])}/create`,
      type: 'Create',
      actor,
      to: object['to'],
      cc: object['cc'],
      object,
    },
  };
}

describe('fuzz: mutated real payloads at the inbox', function () {
  this.timeout(180_000);
  let t: FuzzTarget;
  let guild: GuildProcess;
  let member: RawActor;

  before(async function () {
    t = await startFuzzTarget();
    guild = t.guild;
    member = t.member;
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      process.stderr.write(`---- guild output ----\n${guild?.output.slice(-80).join('\n')}\n`);
  });
  after(async function () {
    await t?.close();
  });

  const answers: Answer[] = [];
  let jobs: IntakeRow[] = [];
  const show = (a: Answer): string =>
    `#${a.n} ${a.mode} ${a.url} [${a.what}] -> ${a.status} ${a.text.slice(0, 200)}`;

  const describeJob = (j: IntakeRow): string => {
    const activityId = j.activityId ?? null;
    const from = answers.find((a) => a.id === activityId);
    const held = (j.payload ?? '').slice(0, 300);
    return `${j.state} ${activityId ?? j.id}: ${j.lastError ?? ''}${from ? ` (from ${show(from)})` : ` payload ${held}`}`;
  };

  /** Sends the mutated payloads once, for whichever test needs the answers first (each test also runs alone). */
  let sending: Promise<void> | null = null;
  const sendAll = (): Promise<void> => (sending ??= sendPayloads());
  async function sendPayloads(): Promise<void> {
    console.log(`      FUZZ_SEED=${SEED} FUZZ_COUNT=${COUNT}`);
    const r = new Rng(SEED);
    const corpus = loadInteropCorpus(DIR);
    const actors = corpusActors(corpus);
    const bases = [
      ...corpus.filter((f) => f.kind === 'activity'),
      ...corpus.filter((f) => f.kind === 'object' && POST_TYPES.has(String(f.json['type']))).map(asCreate),
    ];
    const run = randomUUID().slice(0, 8);

    const makeCase = (n: number): Case => {
      const fixture = r.pick(bases);
      const groupId = `${guild.origin}/groups/${r.pick([GROUP, MOD_GROUP])}`;
      const p = prepareActivity(fixture, {
        ctx: { originOf: () => member.origin, groupId },
        runTag: `${run}-${n}`,
        actors,
        publicKeyPem: member.publicKeyPem,
      });
      // Every actor of the corpus becomes the member, so that the signature is the member's.
      const text = JSON.stringify(p.activity)
        .split(JSON.stringify(p.signerId).slice(1, -1))
        .join(member.actorId);
      const doc = JSON.parse(text) as ApObject;
      const obj = doc['object'];
      if (isObject(obj) && typeof obj['id'] === 'string' && obj['id'].startsWith(member.origin))
        obj['id'] = withRunTag(obj['id'], `${run}-${n}`);
      if (r.chance(0.5)) doc['cc'] = [PUBLIC, groupId];
      const c: FuzzContext = {
        groupId,
        guild: guild.origin,
        actorId: member.actorId,
        member: member.origin,
        n,
      };
      const { base, body, what } = mutate(doc, r, c);
      const roll = r.next();
      const mode: Mode = roll < 0.7 ? 'signed' : roll < 0.93 ? 'unsigned' : 'tampered';
      const url = r.chance(0.5) ? `${groupId}/inbox` : `${guild.origin}/inbox`;
      return {
        n,
        url,
        mode,
        what: [fixture.name, ...what].join('; '),
        body: mode === 'tampered' && body === base ? `${base} ` : body,
        ...idAndType(body),
        ...(mode === 'tampered' ? { signedBody: base } : {}),
      };
    };

    const send = async (c: Case & { signedBody?: string }): Promise<Answer> => {
      const headers =
        c.mode === 'unsigned'
          ? { 'content-type': 'application/activity+json' }
          : signRequest({
              method: 'POST',
              url: c.url,
              headers: { 'Content-Type': 'application/activity+json' },
              body: c.mode === 'tampered' ? (c.signedBody ?? '') : c.body,
              keyId: member.keyId,
              privateKeyPem: member.privateKeyPem,
            });
      const t0 = Date.now();
      try {
        const res = await fetch(c.url, {
          method: 'POST',
          headers,
          body: typeof c.body === 'string' ? c.body : new Uint8Array(c.body),
        });
        const text = await res.text();
        return { ...c, status: res.status, text, ms: Date.now() - t0 };
      } catch (e) {
        return {
          ...c,
          status: 0,
          ms: Date.now() - t0,
          text: `connection failed: ${e instanceof Error ? `${e.message} ${String(e.cause)}` : String(e)}`,
        };
      }
    };

    const started = Date.now();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < COUNT) {
        const c = makeCase(next++);
        const a = await send(c);
        // Keep the bodies of accepted requests only (they are searched below); refused ones may be huge.
        answers.push(a.status < 300 ? a : { ...a, body: '' });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    const sendMs = Date.now() - started;

    const byStatus = new Map<number, number>();
    for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
    console.log(
      `      ${answers.length} requests in ${sendMs} ms; answers ${JSON.stringify(Object.fromEntries(byStatus))}`,
    );
    const times = answers.map((a) => a.ms).sort((a, b) => a - b);
    const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
    console.log(
      `      answer times: median ${at(0.5)} ms, 99th percentile ${at(0.99)} ms, slowest ${at(1)} ms`,
    );
  }

  it(`answers ${COUNT} mutated payloads with 2xx or 4xx, never 5xx or a dropped connection (seed ${SEED})`, async function () {
    await sendAll();
    const broken = answers.filter((a) => a.status === 0 || a.status >= 500);
    expect(broken.map(show), 'no 5xx and no dropped connection').to.deep.equal([]);
    const odd = answers.filter((a) => a.status < 200 || (a.status >= 300 && a.status < 400));
    expect(odd.map(show), 'every answer is 2xx or 4xx').to.deep.equal([]);
    const trusted = answers.filter((a) => a.mode !== 'signed' && a.status < 300);
    expect(trusted.map(show), 'unsigned or changed-after-signing requests are refused').to.deep.equal([]);
    expect(answers.length, 'every payload was sent').to.equal(COUNT);
  });

  it('is still ready, and fetched no @context named in a payload', async function () {
    await sendAll();
    const fetched = member.requests.filter((q) => q.includes(REMOTE_CONTEXT_PATH));
    expect(fetched, 'contexts fetched from the member server').to.deep.equal([]);
    expect((await fetch(`${guild.origin}/readyz`)).status, '/readyz after the fuzzing').to.equal(200);
    expect(guild.proc.exitCode, 'the process is alive').to.equal(null);
  });

  /** Waits, once, until every intake job the payloads made has been processed, and reads them. */
  let settling: Promise<void> | null = null;
  const settleAll = (): Promise<void> => (settling ??= settle());
  async function settle(): Promise<void> {
    await sendAll();
    // Every intake job ends: done, failed, or retried after a handler threw (lastError set).
    const settleStart = Date.now();
    await waitUntil(
      async () =>
        (await t.intakeJobs()).every((j) => j.state !== 'queued' || j.lastError !== null) || undefined,
      {
        what: 'every intake job to be processed',
        timeoutMs: 150_000,
      },
    );
    jobs = await t.intakeJobs(true);
    console.log(
      `      ${jobs.length} intake jobs processed ${Date.now() - settleStart} ms after the last request`,
    );
  }

  it('processes every intake job it created to done: no handler throws', async function () {
    await settleAll();
    const failed = jobs.filter((j) => j.state !== 'done');
    expect(failed.map(describeJob), 'intake jobs that did not end done (a handler threw)').to.deep.equal([]);
    expect(jobs.length, 'enough mutated activities got through to the handlers').to.be.above(
      answers.length / 10,
    );
    const outcomes = new Map<string, number>();
    for (const line of guild.output) {
      // Output arrives in chunks that may cut a long line: only whole JSON lines count here.
      const m = /"msg":"((?:[^"\\]|\\.)*)".*"loop":"intake"/.exec(line);
      if (!m) continue;
      const msg = (m[1] ?? '').replace(/https?:\/\/\S+/g, 'URL').slice(0, 70);
      outcomes.set(msg, (outcomes.get(msg) ?? 0) + 1);
    }
    const top = [...outcomes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
    console.log(
      `      what the intake did, most frequent first:\n${top.map(([m, k]) => `        ${k}\t${m}`).join('\n')}`,
    );
    const errors = guild.output.filter((l) => l.includes('"level":"error"'));
    expect(errors.slice(0, 20), 'error log lines').to.deep.equal([]);
  });

  it('leaves no intake job for a refused request', async function () {
    await settleAll();

    // No change from rejected input: every intake job comes from an accepted request...
    const acceptedIds = new Set(answers.filter((a) => a.status < 300 && a.id !== null).map((a) => a.id));
    const acceptedBodies = answers.filter((a) => a.status < 300).map((a) => a.body.toString());
    const follows = [GROUP, MOD_GROUP].map((name) => intakeJobId(`${member.actorId}/follows/${name}`));
    // Activities of Guild's own actors are deliveries to itself: the 'findings' test below covers them.
    const local = (j: IntakeRow): boolean => (j.actorId ?? '').startsWith(`${guild.origin}/`);
    const selfDelivered = jobs.filter(local).length;
    if (selfDelivered > 0)
      console.log(`      ${selfDelivered} intake jobs hold activities Guild delivered to itself`);
    const stray = jobs.filter((j) => {
      if (follows.includes(j.id) || local(j)) return false;
      const activityId = j.activityId ?? null;
      return (
        activityId === null ||
        !(acceptedIds.has(activityId) || acceptedBodies.some((b) => b.includes(activityId)))
      );
    });
    expect(stray.map(describeJob), 'intake jobs no accepted request explains').to.deep.equal([]);
    // ...and no refused request left one under its activity id.
    const jobIds = new Set(jobs.map((j) => j.id));
    const leaked = answers.filter(
      (a) => a.status >= 400 && a.id !== null && !acceptedIds.has(a.id) && jobIds.has(intakeJobId(a.id)),
    );
    expect(leaked.map(show), 'refused requests that left an intake job').to.deep.equal([]);
    // Accepted activities of a handled type all reached the queue.
    const missing = answers.filter(
      (a) =>
        a.status === 202 &&
        a.mode === 'signed' &&
        a.id &&
        a.type &&
        INBOUND_TYPES.has(a.type) &&
        !jobIds.has(intakeJobId(a.id)),
    );
    console.log(
      `      ${missing.length} accepted requests of a handled type without an intake job under their raw id`,
    );
  });
});
