/**
 * A hand-written peer that takes activities as Mastodon 4.5 does (mastodon/mastodon; its source decides, not
 * this server's code; read in glitch-soc/mastodon, which shares its federation code):
 *
 * - `Announce` (`app/lib/activitypub/activity/announce.rb`, `activity.rb` `status_from_object`): taken only when
 *   someone here follows the announcer; the status is found by `object.id`, or fetched by it
 *   (`app/services/activitypub/fetch_remote_status_service.rb`: a fetched `Create` is performed first); the
 *   embedded copy of someone else's post is never used. Nothing fetched, nothing boosted.
 * - Forwarded activities (`app/services/activitypub/process_activity_service.rb`): when the signer is not the
 *   actor, only with the actor's LD signature (this peer takes the presence of an `RsaSignature2017` signature for
 *   a valid one; it does not verify it), otherwise dropped.
 * - `Update`, `Delete` of a status held; `Undo{Announce}` (`undo.rb`) removes the reblog found by its id and
 *   actor; `Like` only of local statuses (`like.rb`); `Block` by another actor of the local user
 *   (`block.rb`) makes that actor block them.
 * - A private mention (`create.rb` visibility `direct`) notifies the user; the notification is filtered when the
 *   user does not follow the sender and it answers none of the user's own private mentions of the sender
 *   (`app/models/notification_policy.rb` `for_private_mentions: filter`, `app/services/notify_service.rb`).
 * - Mastodon answers 202 once the signature is checked.
 */
import {
  startPeerBase,
  ignored,
  isObj,
  list,
  idOf,
  taken,
  PUBLIC,
  AS,
  type Json,
  type PeerBase,
} from './peer-base.ts';

export interface MastodonPeer extends PeerBase {
  /** Statuses held, by id. */
  statuses: Map<string, Json>;
  /** Reblogs held: announce id -> status id. */
  reblogs: Map<string, string>;
  /** Private mentions received, and whether their notification was filtered. */
  messages: Array<{ from: string; content: string; filtered: boolean; inReplyTo: string | null }>;
  /** Actors that blocked the local user. */
  blockedBy: Set<string>;
  /** Posts a public Note mentioning `group`; with `ldSigned`, the Create carries an LD signature. */
  post(group: string, content: string, o?: { inReplyTo?: string; ldSigned?: boolean }): Promise<string>;
  /** Sends a private mention of `to` (a command to a group or to the Service actor). */
  mention(to: string, content: string): Promise<string>;
}

/** Whether an activity carries an LD signature (RsaSignature2017). */
const ldSigned = (a: Json) => isObj(a.signature) && typeof a.signature.signatureValue === 'string';

export async function startMastodonPeer(username = 'masto_user'): Promise<MastodonPeer> {
  const statuses = new Map<string, Json>();
  const reblogs = new Map<string, string>();
  const messages: MastodonPeer['messages'] = [];
  const blockedBy = new Set<string>();
  /** The user's own private mentions: id -> whom they mention. */
  const ownMentions = new Map<string, string>();
  let base: PeerBase | null = null;
  const me = () => base?.actorId ?? '';

  /** FetchRemoteStatusService: a status, or a Create performed to give its status. */
  const fetchStatus = async (id: string): Promise<Json | null> => {
    const doc = await base?.fetchJson(id);
    if (!doc) return null;
    const status = doc.type === 'Create' && isObj(doc.object) ? doc.object : doc;
    if (!['Note', 'Article', 'Page', 'Question'].includes(String(status.type))) return null;
    statuses.set(String(status.id), status);
    return status;
  };

  const receive = async (a: Json, signer: string) => {
    const actor = idOf(a.actor) ?? '';
    if (actor !== signer && !ldSigned(a)) return ignored('forwarded without an LD signature: dropped');
    const object = a.object;
    switch (a.type) {
      case 'Accept':
        return taken('Accept');
      case 'Reject':
        base?.following.delete(actor);
        return taken('follow rejected');
      case 'Announce': {
        if (!base?.following.has(actor)) return ignored('Rejected Announce: not related to local activity');
        const id = idOf(object) ?? '';
        const status = statuses.get(id) ?? (await fetchStatus(id));
        if (!status) return ignored(`nothing to reblog at ${id}`);
        reblogs.set(String(a.id), String(status.id));
        return taken(`reblog of ${String(status.id)}`);
      }
      case 'Create': {
        if (!isObj(object)) return ignored('Create of an id');
        const to = list(object.to);
        const isPublic = [...to, ...list(object.cc)].includes(PUBLIC);
        if (!isPublic && to.includes(me())) {
          const inReplyTo = idOf(object.inReplyTo);
          const answersMine = inReplyTo !== null && ownMentions.get(inReplyTo) === actor;
          const filtered = !base?.following.has(actor) && !answersMine;
          messages.push({ from: actor, content: String(object.content), filtered, inReplyTo });
          return taken(`private mention${filtered ? ' (filtered)' : ''}`);
        }
        statuses.set(String(object.id), object);
        return taken(`status ${String(object.id)}${actor !== signer ? ' (forwarded, LD-signed)' : ''}`);
      }
      case 'Update': {
        const id = idOf(object) ?? '';
        if (!statuses.has(id) || !isObj(object)) return ignored('Update of a status not held');
        statuses.set(id, object);
        return taken(`edit of ${id}`);
      }
      case 'Delete': {
        const id = idOf(object) ?? '';
        if (!statuses.has(id)) return ignored('Delete of a status not held');
        statuses.delete(id);
        return taken(`delete of ${id}`);
      }
      case 'Undo': {
        const announce = isObj(object) ? object : null;
        const id = idOf(object) ?? '';
        if (announce && announce.type !== 'Announce') return ignored(`Undo of ${String(announce.type)}`);
        return reblogs.delete(id) ? taken(`reblog ${id} undone`) : ignored('no such reblog (delete_later)');
      }
      case 'Like':
        return ignored('Like of a status not local');
      case 'Block':
        if (idOf(object) !== me()) return ignored('Block of someone else');
        blockedBy.add(actor);
        return taken(`blocked by ${actor}`);
      default:
        return ignored(`${String(a.type)} not handled`);
    }
  };

  base = await startPeerBase(
    { software: { name: 'mastodon', version: '4.5.0' }, username, actorPath: (u) => `/users/${u}` },
    receive,
  );
  const b = base;
  let n = 0;
  return {
    ...b,
    statuses,
    reblogs,
    messages,
    blockedBy,
    async post(group, content, o = {}) {
      const id = `${b.actorId}/statuses/${++n}`;
      const note: Json = {
        id,
        type: 'Note',
        attributedTo: b.actorId,
        content: `<p>${content}</p>`,
        to: [PUBLIC],
        cc: [`${b.actorId}/followers`, group],
        tag: [{ type: 'Mention', href: group }],
        published: new Date().toISOString(),
        ...(o.inReplyTo ? { inReplyTo: o.inReplyTo } : {}),
      };
      b.documents.set(id, note);
      const create: Json = {
        '@context': [AS, 'https://w3id.org/security/v1'],
        id: `${id}/activity`,
        type: 'Create',
        actor: b.actorId,
        to: note.to,
        cc: note.cc,
        object: note,
      };
      if (o.ldSigned)
        create.signature = {
          type: 'RsaSignature2017',
          creator: b.keyId,
          created: new Date().toISOString(),
          signatureValue: 'bm90IHZlcmlmaWVkIGJ5IHRoZSB0ZXN0IHBlZXI=',
        };
      const status = await b.send(`${group}/inbox`, create);
      if (status !== 202) throw new Error(`Create answered ${status}`);
      return id;
    },
    async mention(to, content) {
      const id = `${b.actorId}/statuses/${++n}`;
      const note: Json = {
        id,
        type: 'Note',
        attributedTo: b.actorId,
        content: `<p>${content}</p>`,
        to: [to],
        cc: [],
        tag: [{ type: 'Mention', href: to }],
      };
      b.documents.set(id, note);
      ownMentions.set(id, to);
      const inbox = `${String((await b.fetchJson(to))?.inbox ?? `${to}/inbox`)}`;
      const status = await b.send(inbox, {
        '@context': AS,
        id: `${id}/activity`,
        type: 'Create',
        actor: b.actorId,
        to: [to],
        cc: [],
        object: note,
      });
      if (status !== 202) throw new Error(`Create answered ${status}`);
      return id;
    },
  };
}
