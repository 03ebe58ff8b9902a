/**
 * Group commit: writes requested during one turn of the event loop run together in one IMMEDIATE transaction,
 * started on the next turn. Each caller's promise settles once that transaction has committed (or failed), so
 * an acknowledged write is as durable as before; the cost of a commit is shared by every write of the batch.
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
  private readonly runAll: { immediate: (ops: Pending[]) => unknown[] };
  private readonly runOne: { immediate: (op: () => unknown) => unknown };

  constructor(private readonly db: Database) {
    this.runAll = db.transaction((ops: Pending[]) => ops.map((p) => p.op()));
    this.runOne = db.transaction((op: () => unknown) => op());
  }

  /** Runs `op` (synchronous statements only) in the next batch; resolves with its result after the commit. */
  submit<R>(op: () => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits whatever is pending now (also called before the database is closed). */
  flush(): void {
    this.scheduled = false;
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
      results = this.runAll.immediate(ops);
    } catch (error) {
      // The batch rolled back. When the database itself failed (busy, full, I/O), every caller is told (the inbox
      // answers 503). When one write was refused, each write is tried again alone, so that the refused one fails
      // only its own caller and the others are committed.
      if (!isRefusedWrite(error)) {
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
    ops.forEach((p, i) => p.resolve(results[i]));
  }
}

/** A constraint or a bad value refused one write; anything else concerns the database as a whole. */
function isRefusedWrite(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return true;
  return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG';
}
