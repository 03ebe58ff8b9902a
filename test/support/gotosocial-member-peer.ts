/**
 * A hand-written peer that takes activities as GoToSocial v0.20 does (superseriousbusiness/gotosocial; its
 * source decides, not this server's code):
 *
 * - `Announce` (`internal/federation/federatingdb/announce.go`, `internal/typeutils/astointernal.go`
 *   `ASAnnounceToStatus`): the signer must be among its actors; no `to` and no `cc` is 400 "malformed incoming
 *   activity" (`internal/ap/extract.go`, "message wasn't TO or CC anyone"); the boosted status is `object.id`,
 *   fetched (`internal/federation/dereferencing/announce.go`), the embedded copy unused; an id that is not a status
 *   (a Create's) gives no boost (`internal/processing/workers/fromfediapi.go`, "skipping announce").
 * - `Create` (`federatingdb/create.go`): forwarded (signer not the author) -> the status is fetched from its
 *   origin, else the embedded status is stored.
 * - `Update` (`federatingdb/update.go`): forwarded -> the status is refreshed from its origin only when the copy
 *   is older than 2 h (`dereferencing/dereferencer.go`, `DefaultStatusFreshness`).
 * - `Delete` (`federatingdb/delete.go`): by the author, the status is deleted; forwarded, dropped ("TODO:
 *   handled forwarded deletes").
 * - `Undo` (`federatingdb/undo.go`): an object that is only an IRI is skipped; `Undo{Announce}` needs the
 *   Announce's actor to be the Undo's; a boost it holds is removed, one it never held needs `to`/`cc` (else 400)
 *   and is then ignored.
 * - `Like` (`federatingdb/like.go`): "Only process likes of local statuses".
 * - A direct message: a Note addressed to the local user, mentioning them (spam filter heuristics pass for a
 *   mention, `internal/filter/spam/statusable.go`).
 *
 * Its actor and key are served as GoToSocial serves them (gotosocial-peer.ts): the key id `ACTOR/main-key`
 * answers with a minimal actor, the actor only a signed GET. Its statuses are served to unsigned GETs here.
 */
import {
  startPeerBase,
  ignored,
  isObj,
  list,
  idOf,
  refused,
  taken,
  str,
  PUBLIC,
  type Json,
  type PeerBase,
} from './peer-base.ts';

const STATUS_TYPES = ['Note', 'Article', 'Page', 'Question', 'Event', 'Video', 'Image', 'Document', 'Audio'];
/** `DefaultStatusFreshness`: a copy younger than this is not refreshed. */
const FRESHNESS_MS = 2 * 3_600_000;

export interface GoToSocialMemberPeer extends PeerBase {
  /** Statuses it holds (its user's timeline and threads), by id, with when each was fetched. */
  statuses: Map<string, { status: Json; fetchedAt: number }>;
  /** Boosts it holds: boost id -> boosted status id. */
  boosts: Map<string, string>;
  /** Direct messages to the local user. */
  messages: Array<{ from: string; content: string }>;
  /** Moves the peer's clock (statuses age). */
  advanceClock(ms: number): void;
  /** Posts a public Note mentioning `group`; the status is served at its id. */
  post(group: string, content: string, inReplyTo?: string): Promise<string>;
  /** Sends the author's Update of a status with new content. */
  edit(statusId: string, group: string, content: string): Promise<void>;
}

export async function startGoToSocialMemberPeer(username = 'gts_user'): Promise<GoToSocialMemberPeer> {
  const statuses = new Map<string, { status: Json; fetchedAt: number }>();
  const boosts = new Map<string, string>();
  const messages: Array<{ from: string; content: string }> = [];
  let offset = 0;
  const now = () => Date.now() + offset;
  let base: PeerBase | null = null;
  const me = () => base?.actorId ?? '';

  const fetchStatus = async (id: string): Promise<Json | null> => {
    const doc = await base?.fetchJson(id);
    if (!doc || !STATUS_TYPES.includes(String(doc.type))) return null;
    statuses.set(id, { status: doc, fetchedAt: now() });
    return doc;
  };

  const receive = async (a: Json, signer: string) => {
    const actor = idOf(a.actor) ?? '';
    const object = a.object;
    switch (a.type) {
      case 'Accept':
      case 'Reject':
        return taken(`${String(a.type)} of a Follow`);
      case 'Announce': {
        if (actor !== signer) return refused(403, 'requestingAccount was not among Announce Actors');
        if (list(a.to).length + list(a.cc).length === 0) return refused(400, 'malformed incoming activity');
        const target = idOf(object);
        if (!target) return refused(400, 'malformed incoming activity');
        if (boosts.has(String(a.id))) return ignored('boost already held');
        const status = statuses.get(target)?.status ?? (await fetchStatus(target));
        if (!status) return ignored(`skipping announce: ${target} is not a status`);
        boosts.set(String(a.id), target);
        return taken(`boost of ${target}`);
      }
      case 'Create': {
        if (!isObj(object) || !STATUS_TYPES.includes(String(object.type))) return ignored('not a statusable');
        const id = String(object.id);
        if (
          list(object.to).includes(me()) &&
          !list(object.to).includes(PUBLIC) &&
          !list(object.cc).includes(PUBLIC)
        ) {
          const mentioned = Array.isArray(object.tag) && object.tag.some((t) => isObj(t) && t.href === me());
          if (!mentioned) return ignored('spam filter: not mentioned');
          messages.push({ from: actor, content: String(object.content) });
          return taken('direct message');
        }
        if (idOf(object.attributedTo) !== signer) {
          // Forwarded: the status is dereferenced from its origin, not taken from the body.
          return (await fetchStatus(id))
            ? taken(`forwarded Create: ${id} fetched from its origin`)
            : ignored('forwarded Create: not found');
        }
        statuses.set(id, { status: object, fetchedAt: now() });
        return taken(`status ${id}`);
      }
      case 'Update': {
        const id = idOf(object);
        const held = id ? statuses.get(id) : undefined;
        if (!id || !held) return ignored('Update of a status not held');
        if (!isObj(object) || idOf(object.attributedTo) !== signer) {
          if (now() - held.fetchedAt < FRESHNESS_MS)
            return ignored('forwarded Update: the copy is still fresh');
          return (await fetchStatus(id))
            ? taken(`forwarded Update: ${id} refreshed`)
            : ignored('refresh failed');
        }
        statuses.set(id, { status: object, fetchedAt: now() });
        return taken(`edit of ${id}`);
      }
      case 'Delete': {
        const id = idOf(object);
        if (!id || !statuses.has(id)) return ignored('Delete of a status not held');
        if (actor !== signer) return ignored('TODO: handled forwarded deletes');
        statuses.delete(id);
        return taken(`delete of ${id}`);
      }
      case 'Undo': {
        if (!isObj(object)) return ignored('Undo of an IRI: skipped');
        if (object.type !== 'Announce') return ignored(`Undo of ${String(object.type)}`);
        if (idOf(object.actor) !== actor) return ignored('Undo actor does not own the Announce');
        if (!object.object) return refused(400, 'malformed incoming activity');
        const boostId = String(object.id);
        if (boosts.delete(boostId)) return taken(`boost ${boostId} undone`);
        if (list(object.to).length + list(object.cc).length === 0)
          return refused(400, "malformed incoming activity: message wasn't TO or CC anyone");
        return ignored('never held this boost');
      }
      case 'Like':
        return ignored('Only process likes of local statuses');
      default:
        return ignored(`unhandled ${String(a.type)}`);
    }
  };

  base = await startPeerBase(
    {
      software: { name: 'gotosocial', version: '0.20.0-rc1' },
      username,
      actorPath: (u) => `/users/${u}`,
      gotosocialKeys: true,
    },
    receive,
  );
  const b = base;
  let n = 0;
  return {
    ...b,
    statuses,
    boosts,
    messages,
    advanceClock: (ms) => {
      offset += ms;
    },
    async post(group, content, inReplyTo) {
      const id = `${b.actorId}/statuses/${++n}`;
      const status: Json = {
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
      b.documents.set(id, status);
      const inbox = str((await b.fetchJson(group))?.inbox) ?? `${group}/inbox`;
      const code = await b.send(inbox, {
        '@context': 'https://www.w3.org/ns/activitystreams',
        id: `${id}/activity`,
        type: 'Create',
        actor: b.actorId,
        to: status.to,
        cc: status.cc,
        object: status,
      });
      if (code !== 202) throw new Error(`Create answered ${code}`);
      return id;
    },
    async edit(statusId, group, content) {
      const status: Json = {
        ...(b.documents.get(statusId) ?? {}),
        content: `<p>${content}</p>`,
        updated: new Date().toISOString(),
      };
      b.documents.set(statusId, status);
      const code = await b.send(`${group}/inbox`, {
        '@context': 'https://www.w3.org/ns/activitystreams',
        id: `${statusId}#updates/${++n}`,
        type: 'Update',
        actor: b.actorId,
        to: status.to,
        cc: status.cc,
        object: status,
      });
      if (code !== 202) throw new Error(`Update answered ${code}`);
    },
  };
}
