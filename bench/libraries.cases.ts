/**
 * The operations `libraries.bench.ts` times, each as a pair: the hand-written module (loaded from git) and the
 * library-backed module of this tree doing the same work on the same input.
 */
import { createHash } from 'node:crypto';
import { htmlToText, sanitizeHtml } from '../src/web/sanitize-html.ts';
import { parseDictionary, serializeInnerList, isInnerList } from '../src/federation/structured-fields.ts';
import { Metrics, type MetricsSnapshot } from '../src/federation/metrics.ts';
import { createLogger, type Logger } from '../src/log.ts';

export type Op = () => unknown;
export interface Pair {
  hand: Op;
  library: Op;
}
export interface Case {
  name: string;
  /** What one unit is, and how many units one call of the pair handles. */
  unit: string;
  per: number;
  pair: Pair;
}

/** The shapes of the hand-written modules that the cases use. */
export interface SanitizeModule {
  sanitizeHtml(s: string): string;
  htmlToText(s: string): string;
}
type OldInnerList = { kind: 'list' };
export interface OldFieldsModule {
  parseDictionary(s: string): Map<string, OldInnerList | { kind: 'item' }> | null;
  serializeInnerList(l: OldInnerList): string;
}
interface OldRecorder {
  inc(labels: Record<string, string>, by?: number): void;
  observe(labels: Record<string, string>, v: number): void;
  set(labels: Record<string, string>, v: number): void;
}
interface OldMetrics {
  inboxRequests: OldRecorder;
  inboxSeconds: OldRecorder;
  jobs: OldRecorder;
  jobSeconds: OldRecorder;
  hostFailures: OldRecorder;
  queueDepth: OldRecorder;
  snapshot(): unknown;
  combinedWith(others: unknown[]): OldMetrics;
  render(): string;
}
export interface OldMetricsModule {
  Metrics: new () => OldMetrics;
}
export interface LogModule {
  createLogger(level: 'info', base?: Record<string, unknown>, sink?: (line: string) => void): Logger;
}

/** Keeps results alive so that no work is optimised away. */
let sink = 0;
const keep = (v: unknown): void => {
  sink += typeof v === 'string' ? v.length : v === null || v === undefined ? 0 : 1;
};

/** The headers of a Mastodon-style RFC 9421 POST (what an inbox parses per request). */
function signatureHeaders(): { input: string; signature: string; digest: string } {
  const body = JSON.stringify({ type: 'Create', id: 'https://remote.example/activities/1' });
  return {
    input:
      'sig1=("@method" "@target-uri" "content-digest" "content-type");created=1764500000;' +
      'keyid="https://remote.example/users/alice#main-key";alg="rsa-v1_5-sha256"',
    signature: `sig1=:${Buffer.alloc(256, 7).toString('base64')}:`,
    digest: `sha-256=:${createHash('sha256').update(body).digest('base64')}:`,
  };
}

/** Series like those of a running server: inbox statuses, three queues, 200 hosts with failures. */
function fill(m: OldMetrics | Metrics): void {
  for (const status of ['202', '401', '403', '400']) m.inboxRequests.inc({ status }, 10);
  for (let i = 0; i < 50; i++) m.inboxSeconds.observe({}, i / 1000);
  for (const queue of ['intake', 'fanout', 'deliver']) {
    for (const outcome of ['done', 'retry', 'fail', 'error']) m.jobs.inc({ outcome, queue }, 5);
    m.jobSeconds.observe({ queue }, 0.05);
    m.queueDepth.set({ queue }, 3);
  }
  for (let h = 0; h < 200; h++) m.hostFailures.inc({ host: `host${h}.example` });
}

export function logPair(hand: Logger, library: Logger): Pair {
  const h = hand.child({ loop: 'deliver', jobId: 'deliver:0123456789abcdef' });
  const l = library.child({ loop: 'deliver', jobId: 'deliver:0123456789abcdef' });
  const fields = { host: 'remote.example', status: 202, ms: 41.5, inbox: 'https://remote.example/inbox' };
  return { hand: () => h.info('delivered', fields), library: () => l.info('delivered', fields) };
}

export function cases(
  old: { sanitize: SanitizeModule; fields: OldFieldsModule; metrics: OldMetricsModule; log: LogModule },
  corpus: string[],
): Case[] {
  const headers = signatureHeaders();
  const oldMain = new old.metrics.Metrics();
  const oldThreads = [new old.metrics.Metrics(), new old.metrics.Metrics()];
  const main = new Metrics();
  const threads = [new Metrics(), new Metrics()];
  for (const m of [oldMain, ...oldThreads, main, ...threads]) fill(m);
  const discard = (): void => undefined;
  return [
    {
      name: 'sanitise remote HTML (interop corpus)',
      unit: 'fragment',
      per: corpus.length,
      pair: {
        hand: () => corpus.forEach((h) => keep(old.sanitize.sanitizeHtml(h))),
        library: () => corpus.forEach((h) => keep(sanitizeHtml(h))),
      },
    },
    {
      name: 'remote HTML to text (interop corpus)',
      unit: 'fragment',
      per: corpus.length,
      pair: {
        hand: () => corpus.forEach((h) => keep(old.sanitize.htmlToText(h))),
        library: () => corpus.forEach((h) => keep(htmlToText(h))),
      },
    },
    {
      name: 'parse Signature-Input, Signature, Content-Digest; serialise @signature-params',
      unit: 'request',
      per: 1,
      pair: {
        hand: () => {
          const list = old.fields.parseDictionary(headers.input)?.get('sig1');
          keep(old.fields.parseDictionary(headers.signature));
          keep(old.fields.parseDictionary(headers.digest));
          if (list?.kind === 'list') keep(old.fields.serializeInnerList(list));
        },
        library: () => {
          const list = parseDictionary(headers.input)?.get('sig1');
          keep(parseDictionary(headers.signature));
          keep(parseDictionary(headers.digest));
          if (list && isInnerList(list)) keep(serializeInnerList(list));
        },
      },
    },
    {
      name: 'metrics: record an inbox request and a job (2 counters, 2 histograms)',
      unit: 'event',
      per: 1,
      pair: {
        hand: () => {
          oldMain.inboxRequests.inc({ status: '202' });
          oldMain.inboxSeconds.observe({}, 0.012);
          oldMain.jobs.inc({ outcome: 'done', queue: 'deliver' });
          oldMain.jobSeconds.observe({ queue: 'deliver' }, 0.04);
        },
        library: () => {
          main.inboxRequests.inc({ status: '202' });
          main.inboxSeconds.observe({}, 0.012);
          main.jobs.inc({ outcome: 'done', queue: 'deliver' });
          main.jobSeconds.observe({ queue: 'deliver' }, 0.04);
        },
      },
    },
    {
      name: 'metrics: render /metrics of one thread (200 host series)',
      unit: 'scrape',
      per: 1,
      pair: { hand: () => keep(oldMain.render()), library: async () => keep(await main.render()) },
    },
    {
      name: 'metrics: /metrics with 2 background threads (their snapshots, sum, render)',
      unit: 'scrape',
      per: 1,
      pair: {
        hand: () => keep(oldMain.combinedWith(oldThreads.map((t) => t.snapshot())).render()),
        library: async () => {
          const snaps: MetricsSnapshot[] = await Promise.all(threads.map((t) => t.snapshot()));
          keep(await main.render(snaps));
        },
      },
    },
    {
      name: 'log: info line with fields (child logger), to a discarding sink',
      unit: 'line',
      per: 1,
      pair: logPair(
        old.log.createLogger('info', { service: 'bench' }, discard),
        createLogger('info', { service: 'bench' }, discard),
      ),
    },
    {
      name: 'log: debug call below the level',
      unit: 'call',
      per: 1,
      pair: {
        hand: (
          (l) => () =>
            l.debug('skipped', { a: 1 })
        )(old.log.createLogger('info', {}, discard)),
        library: (
          (l) => () =>
            l.debug('skipped', { a: 1 })
        )(createLogger('info', {}, discard)),
      },
    },
  ];
}

/** Read by nobody; exported so that the work kept alive above cannot be proven dead. */
export const kept = (): number => sink;
