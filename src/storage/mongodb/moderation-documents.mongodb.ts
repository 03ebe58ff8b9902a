/** MongoDB documents of moderation (moderators, bans, policies, reports, held posts, audit) and hosts. */
import type { ObjectId } from 'mongodb';
import type { DomainPolicyKind, ReportState } from '../moderation.store.ts';

/** A moderator; (groupName, actorId) is unique. */
export interface ModeratorDoc {
  _id?: ObjectId;
  groupName: string;
  actorId: string;
  addedBy: string;
  addedAt: number;
}

/** A ban; (groupName, actorId) is unique. */
export interface BanDoc {
  _id?: ObjectId;
  groupName: string;
  actorId: string;
  reason: string;
  by: string;
  createdAt: number;
  expiresAt: number | null;
}

/** A domain policy; `_id` is the domain. */
export interface DomainPolicyDoc {
  _id: string;
  policy: DomainPolicyKind;
  reason: string;
  createdAt: number;
}

/** A report; `_id` is its id. */
export interface ReportDoc {
  _id: string;
  groupName: string;
  reporterId: string;
  targetActorId: string | null;
  objectIds: string[];
  reason: string;
  flagId: string | null;
  state: ReportState;
  createdAt: number;
  resolvedAt: number | null;
  resolvedBy: string | null;
}

/**
 * The claim on resolving a report; `_id` is the report id, so only one writer can insert it. See
 * report.repository.mongodb.ts.
 */
export interface ReportResolutionDoc {
  _id: string;
  by: string;
  at: number;
}

/** A held post; (groupName, objectId) is unique. */
export interface HeldPostDoc {
  _id?: ObjectId;
  groupName: string;
  objectId: string;
  authorId: string;
  activityJson: string;
  reason: string;
  createdAt: number;
}

/** An audit log entry; `_id` is its id. */
export interface AuditDoc {
  _id: string;
  groupName: string | null;
  actorId: string;
  action: string;
  target: string;
  reason: string;
  at: number;
}

/**
 * The delivery health of a host; `_id` is the host. `failureDayCount` is the length of `failureDays`, kept for
 * listFailingHosts to filter on. `rev` is a random id of this version of the document: see
 * host.repository.mongodb.ts.
 */
export interface HostDoc {
  _id: string;
  firstFailureAt: number;
  lastFailureAt: number;
  consecutiveFailures: number;
  failureDays: string[];
  failureDayCount: number;
  rev: string;
}
