/**
 * `npm test`: every spec on SQLite, then the contract and end-to-end specs on a MongoDB-wire server (MONGODB_URL,
 * or a FerretDB started here). Extra arguments go to both mocha runs (`npm test -- --grep foo`). Prints one
 * summary: the counts of each run, every prerequisite that was missing (what could not run, why, and the command
 * that installs it), and one line `N passed, M failed, K skipped`. Exits non-zero when a run failed, or when CI is
 * set and a prerequisite was missing (under CI nothing may be skipped for want of one).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactMongoUrl } from '../src/storage/mongodb/store.mongodb.ts';
import { FERRETDB_VERSION, startFerretDb, type RunningFerretDb } from './support/ferretdb.ts';
import {
  PREREQUISITES_FILE_ENV,
  isCi,
  parsePrerequisites,
  type MissingPrerequisite,
} from './support/prerequisites.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MOCHA = join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
/** Used when .mocharc.json names no `spec`. */
const ALL_SPECS = ['test/unit/**/*.test.ts', 'test/contract/**/*.test.ts', 'test/e2e/**/*.test.ts'];
const MONGODB_SPEC_DIRS = ['test/contract/', 'test/e2e/'];
const MONGODB_SPECS = MONGODB_SPEC_DIRS.map((dir) => `${dir}**/*.test.ts`);
/** Mocha options that take a value, so that the value is not mistaken for a spec. */
const VALUED_OPTIONS = new Set(
  '--grep -g --fgrep -f --reporter -R --reporter-option -O --timeout -t --slow -s --ui -u --require -r --file --ignore --exclude --retries --jobs -j --config --package --extension --node-option -n'.split(
    ' ',
  ),
);

interface RunResult {
  name: string;
  exitCode: number;
  passing: number;
  failing: number;
  pending: number;
  /** False when mocha ended without printing its counts (e.g. a spec file failed to load). */
  counted: boolean;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The number in the last line of the form `  N word` (the spec reporter's epilogue comes last). */
function count(output: string, word: string): number | null {
  const matches = [...output.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\b`, 'gm'))];
  const last = matches[matches.length - 1]?.[1];
  return last === undefined ? null : Number(last);
}

/** Runs mocha with the spec reporter, showing its output as it comes and counting its results. */
function runMocha(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  const reporter = args.some((arg) => arg === '--reporter' || arg.startsWith('--reporter=') || arg === '-R')
    ? []
    : ['--reporter', 'spec'];
  const color =
    process.stdout.isTTY && !args.some((arg) => /^--(no-)?colou?rs?$/.test(arg)) ? ['--color'] : [];
  console.log(`\n=== ${name} ===`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MOCHA, ...reporter, ...color, ...args], {
      cwd: ROOT,
      env,
      stdio: ['inherit', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      output += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const plain = output.replace(ANSI, '');
      const passing = count(plain, 'passing');
      const failing = count(plain, 'failing') ?? 0;
      const pending = count(plain, 'pending') ?? 0;
      resolve({
        name,
        exitCode: code ?? (signal ? 128 : 1),
        passing: passing ?? 0,
        failing,
        pending,
        counted: passing !== null || failing > 0,
      });
    });
  });
}

/** Splits the command line into spec files (positional arguments) and options. */
function splitArgs(args: string[]): { specs: string[]; options: string[] } {
  const specs: string[] = [];
  const options: string[] = [];
  args.forEach((arg, index) => {
    const previous = args[index - 1];
    const isValue = previous !== undefined && VALUED_OPTIONS.has(previous);
    if (!arg.startsWith('-') && !isValue) specs.push(arg);
    else options.push(arg);
  });
  return { specs, options };
}

async function readMocharc(): Promise<Record<string, unknown>> {
  const parsed: unknown = JSON.parse(await readFile(join(ROOT, '.mocharc.json'), 'utf8'));
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

/** A mocha config equal to .mocharc.json but for `spec`, written to a temp file. */
async function configWithSpecs(
  base: Record<string, unknown>,
  specs: string[],
): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'guild-mocharc-'));
  const path = join(dir, 'mocharc.json');
  await writeFile(path, JSON.stringify({ ...base, spec: specs }));
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs mocha once over `specs` with the given options and environment. */
async function runSpecs(
  name: string,
  base: Record<string, unknown>,
  specs: string[],
  options: string[],
  env: NodeJS.ProcessEnv,
): Promise<RunResult> {
  const config = await configWithSpecs(base, specs);
  try {
    return await runMocha(name, ['--config', config.path, ...options], env);
  } finally {
    await config.remove();
  }
}

async function main(): Promise<number> {
  const { specs: chosen, options } = splitArgs(process.argv.slice(2));
  const base = await readMocharc();
  const configured = Array.isArray(base['spec']) ? base['spec'].filter((s) => typeof s === 'string') : [];
  const sqliteSpecs = chosen.length > 0 ? chosen : configured.length > 0 ? configured : ALL_SPECS;
  const mongoSpecs =
    chosen.length > 0
      ? chosen.filter((spec) => MONGODB_SPEC_DIRS.some((dir) => spec.startsWith(dir)))
      : MONGODB_SPECS;
  const results: RunResult[] = [];
  const problems: string[] = [];
  const missing: Array<MissingPrerequisite & { run?: true }> = [];
  // The specs write the prerequisites they miss here (test/support/prerequisites.ts).
  const notes = await mkdtemp(join(tmpdir(), 'guild-prerequisites-'));
  const notesFile = join(notes, 'missing.jsonl');
  await writeFile(notesFile, '');
  const finish = async (): Promise<number> => {
    missing.unshift(...parsePrerequisites(await readFile(notesFile, 'utf8')));
    await rm(notes, { recursive: true, force: true });
    return summarize(results, problems, missing);
  };

  results.push(
    await runSpecs(`SQLite run: ${sqliteSpecs.join(' ')}`, base, sqliteSpecs, options, {
      ...process.env,
      GUILD_TEST_STORE: 'sqlite',
      [PREREQUISITES_FILE_ENV]: notesFile,
    }),
  );
  if (mongoSpecs.length === 0) {
    console.log('\nMongoDB run: none of the chosen specs is under test/contract or test/e2e; not run.');
    return finish();
  }

  let ferret: RunningFerretDb | undefined;
  const stopFerret = (): void => {
    void (ferret ? ferret.stop() : Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopFerret);
  process.once('SIGTERM', stopFerret);
  try {
    let url = process.env['MONGODB_URL'];
    if (url) {
      console.log(`\nMongoDB run: using MONGODB_URL=${redactMongoUrl(url)}`);
    } else {
      console.log(`\nMongoDB run: no MONGODB_URL, starting FerretDB ${FERRETDB_VERSION} ...`);
      // No fsync: the tests never crash the machine, and PostgreSQL's commits would dominate their time.
      ferret = await startFerretDb({ durability: 'fast' });
      url = ferret.url;
    }
    results.push(
      await runSpecs(`MongoDB run: ${mongoSpecs.join(' ')}`, base, mongoSpecs, options, {
        ...process.env,
        GUILD_TEST_STORE: 'mongodb',
        MONGODB_URL: url,
        [PREREQUISITES_FILE_ENV]: notesFile,
      }),
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    missing.push({
      run: true,
      what: `the MongoDB run (${mongoSpecs.join(' ')} on FerretDB ${FERRETDB_VERSION})`,
      reason,
      install:
        'Go 1.24 or newer from https://go.dev/dl/ (builds FerretDB), or set MONGODB_URL to a MongoDB server',
    });
  } finally {
    await ferret?.stop();
    process.removeListener('SIGINT', stopFerret);
    process.removeListener('SIGTERM', stopFerret);
  }

  return finish();
}

/**
 * Prints the per-run counts, the missing prerequisites, the problems and the summary line; returns the exit
 * code. Under CI a missing prerequisite is a failure.
 */
function summarize(
  results: RunResult[],
  problems: string[],
  missing: Array<MissingPrerequisite & { run?: true }>,
): number {
  console.log('');
  for (const r of results) {
    const counts = `${r.passing} passing, ${r.failing} failing${r.pending > 0 ? `, ${r.pending} pending` : ''}`;
    console.log(`${r.name}: ${counts} (exit code ${r.exitCode})`);
    if (r.exitCode !== 0 && !r.counted)
      problems.push(`${r.name}: mocha exited with code ${r.exitCode} before counting`);
  }
  for (const m of missing) {
    console.log(`SKIPPED: ${m.what}: ${m.reason}`);
    console.log(`         to run it: ${m.install}`);
  }
  if (missing.length > 0 && isCi())
    problems.push(`${missing.length} prerequisite(s) missing, and CI is set: nothing may be skipped`);
  for (const problem of problems) console.log(`FAILED: ${problem}`);

  const passed = results.reduce((sum, r) => sum + r.passing, 0);
  // A run that crashed before counting counts as one failure, so the summary never reads "0 failed" then.
  const failed = results.reduce((sum, r) => sum + r.failing + (r.exitCode !== 0 && !r.counted ? 1 : 0), 0);
  // Pending tests (a spec that missed a prerequisite skips its tests), and each run that could not happen.
  const skipped = results.reduce((sum, r) => sum + r.pending, 0) + missing.filter((m) => m.run).length;
  console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  const ok = problems.length === 0 && results.every((r) => r.exitCode === 0);
  return ok ? 0 : 1;
}

process.exitCode = await main();
