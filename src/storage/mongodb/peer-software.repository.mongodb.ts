/** MongoDB adapter of the storage port: the software of other servers, from their NodeInfo. */
import type { Collection } from 'mongodb';
import type { PeerSoftware, PeerSoftwareRepository } from '../peer-software.repository.ts';
import type { PeerSoftwareDoc } from './documents.mongodb.ts';
import { insertManyIgnoringDuplicates } from './errors.mongodb.ts';

function toSoftware(doc: PeerSoftwareDoc): PeerSoftware {
  return {
    origin: doc._id,
    name: doc.name,
    version: doc.version,
    learnedAt: doc.learnedAt,
    refreshAt: doc.refreshAt,
  };
}

/** The `peer_software` collection, `_id` = origin. */
export class MongoPeerSoftwareRepository implements PeerSoftwareRepository {
  readonly #peers: Collection<PeerSoftwareDoc>;

  constructor(peers: Collection<PeerSoftwareDoc>) {
    this.#peers = peers;
  }

  async noteOrigins(origins: string[], at: number): Promise<number> {
    const docs: PeerSoftwareDoc[] = [...new Set(origins)].map((origin) => ({
      _id: origin,
      name: null,
      version: null,
      learnedAt: null,
      refreshAt: at,
    }));
    return (await insertManyIgnoringDuplicates(this.#peers, docs)).size;
  }

  async putSoftware(s: PeerSoftware): Promise<void> {
    const { origin, ...rest } = s;
    await this.#peers.replaceOne({ _id: origin }, rest, { upsert: true });
  }

  async getSoftware(origins: string[]): Promise<PeerSoftware[]> {
    const unique = [...new Set(origins)];
    if (unique.length === 0) return [];
    return (await this.#peers.find({ _id: { $in: unique } }).toArray()).map(toSoftware);
  }

  async listDue(now: number, limit: number): Promise<PeerSoftware[]> {
    if (limit <= 0) return [];
    const docs = await this.#peers
      .find({ refreshAt: { $lte: now } })
      .sort({ refreshAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toSoftware);
  }
}
