/**
 * The part of the storage port that keeps one member or outsider from flooding a group: the current vote of
 * each member on each post (so that only changes are announced), and the hits counted against rate limits
 * (budgets of votes and edits, reports, answers to non-members). Implemented by both adapters and covered by
 * the contract suite like the rest; times are epoch milliseconds.
 */

export type VoteType = 'Like' | 'Dislike';

/**
 * The longest window of any rate limit: hits older than this count against nothing, and the maintenance loop
 * deletes them.
 */
export const MAX_RATE_WINDOW_MS = 24 * 3_600_000;

/** The vote of a member on a post of a group, as last announced. */
export interface Vote {
  groupName: string;
  actorId: string;
  /** The post voted on. */
  objectId: string;
  type: VoteType;
  /** Id of the Like or Dislike that was announced. */
  activityId: string;
  at: number;
}

export interface VoteRepository {
  /** The current vote of `actorId` on `objectId` in the group, or null. */
  getVote(groupName: string, actorId: string, objectId: string): Promise<Vote | null>;
  /** Inserts or replaces the vote of (groupName, actorId, objectId). */
  putVote(vote: Vote): Promise<void>;
  /** Removes the vote of (groupName, actorId, objectId); returns false when there was none. */
  removeVote(groupName: string, actorId: string, objectId: string): Promise<boolean>;
}

/** One use of a rate limit: which limit (`bucket`), what used it (`hitId`), and when. */
export interface RateHit {
  bucket: string;
  hitId: string;
  at: number;
}

export interface RateLimitRepository {
  /**
   * Counts `hitId` against `bucket` at `at` and returns true when fewer than `limit` hits of the bucket were
   * counted after `at - windowMs` (a sliding window). Returns true without counting anything when `hitId` is
   * already counted in the bucket (the same step done again after a failure), and false, counting nothing,
   * when the limit is reached: only allowed hits are kept, so a bucket never holds more than `limit` hits per
   * window however hard it is hit. On MongoDB-wire servers the count and the insert are two operations, so
   * callers racing on one bucket may together pass the limit by the number of racers.
   */
  tryHit(bucket: string, hitId: string, at: number, windowMs: number, limit: number): Promise<boolean>;
  /** The hits of a bucket counted after `since`, oldest first (at most `limit`); for inspection and tests. */
  listHits(bucket: string, since: number, limit: number): Promise<RateHit[]>;
  /** Deletes up to `limit` hits counted before `before`, in every bucket. Returns how many. */
  purgeHits(before: number, limit: number): Promise<number>;
}

/** Vote state and rate-limit hits, as one part of the Store. */
export interface BrakesStore {
  readonly votes: VoteRepository;
  readonly rateLimits: RateLimitRepository;
}
