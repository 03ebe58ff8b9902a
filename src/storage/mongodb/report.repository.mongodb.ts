/** MongoDB adapter of the storage port: reports (Flag activities and DM reports). */
import type { Collection, Filter } from 'mongodb';
import type { Report, ReportRepository, ReportState } from '../moderation.store.ts';
import { isDuplicateKeyError } from './errors.mongodb.ts';
import type { ReportDoc, ReportResolutionDoc } from './moderation-documents.mongodb.ts';

/*
 * Why resolutions are claimed in a second collection: FerretDB 1.x does not apply an update's filter atomically
 * with the write (it reads, then writes back), so two `updateOne({ state: 'open' })` calls could both report a
 * change, and two moderators would both be told they resolved the report. Inserting into `report_resolutions`
 * with the report id as `_id` lets exactly one writer win. A writer that loses applies the winning resolution
 * to the report itself (the same values, so writing them twice is harmless): a winner that died between its two
 * writes never leaves the report open for good.
 */

function toReport(doc: ReportDoc): Report {
  return {
    id: doc._id,
    groupName: doc.groupName,
    reporterId: doc.reporterId,
    targetActorId: doc.targetActorId ?? null,
    objectIds: Array.isArray(doc.objectIds) ? [...doc.objectIds] : [],
    reason: doc.reason,
    flagId: doc.flagId ?? null,
    state: doc.state,
    createdAt: doc.createdAt,
    resolvedAt: doc.resolvedAt ?? null,
    resolvedBy: doc.resolvedBy ?? null,
  };
}

/** Reports in the `reports` collection, `_id` = report id; see above for how a report is resolved once. */
export class MongoReportRepository implements ReportRepository {
  readonly #reports: Collection<ReportDoc>;
  readonly #resolutions: Collection<ReportResolutionDoc>;

  constructor(reports: Collection<ReportDoc>, resolutions: Collection<ReportResolutionDoc>) {
    this.#reports = reports;
    this.#resolutions = resolutions;
  }

  async putReport(r: Report): Promise<boolean> {
    try {
      await this.#reports.insertOne({
        _id: r.id,
        groupName: r.groupName,
        reporterId: r.reporterId,
        targetActorId: r.targetActorId,
        objectIds: [...r.objectIds],
        reason: r.reason,
        flagId: r.flagId,
        state: r.state,
        createdAt: r.createdAt,
        resolvedAt: r.resolvedAt,
        resolvedBy: r.resolvedBy,
      });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async getReport(id: string): Promise<Report | null> {
    const doc = await this.#reports.findOne({ _id: id });
    return doc ? toReport(doc) : null;
  }

  async listReports(
    groupName: string,
    state: ReportState,
    before: { createdAt: number; id: string } | null,
    limit: number,
  ): Promise<Report[]> {
    if (limit <= 0) return [];
    const filter: Filter<ReportDoc> = { groupName, state };
    if (before !== null) {
      filter.$or = [
        { createdAt: { $lt: before.createdAt } },
        { createdAt: before.createdAt, _id: { $lt: before.id } },
      ];
    }
    const docs = await this.#reports.find(filter).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray();
    return docs.map(toReport);
  }

  async resolveReport(id: string, by: string, at: number): Promise<boolean> {
    const report = await this.#reports.findOne({ _id: id }, { projection: { _id: 1, state: 1 } });
    // A report stored already resolved (putReport accepts any state) has no claim and needs none.
    if (!report || report.state !== 'open') return false;
    try {
      await this.#resolutions.insertOne({ _id: id, by, at });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const winner = await this.#resolutions.findOne({ _id: id });
      if (winner) await this.#apply(winner);
      return false;
    }
    await this.#apply({ _id: id, by, at });
    return true;
  }

  async #apply(resolution: ReportResolutionDoc): Promise<void> {
    await this.#reports.updateOne(
      { _id: resolution._id, state: 'open' },
      { $set: { state: 'resolved', resolvedAt: resolution.at, resolvedBy: resolution.by } },
    );
  }
}
