/**
 * The self-service part of the storage port: owners of groups, requests to create groups (the approval queue,
 * and the record behind creation rates), one-time codes (sign-in links, group deletion confirmations) and
 * sign-in sessions. Implemented by both adapters and covered by the contract suite like the rest. Secrets are
 * never stored: codes and sessions are kept under the SHA-256 of their value. Times are epoch milliseconds.
 */

/** The owner of a group: a moderator whom the other moderators cannot remove. */
export interface GroupOwner {
  groupName: string;
  actorId: string;
  /** When they became the owner. */
  since: number;
}

export interface OwnerRepository {
  /** Makes `o.actorId` the owner of the group, replacing any previous owner. */
  setOwner(o: GroupOwner): Promise<void>;
  /** The owner of a group, or null when it has none (a group the admin created). */
  getOwner(groupName: string): Promise<GroupOwner | null>;
  /** Leaves the group without an owner; false when it had none. */
  clearOwner(groupName: string): Promise<boolean>;
}

/**
 * `created`: the group was created at once (open creation); `pending`: waiting for the admin; `approved`:
 * the admin approved it and the group was created; `rejected`: refused by the admin.
 */
export type GroupRequestState = 'created' | 'pending' | 'approved' | 'rejected';

/** A request to create a group, by a remote person (DM to the Service actor, or the dashboard). */
export interface GroupRequest {
  /** Derived from what brought it (the DM's id, or the form's submission). */
  id: string;
  /** The group name asked for. */
  name: string;
  title: string;
  requesterId: string;
  /** Host name of the requester's actor id (lowercase, no port): per-domain rates. */
  requesterHost: string;
  state: GroupRequestState;
  createdAt: number;
  decidedAt: number | null;
  /** `admin`, or null while pending (and for groups created at once). */
  decidedBy: string | null;
  /** Why it was refused, or why it waits. */
  reason: string;
}

export interface GroupRequestRepository {
  /** Inserts; false (changing nothing) when the id exists. */
  putGroupRequest(r: GroupRequest): Promise<boolean>;
  getGroupRequest(id: string): Promise<GroupRequest | null>;
  /** The pending request for a group name, or null (the oldest when there are several). */
  getPendingByName(name: string): Promise<GroupRequest | null>;
  /** Requests in a state, oldest first (createdAt, then id), strictly after the cursor. */
  listGroupRequests(
    state: GroupRequestState,
    after: { createdAt: number; id: string } | null,
    limit: number,
  ): Promise<GroupRequest[]>;
  /**
   * Decides a pending request: it becomes `approved` or `rejected` at `at` by `by`, with `reason`. False,
   * changing nothing, when it is absent or not pending; of two concurrent decisions exactly one succeeds.
   */
  decideGroupRequest(
    id: string,
    d: { state: 'approved' | 'rejected'; by: string; at: number; reason: string },
  ): Promise<boolean>;
  /** Requests (in any state) made since `since` by one requester, or from one host. */
  countGroupRequestsSince(
    by: { requesterId: string } | { requesterHost: string },
    since: number,
  ): Promise<number>;
}

/** What a one-time code is for. */
export type CodePurpose = 'sign-in' | 'delete-group';

/** A one-time code: a sign-in link's token, or the confirmation of a group's deletion. */
export interface OneTimeCode {
  /** SHA-256 (hex) of the code together with its purpose, actor and subject: the code itself is not kept. */
  hash: string;
  purpose: CodePurpose;
  /** The actor it was issued to, and the only one it works for. */
  actorId: string;
  /** What it is about (the group to delete), or `''`. */
  subject: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface OneTimeCodeRepository {
  /** Inserts; false when the hash exists. */
  putCode(c: OneTimeCode): Promise<boolean>;
  /**
   * Uses a code: when it exists, is unused and `now` is before its expiry, it is marked used at `now` and
   * returned; otherwise null and nothing changes. Of concurrent uses exactly one gets the code.
   */
  useCode(hash: string, now: number): Promise<OneTimeCode | null>;
  /** Deletes up to `limit` codes that expired before `before`, used or not. Returns how many. */
  purgeCodes(before: number, limit: number): Promise<number>;
}

/** A signed-in browser: the cookie holds a random token, the store its SHA-256. */
export interface Session {
  /** SHA-256 (hex) of the cookie's token. */
  hash: string;
  actorId: string;
  createdAt: number;
  expiresAt: number;
}

export interface SessionRepository {
  putSession(s: Session): Promise<void>;
  /** The session whose hash this is, when it has not expired at `now`; else null. */
  getSession(hash: string, now: number): Promise<Session | null>;
  /** Ends one session; false when there was none. */
  deleteSession(hash: string): Promise<boolean>;
  /** Ends every session of an actor ("sign out everywhere"). Returns how many. */
  deleteSessionsOf(actorId: string): Promise<number>;
  /** Deletes up to `limit` sessions that expired before `before`. Returns how many. */
  purgeSessions(before: number, limit: number): Promise<number>;
}

/** The self-service repositories, as one part of the Store. */
export interface SelfServiceStore {
  readonly owners: OwnerRepository;
  readonly groupRequests: GroupRequestRepository;
  readonly codes: OneTimeCodeRepository;
  readonly sessions: SessionRepository;
}
