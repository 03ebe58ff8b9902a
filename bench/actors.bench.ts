/**
 * Remote members as the bench plays them: RSA key pairs, the actor documents the sinks serve, and signed
 * `Create{Note}` POSTs addressed to a group, built the way a Mastodon-like server sends them.
 */
import { generateKeyPair, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { signRequest } from '../src/federation/http-signature.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

export const PUBLIC = 'https://www.w3.org/ns/activitystreams#Public';

export interface KeyPem {
  publicKeyPem: string;
  privateKeyPem: string;
}

/** `count` fresh RSA-2048 key pairs, generated on the thread pool. */
export async function keyPairs(count: number): Promise<KeyPem[]> {
  const one = async (): Promise<KeyPem> => {
    const k = await generateKeyPairAsync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    return { publicKeyPem: k.publicKey, privateKeyPem: k.privateKey };
  };
  return Promise.all(Array.from({ length: count }, one));
}

/** A member actor served by a sink at `origin` + `path`. */
export interface BenchActor {
  origin: string;
  path: string;
  id: string;
  keyId: string;
  inbox: string;
  sharedInbox: string;
  keys: KeyPem;
}

export function benchActor(origin: string, username: string, keys: KeyPem): BenchActor {
  const path = `/users/${username}`;
  const id = `${origin}${path}`;
  return {
    origin,
    path,
    id,
    keyId: `${id}#main-key`,
    inbox: `${id}/inbox`,
    sharedInbox: `${origin}/inbox`,
    keys,
  };
}

/** The actor document a sink serves for `a`. */
export function actorDocument(a: BenchActor): Record<string, unknown> {
  return {
    '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
    id: a.id,
    type: 'Person',
    preferredUsername: a.path.slice('/users/'.length),
    inbox: a.inbox,
    outbox: `${a.id}/outbox`,
    followers: `${a.id}/followers`,
    endpoints: { sharedInbox: a.sharedInbox },
    publicKey: { id: a.keyId, owner: a.id, publicKeyPem: a.keys.publicKeyPem },
  };
}

/** A signed POST, ready to send. */
export interface SignedPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  createId: string;
  noteId: string;
}

/** A public top-level `Create{Note}` by `a` addressed to `groupId`, signed for POSTing to `inboxUrl`. */
export function signedCreate(a: BenchActor, groupId: string, inboxUrl: string, content: string): SignedPost {
  const uuid = randomUUID();
  const createId = `${a.id}/statuses/${uuid}/activity`;
  const noteId = `${a.id}/statuses/${uuid}`;
  const published = new Date().toISOString();
  const addressing = { to: [PUBLIC, groupId], cc: [`${a.id}/followers`] };
  const body = JSON.stringify({
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: createId,
    type: 'Create',
    actor: a.id,
    published,
    ...addressing,
    object: {
      id: noteId,
      type: 'Note',
      attributedTo: a.id,
      content: `<p>${content}</p>`,
      published,
      ...addressing,
      tag: [{ type: 'Mention', href: groupId }],
    },
  });
  const headers = signRequest({
    method: 'POST',
    url: inboxUrl,
    headers: { 'Content-Type': 'application/activity+json' },
    body,
    keyId: a.keyId,
    privateKeyPem: a.keys.privateKeyPem,
  });
  return { url: inboxUrl, headers, body, createId, noteId };
}
