/** MongoDB adapter of the storage port: the cache of remote actors and their keys. */
import type { Collection } from 'mongodb';
import type { RemoteActor, RemoteActorRepository } from '../store.ts';
import type { MemberDoc, RemoteActorDoc } from './documents.mongodb.ts';
import type { ModeratorDoc } from './moderation-documents.mongodb.ts';
import { retryOnDuplicateKey } from './errors.mongodb.ts';

function toActor(doc: RemoteActorDoc): RemoteActor {
  return {
    id: doc._id,
    type: doc.type,
    inbox: doc.inbox,
    sharedInbox: doc.sharedInbox ?? null,
    preferredUsername: doc.preferredUsername ?? null,
    name: doc.name ?? null,
    url: doc.url ?? null,
    keyId: doc.keyId ?? null,
    publicKeyPem: doc.publicKeyPem ?? null,
    fetchedAt: doc.fetchedAt,
  };
}

/** The cache of fetched remote actors in the `remote_actors` collection, `_id` = actor id. */
export class MongoRemoteActorRepository implements RemoteActorRepository {
  readonly #actors: Collection<RemoteActorDoc>;
  readonly #members: Collection<MemberDoc>;
  readonly #moderators: Collection<ModeratorDoc>;

  /** `members` and `moderators` tell which actors' copies are kept by purgeStale. */
  constructor(
    actors: Collection<RemoteActorDoc>,
    members: Collection<MemberDoc>,
    moderators: Collection<ModeratorDoc>,
  ) {
    this.#actors = actors;
    this.#members = members;
    this.#moderators = moderators;
  }

  async putRemoteActor(actor: RemoteActor): Promise<void> {
    const doc: RemoteActorDoc = {
      _id: actor.id,
      type: actor.type,
      inbox: actor.inbox,
      sharedInbox: actor.sharedInbox,
      preferredUsername: actor.preferredUsername,
      name: actor.name,
      url: actor.url,
      keyId: actor.keyId,
      publicKeyPem: actor.publicKeyPem,
      fetchedAt: actor.fetchedAt,
    };
    await retryOnDuplicateKey(() => this.#actors.replaceOne({ _id: actor.id }, doc, { upsert: true }));
  }

  async getRemoteActor(id: string): Promise<RemoteActor | null> {
    const doc = await this.#actors.findOne({ _id: id });
    return doc ? toActor(doc) : null;
  }

  /** Two actors may claim one key id; the most recently fetched wins (the caller checks the key's owner). */
  async getRemoteActorByKeyId(keyId: string): Promise<RemoteActor | null> {
    const doc = await this.#actors.findOne({ keyId }, { sort: { fetchedAt: -1 } });
    return doc ? toActor(doc) : null;
  }

  async purgeStale(fetchedBefore: number, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const stale = await this.#actors
      .find({ fetchedAt: { $lt: fetchedBefore } }, { projection: { _id: 1 } })
      .limit(limit)
      .toArray();
    if (stale.length === 0) return 0;
    const ids = stale.map((doc) => doc._id);
    const [members, moderators] = await Promise.all([
      this.#members.distinct('actorId', { actorId: { $in: ids } }),
      this.#moderators.distinct('actorId', { actorId: { $in: ids } }),
    ]);
    const kept = new Set<unknown>([...members, ...moderators]);
    const gone = ids.filter((id) => !kept.has(id));
    if (gone.length === 0) return 0;
    const result = await this.#actors.deleteMany({ _id: { $in: gone }, fetchedAt: { $lt: fetchedBefore } });
    return result.deletedCount;
  }
}
