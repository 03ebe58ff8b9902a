/** MongoDB adapter of the storage port: group members and their delivery inboxes. */
import type { Collection, Filter } from 'mongodb';
import type { Member, MemberRepository, MemberState } from '../store.ts';
import type { MemberDoc } from './documents.mongodb.ts';
import { retryOnDuplicateKey } from './errors.mongodb.ts';
import { MongoInboxReads } from './inbox-reads.mongodb.ts';
import { MongoDeliveryInboxes, type DeliveryInboxDoc } from './delivery-inboxes.mongodb.ts';

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

/** The document of a member. */
export function memberDocOf(member: Member): MemberDoc {
  return {
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
}

/**
 * Members and join requests in the `members` collection, unique on (groupName, actorId); the distinct inboxes of
 * the accepted ones in `delivery_inboxes` (delivery-inboxes.mongodb.ts), kept by the writes here.
 */
export class MongoMemberRepository implements MemberRepository {
  readonly #members: Collection<MemberDoc>;
  readonly #inboxes: MongoDeliveryInboxes;
  readonly #inboxReads: MongoInboxReads;

  constructor(members: Collection<MemberDoc>, inboxes: Collection<DeliveryInboxDoc>) {
    this.#members = members;
    this.#inboxes = new MongoDeliveryInboxes(inboxes, members);
    this.#inboxReads = new MongoInboxReads(inboxes);
  }

  async upsertMember(member: Member): Promise<void> {
    const accepted = member.state === 'accepted';
    // The inbox is listed before and after the write (delivery-inboxes.mongodb.ts).
    if (accepted) await this.#inboxes.add(member.groupName, member.deliveryInbox);
    const before = await retryOnDuplicateKey(() =>
      this.#members.findOneAndReplace(
        { groupName: member.groupName, actorId: member.actorId },
        memberDocOf(member),
        // No projection: FerretDB 1.24 has none for findAndModify.
        { upsert: true, returnDocument: 'before' },
      ),
    );
    if (accepted) await this.#inboxes.add(member.groupName, member.deliveryInbox);
    if (before?.state === 'accepted' && (!accepted || before.deliveryInbox !== member.deliveryInbox))
      await this.#inboxes.release(member.groupName, before.deliveryInbox);
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
    const before = await this.#members.findOneAndDelete({ groupName, actorId });
    if (before === null) return false;
    if (before.state === 'accepted') await this.#inboxes.release(groupName, before.deliveryInbox);
    return true;
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

  /** Read from one cursor per pass over the group (inbox-reads.mongodb.ts). */
  async listDeliveryInboxes(groupName: string, after: string | null, limit: number): Promise<string[]> {
    return this.#inboxReads.page(groupName, after, limit);
  }

  /** Closes the cursors of passes left open. */
  async close(): Promise<void> {
    await this.#inboxReads.close();
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
