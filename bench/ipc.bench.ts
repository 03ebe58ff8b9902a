/**
 * Request/reply over the IPC channel of a forked child process, with a timeout on every call, so that the bench
 * harness drives its child processes (Guild, the sink servers) and never waits on one for ever.
 */
import { fork, type ChildProcess } from 'node:child_process';

/** A loosely typed JSON object read from the other side of the channel. */
export type Fields = Record<string, unknown>;

/** The handlers a child serves: command name to an async function of the command's arguments. */
export type Handlers = Record<string, (args: Fields) => Promise<unknown>>;

function isFields(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The record itself, or an error naming what was expected. */
export function fields(v: unknown, what: string): Fields {
  if (!isFields(v)) throw new Error(`${what}: expected an object, got ${JSON.stringify(v)}`);
  return v;
}

/** A number field, or an error naming it. */
export function num(o: Fields, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`field ${key}: expected a number`);
  return v;
}

/** A string field, or an error naming it. */
export function text(o: Fields, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new Error(`field ${key}: expected a string`);
  return v;
}

/**
 * Child side: answers every `{ id, cmd, args }` message with `{ id, ok, value | error }`, then tells the parent
 * it is ready with `ready`. The child exits when its parent goes away.
 */
export function serveIpc(handlers: Handlers, ready: unknown): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('this script must be started by the bench harness (no IPC channel)');
  process.on('message', (message: unknown) => {
    if (!isFields(message) || typeof message.id !== 'number' || typeof message.cmd !== 'string') return;
    const id = message.id;
    const handler = handlers[message.cmd];
    if (!handler) {
      send({ id, ok: false, error: `unknown command ${message.cmd}` });
      return;
    }
    handler(isFields(message.args) ? message.args : {}).then(
      (value) => send({ id, ok: true, value: value ?? null }),
      (e: unknown) => send({ id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  send({ ready });
}

/** Lines kept from a child's output, printed when something goes wrong. */
const TAIL_LINES = 40;

/** Parent side: a forked child that answers commands. */
export class ChildHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly lines: string[] = [];
  private readonly exited: Promise<void>;
  private exitInfo: string | null = null;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    echo: boolean,
  ) {
    const keep = (chunk: Buffer): void => {
      const s = chunk.toString('utf8');
      if (echo) process.stderr.write(s.replace(/^(?=.)/gm, `[${name}] `));
      for (const line of s.split('\n')) if (line.trim() !== '') this.lines.push(line);
      if (this.lines.length > TAIL_LINES) this.lines.splice(0, this.lines.length - TAIL_LINES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (m: unknown) => {
      if (!isFields(m) || typeof m.id !== 'number') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok === true) p.resolve(m.value);
      else p.reject(new Error(`${name}: ${String(m.error)}`));
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitInfo = `exited with ${code ?? signal}`;
        for (const p of this.pending.values())
          p.reject(new Error(`${name} ${this.exitInfo}\n${this.tail()}`));
        this.pending.clear();
        resolve();
      }),
    );
  }

  /**
   * Forks `file` with the harness's own loader flags plus `execArgv`, passing `args` as JSON in argv[2], and
   * resolves with the child's `ready` value (or rejects when it does not come within `timeoutMs`).
   */
  static async start(
    name: string,
    file: string,
    args: unknown,
    o: { timeoutMs: number; execArgv?: string[]; echo?: boolean },
  ): Promise<{ handle: ChildHandle; ready: unknown }> {
    const child = fork(file, [JSON.stringify(args)], {
      execArgv: [...process.execArgv, ...(o.execArgv ?? [])],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const handle = new ChildHandle(name, child, o.echo ?? false);
    const ready = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${name} did not start within ${o.timeoutMs} ms\n${handle.tail()}`));
      }, o.timeoutMs);
      const onMessage = (m: unknown): void => {
        if (!isFields(m) || !('ready' in m)) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m.ready);
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited during start-up (${code ?? signal})\n${handle.tail()}`));
      });
    });
    return { handle, ready };
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a command and resolves with its reply value; rejects after `timeoutMs` or when the child dies. */
  call(cmd: string, args: Fields = {}, timeoutMs = 30_000): Promise<unknown> {
    if (this.exitInfo !== null)
      return Promise.reject(new Error(`${this.name} ${this.exitInfo}\n${this.tail()}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, cmd, args });
    });
  }

  /** The last lines the child printed. */
  tail(): string {
    return this.lines.join('\n');
  }

  /** Asks the child to close (command `close`), then kills it if it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    if (this.exitInfo !== null) return;
    await this.call('close', {}, timeoutMs).catch(() => undefined);
    const exited = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref()),
    ]);
    if (!exited) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** Kills the child at once (used when the harness aborts). */
  kill(): void {
    if (this.exitInfo === null) this.child.kill('SIGKILL');
  }
}
