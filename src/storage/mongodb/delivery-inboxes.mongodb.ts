/**
 * MongoDB adapter of the storage port: the distinct delivery inboxes of each group's accepted members, kept in a
 * collection of their own (`delivery_inboxes`) so that a fan-out reads one document per server, not one per
 * member (a group of 10,000 members on 1,000 servers: 1,000 documents; FerretDB 1.x converts every document a
 * query reads, 0.57 s for those 10,000 members on PostgreSQL).
 *
 * The list is kept by the member writes (member.repository.mongodb.ts) with inserts, deletes and reads only, as
 * no write here may rely on a filter applied together with it (FerretDB applies filters apart from writes):
 * - a member accepted at an inbox: the inbox is added (an insert that a duplicate leaves as it was) before the
 *   member is written, so that a crash between the two leaves at most an inbox without members, and again after,
 *   so that a release that ran in between (below) does not leave the member's inbox out;
 * - a member no longer accepted at an inbox (it left, was removed, or its inbox changed): the inbox is released:
 *   if no other accepted member has it, it is deleted, and then added again if one now has it (a member accepted
 *   there meanwhile, whose write the first check did not see).
 * Whatever the interleaving, once the writes have ended every inbox of an accepted member is listed: a member
 * written before the release's second check is seen by it, one written after adds its inbox after the delete.
 * An inbox can stay listed without members after a crash in a release (until the next member there leaves);
 * deliveries to it reach a server where nobody follows the group, which drops them.
 */
import { createHash } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { MemberDoc } from './documents.mongodb.ts';
import { insertManyIgnoringDuplicates } from './errors.mongodb.ts';

/** A delivery inbox of some accepted member of a group; `_id` names both (deliveryInboxId). */
export interface DeliveryInboxDoc {
  _id: string;
  groupName: string;
  inbox: string;
}

/** The `_id` of the inbox `inbox` of group `groupName`. */
export function deliveryInboxId(groupName: string, inbox: string): string {
  return createHash('sha256').update(groupName).update('\n').update(inbox).digest('base64url');
}

/** The documents of the distinct inboxes of `members` that are accepted. */
export function deliveryInboxDocsOf(
  members: Pick<MemberDoc, 'groupName' | 'state' | 'deliveryInbox'>[],
): DeliveryInboxDoc[] {
  const docs = new Map<string, DeliveryInboxDoc>();
  for (const m of members) {
    if (m.state !== 'accepted' || typeof m.deliveryInbox !== 'string') continue;
    const _id = deliveryInboxId(m.groupName, m.deliveryInbox);
    docs.set(_id, { _id, groupName: m.groupName, inbox: m.deliveryInbox });
  }
  return [...docs.values()];
}

/** Members read per batch when the list is built from the members. */
const BUILD_BATCH = 1_000;

export class MongoDeliveryInboxes {
  readonly #inboxes: Collection<DeliveryInboxDoc>;
  readonly #members: Collection<MemberDoc>;

  constructor(inboxes: Collection<DeliveryInboxDoc>, members: Collection<MemberDoc>) {
    this.#inboxes = inboxes;
    this.#members = members;
  }

  /** Lists `inbox` for `groupName` (nothing changes when it is listed). */
  async add(groupName: string, inbox: string): Promise<void> {
    await insertManyIgnoringDuplicates(this.#inboxes, [
      { _id: deliveryInboxId(groupName, inbox), groupName, inbox },
    ]);
  }

  /** Unlists `inbox` for `groupName` unless an accepted member still has it (see the file's comment). */
  async release(groupName: string, inbox: string): Promise<void> {
    if (await this.#inUse(groupName, inbox)) return;
    await this.#inboxes.deleteOne({ _id: deliveryInboxId(groupName, inbox) });
    if (await this.#inUse(groupName, inbox)) await this.add(groupName, inbox);
  }

  async #inUse(groupName: string, inbox: string): Promise<boolean> {
    const doc = await this.#members.findOne(
      { groupName, state: 'accepted', deliveryInbox: inbox },
      { projection: { _id: 1 } },
    );
    return doc !== null;
  }
}

/**
 * Lists the inboxes of every accepted member, once: when the store was written by a Guild without this list
 * (the list's index, created after this by ensureIndexes, is not there yet), whatever the store's age. A start
 * interrupted midway lists them all at the next. Returns the inboxes listed. Processes of an earlier Guild
 * still writing members meanwhile would not list them: every process is stopped before the upgrade (README,
 * "Backup, restore and upgrades").
 */
export async function listDeliveryInboxesOnce(
  inboxes: Collection<DeliveryInboxDoc>,
  members: Collection<MemberDoc>,
): Promise<number> {
  let indexes: { key?: Record<string, unknown> }[];
  try {
    indexes = await inboxes.listIndexes().toArray();
  } catch (error) {
    // MongoDB: NamespaceNotFound, for a collection not created yet.
    if ((error as { code?: unknown }).code !== 26) throw error;
    indexes = [];
  }
  if (indexes.some((index) => index.key !== undefined && 'groupName' in index.key)) return 0;
  let listed = 0;
  const cursor = members
    .find({ state: 'accepted' }, { projection: { _id: 0, groupName: 1, state: 1, deliveryInbox: 1 } })
    .batchSize(BUILD_BATCH);
  let batch: Pick<MemberDoc, 'groupName' | 'state' | 'deliveryInbox'>[] = [];
  const flush = async () => {
    listed += (await insertManyIgnoringDuplicates(inboxes, deliveryInboxDocsOf(batch))).size;
    batch = [];
  };
  try {
    for await (const doc of cursor) {
      batch.push(doc);
      if (batch.length >= BUILD_BATCH) await flush();
    }
    await flush();
  } finally {
    await cursor.close();
  }
  return listed;
}
