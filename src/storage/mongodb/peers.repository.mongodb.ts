/** MongoDB adapter of the storage port: peered instances and the groups they list. */
import type { Collection } from 'mongodb';
import type {
  DirectoryEntry,
  DirectoryRepository,
  Peer,
  PeerChanges,
  PeerRepository,
} from '../links.store.ts';
import type { DirectoryEntryDoc, PeerDoc } from './links-documents.mongodb.ts';

function toPeer(d: PeerDoc): Peer {
  return {
    host: d._id,
    actorId: d.actorId,
    inbox: d.inbox,
    added: d.added,
    followId: d.followId,
    following: d.following,
    theirFollowId: d.theirFollowId,
    followedBy: d.followedBy,
    addedAt: d.addedAt,
    lastSeenAt: d.lastSeenAt,
  };
}

/**
 * Peers in the `peers` collection, `_id` the host. The writes of one peer are made one after the other in this
 * process: MongoDB applies `$set` of different fields of one document atomically, but FerretDB 1.24 rewrites the
 * whole document, and two writes at once would lose one (across processes that can still happen there).
 */
export class MongoPeerRepository implements PeerRepository {
  readonly #writes = new Map<string, Promise<unknown>>();

  constructor(private readonly peers: Collection<PeerDoc>) {}

  /** Runs `write` after the writes of `host` already under way in this process. */
  private serial<T>(host: string, write: () => Promise<T>): Promise<T> {
    const before = this.#writes.get(host) ?? Promise.resolve();
    const run = before.then(write, write);
    const settled = run.catch(() => undefined);
    this.#writes.set(host, settled);
    void settled.then(() => {
      if (this.#writes.get(host) === settled) this.#writes.delete(host);
    });
    return run;
  }

  async putPeer(p: Peer): Promise<void> {
    const { host, ...rest } = p;
    await this.serial(host, () => this.peers.replaceOne({ _id: host }, rest, { upsert: true }));
  }

  async getPeer(host: string): Promise<Peer | null> {
    const doc = await this.peers.findOne({ _id: host });
    return doc ? toPeer(doc) : null;
  }

  async removePeer(host: string): Promise<boolean> {
    return (await this.serial(host, () => this.peers.deleteOne({ _id: host }))).deletedCount === 1;
  }

  async listPeers(after: string | null, limit: number): Promise<Peer[]> {
    if (limit <= 0) return [];
    const docs = await this.peers
      .find(after === null ? {} : { _id: { $gt: after } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toPeer);
  }

  async updatePeer(host: string, c: PeerChanges): Promise<boolean> {
    const set = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
    if (Object.keys(set).length === 0) return (await this.getPeer(host)) !== null;
    const r = await this.serial(host, () => this.peers.updateOne({ _id: host }, { $set: set }));
    return r.matchedCount === 1;
  }

  async markPeerSeen(host: string, at: number): Promise<boolean> {
    await this.serial(host, () =>
      this.peers.updateOne({ _id: host, lastSeenAt: { $lt: at } }, { $set: { lastSeenAt: at } }),
    );
    return (await this.peers.findOne({ _id: host }, { projection: { _id: 1 } })) !== null;
  }
}

function toEntry(d: DirectoryEntryDoc): DirectoryEntry {
  return {
    actorId: d._id,
    host: d.host,
    name: d.name,
    title: d.title,
    summary: d.summary,
    tags: d.tags,
    iconUrl: d.iconUrl,
    membershipPolicy: d.membershipPolicy,
    updatedAt: d.updatedAt,
  };
}

/** Peers' groups in the `directory_entries` collection, `_id` the group's actor id. */
export class MongoDirectoryRepository implements DirectoryRepository {
  constructor(private readonly entries: Collection<DirectoryEntryDoc>) {}

  async putEntry(e: DirectoryEntry): Promise<void> {
    const { actorId, ...rest } = e;
    await this.entries.replaceOne({ _id: actorId }, rest, { upsert: true });
  }

  async getEntry(actorId: string): Promise<DirectoryEntry | null> {
    const doc = await this.entries.findOne({ _id: actorId });
    return doc ? toEntry(doc) : null;
  }

  async removeEntry(actorId: string): Promise<boolean> {
    return (await this.entries.deleteOne({ _id: actorId })).deletedCount === 1;
  }

  async removeEntriesOfHost(host: string): Promise<number> {
    return (await this.entries.deleteMany({ host })).deletedCount;
  }

  async listEntries(after: string | null, limit: number): Promise<DirectoryEntry[]> {
    if (limit <= 0) return [];
    const docs = await this.entries
      .find(after === null ? {} : { _id: { $gt: after } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toEntry);
  }
}
