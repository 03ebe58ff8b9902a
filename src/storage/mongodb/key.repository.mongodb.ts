/** MongoDB adapter of the storage port: key pairs of the application actor and the groups. */
import type { Collection } from 'mongodb';
import type { KeyPair, KeyRepository } from '../store.ts';
import type { KeyPairDoc } from './documents.mongodb.ts';
import { isDuplicateKeyError } from './errors.mongodb.ts';

/**
 * Key pairs in their own `key_pairs` collection, `_id` = owner. Only {@link getPrivateKey} (and the pair returned
 * by {@link putKeyPairIfAbsent}, as the port requires) reads `privateKeyPem`; every other read projects it out.
 */
export class MongoKeyRepository implements KeyRepository {
  readonly #keyPairs: Collection<KeyPairDoc>;

  constructor(keyPairs: Collection<KeyPairDoc>) {
    this.#keyPairs = keyPairs;
  }

  async putKeyPairIfAbsent(pair: KeyPair): Promise<KeyPair> {
    try {
      await this.#keyPairs.insertOne({
        _id: pair.owner,
        publicKeyPem: pair.publicKeyPem,
        privateKeyPem: pair.privateKeyPem,
      });
      return { owner: pair.owner, publicKeyPem: pair.publicKeyPem, privateKeyPem: pair.privateKeyPem };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const stored = await this.#keyPairs.findOne({ _id: pair.owner });
    if (!stored) throw new Error(`key pair of ${pair.owner} exists but cannot be read`);
    return { owner: stored._id, publicKeyPem: stored.publicKeyPem, privateKeyPem: stored.privateKeyPem };
  }

  async getPublicKey(owner: string): Promise<string | null> {
    const doc = await this.#keyPairs.findOne({ _id: owner }, { projection: { _id: 0, publicKeyPem: 1 } });
    return typeof doc?.['publicKeyPem'] === 'string' ? doc['publicKeyPem'] : null;
  }

  async getPrivateKey(owner: string): Promise<string | null> {
    const doc = await this.#keyPairs.findOne({ _id: owner }, { projection: { _id: 0, privateKeyPem: 1 } });
    return typeof doc?.['privateKeyPem'] === 'string' ? doc['privateKeyPem'] : null;
  }
}
