/** The MongoDB documents of vote state and rate-limit hits. */
import type { ObjectId } from 'mongodb';
import type { VoteType } from '../brakes.store.ts';

/** A member's current vote on a post; (groupName, actorId, objectId) is unique. */
export interface VoteDoc {
  _id?: ObjectId;
  groupName: string;
  actorId: string;
  objectId: string;
  type: VoteType;
  activityId: string;
  at: number;
}

/** A hit counted against a rate limit; `_id` is the bucket and the hit id. */
export interface RateHitDoc {
  _id: string;
  bucket: string;
  hitId: string;
  at: number;
}
