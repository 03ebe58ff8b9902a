/**
 * MongoDB adapter of the storage port: the delivery inboxes of a group, read as one stream per pass.
 *
 * A fan-out asks for the inboxes of a group page after page, each page starting after the last inbox of the one
 * before (MemberRepository.listDeliveryInboxes); they are read from the group's list of distinct inboxes
 * (delivery-inboxes.mongodb.ts). Read as one query per page, a pass over a group costs one sorted read per page;
 * on a server that sorts in memory rather than from the index (FerretDB 1.x reads every inbox of the group and
 * sorts them for each query), that is a full read of the group per page. So a page is read from a cursor left
 * open by the page before it when its `after` is the last inbox that cursor gave: one query per pass, whatever
 * the number of pages. A page asked for from anywhere else opens a cursor of its own; cursors idle for
 * READ_IDLE_MS, and the oldest beyond MAX_OPEN_READS, are closed.
 */
import type { Collection, FindCursor } from 'mongodb';
import type { DeliveryInboxDoc } from './delivery-inboxes.mongodb.ts';

/** Cursors left open between pages at most. */
const MAX_OPEN_READS = 16;
/** A cursor not asked for its next page for this long is closed. */
const READ_IDLE_MS = 60_000;
/** Inboxes read per round trip. */
const READ_BATCH = 2_000;

type InboxDoc = Pick<DeliveryInboxDoc, 'inbox'>;

/** An open read of a group's inboxes: the cursor, the last inbox it gave, and whether it has ended. */
interface InboxRead {
  groupName: string;
  cursor: FindCursor<InboxDoc>;
  last: string | null;
  ended: boolean;
  usedAt: number;
}

export class MongoInboxReads {
  readonly #inboxes: Collection<DeliveryInboxDoc>;
  readonly #open: InboxRead[] = [];
  readonly #clock: () => number;
  readonly #batch: number;

  /** `batch`: inboxes read per round trip (READ_BATCH). */
  constructor(inboxes: Collection<DeliveryInboxDoc>, options: { clock?: () => number; batch?: number } = {}) {
    this.#inboxes = inboxes;
    this.#clock = options.clock ?? Date.now;
    this.#batch = options.batch ?? READ_BATCH;
  }

  /** Inboxes of the group's accepted members after `after`, ascending, `limit` at most. */
  async page(groupName: string, after: string | null, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    this.#closeIdle();
    const kept = this.#take(groupName, after);
    if (kept?.ended) {
      await kept.cursor.close().catch(() => undefined);
      return [];
    }
    try {
      return await this.#read(kept ?? this.#start(groupName, after), after, limit);
    } catch (error) {
      // A cursor kept open may have been closed by the server meanwhile: the page is read again from a new one.
      if (kept === undefined) throw error;
      return this.#read(this.#start(groupName, after), after, limit);
    }
  }

  /** Closes every cursor left open. */
  async close(): Promise<void> {
    const reads = this.#open.splice(0);
    await Promise.all(reads.map((r) => r.cursor.close().catch(() => undefined)));
  }

  async #read(read: InboxRead, after: string | null, limit: number): Promise<string[]> {
    const inboxes: string[] = [];
    let last = after;
    try {
      while (inboxes.length < limit) {
        const doc = await read.cursor.next();
        if (doc === null) {
          read.ended = true;
          break;
        }
        // The list holds each inbox of a group once.
        const inbox = doc.inbox;
        if (typeof inbox !== 'string') continue;
        inboxes.push(inbox);
        last = inbox;
      }
    } catch (error) {
      await read.cursor.close().catch(() => undefined);
      throw error;
    }
    read.last = last;
    read.usedAt = this.#clock();
    if (read.ended && inboxes.length === 0) await read.cursor.close().catch(() => undefined);
    else this.#keep(read);
    return inboxes;
  }

  #start(groupName: string, after: string | null): InboxRead {
    const filter = after === null ? { groupName } : { groupName, inbox: { $gt: after } };
    const cursor = this.#inboxes
      .find(filter, { projection: { _id: 0, inbox: 1 } })
      .sort({ inbox: 1 })
      .batchSize(this.#batch) as FindCursor<InboxDoc>;
    return { groupName, cursor, last: after, ended: false, usedAt: this.#clock() };
  }

  /** The open read of `groupName` that last gave `after`, taken out of the open ones. */
  #take(groupName: string, after: string | null): InboxRead | undefined {
    if (after === null) return undefined;
    const index = this.#open.findIndex((r) => r.groupName === groupName && r.last === after);
    return index < 0 ? undefined : this.#open.splice(index, 1)[0];
  }

  #keep(read: InboxRead): void {
    this.#open.push(read);
    while (this.#open.length > MAX_OPEN_READS) {
      const oldest = this.#open.shift();
      void oldest?.cursor.close().catch(() => undefined);
    }
  }

  #closeIdle(): void {
    const now = this.#clock();
    for (let i = this.#open.length - 1; i >= 0; i--) {
      const read = this.#open[i];
      if (read === undefined || now - read.usedAt < READ_IDLE_MS) continue;
      this.#open.splice(i, 1);
      void read.cursor.close().catch(() => undefined);
    }
  }
}
