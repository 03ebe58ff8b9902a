/**
 * A hand-written peer that takes and sends activities as snac 2.94 does (grunfink/snac2: its `activitypub.c`
 * decides, not this server's code):
 *
 * - `is_msg_for_me`: an `Announce` is taken when it is about one of the user's posts or comes from someone the
 *   user follows; a `Create` when it is public and its actor, or a recipient in the post's own `to`/`cc`, is
 *   followed ("a public message for someone we follow? (probably cc'ed) accept"), or addressed to the user.
 * - `Announce`: the object is replaced by its id and fetched (cached copies first); a fetched `Create` is unwrapped
 *   ("some software like lemmy nest Announce + Create + Note"); the booster of one of the user's posts is recorded
 *   (`timeline_admire`), which is whom the post's Delete is later addressed to.
 * - `Create` of a Note or Article: the embedded object is stored, "SUSPICIOUS: actor != atto" only logged.
 * - `Update` of a known post whose `attributedTo` is not the signer: the post is fetched again from its origin;
 *   an `Update` of an actor other than a `Person`, `Service` or `Application` (a `Group`): ignored.
 * - `Delete` whose `attributedTo` is not the signer ("Delete: mismatched attributedTo"): ignored.
 * - `Undo{Announce}`: "Unboost", nothing done by design; every `Reject`, `Add`, `Remove`: dropped.
 * - A direct message from an actor the user does not follow is dropped when `drop_dm_from_unknown` is set.
 * - snac answers 202 before it processes anything.
 *
 * Deleting a post (`msg_delete`): a `Delete` of a `Tombstone`, `to` the public and, for each actor that boosted,
 * liked or replied, that actor's `attributedTo` when it is a string (`get_atto`), else its id; each is delivered
 * to the `endpoints.sharedInbox` or `inbox` of the document its URL answers to an unsigned GET
 * (`get_actor_inbox`, `actor_request` without a user).
 */
import {
  startPeerBase,
  ignored,
  isObj,
  list,
  idOf,
  taken,
  str,
  PUBLIC,
  AS,
  type Json,
  type PeerBase,
} from './peer-base.ts';

export interface SnacPeer extends PeerBase {
  /** The user's timeline: objects stored, by id. */
  timeline: Map<string, Json>;
  /** Who boosted each of the user's posts (`object_announces`). */
  boostersOf: Map<string, Set<string>>;
  messages: Array<{ from: string; content: string }>;
  /** `drop_dm_from_unknown` of the user's configuration. */
  dropDmFromUnknown: boolean;
  /** Posts a public Note mentioning `group` (in `cc`); the post is served at its id. */
  post(group: string, content: string, inReplyTo?: string): Promise<string>;
  /**
   * Deletes one of the user's posts as snac does; resolves to where the Delete went: each recipient, the inbox
   * found for it (or null) and the status of the POST.
   */
  deletePost(id: string): Promise<Array<{ recipient: string; inbox: string | null; status: number | null }>>;
}

export async function startSnacPeer(username = 'snac_user'): Promise<SnacPeer> {
  const timeline = new Map<string, Json>();
  const boostersOf = new Map<string, Set<string>>();
  const messages: Array<{ from: string; content: string }> = [];
  let base: PeerBase | null = null;
  const me = () => base?.actorId ?? '';
  const follows = (id: string) => base?.following.has(id) ?? false;
  const isMine = (id: string) => base?.documents.has(id) ?? false;
  const isPublic = (a: Json) => [...list(a.to), ...list(a.cc)].includes(PUBLIC);
  const peer = {} as { dropDmFromUnknown: boolean };
  peer.dropDmFromUnknown = false;

  /** `timeline_request`: the object by its id, from the cache or fetched; a Create is unwrapped. */
  const request = async (id: string): Promise<Json | null> => {
    const cached = timeline.get(id) ?? base?.documents.get(id);
    if (cached) return cached;
    let doc = await base?.fetchJson(id);
    if (doc && doc.type === 'Create' && isObj(doc.object)) doc = doc.object;
    return doc ?? null;
  };

  const receive = async (a: Json, signer: string) => {
    const actor = idOf(a.actor) ?? '';
    const type = String(a.type);
    if (['Add', 'View', 'Reject', 'Read', 'Remove'].includes(type)) return ignored(`${type} dropped`);
    const object = a.object;
    switch (type) {
      case 'Accept':
        return taken('Accept');
      case 'Announce': {
        const id = idOf(object);
        if (!id) return ignored('bad object id');
        if (!isMine(id) && !follows(actor)) return ignored('message not for us');
        const doc = await request(id);
        if (!doc) return ignored(`could not fetch ${id}`);
        timeline.set(String(doc.id), doc);
        if (isMine(String(doc.id))) {
          const set = boostersOf.get(String(doc.id)) ?? new Set<string>();
          boostersOf.set(String(doc.id), set.add(actor));
        }
        return taken(`boost of ${String(doc.id)} by ${actor}`);
      }
      case 'Undo':
        return ignored(isObj(object) && object.type === 'Announce' ? 'Unboost (ignored by design)' : 'Undo');
      case 'Create': {
        if (!isObj(object) || !['Note', 'Article', 'Question'].includes(String(object.type)))
          return ignored(`Create of ${isObj(object) ? String(object.type) : 'an id'}`);
        const rcpts = [...list(object.to), ...list(object.cc)];
        if (!isPublic(a)) {
          if (!rcpts.includes(me())) return ignored('message not for us');
          if (peer.dropDmFromUnknown && !follows(actor))
            return ignored(`DM rejected from unknown actor ${actor}`);
          messages.push({ from: actor, content: String(object.content) });
          return taken('direct message');
        }
        const forMe =
          follows(actor) ||
          rcpts.some((r) => r === me() || (r !== PUBLIC && follows(r))) ||
          follows(idOf(object.attributedTo) ?? '');
        if (!forMe) return ignored('message not for us');
        timeline.set(String(object.id), object);
        return taken(
          `new ${String(object.type)} ${String(object.id)}${actor !== signer ? ' (forwarded)' : ''}`,
        );
      }
      case 'Update': {
        // An actor's Update is taken for a Person, Service or Application only ("ignored 'Update' for object
        // type"); snac reads a group's profile again when it finds its copy stale (`actor_get_refresh`).
        if (
          isObj(object) &&
          !['Note', 'Page', 'Article', 'Video', 'Audio', 'Event', 'Question'].includes(String(object.type))
        )
          return ['Person', 'Service', 'Application'].includes(String(object.type))
            ? taken(`updated actor ${actor}`)
            : ignored(`ignored 'Update' for object type '${String(object.type)}'`);
        const id = idOf(object);
        if (!id || !timeline.has(id)) return ignored('Update of an unknown object');
        if (!isObj(object) || idOf(object.attributedTo) !== signer) {
          const doc = await base?.fetchJson(id);
          if (doc) timeline.set(id, doc);
          return taken(`Update: mismatched attributedTo, ${id} fetched again`);
        }
        timeline.set(id, object);
        return taken(`Update of ${id}`);
      }
      case 'Delete': {
        const id = idOf(object);
        if (!id || !timeline.has(id)) return ignored('Delete of an object not here');
        const atto = idOf(timeline.get(id)?.attributedTo);
        if (atto !== signer)
          return ignored(`Delete: mismatched attributedTo '${String(atto)}' and key '${signer}'`);
        timeline.delete(id);
        return taken(`Delete of ${id}`);
      }
      case 'Like':
        return isMine(idOf(object) ?? '') ? taken('like of my post') : ignored('like of a post not mine');
      default:
        return ignored(`${type} not handled`);
    }
  };

  base = await startPeerBase(
    { software: { name: 'snac', version: '2.94' }, username, actorPath: (u) => `/${u}` },
    receive,
  );
  const b = base;
  let n = 0;
  return Object.assign(peer, {
    ...b,
    timeline,
    boostersOf,
    messages,
    async post(group: string, content: string, inReplyTo?: string) {
      const id = `${b.actorId}/p/${Date.now()}.${++n}`;
      const note: Json = {
        id,
        type: 'Note',
        attributedTo: b.actorId,
        content: `<p>${content}</p>`,
        to: [PUBLIC],
        cc: [`${b.actorId}/followers`, group],
        tag: [{ type: 'Mention', href: group }],
        published: new Date().toISOString(),
        ...(inReplyTo ? { inReplyTo } : {}),
      };
      b.documents.set(id, note);
      const status = await b.send(`${group}/inbox`, {
        '@context': AS,
        id: `${id}/Create`,
        type: 'Create',
        actor: b.actorId,
        to: note.to,
        cc: note.cc,
        object: note,
      });
      if (status !== 202) throw new Error(`Create answered ${status}`);
      return id;
    },
    async deletePost(id: string) {
      const to = [PUBLIC];
      for (const booster of boostersOf.get(id) ?? []) {
        const actor = await b.fetchJson(booster);
        const atto = actor ? actor.attributedTo : undefined;
        const recipient = typeof atto === 'string' ? atto : str(actor?.id);
        if (recipient) to.push(recipient);
      }
      const del = {
        '@context': AS,
        type: 'Delete',
        id: `${id}/Delete_${Date.now()}`,
        actor: b.actorId,
        published: new Date().toISOString(),
        object: { type: 'Tombstone', id },
        to,
      };
      b.documents.delete(id);
      const out: Array<{ recipient: string; inbox: string | null; status: number | null }> = [];
      for (const recipient of to.filter((r) => r !== PUBLIC)) {
        // get_actor_inbox: an unsigned GET; the sharedInbox first, then the inbox; no type check.
        const res = await fetch(recipient, { headers: { accept: 'application/activity+json' } });
        const type = res.headers.get('content-type') ?? '';
        const doc =
          res.ok && /application\/(activity|ld)\+json/.test(type) ? ((await res.json()) as Json) : null;
        const endpoints = doc?.endpoints;
        const inbox = (isObj(endpoints) ? str(endpoints.sharedInbox) : null) ?? str(doc?.inbox);
        out.push({ recipient, inbox, status: inbox ? await b.send(inbox, del) : null });
      }
      return out;
    },
  });
}
