/**
 * Reports (Flags and DM `report` commands), filed so that they cannot be turned into harassment of the
 * moderators: one reporter and one host may file a bounded number per hour, a reporter's second report of the
 * same object is not filed while the first is open (each open report claims its objects), the quoted reason is
 * capped, and moderators are told of new reports in a digest, at most one per group per `digestIntervalMs`,
 * listing what came in meanwhile.
 *
 * Digests are durable: a report records when the moderators were told of it (`notifiedAt`). Filing a report
 * sends a digest at once when the group's allowance permits; otherwise the maintenance loop sends it when the
 * allowance comes back (`sendDueDigests`), after a restart too.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import type { Report } from '../storage/moderation.store.ts';
import { err, ok, type Result } from './ports.ts';
import type { NoticeService } from './notices.service.ts';
import { HOUR_MS, type RateLimit, type RateLimiter } from './rate-limiter.ts';
import { auditEntryId } from './moderation.base.ts';

/** A report as submitted: by a Flag (`flagId`) or a DM command. */
export type NewReport = Pick<
  Report,
  'groupName' | 'reporterId' | 'targetActorId' | 'objectIds' | 'reason' | 'flagId'
>;

export type ReportError =
  | { type: 'group-not-found' }
  /** The reporter has an open report of every post this one names (or of the account it names alone). */
  | { type: 'duplicate' }
  | { type: 'rate-limited'; detail: string };

/** Characters of a reason kept with a report. */
export const MAX_REPORT_REASON = 1000;
/** Characters of a reason quoted in a digest. */
export const MAX_QUOTED_REASON = 200;
/** Reports listed in one digest (the others are counted). */
export const DIGEST_LISTED = 10;
/** Reports one digest covers at most; the next digest takes the others. */
const DIGEST_COVERS = 100;

export interface ReportLimits {
  /** Reports one reporter may file per hour, in every group. */
  perReporter: RateLimit;
  /** Reports the actors of one host may file per hour, in every group (Mastodon reports from one instance actor). */
  perHost: RateLimit;
}

export const DEFAULT_REPORT_LIMITS: ReportLimits = {
  perReporter: { limit: 10, windowMs: HOUR_MS },
  perHost: { limit: 30, windowMs: HOUR_MS },
};

export interface ReportServiceDeps {
  store: Store;
  notices: NoticeService;
  limiter: RateLimiter;
  /** At most one digest of new reports per group in this time. */
  digestIntervalMs: number;
  limits?: ReportLimits;
  now?: () => number;
}

export class ReportService {
  private readonly now: () => number;
  private readonly limits: ReportLimits;
  constructor(private readonly d: ReportServiceDeps) {
    this.now = d.now ?? Date.now;
    this.limits = d.limits ?? DEFAULT_REPORT_LIMITS;
  }

  /**
   * Files a report in the group's moderation queue, then tells the moderators if the group's allowance of
   * digests permits (else the maintenance loop will). The report's id derives from the Flag (or from the
   * reporter, objects and reason of a DM report): filing it again files nothing new and counts nothing twice.
   * Objects the reporter already has an open report of are left out; nothing new at all is a duplicate.
   */
  async file(r: NewReport): Promise<Result<Report, ReportError>> {
    const g = await this.d.store.groups.getGroup(r.groupName);
    if (!g || g.deletedAt !== null) return err({ type: 'group-not-found' });
    const reason = capped(r.reason.trim(), MAX_REPORT_REASON);
    const basis = r.flagId ?? `${r.reporterId}\n${r.objectIds.join(' ')}\n${reason}`;
    const id = createHash('sha256').update(`${r.groupName}\n${basis}`).digest('hex').slice(0, 12);
    const existing = await this.d.store.reports.getReport(id);
    if (existing) {
      await this.sendDigest(r.groupName);
      return ok(existing);
    }
    const reports = this.d.store.reports;
    // Each object (the posts, or the account when no post is named) is claimed for this report while it is
    // open: of two reports of one object by one reporter handled at once, one is filed.
    const won: string[] = [];
    for (const o of claimedObjects(r))
      if (await this.claimObject(r.groupName, r.reporterId, o, id)) won.push(o);
    const objectIds = r.objectIds.filter((o, i, all) => won.includes(o) && all.indexOf(o) === i);
    const account = r.targetActorId;
    if (won.length === 0) return err({ type: 'duplicate' });
    const refused = await this.d.limiter.takeAll(`report:${id}`, [
      { bucket: `reports:actor:${r.reporterId}`, limit: this.limits.perReporter },
      { bucket: `reports:host:${hostOf(r.reporterId)}`, limit: this.limits.perHost },
    ]);
    if (refused >= 0) {
      for (const o of won)
        await this.d.store.claims.release(reportClaimKey(r.groupName, r.reporterId, o), id);
      return err({
        type: 'rate-limited',
        detail:
          refused === 0
            ? `${r.reporterId} filed ${this.limits.perReporter.limit} reports in the last hour (limit)`
            : `${hostOf(r.reporterId)} filed ${this.limits.perHost.limit} reports in the last hour (limit)`,
      });
    }
    const report: Report = {
      ...r,
      objectIds,
      reason,
      id,
      state: 'open',
      createdAt: this.now(),
      resolvedAt: null,
      resolvedBy: null,
      notifiedAt: null,
    };
    await this.d.store.audit.appendAudit({
      id: auditEntryId(`report:${id}`, 'report', r.groupName, account ?? objectIds[0] ?? ''),
      groupName: r.groupName,
      actorId: r.reporterId,
      action: 'report',
      target: account ?? objectIds[0] ?? '',
      reason,
      at: this.now(),
    });
    await reports.putReport(report);
    await this.sendDigest(r.groupName);
    return ok((await reports.getReport(id)) ?? report);
  }

  /**
   * Tells the moderators of the group of its open reports they were not told of, in one message, when the
   * group's allowance permits (one digest per `digestIntervalMs`). Returns whether a digest was sent. Sent
   * again after a failure part way, the same digest is the same message (its basis names the reports).
   */
  async sendDigest(group: string): Promise<boolean> {
    const fresh = await this.d.store.reports.listUnnotified(group, DIGEST_COVERS);
    if (fresh.length === 0) return false;
    const basis = `report-digest:${group}:${createHash('sha256')
      .update(fresh.map((r) => r.id).join(' '))
      .digest('hex')
      .slice(0, 16)}`;
    const allowed = await this.d.limiter.take(`report-digests:${group}`, basis, {
      limit: 1,
      windowMs: this.d.digestIntervalMs,
    });
    if (!allowed) return false;
    await this.d.notices.notifyModerators(group, digestText(fresh), basis);
    await this.d.store.reports.markNotified(
      fresh.map((r) => r.id),
      this.now(),
    );
    return true;
  }

  /**
   * Claims `object` (a post or an account) for the report `id` of `reporter`: false when another report of
   * theirs names it and is open, or is being filed (its claim is there, not the report yet). A claim left by a
   * report resolved since (its release was interrupted) is taken over.
   */
  private async claimObject(group: string, reporter: string, object: string, id: string): Promise<boolean> {
    const key = reportClaimKey(group, reporter, object);
    const holder = await this.d.store.claims.claim(key, id, this.now(), null);
    if (holder === id) return true;
    if ((await this.d.store.reports.getReport(holder))?.state !== 'resolved') return false;
    await this.d.store.claims.release(key, holder);
    return (await this.d.store.claims.claim(key, id, this.now(), null)) === id;
  }

  /** Frees the objects of a resolved report: its reporter may report them again. */
  async released(report: Report): Promise<void> {
    for (const o of claimedObjects(report))
      await this.d.store.claims.release(reportClaimKey(report.groupName, report.reporterId, o), report.id);
  }

  /** Sends the digests that are due, in every group (the maintenance loop's pass); returns how many. */
  async sendDueDigests(): Promise<number> {
    let sent = 0;
    for (const group of await this.d.store.reports.listGroupsWithUnnotified(1000))
      if (await this.sendDigest(group)) sent++;
    return sent;
  }
}

/** What a report is about, once per reporter while it is open: the posts it names, else the account. */
function claimedObjects(r: Pick<Report, 'objectIds' | 'targetActorId'>): string[] {
  if (r.objectIds.length > 0) return [...new Set(r.objectIds)];
  return r.targetActorId ? [r.targetActorId] : [];
}

/** The claim a report holds on each object it names, while it is open. */
export function reportClaimKey(group: string, reporter: string, object: string): string {
  return `report:${group}\n${reporter}\n${object}`;
}

/** The message that tells moderators of new reports. */
export function digestText(reports: Report[]): string {
  const lines = reports.slice(0, DIGEST_LISTED).map((r) => {
    const about = [r.targetActorId, ...r.objectIds].filter(Boolean).join(' ');
    const why = r.reason ? `: “${capped(r.reason.replace(/\s+/g, ' '), MAX_QUOTED_REASON)}”` : '';
    return `• ${r.id} from ${r.reporterId} about ${about}${why}`;
  });
  const more = reports.length - lines.length;
  return [
    reports.length === 1 ? 'New report:' : `${reports.length} new reports:`,
    ...lines,
    ...(more > 0 ? [`… and ${more} more in the moderation queue.`] : []),
    'Answer "resolve <id>" when one is handled.',
  ].join('\n');
}

function capped(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function hostOf(actorId: string): string {
  try {
    return new URL(actorId).host.toLowerCase();
  } catch {
    return actorId;
  }
}
