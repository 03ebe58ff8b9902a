/**
 * A private PostgreSQL cluster for FerretDB: Debian's `postgresql` package (or any PostgreSQL whose binaries
 * are found), initialised in a fresh temporary directory, listening only on a free loopback port, with a random
 * password, and deleted when stopped. `initdb` and `postgres` refuse to run as root, so when the tests run as
 * root the cluster belongs to an unprivileged system user (`postgres` when the package created it, else
 * `nobody`), and its programs are started under that user with `setpriv`.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './net.ts';

const run = promisify(execFile);

/** How long a started cluster may take to accept connections. */
const START_DEADLINE_MS = 60_000;
/** The database role FerretDB connects as. */
const ROLE = 'guild';

/** How much a crash of the machine may lose: `full` is PostgreSQL's default; `fast` skips fsync (tests only). */
export type PostgresDurability = 'full' | 'fast';

export interface RunningPostgres {
  /** `postgres://guild:PASSWORD@127.0.0.1:PORT/postgres` */
  url: string;
  /** `PostgreSQL 15.x`, from the server binary. */
  version: string;
  /** Stops the server (fast shutdown) and deletes the cluster. */
  stop(): Promise<void>;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The directory of PostgreSQL's server programs: `$GUILD_POSTGRES_BIN`, else the newest
 * `/usr/lib/postgresql/N/bin` (Debian, Ubuntu), else `pg_config --bindir`, else a directory of the PATH; null when
 * there is none.
 */
export async function findPostgresBinDir(): Promise<string | null> {
  const given = process.env['GUILD_POSTGRES_BIN'];
  if (given) return (await exists(join(given, 'postgres'))) ? given : null;
  const debian = '/usr/lib/postgresql';
  const versions = await readdir(debian).catch(() => [] as string[]);
  for (const v of versions.filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a))) {
    const dir = join(debian, v, 'bin');
    if ((await exists(join(dir, 'initdb'))) && (await exists(join(dir, 'postgres')))) return dir;
  }
  try {
    const { stdout } = await run('pg_config', ['--bindir'], { timeout: 10_000 });
    const dir = stdout.trim();
    if (dir && (await exists(join(dir, 'initdb'))) && (await exists(join(dir, 'postgres')))) return dir;
  } catch {
    // no pg_config: look in the PATH
  }
  for (const dir of (process.env['PATH'] ?? '').split(':').filter(Boolean)) {
    if ((await exists(join(dir, 'initdb'))) && (await exists(join(dir, 'postgres')))) return dir;
  }
  return null;
}

interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** The unprivileged account the cluster runs as when this process is root; null when it is not root. */
async function clusterAccount(): Promise<Account | null> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    try {
      const { stdout } = await run('getent', ['passwd', name], { timeout: 10_000 });
      const fields = stdout.trim().split(':');
      const uid = Number(fields[2]);
      const gid = Number(fields[3]);
      if (Number.isInteger(uid) && Number.isInteger(gid) && uid !== 0) return { name, uid, gid };
    } catch {
      // no such account: try the next one
    }
  }
  throw new Error(
    'running as root, and neither a "postgres" nor a "nobody" account exists to own the cluster',
  );
}

/** `[program, args]` that runs `bin` with `args` as `account` (unchanged when null). */
function asAccount(account: Account | null, bin: string, args: string[]): [string, string[]] {
  if (account === null) return [bin, args];
  return [
    'setpriv',
    [`--reuid=${account.uid}`, `--regid=${account.gid}`, '--clear-groups', '--', bin, ...args],
  ];
}

/** Starts a fresh cluster on a free loopback port; resolves once it accepts connections. */
export async function startPostgres(
  binDir: string,
  durability: PostgresDurability,
): Promise<RunningPostgres> {
  const account = await clusterAccount();
  const dir = await mkdtemp(join(tmpdir(), 'guild-postgres-'));
  const data = join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const passwordFile = join(dir, 'password');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (account) {
    await chown(dir, account.uid, account.gid);
    await chown(passwordFile, account.uid, account.gid);
  }
  await chmod(dir, 0o700);
  const removeDir = (): Promise<void> => rm(dir, { recursive: true, force: true });

  try {
    const [initdb, initArgs] = asAccount(account, join(binDir, 'initdb'), [
      `--pgdata=${data}`,
      `--username=${ROLE}`,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    await run(initdb, initArgs, { timeout: 120_000, cwd: dir });
  } catch (error) {
    await removeDir();
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new Error(
      `initdb failed: ${typeof stderr === 'string' && stderr ? stderr.trim() : messageOf(error)}`,
      {
        cause: error,
      },
    );
  }

  const { stdout: versionOut } = await run(join(binDir, 'postgres'), ['--version'], { timeout: 10_000 });
  const version = versionOut.trim().replace(/^postgres \(PostgreSQL\) /, 'PostgreSQL ');
  const port = await freePort();
  const settings = [
    'listen_addresses=127.0.0.1',
    `port=${port}`,
    // TCP only: no socket file in a shared directory.
    'unix_socket_directories=',
    'max_connections=200',
    ...(durability === 'fast' ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
  ];
  const [postgres, args] = asAccount(account, join(binDir, 'postgres'), [
    `-D`,
    data,
    ...settings.flatMap((s) => ['-c', s]),
  ]);
  const child = spawn(postgres, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      // SIGINT is PostgreSQL's fast shutdown: clients are disconnected rather than waited for.
      child.kill('SIGINT');
      const stopped = await Promise.race([exited.then(() => true), delay(10_000).then(() => false)]);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await removeDir();
  };

  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(
        `PostgreSQL exited during start-up (${child.exitCode ?? child.signalCode}):\n${output}`,
      );
    }
    if (/database system is ready to accept connections/.test(output)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`PostgreSQL did not start within ${START_DEADLINE_MS} ms:\n${output}`);
    }
    await delay(50);
  }
  const url = `postgres://${ROLE}:${password}@127.0.0.1:${port}/postgres`;
  return { url, version, stop };
}
