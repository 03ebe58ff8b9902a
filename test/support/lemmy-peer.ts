/**
 * A hand-written peer that takes activities as Lemmy 0.19 does (LemmyNet/lemmy, tag 0.19.20; its source, not this
 * server's code, decides): a community's activities arrive wrapped in the community's `Announce` (`crates/apub/src/activities/
 * community/announce.rs`); the embedded activity must have the fields Lemmy's structs require
 * (`crates/apub/src/protocol/activities/`); its actor must dereference as a `Person`, `Service` or
 * `Organization` (`protocol/objects/person.rs`); a moderation activity's actor must be a moderator of the
 * community or on the community's own domain (`verify_mod_action` in `activities/mod.rs`); `audience`, when
 * present, must name the community; and the community must have a follower here. The same checks apply to an
 * activity sent on its own (a ban's Block to the banned person's inbox, as Lemmy's `BlockUser::send` does).
 *
 * Signatures are checked with fedify (an independent implementation), and the signer must be the actor.
 * What passes is applied to a small model of Lemmy's state (bans, removed posts, moderators, pins, locks, the
 * community's title), which tests read; what fails is answered 400 and listed with Lemmy's reason.
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

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;
type Json = Record<string, unknown>;

/** Lemmy's state about the communities it follows, as far as these tests look at it. */
export interface LemmyState {
  /** `community person` of each ban in force. */
  bans: Set<string>;
  /** Removed posts (by a moderator). */
  removed: Set<string>;
  /** Posts deleted by their author. */
  deleted: Set<string>;
  /** Posts known, from a community's Announce{Create}, with their community. */
  posts: Map<string, string>;
  /** `community person` of each moderator. */
  moderators: Set<string>;
  featured: Set<string>;
  locked: Set<string>;
  /** Title of each community, from its Update. */
  titles: Map<string, string>;
  deletedCommunities: Set<string>;
  /** Private messages received: sender and text. */
  messages: Array<{ from: string; content: string }>;
}

export interface LemmyPeer {
  origin: string;
  /** The local user (a Person at /u/NAME). */
  personId: string;
  state: LemmyState;
  /** Every activity that passed the checks, as received (outer activity). */
  accepted: Json[];
  /** Every POST refused, with Lemmy's reason. */
  refused: Array<{ type: string; reason: string; activity: unknown }>;
  /** Follows `community` as the local user and waits for the Accept. */
  follow(community: string): Promise<void>;
  /** Signs `activity` as the local user and POSTs it to `inbox`; resolves to the status. */
  send(inbox: string, activity: Json): Promise<number>;
  /** A new id on this peer, for activities and posts. */
  newId(kind: string): string;
  waitFor(check: (s: LemmyState) => boolean, what: string): Promise<void>;
  close(): Promise<void>;
}

class Refusal extends Error {}
const refuse = (reason: string): never => {
  throw new Refusal(reason);
};
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const idOf = (v: unknown): string | null =>
  typeof v === 'string' ? v : typeof v === 'object' && v !== null ? str((v as Json).id) : null;
const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).map(idOf).filter((x): x is string => !!x);
const host = (url: string): string => new URL(url).host;

/** serde: a field Lemmy's struct has without `Option` or `default`. */
function required(a: Json, fields: string[], struct: string): void {
  for (const f of fields)
    if (a[f] === undefined || a[f] === null) refuse(`${struct}: missing field \`${f}\``);
}

export interface LemmyPeerOptions {
  /**
   * Sign the GETs of remote documents, as Lemmy does when its admin turns `federation_signed_fetch` on (off by
   * default: `migrations/2023-11-02-120140_apub-signed-fetch`, `src/lib.rs` `signed_fetch_actor`). GoToSocial
   * serves its actors only to signed GETs.
   */
  signedFetch?: boolean;
}

export async function startLemmyPeer(
  username = 'lemmy_alpha',
  opts: LemmyPeerOptions = {},
): Promise<LemmyPeer> {
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
  const state: LemmyState = {
    bans: new Set(),
    removed: new Set(),
    deleted: new Set(),
    posts: new Map(),
    moderators: new Set(),
    featured: new Set(),
    locked: new Set(),
    titles: new Map(),
    deletedCommunities: new Set(),
    messages: [],
  };
  // Lemmy keeps the actors it knows, keys included, in its database: a deleted community's last activities
  // still verify with the key it had.
  const keys_ = new Map<string, CryptographicKey | Multikey>();
  const keyCache: KeyCache = {
    get: async (keyId) => keys_.get(keyId.href),
    set: async (keyId, key) => {
      if (key !== null) keys_.set(keyId.href, key);
    },
  };
  const accepted: Json[] = [];
  const refused: LemmyPeer['refused'] = [];
  /** Communities the local user follows (accepted), with their actor documents. */
  const communities = new Map<string, Json>();
  const pendingFollows = new Set<string>();
  let origin = '';
  let personId = '';

  const fetchJson = async (url: string): Promise<Json> => {
    const get = new Request(url, { headers: { accept: 'application/activity+json' } });
    const res = await fetch(
      opts.signedFetch ? await signRequest(get, privateKey, new URL(`${personId}#main-key`)) : get,
    );
    if (!res.ok) refuse(`couldnt_find_object: ${url} answered ${res.status}`);
    const doc = (await res.json()) as Json;
    if (idOf(doc) !== url.replace(/#.*$/, '')) refuse(`fetched ${url}, got ${String(doc.id)}`);
    return doc;
  };

  /** ObjectId<ApubPerson>::dereference: a Person, Service or Organization with what Lemmy stores. */
  const person = async (id: string): Promise<Json> => {
    const doc = await fetchJson(id);
    if (!['Person', 'Service', 'Organization'].includes(String(doc.type)))
      refuse(`${id} is a ${String(doc.type)}, not a Person, Service or Organization`);
    required(doc, ['preferredUsername', 'inbox', 'outbox', 'publicKey'], 'Person');
    const key = doc.publicKey as Json;
    required(key, ['id', 'owner', 'publicKeyPem'], 'PublicKey');
    return doc;
  };

  /** The followed community an activity is in, and `audience` matching it (verify_community_matches). */
  const communityOf = (a: Json, candidate: string | null): string => {
    const id = candidate && communities.has(candidate) ? candidate : null;
    if (!id) refuse(`community_has_no_followers: ${candidate ?? '(none)'}`);
    const audience = str(a.audience);
    if (audience !== null && audience !== id) refuse(`invalid_community: audience ${audience} is not ${id}`);
    return id as string;
  };
  const isPublic = (to: unknown, cc: unknown) => {
    if (![...list(to), ...list(cc)].includes(PUBLIC)) refuse('object_is_not_public');
  };
  /** verify_mod_action: a moderator of the community, or on the community's own domain (its admin). */
  const verifyModAction = async (actor: string, community: string): Promise<void> => {
    await person(actor);
    if (host(actor) === host(community)) return;
    const mods = str(communities.get(community)?.attributedTo);
    const items = mods ? list((await fetchJson(mods)).orderedItems) : [];
    if (!items.includes(actor)) refuse(`not_a_moderator: ${actor}`);
  };
  const collectionOf = (url: string): [string, 'moderators' | 'featured'] => {
    for (const [id, doc] of communities) {
      if (doc.attributedTo === url) return [id, 'moderators'];
      if (doc.featured === url) return [id, 'featured'];
    }
    return refuse(`couldnt_find_community for collection ${url}`);
  };
  /** The community of a known post (Lemmy reads it from its database), `audience` matching it. */
  const postCommunity = (a: Json, postId: string): string =>
    communityOf(a, state.posts.get(postId) ?? refuse(`couldnt_find_post: ${postId}`));

  /** AnnouncableActivities: verify, then receive; `via` is the community that announced it, if one did. */
  const receive = async (a: Json, via: string | null): Promise<void> => {
    const type = str(a.type);
    const actor = idOf(a.actor) ?? refuse('missing field `actor`');
    switch (type) {
      case 'Create':
      case 'Update': {
        const object = a.object as Json;
        if (type === 'Update' && object?.type === 'Group') {
          // UpdateCommunity (protocol/activities/community/update.rs)
          required(a, ['actor', 'to', 'object', 'cc', 'type', 'id'], 'UpdateCommunity');
          isPublic(a.to, a.cc);
          required(object, ['type', 'id', 'preferredUsername', 'inbox', 'publicKey', 'outbox'], 'Group');
          if (object.language !== undefined && !Array.isArray(object.language))
            refuse('Group: language is not a list');
          const community = communityOf(a, idOf(object));
          await verifyModAction(actor, community);
          state.titles.set(community, String(object.name ?? object.preferredUsername));
          return;
        }
        if (!object || !['Page', 'Note', 'Article'].includes(String(object.type)))
          refuse(`unknown object in ${type}`);
        state.posts.set(String(object.id), communityOf(a, via ?? str(a.audience)));
        return;
      }
      case 'Like':
      case 'Dislike':
        return;
      case 'Block': {
        // BlockUser (protocol/activities/block/block_user.rs, activities/block/block_user.rs)
        required(a, ['actor', 'to', 'object', 'cc', 'target', 'type', 'id'], 'BlockUser');
        isPublic(a.to, a.cc);
        const community = communityOf(a, idOf(a.target));
        await verifyModAction(actor, community);
        state.bans.add(`${community} ${idOf(a.object)}`);
        return;
      }
      case 'Delete': {
        // Delete (protocol/activities/deletion/delete.rs): with `summary`, a moderator's removal.
        required(a, ['actor', 'to', 'object', 'type', 'id'], 'Delete');
        isPublic(a.to, []);
        const object = idOf(a.object) ?? refuse('missing field `object`');
        if (communities.has(object)) {
          await verifyModAction(actor, communityOf(a, object));
          state.deletedCommunities.add(object);
          return;
        }
        const community = postCommunity(a, object);
        if (a.summary !== undefined) {
          await verifyModAction(actor, community);
          state.removed.add(object);
        } else {
          await person(actor);
          if (host(actor) !== host(object)) refuse('domains do not match');
          state.deleted.add(object);
        }
        return;
      }
      case 'Add':
      case 'Remove': {
        // CollectionAdd / CollectionRemove (protocol/activities/community/collection_add.rs)
        required(a, ['actor', 'to', 'object', 'target', 'cc', 'type', 'id'], `Collection${type}`);
        isPublic(a.to, a.cc);
        const [community, kind] = collectionOf(String(idOf(a.target)));
        communityOf(a, community);
        await verifyModAction(actor, community);
        const object = String(idOf(a.object));
        const set = kind === 'moderators' ? state.moderators : state.featured;
        const key = kind === 'moderators' ? `${community} ${object}` : object;
        if (type === 'Add') set.add(key);
        else set.delete(key);
        return;
      }
      case 'Lock': {
        // LockPage (protocol/activities/community/lock_page.rs)
        required(a, ['actor', 'to', 'object', 'cc', 'type', 'id'], 'LockPage');
        isPublic(a.to, a.cc);
        const object = String(idOf(a.object));
        await verifyModAction(actor, postCommunity(a, object));
        state.locked.add(object);
        return;
      }
      case 'Undo':
        return receiveUndo(a, actor);
      default:
        refuse(`unknown activity type ${String(type)}`);
    }
  };

  const receiveUndo = async (a: Json, actor: string): Promise<void> => {
    const inner = a.object as Json;
    if (typeof inner !== 'object' || inner === null) refuse('Undo: object is not an activity');
    const innerActor = idOf(inner.actor) ?? refuse('Undo: the embedded activity has no actor');
    switch (inner.type) {
      case 'Block': {
        // UndoBlockUser: the whole BlockUser embedded, on the Undo's actor's domain (undo_block_user.rs)
        required(a, ['actor', 'to', 'object', 'cc', 'type', 'id'], 'UndoBlockUser');
        required(inner, ['actor', 'to', 'object', 'cc', 'target', 'type', 'id'], 'BlockUser');
        isPublic(a.to, a.cc);
        if (host(actor) !== host(innerActor)) refuse('domains do not match');
        const community = communityOf(inner, idOf(inner.target));
        await verifyModAction(innerActor, community);
        state.bans.delete(`${community} ${idOf(inner.object)}`);
        return;
      }
      case 'Delete': {
        // UndoDelete (protocol/activities/deletion/undo_delete.rs)
        required(a, ['actor', 'to', 'object', 'type', 'id'], 'UndoDelete');
        required(inner, ['actor', 'to', 'object', 'type', 'id'], 'Delete');
        isPublic(inner.to, []);
        const object = String(idOf(inner.object));
        const community = postCommunity(inner, object);
        if (inner.summary !== undefined) {
          await verifyModAction(innerActor, community);
          state.removed.delete(object);
        } else {
          if (host(innerActor) !== host(object)) refuse('domains do not match');
          state.deleted.delete(object);
        }
        return;
      }
      case 'Lock': {
        required(a, ['actor', 'to', 'object', 'cc', 'type', 'id'], 'UndoLockPage');
        required(inner, ['actor', 'to', 'object', 'cc', 'type', 'id'], 'LockPage');
        isPublic(a.to, a.cc);
        const object = String(idOf(inner.object));
        await verifyModAction(actor, postCommunity(a, object));
        state.locked.delete(object);
        return;
      }
      case 'Like':
      case 'Dislike':
        return;
      default:
        refuse(`Undo of ${String(inner.type)} is not an announcable activity`);
    }
  };

  /** The shared and personal inboxes. */
  const inbox = async (req: IncomingMessage, body: string): Promise<void> => {
    const url = `${origin}${req.url ?? '/'}`;
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const key = await verifyRequest(new Request(url, { method: 'POST', headers, body }), {
      documentLoader,
      contextLoader,
      keyCache,
    });
    if (!key) refuse('signature refused');
    const a = JSON.parse(body) as Json;
    const actor = idOf(a.actor);
    if (!actor || key?.ownerId?.href !== actor) refuse('the signer is not the actor');
    if (!str(a.id) || host(String(a.id)) !== host(actor as string))
      refuse('activity id not on the actor domain');
    switch (a.type) {
      case 'Accept': {
        const community = actor as string;
        if (!pendingFollows.has(community)) refuse('unexpected Accept');
        communities.set(community, await fetchJson(community));
        break;
      }
      case 'Announce': {
        // AnnounceActivity: the actor is the community, public, the object the activity (announce.rs).
        if (!communities.has(actor as string)) refuse('community_has_no_followers');
        isPublic(a.to, a.cc);
        const inner = a.object;
        if (typeof inner !== 'object' || inner === null)
          refuse('cannot_receive_page: a plain boost is not an activity');
        await receive(inner as Json, actor as string);
        break;
      }
      case 'Create': {
        const object = a.object as Json;
        if (object?.type === 'ChatMessage') {
          // CreateOrUpdateChatMessage (protocol/activities/create_or_update/chat_message.rs)
          await person(actor as string);
          if (list(object.to).length !== 1 || idOf(object.attributedTo) !== actor) refuse('bad ChatMessage');
          state.messages.push({ from: actor as string, content: String(object.content) });
          break;
        }
        if (
          object?.type === 'Note' &&
          !list(object.to).includes(PUBLIC) &&
          !list(object.cc).includes(PUBLIC)
        ) {
          // A Mastodon-style direct Note: Lemmy takes private messages only as ChatMessage from a person.
          refuse('a direct Note is not a ChatMessage');
        }
        await receive(a, null);
        break;
      }
      default:
        // An activity sent on its own, e.g. a ban's Block to the banned person's inbox.
        await receive(a, null);
    }
    accepted.push(a);
  };

  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        inbox(req, body).then(
          () => res.writeHead(200).end('{}'),
          (e: unknown) => {
            const reason = e instanceof Error ? e.message : String(e);
            let parsed: unknown = null;
            try {
              parsed = JSON.parse(body);
            } catch {
              parsed = body;
            }
            refused.push({ type: String((parsed as Json)?.type), reason, activity: parsed });
            res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: reason }));
          },
        );
      });
      return;
    }
    // NodeInfo as Lemmy serves it (crates/routes/src/nodeinfo.rs: software name `lemmy`).
    if (path === '/.well-known/nodeinfo') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          links: [{ rel: 'http://nodeinfo.diaspora.software/ns/schema/2.1', href: `${origin}/nodeinfo/2.1` }],
        }),
      );
      return;
    }
    if (path === '/nodeinfo/2.1') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ version: '2.1', software: { name: 'lemmy', version: '0.19.20' } }));
      return;
    }
    // WebFinger as Lemmy answers it (crates/routes/src/webfinger.rs): the person's id as the `self` link.
    if (path.startsWith('/.well-known/webfinger')) {
      const resource = new URL(path, origin).searchParams.get('resource');
      if (resource !== `acct:${username}@${new URL(origin).host}`) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/jrd+json' }).end(
        JSON.stringify({
          subject: resource,
          links: [
            { rel: 'http://webfinger.net/rel/profile-page', type: 'text/html', href: personId },
            { rel: 'self', type: 'application/activity+json', href: personId },
          ],
        }),
      );
      return;
    }
    if (path === `/u/${username}`) {
      res.writeHead(200, { 'content-type': 'application/activity+json' }).end(
        JSON.stringify({
          '@context': [AS, 'https://w3id.org/security/v1'],
          id: personId,
          type: 'Person',
          preferredUsername: username,
          inbox: `${personId}/inbox`,
          outbox: `${personId}/outbox`,
          endpoints: { sharedInbox: `${origin}/inbox` },
          publicKey: { id: `${personId}#main-key`, owner: personId, publicKeyPem },
        }),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  personId = `${origin}/u/${username}`;

  let seq = 0;
  const send = async (target: string, activity: Json): Promise<number> => {
    const request = new Request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/activity+json' },
      body: JSON.stringify(activity),
    });
    const signed = await signRequest(request, privateKey, new URL(`${personId}#main-key`));
    const res = await fetch(signed);
    await res.arrayBuffer();
    return res.status;
  };
  const newId = (kind: string) => `${origin}/${kind}/${++seq}`;
  return {
    origin,
    personId,
    state,
    accepted,
    refused,
    send,
    newId,
    async follow(community) {
      pendingFollows.add(community);
      const follow = {
        '@context': AS,
        id: newId('activities/follow'),
        type: 'Follow',
        actor: personId,
        object: community,
        to: [community],
      };
      const status = await send(`${community}/inbox`, follow);
      if (status >= 300) throw new Error(`Follow answered ${status}`);
      await waitUntil(async () => communities.has(community), {
        what: `Accept of the Follow of ${community}`,
      });
    },
    async waitFor(check, what) {
      await waitUntil(async () => check(state), { what: `${what} at the Lemmy peer` });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
