/**
 * `npm run bench:libraries [-- --rounds N] [--baseline REV]`: the maintained libraries Guild uses for HTML
 * sanitising (sanitize-html), structured fields (structured-headers), metrics (prom-client) and logs (pino),
 * measured against the hand-written modules they replaced, read from git at REV (default: the last commit that
 * had them). Both sides run in this process, alternately, round after round (which goes first alternates too), so
 * that the machine's drift touches both alike; the table gives the median time per operation of each side and
 * their ratio. Logging to stderr and module load times are measured in child processes whose stderr is
 * /dev/null. Prints one markdown table on stdout. A measurement, not a test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import * as lib from './libraries.cases.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The last commit with the hand-written sanitiser, structured-field parser, metrics registry and logger. */
const BASELINE = 'b5e5164';
const FILES = {
  sanitize: 'src/web/sanitize-html.ts',
  fields: 'src/federation/structured-fields.ts',
  metrics: 'src/federation/metrics.ts',
  log: 'src/log.ts',
} as const;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

/** Writes the baseline's files into a temporary directory; returns their paths by name. */
function checkoutBaseline(rev: string): Record<keyof typeof FILES, string> {
  const dir = mkdtempSync(join(tmpdir(), 'guild-baseline-'));
  const out = {} as Record<keyof typeof FILES, string>;
  for (const [name, file] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
    const path = join(dir, file.split('/').pop() ?? name);
    writeFileSync(path, execFileSync('git', ['show', `${rev}:${file}`], { cwd: ROOT, encoding: 'utf8' }));
    out[name] = path;
  }
  return out;
}

interface Row {
  name: string;
  hand: number;
  library: number;
  unit: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** Time of one call of `op`, in ns, over `n` calls. */
async function timeOf(op: lib.Op, n: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = op();
    if (r instanceof Promise) await r;
  }
  return Number(process.hrtime.bigint() - started) / n;
}

/** Runs both sides alternately for `rounds` rounds (after two warm-up rounds); medians in ns per call. */
async function compare(pair: lib.Pair, rounds: number): Promise<{ hand: number; library: number }> {
  // Calls per sample: about 40 ms of the hand-written side.
  let n = 1;
  while ((await timeOf(pair.hand, n)) * n < 40e6 && n < 1e7) n *= 2;
  const hand: number[] = [];
  const library: number[] = [];
  for (let r = -2; r < rounds; r++) {
    const first = r % 2 === 0 ? 'hand' : 'library';
    for (const side of first === 'hand' ? (['hand', 'library'] as const) : (['library', 'hand'] as const)) {
      const t = await timeOf(pair[side], n);
      if (r >= 0) (side === 'hand' ? hand : library).push(t);
    }
  }
  return { hand: median(hand), library: median(library) };
}

/** In a child process with stderr on /dev/null: JSON lines through each logger's default sink. */
async function logChild(basePath: string, rounds: number): Promise<void> {
  const old = (await import(pathToFileURL(basePath).href)) as lib.LogModule;
  const current = (await import(pathToFileURL(join(ROOT, FILES.log)).href)) as lib.LogModule;
  const pair = lib.logPair(
    old.createLogger('info', { service: 'bench' }),
    current.createLogger('info', { service: 'bench' }),
  );
  process.stdout.write(JSON.stringify(await compare(pair, rounds)));
}

/** Milliseconds and heap bytes (after a full GC) to import `file` in a fresh process (tsx loaded first). */
function importCost(file: string): { ms: number; heap: number } {
  const code =
    `gc(); const h = process.memoryUsage().heapUsed; const t = performance.now(); ` +
    `await import(${JSON.stringify(pathToFileURL(file).href)}); const ms = performance.now() - t; gc(); ` +
    `console.log(JSON.stringify({ ms, heap: process.memoryUsage().heapUsed - h }));`;
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', code],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`importing ${file} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { ms: number; heap: number };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--log-child') {
    await logChild(process.argv[3] ?? '', Number(process.argv[4]));
    return;
  }
  const rounds = Number(arg('--rounds', '15'));
  const rev = arg('--baseline', BASELINE);
  const base = checkoutBaseline(rev);
  const imp = async <T>(path: string): Promise<T> => (await import(pathToFileURL(path).href)) as T;
  const old = {
    sanitize: await imp<lib.SanitizeModule>(base.sanitize),
    fields: await imp<lib.OldFieldsModule>(base.fields),
    metrics: await imp<lib.OldMetricsModule>(base.metrics),
    log: await imp<lib.LogModule>(base.log),
  };
  const corpus = (
    JSON.parse(readFileSync(join(ROOT, 'bench/fixtures/remote-html.json'), 'utf8')) as {
      fragments: { html: string }[];
    }
  ).fragments.map((f) => f.html);
  const cases = lib.cases(old, corpus);
  const rows: Row[] = [];
  for (const c of cases) {
    const m = await compare(c.pair, rounds);
    rows.push({ name: c.name, hand: m.hand / c.per, library: m.library / c.per, unit: c.unit });
    process.stderr.write(`measured: ${c.name}\n`);
  }
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--log-child', base.log, String(rounds)],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', openSync('/dev/null', 'w')] },
  );
  const logged = JSON.parse(child.stdout) as { hand: number; library: number };
  rows.push({ name: 'log: info line with fields, to stderr (/dev/null)', ...logged, unit: 'line' });

  const loads: Row[] = [];
  for (const name of Object.keys(FILES) as (keyof typeof FILES)[]) {
    const hand: { ms: number; heap: number }[] = [];
    const library: { ms: number; heap: number }[] = [];
    for (let i = 0; i < 7; i++) {
      hand.push(importCost(base[name]));
      library.push(importCost(join(ROOT, FILES[name])));
    }
    const ms = (xs: { ms: number }[]): number => median(xs.map((x) => x.ms)) * 1e6;
    const heap = (xs: { heap: number }[]): number => median(xs.map((x) => x.heap));
    loads.push({ name: `load ${FILES[name]}: time`, hand: ms(hand), library: ms(library), unit: 'import' });
    loads.push({
      name: `load ${FILES[name]}: heap`,
      hand: heap(hand),
      library: heap(library),
      unit: 'bytes',
    });
  }

  const fmt = (ns: number): string =>
    ns >= 1e6
      ? `${(ns / 1e6).toFixed(1)} ms`
      : ns >= 1e3
        ? `${(ns / 1e3).toFixed(2)} µs`
        : `${ns.toFixed(0)} ns`;
  const corpusHash = createHash('sha256').update(corpus.join('\n')).digest('hex').slice(0, 12);
  const out = [
    `Libraries against the hand-written modules of ${rev}: ${rounds} alternating rounds (medians), ` +
      `${new Date().toISOString()}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.versions.node}, ` +
      `corpus ${corpus.length} fragments (sha256 ${corpusHash}).`,
    '',
    '| case | per | hand-written | library | library / hand |',
    '| --- | --- | --- | --- | --- |',
    ...[...rows, ...loads].map((r) =>
      r.unit === 'bytes'
        ? `| ${r.name} | import | ${(r.hand / 1e6).toFixed(2)} MB | ${(r.library / 1e6).toFixed(2)} MB | ${(r.library / r.hand).toFixed(2)} |`
        : `| ${r.name} | ${r.unit} | ${fmt(r.hand)} | ${fmt(r.library)} | ${(r.library / r.hand).toFixed(2)} |`,
    ),
  ];
  process.stdout.write(out.join('\n') + '\n');
}

await main();
