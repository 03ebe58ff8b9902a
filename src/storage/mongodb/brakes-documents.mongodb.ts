/** The MongoDB documents of vote state, rate-limit hits and claims. */
import type { ObjectId } from 'mongodb';
import type { VoteState } from '../brakes.store.ts';

/** A member's last vote on a post; (groupName, actorId, objectId) is unique. */
export interface VoteDoc {
  _id?: ObjectId;
  groupName: string;
  actorId: string;
  objectId: string;
  state: VoteState;
  activityId: string;
  at: number;
}

/** A hit counted against a rate limit, in a slot of its bucket; `_id` is the bucket and the slot number. */
export interface RateHitDoc {
  _id: string;
  bucket: string;
  slot: number;
  hitId: string;
  at: number;
}

/** A claim; `_id` is its key. `expiresAt` null: held until released. */
export interface ClaimDoc {
  _id: string;
  owner: string;
  at: number;
  expiresAt: number | null;
}
