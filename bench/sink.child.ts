/**
 * The remote fediverse of the benchmarks, run in its own process so that it never shares Guild's event loop:
 * loopback HTTP servers that stand for members' servers. Each accepts POSTs that carry a `Signature` and a
 * `Digest` header (202, else 401), fully verifies a sample of them against the group's key, tallies the
 * deliveries of the activity being watched, and serves actor documents by path on GET.
 *
 * Commands (see ipc.bench.ts): `listen {count, delayMs}`, `serve {documents}`, `watch {...}`, `report`, `closeIdle`,
 * `close`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { verifyRequest } from '../src/federation/http-signature.ts';
import { fields, num, serveIpc, text, type Fields } from './ipc.bench.ts';

/** Deliveries of one activity. */
class Tally {
  count = 0;
  /** Each inbox reached, with when it first was. */
  readonly inboxes = new Map<string, number>();
  firstAt = 0;
  lastAt = 0;

  add(inbox: string, at: number): void {
    this.count++;
    if (!this.inboxes.has(inbox)) this.inboxes.set(inbox, at);
    if (this.firstAt === 0) this.firstAt = at;
    this.lastAt = at;
  }

  toJSON(): Fields {
    return {
      count: this.count,
      distinct: this.inboxes.size,
      firstAt: this.firstAt,
      lastAt: this.lastAt,
      // Only a few inboxes are looked up one by one (the flood row); a fan-out's thousands are not listed.
      firstAtByInbox: this.inboxes.size <= 16 ? Object.fromEntries(this.inboxes) : {},
    };
  }
}

interface Watch {
  createId: string;
  noteId: string;
  keyId: string;
  ownerId: string;
  publicKeyPem: string;
  sampleEvery: number;
}

/**
 * The sinks stand for servers on other machines. Here they share Guild's cores, so they run at the priority of
 * Guild's background threads (GUILD_WORKER_NICE in the bench, 10): answering the deliveries Guild makes must not
 * take CPU from Guild's inbox at a higher priority than Guild's own delivery work has (Linux; elsewhere a no-op).
 */
const SINK_NICE = 10;
try {
  for (const tid of readdirSync('/proc/self/task')) setPriority(Number(tid), SINK_NICE);
} catch {
  // Not Linux, or not allowed: the sinks run at normal priority.
}

const servers: Server[] = [];
const documents = new Map<string, string>();
let delayMs = 0;
let watch: Watch | null = null;
let create = new Tally();
let boost = new Tally();
let other = 0;
let unsigned = 0;
let posts = 0;
/** Every POST since the servers started, by inbox (host and path); listed when there are few inboxes. */
const postsByInbox = new Map<string, number>();
/** POSTs being answered now (slow sinks), and the most at once since `watch`. */
let inFlight = 0;
let maxInFlight = 0;
let sample = { checked: 0, ok: 0, failures: {} as Record<string, number> };

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
const now = (): number => performance.timeOrigin + performance.now();

function classify(body: Buffer): 'create' | 'boost' | 'other' {
  if (watch === null) return 'other';
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return 'other';
  }
  if (typeof doc !== 'object' || doc === null) return 'other';
  const d = doc as Fields;
  if (d['type'] !== 'Announce') return 'other';
  const object = d['object'];
  const objectId =
    typeof object === 'string'
      ? object
      : typeof object === 'object' && object
        ? (object as Fields)['id']
        : null;
  if (objectId === watch.createId) return 'create';
  if (objectId === watch.noteId) return 'boost';
  return 'other';
}

async function checkSignature(req: IncomingMessage, body: Buffer, w: Watch): Promise<void> {
  const result = await verifyRequest({
    method: 'POST',
    path: req.url ?? '/',
    headers: req.headers,
    rawBody: body,
    now: new Date(),
    resolveKey: async (keyId) =>
      keyId === w.keyId ? { publicKeyPem: w.publicKeyPem, ownerId: w.ownerId } : null,
  });
  sample.checked++;
  if (result.ok && result.ownerId === w.ownerId) sample.ok++;
  else {
    const reason = result.ok ? 'wrong-owner' : result.reason;
    sample.failures[reason] = (sample.failures[reason] ?? 0) + 1;
  }
}

function onPost(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const at = now();
  posts++;
  if (typeof req.headers['signature'] !== 'string' || typeof req.headers['digest'] !== 'string') {
    unsigned++;
    res.writeHead(401).end();
    return;
  }
  const kind = classify(body);
  const inbox = `${req.headers.host ?? ''}${req.url ?? ''}`;
  postsByInbox.set(inbox, (postsByInbox.get(inbox) ?? 0) + 1);
  if (kind === 'create') create.add(inbox, at);
  else if (kind === 'boost') boost.add(inbox, at);
  else other++;
  const w = watch;
  if (w !== null && kind !== 'other' && (create.count + boost.count) % w.sampleEvery === 0) {
    void checkSignature(req, body, w);
  }
  if (delayMs > 0) {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      res.writeHead(202).end();
    }, delayMs);
  } else res.writeHead(202).end();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'POST') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => onPost(req, res, Buffer.concat(chunks)));
    return;
  }
  const doc = documents.get(req.url ?? '');
  if (req.method !== 'GET' || doc === undefined) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/activity+json' }).end(doc);
}

async function listen(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer(handle);
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }
  return ports;
}

serveIpc(
  {
    async listen(args) {
      delayMs = num(args, 'delayMs');
      return { ports: await listen(num(args, 'count')) };
    },
    /**
     * Closes the connections that carry no request (between the steps of a row: so that a step's connections
     * are not closed by their idle timeout in the middle of the next one).
     */
    async closeIdle() {
      for (const s of servers) s.closeIdleConnections();
      return {};
    },
    async serve(args) {
      const list = args['documents'];
      if (!Array.isArray(list)) throw new Error('documents: expected a list of [path, document]');
      for (const entry of list as unknown[]) {
        if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw new Error('bad document entry');
        documents.set(entry[0], JSON.stringify(entry[1]));
      }
      return { count: documents.size };
    },
    async watch(args) {
      watch = {
        createId: text(args, 'createId'),
        noteId: text(args, 'noteId'),
        keyId: text(args, 'keyId'),
        ownerId: text(args, 'ownerId'),
        publicKeyPem: text(args, 'publicKeyPem'),
        sampleEvery: Math.max(1, num(args, 'sampleEvery')),
      };
      create = new Tally();
      boost = new Tally();
      other = 0;
      unsigned = 0;
      posts = 0;
      maxInFlight = inFlight;
      sample = { checked: 0, ok: 0, failures: {} };
      return {};
    },
    async report() {
      const cpu = process.cpuUsage();
      return {
        create: create.toJSON(),
        boost: boost.toJSON(),
        other,
        unsigned,
        posts,
        postsByInbox: postsByInbox.size <= 16 ? Object.fromEntries(postsByInbox) : {},
        sample,
        inFlight,
        maxInFlight,
        cpuMs: (cpu.user + cpu.system) / 1000,
      };
    },
    async close() {
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      setImmediate(() => process.exit(0));
      return {};
    },
  },
  fields({ pid: process.pid }, 'ready'),
);
