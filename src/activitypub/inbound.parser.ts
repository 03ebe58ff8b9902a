/**
 * The one parse of inbound activities: an AS2 document read by its plain keys (its `@context` checked by
 * `context-policy.ts`, never processed as JSON-LD) becomes one case of a closed union keyed by `kind`, or a
 * refusal with its reason. The inbox refuses what does not parse, and the group's handler table has exactly one
 * handler per kind, so what is accepted and what is handled are the same list. Only the shape is checked here
 * (ids present, the embedded activity of an Undo of a known type...); whether the actor may do it is the
 * handlers' business. No I/O.
 */
import {
  POST_TYPES,
  asArray,
  httpUrl,
  idOf,
  isObject,
  isPublic,
  recipientsOf,
  str,
  typeOf,
  type ApObject,
} from './vocab.ts';

/** A post (Note, Page, Article...) embedded in a Create or Update. */
export interface ApPostObject {
  id: string;
  type: string;
  attributedTo: string | null;
  inReplyTo: string | null;
  to: string[];
  cc: string[];
  audience: string[];
  /** `href` of the Mention tags. */
  mentions: string[];
  /** The object as received. */
  raw: ApObject;
}

/** The fields of a Group that a moderator's `Update{Group}` may change. */
export interface ApGroupUpdate {
  id: string;
  name: string | null;
  /** Markdown source of the summary (`source.content`). */
  summarySource: string | null;
  sensitive: boolean | null;
  postingRestrictedToMods: boolean | null;
  manuallyApprovesFollowers: boolean | null;
}

/** A Follow as embedded in an Undo, Accept or Reject: any part may be missing. */
export interface ApFollowMention {
  id: string | null;
  actor: string | null;
  object: string | null;
}

interface Base<K extends string> {
  kind: K;
  id: string;
  actor: string;
  to: string[];
  cc: string[];
  audience: string[];
  /** The activity as received, to be announced unchanged. */
  raw: ApObject;
}

export type InboundActivity =
  | (Base<'follow'> & { object: string })
  | (Base<'undo-follow'> & { follow: ApFollowMention })
  | (Base<'create-post'> & { object: ApPostObject })
  /** A Create of a post addressed to actors only (no public, no followers): a command to a group. */
  | (Base<'direct-message'> & { object: ApPostObject })
  | (Base<'update-post'> & { objectId: string; object: ApPostObject | null })
  | (Base<'update-group'> & { group: ApGroupUpdate })
  | (Base<'delete-post'> & { objectId: string; summary: string | null })
  /** Delete whose object is its actor: an account was deleted. */
  | Base<'delete-actor'>
  | (Base<'undo-delete'> & {
      delete: { id: string | null; actor: string | null; objectId: string; summary: string | null };
    })
  | (Base<'like'> & { objectId: string })
  | (Base<'dislike'> & { objectId: string })
  | (Base<'undo-vote'> & {
      vote: { id: string | null; type: 'Like' | 'Dislike'; actor: string | null; objectId: string };
    })
  | (Base<'accept-follow'> & { follow: ApFollowMention })
  | (Base<'reject-follow'> & { follow: ApFollowMention })
  | (Base<'flag'> & { objects: string[]; content: string })
  | (Base<'block'> & {
      object: string;
      target: string | null;
      summary: string;
      endTime: string | null;
      removeData: boolean;
    })
  | (Base<'undo-block'> & {
      block: { id: string | null; actor: string | null; object: string; target: string | null };
    })
  | (Base<'add'> & { object: string; target: string; summary: string })
  | (Base<'remove'> & { object: string; target: string; summary: string })
  | (Base<'lock'> & { objectId: string })
  | (Base<'undo-lock'> & { lock: { actor: string | null; objectId: string } })
  /** A group's `Announce{Create}` of a post (FEP-1b12), to the groups that follow it (FEP-d36d). */
  | (Base<'announce-create'> & { activity: ApObject; post: ApPostObject })
  /** A plain boost of a post (`Announce{id}`, or `Announce{Page}` as older Lemmy sends). */
  | (Base<'announce-boost'> & { objectId: string })
  /** A peer's Service actor lists one of its groups (`Announce{Group}`) in this instance's directory. */
  | (Base<'announce-group'> & { group: ApObject & { id: string } });

export type InboundKind = InboundActivity['kind'];
export type InboundOf<K extends InboundKind> = Extract<InboundActivity, { kind: K }>;

/** Every kind, once (the handler table is checked against it). */
export const INBOUND_KINDS = [
  'follow',
  'undo-follow',
  'create-post',
  'direct-message',
  'update-post',
  'update-group',
  'delete-post',
  'delete-actor',
  'undo-delete',
  'like',
  'dislike',
  'undo-vote',
  'accept-follow',
  'reject-follow',
  'flag',
  'block',
  'undo-block',
  'add',
  'remove',
  'lock',
  'undo-lock',
  'announce-create',
  'announce-boost',
  'announce-group',
] as const satisfies readonly InboundKind[];

/** The activity types that can parse (others are refused at once). */
export const INBOUND_TYPES: ReadonlySet<string> = new Set([
  'Follow',
  'Undo',
  'Create',
  'Update',
  'Delete',
  'Like',
  'Dislike',
  'Accept',
  'Reject',
  'Flag',
  'Block',
  'Add',
  'Remove',
  'Lock',
  'Announce',
]);

/** Why a document is not one of the inbound activities. */
export type InboundRefusal =
  /** Not a kind of activity a group handles (e.g. `Announce{Like}`, `Move`, `Create{ChatMessage}`). */
  | { type: 'unsupported'; detail: string }
  /** A kind a group handles, without a field it needs. */
  | { type: 'malformed'; detail: string };

export type ParseResult = { ok: true; value: InboundActivity } | { ok: false; error: InboundRefusal };

const unsupported = (detail: string): ParseResult => ({ ok: false, error: { type: 'unsupported', detail } });
const malformed = (detail: string): ParseResult => ({ ok: false, error: { type: 'malformed', detail } });

/** An http(s) id, or null. */
function httpId(v: unknown): string | null {
  const id = idOf(v);
  return id !== null && httpUrl(id) !== null ? id : null;
}

/** Parses a compacted AS2 activity. */
export function parseInbound(doc: unknown): ParseResult {
  if (!isObject(doc)) return malformed('an activity is a JSON object');
  const id = str(doc.id);
  const type = typeOf(doc);
  const actor = httpId(doc.actor);
  if (id === null || httpUrl(id) === null) return malformed('the activity needs an http(s) id');
  if (type === null) return malformed('the activity needs a type');
  if (actor === null) return malformed('the activity needs an http(s) actor');
  if (!INBOUND_TYPES.has(type)) return unsupported(`a group does not take ${type} activities`);
  const r = recipientsOf(doc);
  const base = { id, actor, to: r.to, cc: r.cc, audience: r.audience, raw: doc };
  const objectId = httpId(doc.object);
  const need = (what: string) => malformed(`${type} without ${what}`);
  switch (type) {
    case 'Follow':
      return objectId ? ok({ ...base, kind: 'follow', object: objectId }) : need('an object');
    case 'Create': {
      // Lemmy's private message (`ChatMessage`, one recipient) is a direct message like a Mastodon DM.
      const chat = typeOf(doc.object) === 'ChatMessage';
      const post = postObject(doc.object, chat);
      if (!post.ok)
        return post.error.type === 'unsupported' ? unsupported(`Create of ${post.error.detail}`) : post;
      return ok({
        ...base,
        kind: chat || isDirect(post.value) ? 'direct-message' : 'create-post',
        object: post.value,
      });
    }
    case 'Update': {
      const object = doc.object;
      if (typeOf(object) === 'Group' && isObject(object)) {
        const group = groupUpdate(object);
        return group ? ok({ ...base, kind: 'update-group', group }) : need('the id of the Group');
      }
      if (!objectId) return need('an object');
      if (!isObject(object)) return ok({ ...base, kind: 'update-post', objectId, object: null });
      const post = postObject(object);
      if (!post.ok)
        return post.error.type === 'unsupported' ? unsupported(`Update of ${post.error.detail}`) : post;
      return ok({ ...base, kind: 'update-post', objectId, object: post.value });
    }
    case 'Delete':
      if (!objectId) return need('an object');
      if (objectId === actor) return ok({ ...base, kind: 'delete-actor' });
      return ok({ ...base, kind: 'delete-post', objectId, summary: str(doc.summary) });
    case 'Like':
    case 'Dislike':
      if (!objectId) return need('an object');
      return ok({ ...base, kind: type === 'Like' ? 'like' : 'dislike', objectId });
    case 'Accept':
    case 'Reject': {
      const object = doc.object;
      if (isObject(object) && typeOf(object) !== 'Follow')
        return unsupported(`${type} of ${typeOf(object) ?? 'an untyped object'}`);
      if (!isObject(object) && !objectId) return need('an object');
      return ok({
        ...base,
        kind: type === 'Accept' ? 'accept-follow' : 'reject-follow',
        follow: followMention(object),
      });
    }
    case 'Flag': {
      const objects = asArray(doc.object)
        .map(httpId)
        .filter((x): x is string => x !== null)
        .slice(0, 20);
      if (objects.length === 0) return need('an object');
      return ok({ ...base, kind: 'flag', objects, content: str(doc.content) ?? str(doc.summary) ?? '' });
    }
    case 'Block':
      if (!objectId) return need('an object');
      return ok({
        ...base,
        kind: 'block',
        object: objectId,
        target: httpId(doc.target),
        summary: str(doc.summary) ?? '',
        endTime: str(doc.endTime) ?? str(doc.expires),
        removeData: doc.removeData === true,
      });
    case 'Add':
    case 'Remove': {
      const target = httpId(doc.target);
      if (!objectId || !target) return need('an object and a target');
      return ok({
        ...base,
        kind: type === 'Add' ? 'add' : 'remove',
        object: objectId,
        target,
        summary: str(doc.summary) ?? '',
      });
    }
    case 'Lock':
      return objectId ? ok({ ...base, kind: 'lock', objectId }) : need('an object');
    case 'Undo':
      return parseUndo(base, doc.object);
    case 'Announce':
      return parseAnnounce(base, doc.object);
    default:
      return unsupported(`a group does not take ${type} activities`);
  }
}

function ok(value: InboundActivity): ParseResult {
  return { ok: true, value };
}

function parseUndo(base: Omit<Base<never>, 'kind'>, inner: unknown): ParseResult {
  if (typeof inner === 'string') {
    // Undo by id: only a Follow is undone this way (the group holds its id).
    return httpUrl(inner)
      ? ok({ ...base, kind: 'undo-follow', follow: { id: inner, actor: null, object: null } })
      : malformed('Undo of a malformed id');
  }
  if (!isObject(inner)) return malformed('Undo without an object');
  const innerType = typeOf(inner);
  const innerId = httpId(inner);
  const innerActor = httpId(inner.actor);
  const innerObject = httpId(inner.object);
  const need = (what: string) => malformed(`Undo{${innerType ?? '?'}} without ${what}`);
  switch (innerType) {
    case 'Follow':
      return ok({
        ...base,
        kind: 'undo-follow',
        follow: { id: innerId, actor: innerActor, object: innerObject },
      });
    case 'Like':
    case 'Dislike':
      if (!innerObject) return need('the object of the vote');
      return ok({
        ...base,
        kind: 'undo-vote',
        vote: { id: innerId, type: innerType, actor: innerActor, objectId: innerObject },
      });
    case 'Delete':
      if (!innerObject) return need('the object of the Delete');
      return ok({
        ...base,
        kind: 'undo-delete',
        delete: { id: innerId, actor: innerActor, objectId: innerObject, summary: str(inner.summary) },
      });
    case 'Block':
      if (!innerObject) return need('the object of the Block');
      return ok({
        ...base,
        kind: 'undo-block',
        block: { id: innerId, actor: innerActor, object: innerObject, target: httpId(inner.target) },
      });
    case 'Lock':
      if (!innerObject) return need('the object of the Lock');
      return ok({ ...base, kind: 'undo-lock', lock: { actor: innerActor, objectId: innerObject } });
    default:
      return unsupported(`a group does not take Undo of ${innerType ?? 'an untyped object'}`);
  }
}

/**
 * An Announce: of a Create of a post (what a group sends its followers), of a post by id or embedded (a plain
 * boost), or of a Group (a peer's directory). Announces of anything else are not taken.
 */
function parseAnnounce(base: Omit<Base<never>, 'kind'>, object: unknown): ParseResult {
  if (!isObject(object)) {
    const objectId = httpId(object);
    return objectId
      ? ok({ ...base, kind: 'announce-boost', objectId })
      : malformed('Announce without an object');
  }
  const type = typeOf(object);
  const id = httpId(object);
  if (type === 'Create') {
    const post = postObject(object.object);
    if (!post.ok)
      return post.error.type === 'unsupported'
        ? unsupported(`Announce{Create} of ${post.error.detail}`)
        : post;
    if (id === null || httpId(object.actor) === null)
      return malformed('the announced Create needs an http(s) id and actor');
    return ok({ ...base, kind: 'announce-create', activity: object, post: post.value });
  }
  if (type === 'Group') {
    return id
      ? ok({ ...base, kind: 'announce-group', group: { ...object, id } })
      : malformed('Announce{Group} without an id');
  }
  if (type !== null && POST_TYPES.has(type))
    return id
      ? ok({ ...base, kind: 'announce-boost', objectId: id })
      : malformed('Announce of a post without an id');
  return unsupported(`a group does not take Announce of ${type ?? 'an untyped object'}`);
}

function followMention(v: unknown): ApFollowMention {
  if (!isObject(v)) return { id: httpId(v), actor: null, object: null };
  return { id: httpId(v), actor: httpId(v.actor), object: httpId(v.object) };
}

type PostResult = { ok: true; value: ApPostObject } | { ok: false; error: InboundRefusal };

/** A post object embedded in a Create or Update (or, with `chat`, Lemmy's ChatMessage). */
function postObject(v: unknown, chat = false): PostResult {
  if (!isObject(v))
    return { ok: false, error: { type: 'malformed', detail: 'Create or Update without an inline object' } };
  const id = httpId(v);
  const type = typeOf(v);
  if (id === null || type === null)
    return { ok: false, error: { type: 'malformed', detail: 'the object needs an http(s) id and a type' } };
  if (!POST_TYPES.has(type) && !(chat && type === 'ChatMessage'))
    return { ok: false, error: { type: 'unsupported', detail: `a ${type}, which is not a post` } };
  const r = recipientsOf(v);
  return {
    ok: true,
    value: {
      id,
      type,
      attributedTo: httpId(v.attributedTo),
      inReplyTo: httpId(v.inReplyTo),
      to: r.to,
      cc: r.cc,
      audience: r.audience,
      mentions: r.mentions,
      raw: v,
    },
  };
}

/** Addressed to actors only: no public addressing and no followers collection. */
function isDirect(post: ApPostObject): boolean {
  const all = [...post.to, ...post.cc];
  return !all.some(isPublic) && !all.some((id) => /\/followers$/.test(id));
}

function groupUpdate(o: ApObject): ApGroupUpdate | null {
  const id = httpId(o);
  if (id === null) return null;
  const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
  return {
    id,
    name: str(o.name),
    summarySource: isObject(o.source) ? str(o.source.content) : null,
    sensitive: bool(o.sensitive),
    postingRestrictedToMods: bool(o.postingRestrictedToMods),
    manuallyApprovesFollowers: bool(o.manuallyApprovesFollowers),
  };
}

/** The ids of the Mention tags and audience fields of an activity and its post, flattened (for routing). */
export function addressedIds(
  a: { to: string[]; cc: string[]; audience: string[] },
  post?: ApPostObject | null,
): string[] {
  const out = [...a.to, ...a.cc, ...a.audience];
  if (post) out.push(...post.to, ...post.cc, ...post.audience, ...post.mentions);
  return out;
}
