/** MongoDB adapter of the storage port: peered instances and the groups they list. */
import type { Collection } from 'mongodb';
import type { DirectoryEntry, DirectoryRepository, Peer, PeerRepository } from '../links.store.ts';
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

/** Peers in the `peers` collection, `_id` the host. */
export class MongoPeerRepository implements PeerRepository {
  constructor(private readonly peers: Collection<PeerDoc>) {}

  async putPeer(p: Peer): Promise<void> {
    const { host, ...rest } = p;
    await this.peers.replaceOne({ _id: host }, rest, { upsert: true });
  }

  async getPeer(host: string): Promise<Peer | null> {
    const doc = await this.peers.findOne({ _id: host });
    return doc ? toPeer(doc) : null;
  }

  async removePeer(host: string): Promise<boolean> {
    return (await this.peers.deleteOne({ _id: host })).deletedCount === 1;
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

  async markPeerSeen(host: string, at: number): Promise<boolean> {
    await this.peers.updateOne({ _id: host, lastSeenAt: { $lt: at } }, { $set: { lastSeenAt: at } });
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
