/**
 * A hand-written peer with many users on one server that follows a `Move` as Mastodon does (its source decides,
 * not this server's code): `ActivityPub::Activity::Move` (mastodon/mastodon app/lib/activitypub/activity/move.rb)
 * takes a Move only when its object is its actor (the signer), and at most once per origin account (a
 * cooldown); it fetches the target and goes on only when the target lists the origin in `alsoKnownAs` (and, as
 * GoToSocial also checks, has not moved itself); then `MoveWorker` queues `UnfollowFollowWorker` for each local
 * follower of the origin, which follows the target and then unfollows the origin (app/workers/
 * unfollow_follow_worker.rb).
 *
 * Signatures are checked with fedify (an independent implementation) and the signer must be the actor. Users
 * share the server's shared inbox, where Guild delivers once per server. Everything received is kept, for tests.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import { signRequest, verifyRequest } from '@fedify/fedify';
import {
  loadPreloadedContexts,
  peerDocumentLoader,
  preloadedOnlyContextLoader,
} from './fedify-peer.loaders.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
type Json = Record<string, unknown>;
const idOf = (v: unknown): string | null =>
  typeof v === 'string'
    ? v
    : typeof v === 'object' && v !== null && typeof (v as Json).id === 'string'
      ? ((v as Json).id as string)
      : null;
const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v])
    .map(idOf)
    .filter((x): x is string => x !== null);

interface User {
  id: string;
  name: string;
  publicKeyPem: string;
  privateKey: CryptoKey;
  /** Target actor id -> the id of this user's Follow of it and whether it was accepted. */
  follows: Map<string, { followId: string; accepted: boolean; inbox: string }>;
}

/** One received activity, the inbox it came to and who signed it. */
export interface Received {
  inbox: string;
  signer: string;
  json: Json;
}

export interface MovePeer {
  origin: string;
  /** The users' actor ids. */
  users: string[];
  received: Received[];
  /** POSTs refused, with the reason. */
  refused: Array<{ reason: string; body: string }>;
  /** Moves followed (origin -> target), each once. */
  movesFollowed: Array<{ origin: string; target: string }>;
  /** Sends a Follow of `target` from user `i`; resolves once the inbox answered 2xx. */
  follow(i: number, target: string): Promise<void>;
  /** The users whose Follow of `target` was accepted. */
  followersOf(target: string): string[];
  close(): Promise<void>;
}

export async function startMovePeer(opts: { users: number; prefix?: string }): Promise<MovePeer> {
  const contexts = await loadPreloadedContexts();
  const documentLoader = peerDocumentLoader(contexts, 5000);
  const contextLoader = preloadedOnlyContextLoader(contexts);
  const received: Received[] = [];
  const refused: MovePeer['refused'] = [];
  const movesFollowed: MovePeer['movesFollowed'] = [];
  /** Origins whose Move was taken (Mastodon's `move_in_progress` cooldown). */
  const moving = new Set<string>();
  const users = new Map<string, User>();
  let origin = '';
  let seq = 0;

  const fetchJson = async (url: string): Promise<Json> => {
    const res = await fetch(url, { headers: { accept: 'application/activity+json' } });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return (await res.json()) as Json;
  };

  const send = async (user: User, inbox: string, activity: Json): Promise<void> => {
    const request = new Request(inbox, {
      method: 'POST',
      headers: { 'content-type': 'application/activity+json' },
      body: JSON.stringify(activity),
    });
    const res = await fetch(await signRequest(request, user.privateKey, new URL(`${user.id}#main-key`)));
    await res.arrayBuffer();
    if (res.status >= 300) throw new Error(`${inbox} answered ${res.status} to ${String(activity.type)}`);
  };

  const follow = async (user: User, target: string): Promise<void> => {
    const actor = await fetchJson(target);
    const inbox = idOf(actor.inbox);
    if (!inbox) throw new Error(`${target} has no inbox`);
    const followId = `${user.id}/follows/${++seq}`;
    user.follows.set(target, { followId, accepted: false, inbox });
    await send(user, inbox, { '@context': AS, id: followId, type: 'Follow', actor: user.id, object: target });
  };

  /** move.rb, then MoveWorker and UnfollowFollowWorker for each local follower of the origin. */
  const followMove = async (a: Json): Promise<void> => {
    const actor = idOf(a.actor);
    const target = idOf(a.target);
    if (!actor || idOf(a.object) !== actor || !target || target === actor) return;
    if (moving.has(actor)) return;
    moving.add(actor);
    const targetDoc = await fetchJson(target);
    if (!list(targetDoc.alsoKnownAs).includes(actor) || idOf(targetDoc.movedTo) !== null) {
      moving.delete(actor);
      return;
    }
    movesFollowed.push({ origin: actor, target });
    for (const user of users.values()) {
      const old = user.follows.get(actor);
      if (!old?.accepted) continue;
      await follow(user, target);
      await send(user, old.inbox, {
        '@context': AS,
        id: `${user.id}/undos/${++seq}`,
        type: 'Undo',
        actor: user.id,
        object: { id: old.followId, type: 'Follow', actor: user.id, object: actor },
      });
      user.follows.delete(actor);
    }
  };

  const inbox = async (req: IncomingMessage, body: string): Promise<void> => {
    const url = `${origin}${req.url ?? '/'}`;
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const key = await verifyRequest(new Request(url, { method: 'POST', headers, body }), {
      documentLoader,
      contextLoader,
    });
    if (!key) throw new Error('signature refused');
    const a = JSON.parse(body) as Json;
    const signer = key.ownerId?.href ?? '';
    if (idOf(a.actor) !== signer) throw new Error('the signer is not the actor');
    received.push({ inbox: req.url ?? '/', signer, json: a });
    if (a.type === 'Accept') {
      const f = a.object as Json;
      const user = users.get(idOf(f?.actor) ?? '');
      const entry = user?.follows.get(signer);
      if (entry && (idOf(f) === null || idOf(f) === entry.followId)) entry.accepted = true;
    }
    // Mastodon answers at once and works in the background (Sidekiq); the work's errors are kept.
    if (a.type === 'Move')
      void followMove(a).catch((e: unknown) => refused.push({ reason: String(e), body }));
  };

  const server: Server = createServer((req, res) => {
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        inbox(req, body).then(
          () => res.writeHead(202).end(),
          (e: unknown) => {
            refused.push({ reason: e instanceof Error ? e.message : String(e), body });
            res.writeHead(401).end();
          },
        );
      });
      return;
    }
    const user = users.get(`${origin}${req.url ?? ''}`);
    if (!user) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/activity+json' }).end(
      JSON.stringify({
        '@context': [AS, 'https://w3id.org/security/v1'],
        id: user.id,
        type: 'Person',
        preferredUsername: user.name,
        inbox: `${user.id}/inbox`,
        outbox: `${user.id}/outbox`,
        endpoints: { sharedInbox: `${origin}/inbox` },
        publicKey: { id: `${user.id}#main-key`, owner: user.id, publicKeyPem: user.publicKeyPem },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const prefix = opts.prefix ?? 'u';
  await Promise.all(
    Array.from({ length: opts.users }, async (_, i) => {
      const pair = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
      const privateKey = await webcrypto.subtle.importKey(
        'pkcs8',
        pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
        { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        // fedify wants signing keys extractable.
        true,
        ['sign'],
      );
      const name = `${prefix}${i}`;
      const id = `${origin}/users/${name}`;
      users.set(id, {
        id,
        name,
        publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        privateKey: privateKey as CryptoKey,
        follows: new Map(),
      });
    }),
  );
  const ordered = [...users.values()].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  return {
    origin,
    users: ordered.map((u) => u.id),
    received,
    refused,
    movesFollowed,
    async follow(i, target) {
      const user = ordered[i];
      if (!user) throw new Error(`no user ${i}`);
      await follow(user, target);
    },
    followersOf(target) {
      return ordered.filter((u) => u.follows.get(target)?.accepted).map((u) => u.id);
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
