/**
 * The part of the storage port that keeps one member or outsider from flooding a group: the last vote of each
 * member on each post (so that only changes are announced), the hits counted against rate limits (budgets of
 * votes and edits, reports, answers to non-members), and claims, which settle races between activities
 * handled at once (two Likes of one post by one member, two reports of one post by one reporter). Implemented
 * by both adapters and covered by the contract suite like the rest; times are epoch milliseconds.
 */

export type VoteType = 'Like' | 'Dislike';

/** A member's vote on a post: a Like, a Dislike, or undone (an Undo took it back). */
export type VoteState = VoteType | 'undone';

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
  state: VoteState;
  /** Id of the activity (Like, Dislike or Undo) that set the state. */
  activityId: string;
  at: number;
}

export interface VoteRepository {
  /** The last vote of `actorId` on `objectId` in the group (undone or not), or null when there was none. */
  getVote(groupName: string, actorId: string, objectId: string): Promise<Vote | null>;
  /** Inserts or replaces the vote of (groupName, actorId, objectId). */
  putVote(vote: Vote): Promise<void>;
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
   * window however hard it is hit. Callers racing on one bucket never pass its limit together.
   */
  tryHit(bucket: string, hitId: string, at: number, windowMs: number, limit: number): Promise<boolean>;
  /** The hits of a bucket counted after `since`, oldest first (at most `limit`); for inspection and tests. */
  listHits(bucket: string, since: number, limit: number): Promise<RateHit[]>;
  /** Deletes up to `limit` hits counted before `before`, in every bucket. Returns how many. */
  purgeHits(before: number, limit: number): Promise<number>;
}

export interface ClaimRepository {
  /**
   * Claims `key` for `owner` at `at`, until `expiresAt` (null: until released), unless another owner holds
   * it; returns the holder afterwards: `owner` when it won the claim or held it already (a step done again),
   * else the other owner. Of owners claiming a free key at once, exactly one wins, on both stores. A claim
   * whose expiry is past is free.
   */
  claim(key: string, owner: string, at: number, expiresAt: number | null): Promise<string>;
  /** Frees `key` when `owner` holds it; returns whether it did. */
  release(key: string, owner: string): Promise<boolean>;
  /** Deletes up to `limit` claims whose expiry is before `before`; returns how many. */
  purgeExpiredClaims(before: number, limit: number): Promise<number>;
}

/** Vote state, rate-limit hits and claims, as one part of the Store. */
export interface BrakesStore {
  readonly votes: VoteRepository;
  readonly rateLimits: RateLimitRepository;
  readonly claims: ClaimRepository;
}
