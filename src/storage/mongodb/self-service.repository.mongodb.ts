/**
 * MongoDB adapter of the storage port's self-service part: owners, group requests, one-time codes and
 * sessions, each in a collection of its own with the indexes its queries need.
 */
import type { Collection, Db, Filter, IndexDescription } from 'mongodb';
import type {
  CodePurpose,
  GroupOwner,
  GroupRequest,
  GroupRequestRepository,
  GroupRequestState,
  OneTimeCode,
  OneTimeCodeRepository,
  OwnerRepository,
  Session,
  SessionRepository,
} from '../self-service.store.ts';
import { isDuplicateKeyError } from './errors.mongodb.ts';

/** An owner; `_id` is the group name. */
interface OwnerDoc {
  _id: string;
  actorId: string;
  since: number;
}

/** A group request; `_id` is its id. */
interface GroupRequestDoc extends Omit<GroupRequest, 'id'> {
  _id: string;
}

/** A one-time code; `_id` is its hash. */
interface CodeDoc {
  _id: string;
  purpose: CodePurpose;
  actorId: string;
  subject: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

/** A session; `_id` is the hash of its token. */
interface SessionDoc {
  _id: string;
  actorId: string;
  createdAt: number;
  expiresAt: number;
}

/**
 * The claim on a one-time change (a request's decision, a code's use); `_id` is the request id or the code's
 * hash, so that of concurrent writers only one can insert it: FerretDB does not make a conditional update
 * atomic against another, the unique `_id` is.
 */
interface ClaimDoc {
  _id: string;
  at: number;
}

export interface SelfServiceCollections {
  owners: Collection<OwnerDoc>;
  groupRequests: Collection<GroupRequestDoc>;
  requestDecisions: Collection<ClaimDoc>;
  codes: Collection<CodeDoc>;
  codeUses: Collection<ClaimDoc>;
  sessions: Collection<SessionDoc>;
}

export function selfServiceCollectionsOf(db: Db): SelfServiceCollections {
  return {
    owners: db.collection<OwnerDoc>('group_owners'),
    groupRequests: db.collection<GroupRequestDoc>('group_requests'),
    requestDecisions: db.collection<ClaimDoc>('group_request_decisions'),
    codes: db.collection<CodeDoc>('one_time_codes'),
    codeUses: db.collection<ClaimDoc>('one_time_code_uses'),
    sessions: db.collection<SessionDoc>('sessions'),
  };
}

const INDEXES: { [K in keyof SelfServiceCollections]: IndexDescription[] } = {
  owners: [],
  groupRequests: [
    // listGroupRequests
    { key: { state: 1, createdAt: 1, _id: 1 } },
    // getPendingByName
    { key: { name: 1, state: 1 } },
    // countGroupRequestsSince
    { key: { requesterId: 1, createdAt: 1 } },
    { key: { requesterHost: 1, createdAt: 1 } },
  ],
  requestDecisions: [],
  // purgeCodes
  codes: [{ key: { expiresAt: 1 } }],
  codeUses: [],
  sessions: [
    // deleteSessionsOf
    { key: { actorId: 1 } },
    // purgeSessions
    { key: { expiresAt: 1 } },
  ],
};

/** Creates the indexes, one per command (see ensureIndexes in documents.mongodb.ts); idempotent. */
export async function ensureSelfServiceIndexes(c: SelfServiceCollections, db: Db): Promise<void> {
  for (const name of Object.keys(INDEXES) as (keyof SelfServiceCollections)[])
    for (const index of INDEXES[name]) await c[name].createIndexes([index]);
  // listGroupsOfModerator
  await db.collection('moderators').createIndexes([{ key: { actorId: 1, groupName: 1 } }]);
}

export class MongoOwnerRepository implements OwnerRepository {
  constructor(private readonly owners: Collection<OwnerDoc>) {}

  async setOwner(o: GroupOwner): Promise<void> {
    await this.owners.updateOne(
      { _id: o.groupName },
      { $set: { actorId: o.actorId, since: o.since } },
      { upsert: true },
    );
  }

  async getOwner(groupName: string): Promise<GroupOwner | null> {
    const doc = await this.owners.findOne({ _id: groupName });
    return doc ? { groupName: doc._id, actorId: doc.actorId, since: doc.since } : null;
  }

  async clearOwner(groupName: string): Promise<boolean> {
    return (await this.owners.deleteOne({ _id: groupName })).deletedCount === 1;
  }
}

function toRequest(d: GroupRequestDoc): GroupRequest {
  return {
    id: d._id,
    name: d.name,
    title: d.title,
    requesterId: d.requesterId,
    requesterHost: d.requesterHost,
    state: d.state,
    createdAt: d.createdAt,
    decidedAt: d.decidedAt,
    decidedBy: d.decidedBy,
    reason: d.reason,
  };
}

/** Inserts the claim; false when another writer holds it. */
async function claim(claims: Collection<ClaimDoc>, id: string, at: number): Promise<boolean> {
  try {
    await claims.insertOne({ _id: id, at });
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

export class MongoGroupRequestRepository implements GroupRequestRepository {
  constructor(
    private readonly requests: Collection<GroupRequestDoc>,
    private readonly decisions: Collection<ClaimDoc>,
  ) {}

  async putGroupRequest(r: GroupRequest): Promise<boolean> {
    const { id, ...rest } = r;
    try {
      await this.requests.insertOne({ _id: id, ...rest });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async getGroupRequest(id: string): Promise<GroupRequest | null> {
    const doc = await this.requests.findOne({ _id: id });
    return doc ? toRequest(doc) : null;
  }

  async getPendingByName(name: string): Promise<GroupRequest | null> {
    const docs = await this.requests
      .find({ name, state: 'pending' })
      .sort({ createdAt: 1, _id: 1 })
      .limit(1)
      .toArray();
    return docs[0] ? toRequest(docs[0]) : null;
  }

  async listGroupRequests(
    state: GroupRequestState,
    after: { createdAt: number; id: string } | null,
    limit: number,
  ): Promise<GroupRequest[]> {
    if (limit <= 0) return [];
    const filter: Filter<GroupRequestDoc> = { state };
    if (after !== null)
      filter.$or = [
        { createdAt: { $gt: after.createdAt } },
        { createdAt: after.createdAt, _id: { $gt: after.id } },
      ];
    const docs = await this.requests.find(filter).sort({ createdAt: 1, _id: 1 }).limit(limit).toArray();
    return docs.map(toRequest);
  }

  async decideGroupRequest(
    id: string,
    d: { state: 'approved' | 'rejected'; by: string; at: number; reason: string },
  ): Promise<boolean> {
    const found = await this.requests.findOne({ _id: id }, { projection: { _id: 1, state: 1 } });
    if (!found || found.state !== 'pending' || !(await claim(this.decisions, id, d.at))) return false;
    await this.requests.updateOne(
      { _id: id, state: 'pending' },
      { $set: { state: d.state, decidedAt: d.at, decidedBy: d.by, reason: d.reason } },
    );
    return true;
  }

  async countGroupRequestsSince(
    by: { requesterId: string } | { requesterHost: string },
    since: number,
  ): Promise<number> {
    const key = 'requesterId' in by ? { requesterId: by.requesterId } : { requesterHost: by.requesterHost };
    return this.requests.countDocuments({ ...key, createdAt: { $gte: since } });
  }
}

export class MongoCodeRepository implements OneTimeCodeRepository {
  constructor(
    private readonly codes: Collection<CodeDoc>,
    private readonly uses: Collection<ClaimDoc>,
  ) {}

  async putCode(c: OneTimeCode): Promise<boolean> {
    const { hash, ...rest } = c;
    try {
      await this.codes.insertOne({ _id: hash, ...rest });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async useCode(hash: string, now: number): Promise<OneTimeCode | null> {
    const doc = await this.codes.findOne({ _id: hash });
    if (!doc || doc.usedAt !== null || doc.expiresAt <= now) return null;
    // Of concurrent uses, only the one that inserts the claim gets the code.
    if (!(await claim(this.uses, hash, now))) return null;
    await this.codes.updateOne({ _id: hash }, { $set: { usedAt: now } });
    const { _id, ...rest } = doc;
    return { hash: _id, ...rest, usedAt: now };
  }

  async purgeCodes(before: number, limit: number): Promise<number> {
    const ids = await expired(this.codes, before, limit);
    if (ids.length === 0) return 0;
    const n = (await this.codes.deleteMany({ _id: { $in: ids } })).deletedCount;
    await this.uses.deleteMany({ _id: { $in: ids } });
    return n;
  }
}

export class MongoSessionRepository implements SessionRepository {
  constructor(private readonly sessions: Collection<SessionDoc>) {}

  async putSession(s: Session): Promise<void> {
    const { hash, ...rest } = s;
    await this.sessions.replaceOne({ _id: hash }, rest, { upsert: true });
  }

  async getSession(hash: string, now: number): Promise<Session | null> {
    const doc = await this.sessions.findOne({ _id: hash, expiresAt: { $gt: now } });
    if (!doc) return null;
    const { _id, ...rest } = doc;
    return { hash: _id, ...rest };
  }

  async deleteSession(hash: string): Promise<boolean> {
    return (await this.sessions.deleteOne({ _id: hash })).deletedCount === 1;
  }

  async deleteSessionsOf(actorId: string): Promise<number> {
    return (await this.sessions.deleteMany({ actorId })).deletedCount;
  }

  async purgeSessions(before: number, limit: number): Promise<number> {
    const ids = await expired(this.sessions, before, limit);
    if (ids.length === 0) return 0;
    return (await this.sessions.deleteMany({ _id: { $in: ids } })).deletedCount;
  }
}

/** The ids of up to `limit` documents that expired before `before`, oldest first. */
async function expired<T extends { _id: string; expiresAt: number }>(
  c: Collection<T>,
  before: number,
  limit: number,
): Promise<string[]> {
  if (limit <= 0) return [];
  const filter = { expiresAt: { $lt: before } } as Filter<T>;
  const docs = await c
    .find(filter, { projection: { _id: 1 } })
    .sort({ expiresAt: 1 })
    .limit(limit)
    .toArray();
  return docs.map((d) => d._id);
}
