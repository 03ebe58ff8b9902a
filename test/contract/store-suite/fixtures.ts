import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import {
  DEFAULT_GROUP_SETTINGS,
  type Group,
  type KeyPair,
  type Member,
  type NewJob,
  type Post,
  type RemoteActor,
  type StoredActivity,
  type Store,
} from '../../../src/storage/store.ts';

/** Gives each topic suite the store of the current test. */
export type StoreProvider = () => Store;

export function group(name: string, overrides: Partial<Group> = {}): Group {
  return {
    name,
    title: `Title of ${name}`,
    summary: `About **${name}**`,
    createdAt: 1_000,
    updatedAt: 1_000,
    deletedAt: null,
    settings: { ...DEFAULT_GROUP_SETTINGS, tags: ['a', 'b'] },
    ...overrides,
  };
}

export function member(groupName: string, actorId: string, overrides: Partial<Member> = {}): Member {
  const inbox = `${actorId}/inbox`;
  return {
    groupName,
    actorId,
    inbox,
    sharedInbox: null,
    deliveryInbox: inbox,
    state: 'accepted',
    followId: `${actorId}#follow`,
    createdAt: 2_000,
    updatedAt: 2_000,
    ...overrides,
  };
}

export function remoteActor(id: string, overrides: Partial<RemoteActor> = {}): RemoteActor {
  return {
    id,
    type: 'Person',
    inbox: `${id}/inbox`,
    sharedInbox: 'https://remote.example/inbox',
    preferredUsername: 'alice',
    name: 'Alice',
    url: `${id}.html`,
    keyId: `${id}#main-key`,
    publicKeyPem: '-----BEGIN PUBLIC KEY-----\nremote\n-----END PUBLIC KEY-----\n',
    fetchedAt: 3_000,
    ...overrides,
  };
}

export function activity(
  id: string,
  groupName: string,
  published: number,
  inOutbox = true,
  objectId = `${id}/object`,
): StoredActivity {
  return {
    id,
    groupName,
    type: 'Announce',
    objectId,
    json: JSON.stringify({ id, type: 'Announce', published }),
    published,
    inOutbox,
    withdrawnAt: null,
  };
}

export function post(groupName: string, objectId: string, overrides: Partial<Post> = {}): Post {
  return {
    objectId,
    groupName,
    authorId: 'https://remote.example/users/alice',
    inReplyTo: null,
    threadRoot: objectId,
    createId: `${objectId}/create`,
    boostId: null,
    createdAt: 4_000,
    deletedAt: null,
    removedBy: null,
    ...overrides,
  };
}

export function newJob(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    queue: 'deliver',
    key: 'remote.example',
    payload: { id, nested: { n: 1 } },
    runAt: 0,
    ...overrides,
  };
}

let cachedKeyPair: KeyPair | undefined;

/** A real 2048-bit RSA pair (generated once per run) owned by `owner`. */
export function rsaKeyPair(owner: string): KeyPair {
  if (!cachedKeyPair) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    cachedKeyPair = {
      owner: '',
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }
  return { ...cachedKeyPair, owner };
}

/**
 * Reads every page of a cursor-paged list with pages of `limit`, checking that no page is longer than `limit`;
 * stops on the first empty page.
 */
export async function readAllPages<T, C>(
  limit: number,
  fetchPage: (cursor: C | null, limit: number) => Promise<T[]>,
  cursorOf: (last: T) => C,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: C | null = null;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await fetchPage(cursor, limit);
    expect(page.length, 'page length').to.be.at.most(limit);
    if (page.length === 0) return all;
    all.push(...page);
    const last = page[page.length - 1];
    if (last === undefined) throw new Error('unreachable');
    cursor = cursorOf(last);
  }
  throw new Error('paging did not end');
}
