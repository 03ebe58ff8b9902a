/**
 * Group commit: writes requested during one turn of the event loop run together in one IMMEDIATE transaction,
 * started on the next turn. Each caller's promise settles once that transaction has committed (or failed), so
 * an acknowledged write is as durable as before; the cost of a commit is shared by every write of the batch.
 *
 * When another connection (another thread or process) holds the write lock, the batch does not wait for it in
 * SQLite's busy handler, which would stop this thread's event loop (an inbox thread would stop answering for as
 * long): it tries again a millisecond later, gathering the writes that arrive meanwhile, and fails them all (the
 * inbox answers 503) once the lock has been out of reach for the connection's `busy_timeout`.
 */
import type { Database } from 'better-sqlite3';

interface Pending {
  op: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class WriteBatch {
  private pending: Pending[] = [];
  private scheduled = false;
  /** When the current run of busy attempts began, or null. */
  private busySince: number | null = null;
  /** The last failure of the database as a whole (busy, read-only, full, I/O), until a batch commits again. */
  private failing: { at: number; error: string } | null = null;
  /** The connection's `busy_timeout` when the batch was made: how long the lock is tried for. */
  private readonly busyTimeoutMs: number;
  private readonly runAll: { immediate: (ops: Pending[]) => unknown[] };
  private readonly runOne: { immediate: (op: () => unknown) => unknown };

  constructor(private readonly db: Database) {
    const timeout: unknown = db.pragma('busy_timeout', { simple: true });
    this.busyTimeoutMs = typeof timeout === 'number' ? timeout : 0;
    this.runAll = db.transaction((ops: Pending[]) => ops.map((p) => p.op()));
    this.runOne = db.transaction((op: () => unknown) => op());
  }

  /** Runs `op` (synchronous statements only) in the next batch; resolves with its result after the commit. */
  submit<R>(op: () => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (v: unknown) => void, reject });
      this.schedule(0);
    });
  }

  /**
   * Commits whatever is pending now, waiting for the write lock if need be (before a claim, and before the
   * database is closed).
   */
  flush(): void {
    this.commit(true);
  }

  private schedule(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = (): void => {
      this.scheduled = false;
      this.commit(false);
    };
    if (delayMs === 0) setImmediate(run);
    else setTimeout(run, delayMs);
  }

  private commit(wait: boolean): void {
    const ops = this.pending;
    if (ops.length === 0) return;
    this.pending = [];
    if (!this.db.open) {
      const error = new Error('SQLite store is closed');
      for (const p of ops) p.reject(error);
      return;
    }
    let results: unknown[];
    try {
      results = wait ? this.runAll.immediate(ops) : this.withoutWaiting(() => this.runAll.immediate(ops));
    } catch (error) {
      if (!wait && isBusy(error)) {
        const now = Date.now();
        this.busySince ??= now;
        if (now - this.busySince < this.busyTimeoutMs) {
          // Nothing was written: the writes go back to the front of the queue and are tried again shortly.
          this.pending = ops.concat(this.pending);
          this.schedule(1);
          return;
        }
      }
      this.busySince = null;
      // The batch rolled back. When the database itself failed (busy, full, I/O), every caller is told (the inbox
      // answers 503). When one write was refused, each write is tried again alone, so that the refused one fails
      // only its own caller and the others are committed.
      if (!isRefusedWrite(error)) {
        this.failing = { at: Date.now(), error: error instanceof Error ? error.message : String(error) };
        for (const p of ops) p.reject(error);
        return;
      }
      for (const p of ops) {
        let result: unknown;
        try {
          result = this.runOne.immediate(p.op);
        } catch (error) {
          p.reject(error);
          continue;
        }
        p.resolve(result);
      }
      return;
    }
    this.busySince = null;
    this.failing = null;
    ops.forEach((p, i) => p.resolve(results[i]));
  }

  /** The last failure of the database as a whole since the last commit, or null when writes go through. */
  writeFailure(): { at: number; error: string } | null {
    return this.failing;
  }

  /** Forgets a failure once the database is known to take writes again. */
  clearWriteFailure(): void {
    this.failing = null;
  }

  /** Runs `fn` with SQLite's busy handler off: a held write lock fails at once with SQLITE_BUSY. */
  private withoutWaiting<T>(fn: () => T): T {
    this.db.pragma('busy_timeout = 0');
    try {
      return fn();
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** A constraint or a bad value refused one write; anything else concerns the database as a whole. */
function isRefusedWrite(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return true;
  return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG';
}
