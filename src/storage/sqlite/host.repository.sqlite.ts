/** SQLite adapter of the storage port: delivery failures per remote host. */
import type { Database, Statement, Transaction } from 'better-sqlite3';
import { withFailure } from '../host-status.ts';
import type { HostRepository, HostStatus } from '../moderation.store.ts';

interface HostRow {
  host: string;
  first_failure_at: number;
  last_failure_at: number;
  consecutive_failures: number;
  /** JSON array of `YYYY-MM-DD` strings, ascending. */
  failure_days: string;
  failure_day_count: number;
}

const COLUMNS =
  'host, first_failure_at, last_failure_at, consecutive_failures, failure_days, failure_day_count';

/** Reads the JSON array written by this adapter; anything that is not a string is dropped. */
function decodeDays(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? parsed.filter((day): day is string => typeof day === 'string') : [];
}

function toStatus(row: HostRow): HostStatus {
  return {
    host: row.host,
    firstFailureAt: row.first_failure_at,
    lastFailureAt: row.last_failure_at,
    consecutiveFailures: row.consecutive_failures,
    failureDays: decodeDays(row.failure_days),
  };
}

function toRow(status: HostStatus): HostRow {
  return {
    host: status.host,
    first_failure_at: status.firstFailureAt,
    last_failure_at: status.lastFailureAt,
    consecutive_failures: status.consecutiveFailures,
    failure_days: JSON.stringify(status.failureDays),
    failure_day_count: status.failureDays.length,
  };
}

/**
 * Delivery health in the `host_status` table, keyed by host; a success deletes the row. A failure is read,
 * changed and written in one IMMEDIATE transaction, so concurrent processes never lose one.
 */
export class SqliteHostRepository implements HostRepository {
  readonly #get: Statement<[string], HostRow>;
  readonly #put: Statement<[HostRow]>;
  readonly #removeUpTo: Statement<[string, number]>;
  readonly #listFirst: Statement<[number, number], HostRow>;
  readonly #listAfter: Statement<[number, string, number], HostRow>;
  readonly #recordFailure: Transaction<(host: string, at: number) => HostStatus>;

  constructor(db: Database) {
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM host_status WHERE host = ?`);
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO host_status (${COLUMNS})
       VALUES (@host, @first_failure_at, @last_failure_at, @consecutive_failures, @failure_days,
               @failure_day_count)`,
    );
    this.#removeUpTo = db.prepare('DELETE FROM host_status WHERE host = ? AND last_failure_at <= ?');
    this.#listFirst = db.prepare(
      `SELECT ${COLUMNS} FROM host_status WHERE failure_day_count >= ? ORDER BY host LIMIT ?`,
    );
    this.#listAfter = db.prepare(
      `SELECT ${COLUMNS} FROM host_status WHERE failure_day_count >= ? AND host > ? ORDER BY host LIMIT ?`,
    );
    this.#recordFailure = db.transaction((host: string, at: number): HostStatus => {
      const row = this.#get.get(host);
      const next = withFailure(row ? toStatus(row) : null, host, at);
      this.#put.run(toRow(next));
      return next;
    });
  }

  async recordFailure(host: string, at: number): Promise<HostStatus> {
    return this.#recordFailure.immediate(host, at);
  }

  async recordSuccess(host: string, at: number): Promise<void> {
    this.#removeUpTo.run(host, at);
  }

  async getHost(host: string): Promise<HostStatus | null> {
    const row = this.#get.get(host);
    return row ? toStatus(row) : null;
  }

  async listFailingHosts(
    minDistinctDays: number,
    after: string | null,
    limit: number,
  ): Promise<HostStatus[]> {
    if (limit <= 0) return [];
    const rows =
      after === null
        ? this.#listFirst.all(minDistinctDays, limit)
        : this.#listAfter.all(minDistinctDays, after, limit);
    return rows.map(toStatus);
  }
}
