/** MongoDB adapter of the storage port: group members and their delivery inboxes. */
import type { Collection, Filter } from 'mongodb';
import type { Member, MemberRepository, MemberState } from '../store.ts';
import type { MemberDoc } from './documents.mongodb.ts';
import { retryOnDuplicateKey } from './errors.mongodb.ts';

const MEMBER_FIELDS = {
  _id: 0,
  groupName: 1,
  actorId: 1,
  inbox: 1,
  sharedInbox: 1,
  deliveryInbox: 1,
  state: 1,
  followId: 1,
  createdAt: 1,
  updatedAt: 1,
} as const;

/** The most group names listGroupsOfActor returns (the port's bound). */
const GROUPS_OF_ACTOR_LIMIT = 100;

function toMember(doc: MemberDoc): Member {
  return {
    groupName: doc.groupName,
    actorId: doc.actorId,
    inbox: doc.inbox,
    sharedInbox: doc.sharedInbox ?? null,
    deliveryInbox: doc.deliveryInbox,
    state: doc.state,
    followId: doc.followId ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

/** Members and join requests in the `members` collection, unique on (groupName, actorId). */
/** Members read at most in one round trip while listing delivery inboxes. */
const MAX_MEMBERS_PER_READ = 20_000;

export class MongoMemberRepository implements MemberRepository {
  readonly #members: Collection<MemberDoc>;

  constructor(members: Collection<MemberDoc>) {
    this.#members = members;
  }

  async upsertMember(member: Member): Promise<void> {
    const doc: MemberDoc = {
      groupName: member.groupName,
      actorId: member.actorId,
      inbox: member.inbox,
      sharedInbox: member.sharedInbox,
      deliveryInbox: member.deliveryInbox,
      state: member.state,
      followId: member.followId,
      createdAt: member.createdAt,
      updatedAt: member.updatedAt,
    };
    await retryOnDuplicateKey(() =>
      this.#members.replaceOne({ groupName: member.groupName, actorId: member.actorId }, doc, {
        upsert: true,
      }),
    );
  }

  async listGroupsOfActor(actorId: string): Promise<string[]> {
    const docs = await this.#members
      .find({ actorId }, { projection: { _id: 0, groupName: 1 } })
      .sort({ groupName: 1 })
      .limit(GROUPS_OF_ACTOR_LIMIT)
      .toArray();
    return docs.map((doc) => doc.groupName);
  }

  async getMember(groupName: string, actorId: string): Promise<Member | null> {
    const doc = await this.#members.findOne({ groupName, actorId }, { projection: MEMBER_FIELDS });
    return doc ? toMember(doc) : null;
  }

  async removeMember(groupName: string, actorId: string): Promise<boolean> {
    const result = await this.#members.deleteOne({ groupName, actorId });
    return result.deletedCount === 1;
  }

  async countMembers(groupName: string, state: MemberState): Promise<number> {
    return this.#members.countDocuments({ groupName, state });
  }

  async listMembers(
    groupName: string,
    state: MemberState,
    after: string | null,
    limit: number,
  ): Promise<Member[]> {
    if (limit <= 0) return [];
    const filter: Filter<MemberDoc> =
      after === null ? { groupName, state } : { groupName, state, actorId: { $gt: after } };
    const docs = await this.#members
      .find(filter, { projection: MEMBER_FIELDS })
      .sort({ actorId: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toMember);
  }

  /**
   * Reads `limit` accepted members in delivery-inbox order and keeps each inbox once, so a page holds fewer
   * entries when members share an inbox (the port allows this). No aggregation: it runs the same on FerretDB.
   */
  async listDeliveryInboxes(groupName: string, after: string | null, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    // Members are read in inbox order, and several may share one (shared) inbox: a read of `limit` members may
    // yield far fewer inboxes. Reads go on from the last inbox seen, sized by how many members shared an inbox
    // so far, so that a page of inboxes usually takes one or two round trips.
    const inboxes: string[] = [];
    let cursor = after;
    let want = limit;
    let members = 0;
    for (;;) {
      const filter: Filter<MemberDoc> =
        cursor === null
          ? { groupName, state: 'accepted' }
          : { groupName, state: 'accepted', deliveryInbox: { $gt: cursor } };
      const docs = await this.#members
        .find(filter, { projection: { _id: 0, deliveryInbox: 1 } })
        .sort({ deliveryInbox: 1 })
        .limit(want)
        .batchSize(want)
        .toArray();
      let last: string | null = null;
      for (const doc of docs) {
        const inbox = doc['deliveryInbox'];
        if (typeof inbox !== 'string') continue;
        members++;
        if (inbox !== last) {
          last = inbox;
          if (inbox !== inboxes[inboxes.length - 1]) inboxes.push(inbox);
        }
      }
      if (docs.length < want || inboxes.length >= limit || last === null) break;
      // The last inbox may have more members beyond this read: go on after it (it is listed already).
      cursor = last;
      const perInbox = members / Math.max(1, inboxes.length);
      want = Math.min(MAX_MEMBERS_PER_READ, Math.ceil((limit - inboxes.length) * perInbox * 1.25) + 1);
    }
    return inboxes.slice(0, limit);
  }

  /** Reads `limit` members in actor order and keeps each actor once (the port allows shorter pages). */
  async listMemberActors(after: string | null, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const filter: Filter<MemberDoc> = after === null ? {} : { actorId: { $gt: after } };
    const docs = await this.#members
      .find(filter, { projection: { _id: 0, actorId: 1 } })
      .sort({ actorId: 1 })
      .limit(limit)
      .toArray();
    const actors: string[] = [];
    for (const doc of docs) {
      const actorId = doc['actorId'];
      if (typeof actorId === 'string' && actorId !== actors[actors.length - 1]) actors.push(actorId);
    }
    return actors;
  }
}
