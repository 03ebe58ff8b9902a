/**
 * Guild as real operating-system processes, exactly as `npm start` and `npx guild` run it: for tests of the
 * command line, of web and worker processes apart, and of crashes (SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { testStoreKind } from './test-store.ts';
import { freePort, waitUntil } from './net.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Environment for processes sharing one fresh store of the kind under test, and a way to delete it. */
export async function sharedStoreEnv(): Promise<{ env: Record<string, string>; remove(): Promise<void> }> {
  if (testStoreKind() === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'guild-proc-'));
    return {
      env: { GUILD_STORE: 'sqlite', GUILD_SQLITE_PATH: join(dir, 'guild.sqlite') },
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const url = process.env['MONGODB_URL'];
  if (!url) throw new Error('GUILD_TEST_STORE=mongodb needs MONGODB_URL');
  const db = `guild_proc_${randomBytes(6).toString('hex')}`;
  const base = url.replace(/\/[^/?]*(\?.*)?$/, '/');
  return {
    env: { GUILD_STORE: 'mongodb', GUILD_MONGODB_URL: `${base}${db}` },
    remove: async () => {
      const c = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
      try {
        await c.db(db).dropDatabase();
      } finally {
        await c.close();
      }
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bin/guild.js` (what `npx guild` runs) with the given arguments and environment. */
export function runGuildCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'guild.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export interface GuildProcess {
  proc: ChildProcess;
  output: string[];
  origin: string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `src/main.ts` (what `npm start` runs); waits until /readyz answers 200 (web) or the worker runs. */
export async function startGuildProcess(
  env: Record<string, string>,
  opts: { wait?: boolean } = {},
): Promise<GuildProcess> {
  const port = env.GUILD_PORT ? Number(env.GUILD_PORT) : await freePort();
  const origin = env.GUILD_ORIGIN ?? `http://127.0.0.1:${port}`;
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, GUILD_PORT: String(port), GUILD_ORIGIN: origin, GUILD_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  proc.stdout?.on('data', (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean)));
  proc.stderr?.on('data', (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  const gp: GuildProcess = {
    proc,
    output,
    origin,
    exited,
    async kill(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  if (opts.wait === false) return gp;
  let ended = false;
  void exited.then(() => (ended = true));
  await waitUntil(
    async () => {
      if (ended) throw new Error(`guild exited early:\n${output.join('\n')}`);
      if (env.GUILD_ROLE === 'worker') return output.some((l) => l.includes('"worker running"'));
      try {
        return (await fetch(`${origin}/readyz`)).status === 200;
      } catch {
        return false;
      }
    },
    { what: 'guild to start', timeoutMs: 20_000 },
  );
  return gp;
}
