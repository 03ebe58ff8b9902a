/** MongoDB adapter of the storage port: moves (former ids, new id, prior members) and groups following groups. */
import type { Collection, Filter } from 'mongodb';
import type {
  GroupFollow,
  GroupFollowRepository,
  GroupMoveRepository,
  GroupMoveState,
  InboxPage,
  MemberExclusion,
} from '../links.store.ts';
import type { MemberDoc } from './documents.mongodb.ts';
import { insertManyIgnoringDuplicates, retryOnDuplicateKey } from './errors.mongodb.ts';
import type {
  GroupFollowDoc,
  GroupMoveDoc,
  KnownMemberDoc,
  PriorMemberDoc,
} from './links-documents.mongodb.ts';

/** Documents written per insertMany. */
const BATCH = 1000;

/** Move state in `group_moves` (`_id` the group name), prior members in `prior_members`. */
export class MongoGroupMoveRepository implements GroupMoveRepository {
  constructor(
    private readonly moves: Collection<GroupMoveDoc>,
    private readonly prior: Collection<PriorMemberDoc>,
  ) {}

  async getMoveState(groupName: string): Promise<GroupMoveState> {
    const doc = await this.moves.findOne({ _id: groupName });
    return {
      groupName,
      alsoKnownAs: doc?.alsoKnownAs ?? [],
      movedTo: doc?.movedTo ?? null,
      movedAt: doc?.movedAt ?? null,
    };
  }

  async addAlsoKnownAs(groupName: string, actorId: string): Promise<void> {
    await retryOnDuplicateKey(() =>
      this.moves.updateOne(
        { _id: groupName },
        { $addToSet: { alsoKnownAs: actorId }, $setOnInsert: { movedTo: null, movedAt: null } },
        { upsert: true },
      ),
    );
  }

  async setMovedTo(groupName: string, target: string, at: number): Promise<void> {
    const current = await this.moves.findOne({ _id: groupName }, { projection: { movedTo: 1 } });
    if (current?.movedTo === target) return;
    await retryOnDuplicateKey(() =>
      this.moves.updateOne(
        { _id: groupName },
        { $set: { movedTo: target, movedAt: at }, $setOnInsert: { alsoKnownAs: [] } },
        { upsert: true },
      ),
    );
  }

  async addPriorMembers(groupName: string, actorIds: string[]): Promise<number> {
    let added = 0;
    for (let i = 0; i < actorIds.length; i += BATCH) {
      const docs = actorIds.slice(i, i + BATCH).map((actorId) => ({ groupName, actorId }));
      added += (await insertManyIgnoringDuplicates(this.prior, docs)).size;
    }
    return added;
  }

  async isPriorMember(groupName: string, actorId: string): Promise<boolean> {
    return (await this.prior.findOne({ groupName, actorId }, { projection: { _id: 1 } })) !== null;
  }

  async countPriorMembers(groupName: string): Promise<number> {
    return this.prior.countDocuments({ groupName });
  }
}

const FOLLOW_FIELDS = {
  _id: 0,
  groupName: 1,
  targetId: 1,
  targetInbox: 1,
  followId: 1,
  state: 1,
  createdAt: 1,
  updatedAt: 1,
} as const;

function toFollow(d: GroupFollowDoc): GroupFollow {
  return {
    groupName: d.groupName,
    targetId: d.targetId,
    targetInbox: d.targetInbox,
    followId: d.followId,
    state: d.state,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** Follows in `group_follows`, remote groups' known members in `known_members`. */
export class MongoGroupFollowRepository implements GroupFollowRepository {
  constructor(
    private readonly follows: Collection<GroupFollowDoc>,
    private readonly known: Collection<KnownMemberDoc>,
    private readonly members: Collection<MemberDoc>,
  ) {}

  async putGroupFollow(f: GroupFollow): Promise<void> {
    const doc: GroupFollowDoc = { ...f };
    await retryOnDuplicateKey(() =>
      this.follows.replaceOne({ groupName: f.groupName, targetId: f.targetId }, doc, { upsert: true }),
    );
  }

  async getGroupFollow(groupName: string, targetId: string): Promise<GroupFollow | null> {
    const doc = await this.follows.findOne({ groupName, targetId }, { projection: FOLLOW_FIELDS });
    return doc ? toFollow(doc) : null;
  }

  async removeGroupFollow(groupName: string, targetId: string): Promise<boolean> {
    return (await this.follows.deleteOne({ groupName, targetId })).deletedCount === 1;
  }

  async listGroupFollows(groupName: string, after: string | null, limit: number): Promise<GroupFollow[]> {
    if (limit <= 0) return [];
    const filter: Filter<GroupFollowDoc> =
      after === null ? { groupName } : { groupName, targetId: { $gt: after } };
    const docs = await this.follows
      .find(filter, { projection: FOLLOW_FIELDS })
      .sort({ targetId: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toFollow);
  }

  async listFollowsOf(targetId: string, after: string | null, limit: number): Promise<GroupFollow[]> {
    if (limit <= 0) return [];
    const filter: Filter<GroupFollowDoc> =
      after === null ? { targetId } : { targetId, groupName: { $gt: after } };
    const docs = await this.follows
      .find(filter, { projection: FOLLOW_FIELDS })
      .sort({ groupName: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toFollow);
  }

  async replaceKnownMembers(groupId: string, actorIds: string[]): Promise<void> {
    await this.known.deleteMany({ groupId });
    const unique = [...new Set(actorIds)];
    for (let i = 0; i < unique.length; i += BATCH)
      await insertManyIgnoringDuplicates(
        this.known,
        unique.slice(i, i + BATCH).map((actorId) => ({ groupId, actorId })),
      );
  }

  async countKnownMembers(groupId: string): Promise<number> {
    return this.known.countDocuments({ groupId });
  }

  async listDeliveryInboxesExcept(
    groupName: string,
    except: MemberExclusion,
    after: string | null,
    limit: number,
  ): Promise<InboxPage> {
    if (limit <= 0) return { inboxes: [], next: after };
    const filter: Filter<MemberDoc> = { groupName, state: 'accepted' };
    if (after !== null) filter.deliveryInbox = { $gt: after };
    const docs = await this.members
      .find(filter, { projection: { _id: 0, deliveryInbox: 1, actorId: 1 } })
      .sort({ deliveryInbox: 1 })
      .limit(limit)
      .toArray();
    const byInbox = new Map<string, string[]>();
    for (const d of docs) byInbox.set(d.deliveryInbox, [...(byInbox.get(d.deliveryInbox) ?? []), d.actorId]);
    const full = docs.length === limit;
    const inboxes = [...byInbox.keys()];
    const last = inboxes[inboxes.length - 1];
    if (full && inboxes.length === 1 && last !== undefined) {
      // One inbox holds a whole page of members: read it apart, until one member is not in the other group.
      return { inboxes: (await this.inboxCovered(groupName, last, except)) ? [] : [last], next: last };
    }
    // The last inbox of a full page may go on in the next page: it is read there, whole.
    const complete = full ? inboxes.slice(0, -1) : inboxes;
    const covered = await this.coveredActors(
      except,
      complete.flatMap((i) => byInbox.get(i) ?? []),
    );
    return {
      inboxes: complete.filter((i) => !(byInbox.get(i) ?? []).every((a) => covered.has(a))),
      next: full ? (complete[complete.length - 1] ?? null) : null,
    };
  }

  /** Those of `actorIds` that are in the exclusion. */
  private async coveredActors(except: MemberExclusion, actorIds: string[]): Promise<Set<string>> {
    if (actorIds.length === 0) return new Set();
    if ('localGroup' in except) {
      const docs = await this.members
        .find(
          { groupName: except.localGroup, state: 'accepted', actorId: { $in: actorIds } },
          { projection: { _id: 0, actorId: 1 } },
        )
        .toArray();
      return new Set(docs.map((d) => d.actorId));
    }
    const docs = await this.known
      .find(
        { groupId: except.remoteGroup, actorId: { $in: actorIds } },
        { projection: { _id: 0, actorId: 1 } },
      )
      .toArray();
    return new Set(docs.map((d) => d.actorId));
  }

  /** True when every accepted member of `groupName` behind `inbox` is in the exclusion. */
  private async inboxCovered(groupName: string, inbox: string, except: MemberExclusion): Promise<boolean> {
    let after: string | null = null;
    for (;;) {
      const filter: Filter<MemberDoc> = { groupName, state: 'accepted', deliveryInbox: inbox };
      if (after !== null) filter.actorId = { $gt: after };
      const page = await this.members
        .find(filter, { projection: { _id: 0, actorId: 1 } })
        .sort({ actorId: 1 })
        .limit(BATCH)
        .toArray();
      if (page.length === 0) return true;
      const ids = page.map((d) => d.actorId);
      const covered = await this.coveredActors(except, ids);
      if (ids.some((a) => !covered.has(a))) return false;
      after = ids[ids.length - 1] ?? null;
    }
  }
}
