/**
 * `npm run test:isolation [-- options] [spec files]`: shows that every end-to-end test passes alone and in
 * another order. Each test of each spec (default: every file of test/e2e) is run alone in a mocha process of
 * its own (`--grep` with its full title), then each spec is run whole with its tests in reverse order
 * (test/support/reverse-order.hooks.ts). The store is the one GUILD_TEST_STORE selects, as for mocha.
 *
 * Options: `--alone` or `--reverse` to run one check only; `--grep TEXT` to keep the tests whose full title
 * contains TEXT. Prints every failure with the end of its output, then `N passed, M failed`; exits non-zero
 * when one failed.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MOCHA = join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
const REVERSE_HOOKS = 'test/support/reverse-order.hooks.ts';

interface Run {
  code: number;
  output: string;
}

/** The mocha process running now, stopped with this one. */
let current: ReturnType<typeof spawn> | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    current?.kill('SIGTERM');
    process.exit(130);
  });
}

function mocha(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MOCHA, ...args], { cwd: ROOT, env: process.env });
    current = child;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/** The full titles of the tests of a spec, as mocha's `--grep` matches them. */
async function titlesOf(spec: string): Promise<string[]> {
  const run = await mocha(['--dry-run', '--reporter', 'json', spec]);
  const start = run.output.indexOf('{');
  if (run.code !== 0 || start < 0) throw new Error(`could not list the tests of ${spec}:\n${run.output}`);
  const report = JSON.parse(run.output.slice(start)) as { tests: Array<{ fullTitle: string }> };
  return report.tests.map((t) => t.fullTitle);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `N passing` / `N pending` as the spec reporter ends. */
function counted(output: string, word: string): number {
  const matches = [...output.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\b`, 'gm'))];
  return Number(matches[matches.length - 1]?.[1] ?? 0);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const grepAt = args.indexOf('--grep');
  const filter = grepAt >= 0 ? (args[grepAt + 1] ?? '') : '';
  const isValue = (i: number): boolean => grepAt >= 0 && i === grepAt + 1;
  const flags = new Set(args.filter((a, i) => a.startsWith('--') && !isValue(i)));
  const both = !flags.has('--alone') && !flags.has('--reverse');
  const specs = args.filter((a, i) => !a.startsWith('--') && !isValue(i));
  const chosen =
    specs.length > 0
      ? specs
      : readdirSync(join(ROOT, 'test', 'e2e'))
          .filter((f) => f.endsWith('.test.ts'))
          .sort()
          .map((f) => `test/e2e/${f}`);
  let passed = 0;
  const failures: string[] = [];
  const report = (what: string, run: Run, ok: boolean): void => {
    if (ok) {
      passed++;
      process.stdout.write('.');
      return;
    }
    failures.push(`${what} (exit code ${run.code}):\n${run.output.split('\n').slice(-40).join('\n')}`);
    process.stdout.write('F');
  };

  for (const spec of chosen) {
    if (both || flags.has('--alone')) {
      for (const title of await titlesOf(spec)) {
        if (!title.includes(filter)) continue;
        const run = await mocha(['--reporter', 'spec', '--grep', `^${escape(title)}$`, spec]);
        // Exactly this test ran: it passed, or was skipped for a missing prerequisite.
        const ran = counted(run.output, 'passing') + counted(run.output, 'pending');
        report(`${spec}: "${title}" alone`, run, run.code === 0 && ran === 1);
      }
    }
    if (both || flags.has('--reverse')) {
      const run = await mocha(['--reporter', 'spec', '--require', REVERSE_HOOKS, spec]);
      report(`${spec} in reverse order`, run, run.code === 0);
    }
  }
  process.stdout.write('\n');
  for (const f of failures) console.log(`\nFAILED: ${f}`);
  console.log(`\n${passed} passed, ${failures.length} failed`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
