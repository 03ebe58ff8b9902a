/**
 * What the inbox agrees to store, checked after the signature and before the intake queue:
 *
 * - an activity that concerns nothing here (no group, post, collection or actor of this server named in it, not a
 *   reaction to a post held here, its actor a member of no group here and followed by none) is answered 202 and
 *   not stored: no
 *   handler would do anything with it, and storing it would let anyone fill the store;
 * - one sending host may have at most `maxStoredBytesPerSender` bytes taken in over a sliding window as long as
 *   finished intake jobs are kept (their payload is purged after that): beyond, the inbox answers 429 with
 *   `Retry-After`. The tally is kept by each web process (a restart or another web process starts its own).
 */
import type { Store } from '../storage/store.ts';
import { idOf, isObject, type ApObject } from '../activitypub/vocab.ts';

export type Admission =
  | { kind: 'store' }
  | { kind: 'unrelated'; reason: string }
  | { kind: 'over-quota'; retryAfterSeconds: number };

/** Fields whose values name other documents (ids, or objects with an id, or lists of them). */
const REFERENCE_FIELDS = [
  'object',
  'target',
  'origin',
  'to',
  'cc',
  'bto',
  'bcc',
  'audience',
  'inReplyTo',
  'context',
  'attributedTo',
  'tag',
] as const;
/** Ids looked at in one activity (its object and the object's object included). */
const MAX_REFERENCES = 128;
/** Ids looked up as posts held here, at most, per activity. */
const MAX_POST_LOOKUPS = 8;
/** Buckets of the sliding window of each sender. */
const BUCKETS = 60;
/** Senders tracked at once; the least recently seen is forgotten beyond. */
const MAX_SENDERS = 100_000;

/** The ids an activity names: in its reference fields, its object's, and its object's object's. */
export function referencedIds(activity: ApObject): { all: string[]; objects: string[] } {
  const all: string[] = [];
  const objects: string[] = [];
  const add = (v: unknown, into: string[][]): void => {
    if (all.length >= MAX_REFERENCES) return;
    if (Array.isArray(v)) {
      for (const item of v.slice(0, MAX_REFERENCES)) add(item, into);
      return;
    }
    const id = typeof v === 'string' ? v : isObject(v) ? (idOf(v) ?? idOf(v['href'])) : null;
    if (id !== null) for (const list of into) list.push(id);
  };
  const visit = (doc: ApObject, depth: number): void => {
    for (const field of REFERENCE_FIELDS) {
      const value = doc[field];
      add(value, field === 'object' || field === 'inReplyTo' ? [all, objects] : [all]);
      if (field === 'object' && depth < 2) {
        for (const inner of Array.isArray(value) ? value.slice(0, 8) : [value])
          if (isObject(inner)) visit(inner, depth + 1);
      }
    }
  };
  visit(activity, 0);
  return { all, objects };
}

export interface IntakeAdmissionDeps {
  store: Pick<Store, 'members' | 'posts' | 'groupFollows'>;
  /** This server's origin (`https://guild.example`). */
  origin: string;
  /** 0: no cap. */
  maxStoredBytesPerSender: number;
  /** The sliding window of the cap. */
  windowMs: number;
  now?: () => number;
}

export class IntakeAdmission {
  private readonly now: () => number;
  private readonly bucketMs: number;
  /** Per sending host: bytes taken in per bucket (index = bucket number modulo BUCKETS) and bucket numbers. */
  private readonly senders = new Map<string, { bytes: number[]; bucket: number[] }>();

  constructor(private readonly d: IntakeAdmissionDeps) {
    this.now = d.now ?? Date.now;
    this.bucketMs = Math.max(1000, Math.ceil(d.windowMs / BUCKETS));
  }

  /**
   * Whether to store `activity`, signed by `actorId` from `host`, `bytes` long. When the answer is `store`, the
   * bytes are counted against the sender. A store that fails a lookup lets the activity through (its enqueue
   * then fails too, and the inbox answers 503).
   */
  async admit(activity: ApObject, o: { actorId: string; host: string; bytes: number }): Promise<Admission> {
    const related = await this.related(activity, o.actorId);
    if (related !== null) return { kind: 'unrelated', reason: related };
    if (this.d.maxStoredBytesPerSender > 0) {
      const over = this.charge(o.host, o.bytes);
      if (over !== null) return { kind: 'over-quota', retryAfterSeconds: over };
    }
    return { kind: 'store' };
  }

  /** Null when the activity concerns something here, else why not. */
  private async related(activity: ApObject, actorId: string): Promise<string | null> {
    const { all, objects } = referencedIds(activity);
    const local = `${this.d.origin}/`;
    if (all.some((id) => id === this.d.origin || id.startsWith(local))) return null;
    try {
      if ((await this.d.store.members.listGroupsOfActor(actorId)).length > 0) return null;
      // What a group followed by a group here announces (FEP-d36d).
      if ((await this.d.store.groupFollows.listFollowsOf(actorId, null, 1)).length > 0) return null;
      for (const id of [...new Set(objects)].slice(0, MAX_POST_LOOKUPS))
        if ((await this.d.store.posts.listGroupsOfPost(id)).length > 0) return null;
    } catch {
      return null;
    }
    return 'it names no group, post or actor here, and its actor is a member of no group here nor followed by one';
  }

  /** Counts `bytes` for `host`, or returns the seconds to wait when that would pass the cap (counting nothing). */
  private charge(host: string, bytes: number): number | null {
    const bucket = Math.floor(this.now() / this.bucketMs);
    let s = this.senders.get(host);
    if (s) this.senders.delete(host);
    s ??= { bytes: new Array<number>(BUCKETS).fill(0), bucket: new Array<number>(BUCKETS).fill(-1) };
    // Most recently seen last: the first entry is the one to forget when there are too many.
    this.senders.set(host, s);
    if (this.senders.size > MAX_SENDERS) {
      const oldest = this.senders.keys().next().value;
      if (oldest !== undefined) this.senders.delete(oldest);
    }
    let used = 0;
    let oldestLive = bucket;
    for (let i = 0; i < BUCKETS; i++) {
      const b = s.bucket[i] ?? -1;
      if (b > bucket - BUCKETS) {
        used += s.bytes[i] ?? 0;
        if ((s.bytes[i] ?? 0) > 0) oldestLive = Math.min(oldestLive, b);
      }
    }
    if (used + bytes > this.d.maxStoredBytesPerSender) {
      const freeAt = (oldestLive + BUCKETS) * this.bucketMs;
      return Math.max(1, Math.ceil((freeAt - this.now()) / 1000));
    }
    const slot = bucket % BUCKETS;
    if (s.bucket[slot] !== bucket) {
      s.bucket[slot] = bucket;
      s.bytes[slot] = 0;
    }
    s.bytes[slot] = (s.bytes[slot] ?? 0) + bytes;
    return null;
  }
}
