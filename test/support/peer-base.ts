/**
 * The plumbing shared by the hand-written peers that behave as a real server's source says (gotosocial-member-peer.ts,
 * snac-peer.ts, mastodon-peer.ts): an HTTP server on loopback with one local user, its key, NodeInfo 2.0 naming
 * the software (so that Guild learns it as it would the real one), the user's posts served at their ids, and an
 * inbox whose signatures are checked with fedify (an independent implementation). What each POST did is decided by
 * the peer's `receive` (its server's rules) and recorded with the answer's status, so that tests see every form a
 * peer was sent and what became of it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import {
  signRequest,
  verifyRequest,
  type CryptographicKey,
  type KeyCache,
  type Multikey,
} from '@fedify/fedify';
import {
  loadPreloadedContexts,
  peerDocumentLoader,
  preloadedOnlyContextLoader,
} from './fedify-peer.loaders.ts';
import { waitUntil } from './net.ts';

export const AS = 'https://www.w3.org/ns/activitystreams';
export const PUBLIC = `${AS}#Public`;
export type Json = Record<string, unknown>;

export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const idOf = (v: unknown): string | null =>
  typeof v === 'string' ? v : typeof v === 'object' && v !== null ? str((v as Json).id) : null;
export const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).map(idOf).filter((x): x is string => !!x);
export const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the peer did with one POST: taken (`what` it did) or not (`why`), and the status it answered. */
export interface Received {
  type: string;
  /** The embedded object's type, or `id` when the object is an id. */
  objectType: string;
  /** Whose key signed the request. */
  signer: string;
  activity: Json;
  status: number;
  outcome: 'taken' | 'ignored' | 'refused';
  detail: string;
}

/** The answer of a peer's rules to one activity. */
export type Verdict =
  { outcome: 'taken' | 'ignored'; detail: string } | { outcome: 'refused'; status: number; detail: string };
export const taken = (detail: string): Verdict => ({ outcome: 'taken', detail });
export const ignored = (detail: string): Verdict => ({ outcome: 'ignored', detail });
export const refused = (status: number, detail: string): Verdict => ({ outcome: 'refused', status, detail });

export interface PeerBaseOptions {
  /** NodeInfo `software`. */
  software: { name: string; version: string };
  username: string;
  /** Path of the local user's actor (`/users/alice`, `/alice`). */
  actorPath: (username: string) => string;
  /** The status a POST that the rules take or ignore is answered with (the real servers answer before processing). */
  acceptedStatus?: number;
  /**
   * GoToSocial's key form (see gotosocial-peer.ts): the key id is `ACTOR/main-key`, which answers unsigned with a
   * minimal actor, and the actor itself answers only a signed GET. Otherwise `ACTOR#main-key` and an open actor.
   */
  gotosocialKeys?: boolean;
}

export interface PeerBase {
  origin: string;
  actorId: string;
  keyId: string;
  /** Every POST received, in order. */
  received: Received[];
  /** The user's own documents (posts), served at their ids. */
  documents: Map<string, Json>;
  /** Groups (or people) the user follows, with the Accept received. */
  following: Set<string>;
  /** Signs `activity` as the user and POSTs it; resolves to the status. */
  send(inbox: string, activity: Json): Promise<number>;
  /** GETs a document unsigned, as an ActivityPub client does; null unless 2xx. */
  fetchJson(url: string): Promise<Json | null>;
  newId(kind: string): string;
  /** Follows `actor` (its inbox read from its document) and waits for the Accept. */
  follow(actor: string): Promise<void>;
  /** Resolves with the first received POST matching `match`. */
  waitFor(match: (r: Received) => boolean, what: string): Promise<Received>;
  close(): Promise<void>;
}

/** Starts the peer; `receive` applies the server's rules to each verified POST. */
export async function startPeerBase(
  o: PeerBaseOptions,
  receive: (a: Json, signer: string) => Promise<Verdict>,
): Promise<PeerBase> {
  const contexts = await loadPreloadedContexts();
  const documentLoader = peerDocumentLoader(contexts, 5000);
  const contextLoader = preloadedOnlyContextLoader(contexts);
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privateKey = (await webcrypto.subtle.importKey(
    'pkcs8',
    keys.privateKey.export({ type: 'pkcs8', format: 'der' }),
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    true,
    ['sign'],
  )) as CryptoKey;
  const known = new Map<string, CryptographicKey | Multikey>();
  const keyCache: KeyCache = {
    get: async (keyId) => known.get(keyId.href),
    set: async (keyId, key) => {
      if (key !== null) known.set(keyId.href, key);
    },
  };
  const received: Received[] = [];
  const documents = new Map<string, Json>();
  const following = new Set<string>();
  let origin = '';
  let actorId = '';
  let keyId = '';
  const actorDocument = (): Json => ({
    '@context': [AS, 'https://w3id.org/security/v1'],
    id: actorId,
    type: 'Person',
    preferredUsername: o.username,
    inbox: `${actorId}/inbox`,
    outbox: `${actorId}/outbox`,
    followers: `${actorId}/followers`,
    endpoints: { sharedInbox: `${origin}/inbox` },
    publicKey: { id: keyId, owner: actorId, publicKeyPem },
  });

  const inbox = async (req: IncomingMessage, body: string): Promise<{ status: number; text: string }> => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const key = await verifyRequest(
      new Request(`${origin}${req.url ?? '/'}`, { method: 'POST', headers, body }),
      {
        documentLoader,
        contextLoader,
        keyCache,
      },
    );
    if (!key?.ownerId) return { status: 401, text: 'signature refused' };
    const a = JSON.parse(body) as Json;
    const signer = key.ownerId.href;
    if (a.type === 'Accept' && idOf(a.actor) === signer && isObj(a.object)) following.add(signer);
    let verdict: Verdict;
    try {
      verdict = await receive(a, signer);
    } catch (e) {
      verdict = refused(500, e instanceof Error ? e.message : String(e));
    }
    const status = verdict.outcome === 'refused' ? verdict.status : (o.acceptedStatus ?? 202);
    received.push({
      type: String(a.type),
      objectType: isObj(a.object) ? String(a.object.type) : 'id',
      signer,
      activity: a,
      status,
      outcome: verdict.outcome,
      detail: verdict.detail,
    });
    return { status, text: verdict.outcome === 'refused' ? JSON.stringify({ error: verdict.detail }) : '' };
  };

  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        inbox(req, Buffer.concat(chunks).toString('utf8')).then(
          (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.text),
          (e: unknown) => res.writeHead(500).end(String(e)),
        );
      });
      return;
    }
    const json = (doc: unknown, type = 'application/activity+json') =>
      res.writeHead(200, { 'content-type': type }).end(JSON.stringify(doc));
    if (path === '/.well-known/nodeinfo')
      return json(
        {
          links: [{ rel: 'http://nodeinfo.diaspora.software/ns/schema/2.0', href: `${origin}/nodeinfo/2.0` }],
        },
        'application/json',
      );
    if (path === '/nodeinfo/2.0')
      return json(
        { version: '2.0', software: o.software, protocols: ['activitypub'], openRegistrations: false },
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"',
      );
    if (o.gotosocialKeys && `${origin}${path}` === keyId)
      return json({
        '@context': [AS, 'https://w3id.org/security/v1'],
        id: actorId,
        type: 'Person',
        preferredUsername: o.username,
        publicKey: { id: keyId, owner: actorId, publicKeyPem },
      });
    if (`${origin}${path}` === actorId && o.gotosocialKeys) {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      void verifyRequest(new Request(`${origin}${path}`, { method: 'GET', headers }), {
        documentLoader,
        contextLoader,
        keyCache,
      })
        .catch(() => null)
        .then((key) => (key ? json(actorDocument()) : res.writeHead(401).end()));
      return;
    }
    if (`${origin}${path}` === actorId) return json(actorDocument());
    const doc = documents.get(`${origin}${path}`);
    if (doc) return json({ '@context': AS, ...doc });
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  actorId = `${origin}${o.actorPath(o.username)}`;
  keyId = o.gotosocialKeys ? `${actorId}/main-key` : `${actorId}#main-key`;

  let seq = 0;
  const send = async (target: string, activity: Json): Promise<number> => {
    const request = new Request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/activity+json' },
      body: JSON.stringify(activity),
    });
    const res = await fetch(await signRequest(request, privateKey, new URL(keyId)));
    await res.arrayBuffer();
    return res.status;
  };
  const fetchJson = async (url: string): Promise<Json | null> => {
    const res = await fetch(url, { headers: { accept: 'application/activity+json' } });
    if (!res.ok) {
      await res.arrayBuffer();
      return null;
    }
    return (await res.json()) as Json;
  };
  return {
    origin,
    actorId,
    keyId,
    received,
    documents,
    following,
    send,
    fetchJson,
    newId: (kind) => `${origin}/${kind}/${++seq}`,
    async follow(actor) {
      const doc = await fetchJson(actor);
      const target = str(doc?.inbox);
      if (!target) throw new Error(`${actor} has no inbox`);
      const status = await send(target, {
        '@context': AS,
        id: `${actorId}/follows/${++seq}`,
        type: 'Follow',
        actor: actorId,
        object: actor,
      });
      if (status >= 300) throw new Error(`Follow answered ${status}`);
      await waitUntil(() => following.has(actor), { what: `Accept of the Follow of ${actor}` });
    },
    async waitFor(match, what) {
      return waitUntil(() => received.find(match), { what: `${what} at ${o.software.name} ${actorId}` });
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
