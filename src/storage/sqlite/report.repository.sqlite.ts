/** SQLite adapter of the storage port: reports (Flag activities and DM reports). */
import type { Database, Statement } from 'better-sqlite3';
import type { Report, ReportRepository, ReportState } from '../moderation.store.ts';

interface ReportRow {
  id: string;
  group_name: string;
  reporter_id: string;
  target_actor_id: string | null;
  /** JSON array of strings. */
  object_ids: string;
  reason: string;
  flag_id: string | null;
  state: ReportState;
  created_at: number;
  resolved_at: number | null;
  resolved_by: string | null;
}

const COLUMNS =
  'id, group_name, reporter_id, target_actor_id, object_ids, reason, flag_id, state, created_at, resolved_at, ' +
  'resolved_by';

/** Reads the JSON array written by this adapter; anything that is not a string is dropped. */
function decodeObjectIds(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
}

function toReport(row: ReportRow): Report {
  return {
    id: row.id,
    groupName: row.group_name,
    reporterId: row.reporter_id,
    targetActorId: row.target_actor_id,
    objectIds: decodeObjectIds(row.object_ids),
    reason: row.reason,
    flagId: row.flag_id,
    state: row.state,
    createdAt: row.created_at,
    resolvedAt: row.resolved_at,
    resolvedBy: row.resolved_by,
  };
}

/** Reports in the `reports` table, keyed by id; objectIds are one JSON text column. */
export class SqliteReportRepository implements ReportRepository {
  readonly #insert: Statement<[ReportRow]>;
  readonly #get: Statement<[string], ReportRow>;
  readonly #listFirst: Statement<[string, ReportState, number], ReportRow>;
  readonly #listBefore: Statement<[string, ReportState, number, string, number], ReportRow>;
  readonly #resolve: Statement<[number, string, string]>;

  constructor(db: Database) {
    this.#insert = db.prepare(
      `INSERT INTO reports (${COLUMNS})
       VALUES (@id, @group_name, @reporter_id, @target_actor_id, @object_ids, @reason, @flag_id, @state,
               @created_at, @resolved_at, @resolved_by)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM reports WHERE id = ?`);
    this.#listFirst = db.prepare(
      `SELECT ${COLUMNS} FROM reports WHERE group_name = ? AND state = ?
       ORDER BY created_at DESC, id DESC LIMIT ?`,
    );
    this.#listBefore = db.prepare(
      `SELECT ${COLUMNS} FROM reports WHERE group_name = ? AND state = ? AND (created_at, id) < (?, ?)
       ORDER BY created_at DESC, id DESC LIMIT ?`,
    );
    this.#resolve = db.prepare(
      `UPDATE reports SET state = 'resolved', resolved_at = ?, resolved_by = ? WHERE id = ? AND state = 'open'`,
    );
  }

  async putReport(r: Report): Promise<boolean> {
    const result = this.#insert.run({
      id: r.id,
      group_name: r.groupName,
      reporter_id: r.reporterId,
      target_actor_id: r.targetActorId,
      object_ids: JSON.stringify(r.objectIds),
      reason: r.reason,
      flag_id: r.flagId,
      state: r.state,
      created_at: r.createdAt,
      resolved_at: r.resolvedAt,
      resolved_by: r.resolvedBy,
    });
    return result.changes === 1;
  }

  async getReport(id: string): Promise<Report | null> {
    const row = this.#get.get(id);
    return row ? toReport(row) : null;
  }

  async listReports(
    groupName: string,
    state: ReportState,
    before: { createdAt: number; id: string } | null,
    limit: number,
  ): Promise<Report[]> {
    if (limit <= 0) return [];
    const rows =
      before === null
        ? this.#listFirst.all(groupName, state, limit)
        : this.#listBefore.all(groupName, state, before.createdAt, before.id, limit);
    return rows.map(toReport);
  }

  async resolveReport(id: string, by: string, at: number): Promise<boolean> {
    return this.#resolve.run(at, by, id).changes === 1;
  }
}
