/**
 * Builders of the activities a group sends about itself and its posts: the FEP-1b12 Announce of an activity,
 * the plain boost Mastodon shows and its Undo, Accept/Reject of a Follow, Update and Delete of the group, and
 * Resolve of a report. Ids are given by the caller (derived from what caused the activity, so that a retry
 * builds the same ids). No I/O.
 */
import { GUILD_CONTEXT, PUBLIC, isObject, typeOf, type ApObject } from './vocab.ts';
import type {
  ApActivityBase,
  ApAnnounce,
  ApDelete,
  ApFlagRef,
  ApFollowAnswer,
  ApFollowRef,
  ApResolve,
  ApUndo,
  ApUpdate,
} from './ap-types.ts';

/** The ids of a group that its public activities are addressed with. */
export interface GroupIds {
  /** The group's actor id. */
  group: string;
  /** Its followers collection. */
  followers: string;
}

/** Public, cc the group's followers, audience the group: how a group addresses what it sends its members. */
export function toMembers(g: GroupIds): Pick<ApActivityBase, 'to' | 'cc' | 'audience'> {
  return { to: [PUBLIC], cc: [g.followers], audience: g.group };
}

/**
 * Public, cc the group, audience the group: how Lemmy addresses an activity in a community (its
 * `send_activity_in_community`), which the group then announces.
 */
export function inGroup(group: string): Pick<ApActivityBase, 'to' | 'cc' | 'audience'> {
  return { to: [PUBLIC], cc: [group], audience: group };
}

/** The document as stored and sent: with this server's `@context` first. */
export function withContext(activity: object): ApObject {
  return { '@context': GUILD_CONTEXT, ...activity };
}

/** An activity as embedded in another: without `@context`. */
export function embedded(activity: object): ApObject {
  const { '@context': _context, ...rest } = activity as ApObject;
  return rest;
}

/** Contexts that only define the terms of an LD signature, and redefine ActivityStreams terms besides. */
const SIGNATURE_CONTEXTS: ReadonlySet<string> = new Set(['https://w3id.org/identity/v1']);

/**
 * An activity without its LD signature (`signature`) and the context entries that only served it: a signature
 * counts only at the top of what is received, and inboxes such as this server's refuse a nested context that
 * redefines ActivityStreams terms after them (fedify signs under `[activitystreams, identity/v1]`).
 */
function withoutSignature(activity: ApObject): ApObject {
  const context = activity['@context'];
  const kept = Array.isArray(context)
    ? context.filter((c) => typeof c !== 'string' || !SIGNATURE_CONTEXTS.has(c))
    : context;
  const signedContext =
    (typeof context === 'string' && SIGNATURE_CONTEXTS.has(context)) ||
    (Array.isArray(context) && Array.isArray(kept) && kept.length !== context.length);
  if (!('signature' in activity) && !signedContext) return activity;
  const { signature: _signature, '@context': _context, ...rest } = activity;
  if (typeof context === 'string' && SIGNATURE_CONTEXTS.has(context)) return rest;
  return context === undefined ? rest : { '@context': kept, ...rest };
}

/**
 * FEP-1b12: the group re-shares an activity unchanged, wrapped in its Announce, but for the LD signature its
 * author's server may have attached (see withoutSignature).
 */
export function buildAnnounce(
  o: GroupIds & { id: string; activity: ApObject; published: string },
): ApAnnounce {
  return {
    id: o.id,
    type: 'Announce',
    actor: o.group,
    object: withoutSignature(o.activity),
    ...toMembers(o),
    published: o.published,
  };
}

/**
 * A member's Like or Dislike, or the Undo of one, as the group re-shares it: as received but for the post voted
 * on, reduced to its id. An embedded copy of the post is only the voter's word (a member's Like could carry a
 * forged copy of another member's post). Lemmy reads a vote's `object` as an id (`Vote` in LemmyNet/lemmy
 * crates/apub/src/protocol/activities/voting/vote.rs) and Mastodon looks the status up by its URI
 * (app/lib/activitypub/activity/like.rb), so the id is all they need.
 */
export function voteWithObjectId(vote: ApObject, objectId: string): ApObject {
  if (typeOf(vote) === 'Undo' && isObject(vote.object))
    return { ...vote, object: { ...vote.object, object: objectId } };
  return { ...vote, object: objectId };
}

/** The plain boost of a post (`Announce{object id}`): what Mastodon shows in its members' timelines. */
export function buildBoost(o: GroupIds & { id: string; objectId: string; published: string }): ApAnnounce {
  return {
    id: o.id,
    type: 'Announce',
    actor: o.group,
    object: o.objectId,
    ...toMembers(o),
    published: o.published,
  };
}

/**
 * Undo of a boost, embedding the boost with its addressing and date: GoToSocial answers 400 to an Undo whose
 * embedded Announce has no `to`/`cc` when it no longer holds the boost.
 */
export function buildUndoBoost(
  o: GroupIds & { id: string; boost: ApAnnounce; published: string },
): ApUndo<ApAnnounce> {
  return {
    id: o.id,
    type: 'Undo',
    actor: o.group,
    object: o.boost,
    ...toMembers(o),
    published: o.published,
  };
}

/** Accept or Reject of a Follow of the group, to the follower only, with the Follow embedded. */
export function buildFollowAnswer(o: {
  id: string;
  type: 'Accept' | 'Reject';
  group: string;
  /** The Follow's id, when known (Mastodon finds the request by it). */
  followId: string | null;
  follower: string;
  published: string;
}): ApFollowAnswer {
  const follow: ApFollowRef = { type: 'Follow', actor: o.follower, object: o.group };
  return {
    id: o.id,
    type: o.type,
    actor: o.group,
    object: o.followId === null ? follow : { id: o.followId, ...follow },
    to: [o.follower],
    cc: [],
    published: o.published,
  };
}

/**
 * Update of the group's actor document. Authored by the group itself, it is what Mastodon-style servers read
 * (they take an actor's Update only from that actor); authored by a moderator or the instance's Service actor
 * and announced by the group, it is what Lemmy takes (`UpdateCommunity`, actor a Person or Service).
 */
export function buildUpdateGroup(
  o: GroupIds & { id: string; actor: string; document: ApObject; published: string },
): ApUpdate {
  return {
    id: o.id,
    type: 'Update',
    actor: o.actor,
    object: embedded(o.document),
    ...(o.actor === o.group ? toMembers(o) : inGroup(o.group)),
    published: o.published,
  };
}

/** Delete of the group: by the group itself (Mastodon-style servers), or by the Service actor (Lemmy). */
export function buildDeleteGroup(o: GroupIds & { id: string; actor: string; published: string }): ApDelete {
  return {
    id: o.id,
    type: 'Delete',
    actor: o.actor,
    object: o.group,
    ...(o.actor === o.group ? toMembers(o) : inGroup(o.group)),
    published: o.published,
  };
}

/** Resolve of a report, to the reporter, with the Flag embedded. */
export function buildResolve(o: {
  id: string;
  actor: string;
  group: string;
  flag: ApFlagRef;
  published: string;
}): ApResolve {
  return {
    id: o.id,
    type: 'Resolve',
    actor: o.actor,
    object: o.flag,
    to: [o.flag.actor],
    cc: [],
    audience: o.group,
    published: o.published,
  };
}
