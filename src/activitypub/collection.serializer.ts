/**
 * Wire forms of a group's collections, in the shapes Lemmy 0.19 deserializes (LemmyNet/lemmy,
 * crates/apub/src/protocol/collections/) and Mastodon and GoToSocial read. No I/O.
 *
 * ActivityStreams omits an empty `items`/`orderedItems`; Guild does so on every page, which Mastodon
 * (app/helpers/json_ld_helper.rb: `as_array` of the page's items) and GoToSocial (internal/ap/collections.go:
 * the iterators end at once without items) read as no items, and Lemmy does not read. The collections that
 * Lemmy deserializes as a whole keep the property even when empty, because Lemmy declares it without a
 * default and refuses the document without it: `group_outbox.rs` (`ordered_items`, `total_items`),
 * `group_featured.rs` (the same), `group_moderators.rs` (`ordered_items`) and `group_followers.rs` (`items`,
 * always empty there). Mastodon needs it too on `featured` (fetch_featured_collection_service.rb calls
 * `filter_map` on the items it finds, which fails on none).
 */
import { GUILD_CONTEXT, type ApObject } from './vocab.ts';

/**
 * The outbox (FEP-1b12: the group's Announces, newest first). `totalItems` and `first` describe the whole;
 * `orderedItems` carries the newest posts inline, because Lemmy reads only the items of the collection itself
 * and backfills a newly known community from them (collections/community_outbox.rs, `GroupOutbox`).
 */
export function toApOutbox(id: string, totalItems: number, newestPosts: ApObject[]): ApObject {
  return {
    '@context': GUILD_CONTEXT,
    id,
    type: 'OrderedCollection',
    totalItems,
    first: `${id}?page=1`,
    orderedItems: newestPosts.map(withoutContext),
  };
}

/** One page of an ordered collection; an empty page has no `orderedItems`. */
export function toApOrderedPage(p: {
  id: string;
  partOf: string;
  items: unknown[];
  next: string | null;
  totalItems?: number;
}): ApObject {
  return {
    '@context': GUILD_CONTEXT,
    id: p.id,
    type: 'OrderedCollectionPage',
    partOf: p.partOf,
    ...(p.totalItems === undefined ? {} : { totalItems: p.totalItems }),
    ...(p.items.length > 0 ? { orderedItems: p.items.map(withoutContextIfObject) } : {}),
    ...(p.next ? { next: p.next } : {}),
  };
}

/**
 * The followers (the members). Lemmy counts a community's subscribers only from a `Collection` (not an
 * `OrderedCollection`) with `totalItems` and an empty `items` (collections/community_follower.rs,
 * protocol/collections/group_followers.rs: `items: Vec<()>`); Mastodon and GoToSocial read `totalItems` of any
 * collection type. When members are listed, `first` leads to pages of their ids.
 */
export function toApFollowers(id: string, totalItems: number, first: string | null): ApObject {
  return {
    '@context': GUILD_CONTEXT,
    id,
    type: 'Collection',
    totalItems,
    items: [],
    ...(first ? { first } : {}),
  };
}

/** One page of the followers: member ids; an empty page has no `items`. */
export function toApFollowersPage(p: {
  id: string;
  partOf: string;
  totalItems: number;
  actorIds: string[];
  next: string | null;
}): ApObject {
  return {
    '@context': GUILD_CONTEXT,
    id: p.id,
    type: 'CollectionPage',
    partOf: p.partOf,
    totalItems: p.totalItems,
    ...(p.actorIds.length > 0 ? { items: p.actorIds } : {}),
    ...(p.next ? { next: p.next } : {}),
  };
}

/**
 * The moderators (the group's `attributedTo`), inline: Lemmy and Mbin read no pages of it. The collection also
 * names the group's inbox and the shared inbox: snac addresses a post's Delete to the `attributedTo` of each
 * actor that boosted the post, and delivers it to the `endpoints.sharedInbox` or `inbox` of whatever document
 * that URL answers with (snac `activitypub.c`: `msg_delete`, `get_atto`, `get_actor_inbox`). Lemmy reads only
 * `type`, `id` and `orderedItems` (`crates/apub/src/protocol/collections/group_moderators.rs`, no
 * `deny_unknown_fields`). `actorIds` null leaves the list out (a reader that may not see it).
 */
export function toApModerators(
  id: string,
  totalItems: number,
  actorIds: string[] | null,
  inboxes: { inbox: string; sharedInbox: string },
): ApObject {
  return {
    '@context': GUILD_CONTEXT,
    id,
    type: 'OrderedCollection',
    totalItems,
    ...(actorIds === null ? {} : { orderedItems: actorIds }),
    inbox: inboxes.inbox,
    endpoints: { sharedInbox: inboxes.sharedInbox },
  };
}

/**
 * The pinned posts, as full objects: Lemmy deserializes each item as a `Page` and then refetches it by its id
 * (collections/community_featured.rs, protocol/collections/group_featured.rs: `Vec<Page>`).
 */
export function toApFeatured(id: string, objects: ApObject[]): ApObject {
  return {
    '@context': GUILD_CONTEXT,
    id,
    type: 'OrderedCollection',
    totalItems: objects.length,
    orderedItems: objects.map(withoutContext),
  };
}

/** A thread (FEP-7888 `context`): its posts are on the pages. */
export function toApThread(id: string, attributedTo: string): ApObject {
  return { '@context': GUILD_CONTEXT, id, type: 'OrderedCollection', attributedTo, first: `${id}?page=1` };
}

/** A document embedded in a collection carries no `@context` of its own. */
export function withoutContext(o: ApObject): ApObject {
  const { '@context': _context, ...rest } = o;
  return rest;
}

function withoutContextIfObject(v: unknown): unknown {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? withoutContext(v as ApObject) : v;
}
