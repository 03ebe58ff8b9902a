/** MongoDB adapter of the storage port: the cache of remote actors and their keys. */
import type { Collection } from 'mongodb';
import type { RemoteActor, RemoteActorRepository } from '../store.ts';
import type { RemoteActorDoc } from './documents.mongodb.ts';
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

  constructor(actors: Collection<RemoteActorDoc>) {
    this.#actors = actors;
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
}
