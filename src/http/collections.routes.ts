/** The collections of a group: followers, outbox, moderators, featured posts and threads. */
import { Router, type Request } from 'express';
import type { Store, OutboxCursor } from '../storage/store.ts';
import type { Urls } from '../activitypub/urls.ts';
import type { GroupService } from '../groups/group.service.ts';
import {
  toApFeatured,
  toApFollowers,
  toApFollowersPage,
  toApModerators,
  toApOrderedPage,
  toApOutbox,
  toApThread,
} from '../activitypub/collection.serializer.ts';
import { isPublicDocument } from '../activitypub/audience.ts';
import { isObject, type ApObject } from '../activitypub/vocab.ts';
import { sendActivityJson } from './negotiation.ts';
import {
  allowedFetch,
  notFound,
  refuseFetch,
  type AuthorizeFetch,
  type FetchSigner,
} from './fetch-access.ts';
import { featuredObjects, newestPostAnnounces } from './collection-items.ts';

export interface CollectionRoutesDeps {
  store: Store;
  urls: Urls;
  groups: GroupService;
  authorizeFetch: AuthorizeFetch;
  /** Who signed a GET: the server of a group following this one may read its members. */
  fetchSigner: FetchSigner;
}

/** Members looked at to find a group following this one on the reader's server. */
const FOLLOWER_GROUP_SCAN = 200;

const PAGE_SIZE = 20;
/** Posts carried inline by the outbox collection (Lemmy backfills from them; it reads at most 50). */
const OUTBOX_INLINE_POSTS = 20;

export function collectionRoutes(d: CollectionRoutesDeps): Router {
  const r = Router();

  /** True when the GET is signed by the server of an accepted member of the group that is a group. */
  const readerHostsFollowerGroup = async (req: Request, name: string): Promise<boolean> => {
    const reader = await d.fetchSigner(req);
    if (reader === null || !URL.canParse(reader)) return false;
    const prefix = `${new URL(reader).origin}/`;
    const page = await d.store.members.listMembers(name, 'accepted', prefix, FOLLOWER_GROUP_SCAN);
    for (const m of page) {
      if (!m.actorId.startsWith(prefix)) break;
      if ((await d.store.remoteActors.getRemoteActor(m.actorId))?.type === 'Group') return true;
    }
    return false;
  };

  r.get('/groups/:name/followers', async (req, res) => {
    const group = await d.groups.get(req.params.name);
    if (!group) return notFound(res);
    if (!(await allowedFetch(d.authorizeFetch, req, res))) return;
    const total = await d.store.members.countMembers(group.name, 'accepted');
    const id = d.urls.followers(group.name);
    const after = typeof req.query.after === 'string' ? req.query.after : null;
    // A group following this one (FEP-d36d) reads the members, so that its server sends them nothing twice.
    const listed = group.settings.listFollowers || (await readerHostsFollowerGroup(req, group.name));
    if (!listed || (req.query.page === undefined && after === null)) {
      sendActivityJson(res, toApFollowers(id, total, listed ? `${id}?page=1` : null));
      return;
    }
    if (!group.settings.listFollowers) res.set('Cache-Control', 'private, no-store');
    const members = await d.store.members.listMembers(group.name, 'accepted', after, PAGE_SIZE);
    const last = members[members.length - 1];
    sendActivityJson(
      res,
      toApFollowersPage({
        id: after ? `${id}?after=${encodeURIComponent(after)}` : `${id}?page=1`,
        partOf: id,
        totalItems: total,
        actorIds: members.map((m) => m.actorId),
        next: members.length === PAGE_SIZE && last ? `${id}?after=${encodeURIComponent(last.actorId)}` : null,
      }),
    );
  });

  r.get('/groups/:name/outbox', async (req, res) => {
    const group = await d.groups.get(req.params.name);
    if (!group) return notFound(res);
    if (!(await allowedFetch(d.authorizeFetch, req, res))) return;
    const id = d.urls.outbox(group.name);
    const total = await d.store.activities.countOutbox(group.name);
    const beforeParam = typeof req.query.before === 'string' ? req.query.before : null;
    if (req.query.page === undefined && beforeParam === null) {
      const newest = await newestPostAnnounces(d.store, group.name, OUTBOX_INLINE_POSTS);
      sendActivityJson(res, toApOutbox(id, total, newest));
      return;
    }
    const before = beforeParam ? decodeCursor(beforeParam) : null;
    if (beforeParam && !before) {
      res.status(400).json({ error: 'bad cursor' });
      return;
    }
    const entries = await d.store.activities.listOutbox(group.name, before, PAGE_SIZE);
    const last = entries[entries.length - 1];
    const items: ApObject[] = [];
    for (const entry of entries) {
      const doc: unknown = JSON.parse(entry.json);
      if (isObject(doc) && isPublicDocument(doc)) items.push(doc);
    }
    sendActivityJson(
      res,
      toApOrderedPage({
        id: beforeParam ? `${id}?before=${beforeParam}` : `${id}?page=1`,
        partOf: id,
        totalItems: total,
        items,
        next:
          entries.length === PAGE_SIZE && last
            ? `${id}?before=${encodeCursor({ published: last.published, id: last.id })}`
            : null,
      }),
    );
  });

  r.get('/groups/:name/moderators', async (req, res) => {
    const group = await d.groups.get(req.params.name);
    if (!group) return notFound(res);
    const inboxes = { inbox: d.urls.inbox(group.name), sharedInbox: d.urls.sharedInbox() };
    const total = await d.store.moderators.countModerators(group.name);
    // snac reads where to deliver an author's Delete from this document with an unsigned GET: in secure mode a
    // reader without a valid signature gets the inboxes without the list of moderators.
    const verdict = d.authorizeFetch ? await d.authorizeFetch(req) : null;
    if (verdict && !verdict.ok) {
      if (verdict.status !== 401) return refuseFetch(verdict, res);
      sendActivityJson(res, toApModerators(d.urls.moderators(group.name), total, null, inboxes));
      return;
    }
    // Lemmy and Mbin read the moderators inline; a group has few, so the first 1,000 are listed.
    const mods = await d.store.moderators.listModerators(group.name, null, 1000);
    // The owner first: Lemmy takes the first moderator for the community's creator.
    const owner = (await d.store.owners.getOwner(group.name))?.actorId ?? null;
    const ids = mods.map((m) => m.actorId);
    const ordered =
      owner !== null && ids.includes(owner) ? [owner, ...ids.filter((id) => id !== owner)] : ids;
    sendActivityJson(res, toApModerators(d.urls.moderators(group.name), total, ordered, inboxes));
  });

  r.get('/groups/:name/featured', async (req, res) => {
    const group = await d.groups.get(req.params.name);
    if (!group) return notFound(res);
    if (!(await allowedFetch(d.authorizeFetch, req, res))) return;
    sendActivityJson(
      res,
      toApFeatured(d.urls.featured(group.name), await featuredObjects(d.store, group.name)),
    );
  });

  /** A thread (FEP-7888 `context`): the posts of the group in one thread, oldest first, paged. */
  r.get('/groups/:name/threads/:root', async (req, res) => {
    const group = await d.groups.get(req.params.name);
    if (!group) return notFound(res);
    if (!(await allowedFetch(d.authorizeFetch, req, res))) return;
    const rootId = Buffer.from(req.params.root, 'base64url').toString('utf8');
    const root = await d.store.posts.getPost(group.name, rootId);
    if (!root || root.threadRoot !== rootId) return notFound(res);
    const id = d.urls.thread(group.name, rootId);
    const afterParam = typeof req.query.after === 'string' ? req.query.after : null;
    if (req.query.page === undefined && afterParam === null) {
      sendActivityJson(res, toApThread(id, root.authorId));
      return;
    }
    const after = afterParam ? decodeCursor(afterParam) : null;
    if (afterParam && !after) {
      res.status(400).json({ error: 'bad cursor' });
      return;
    }
    const posts = await d.store.posts.listThread(group.name, rootId, after, PAGE_SIZE);
    const last = posts[posts.length - 1];
    sendActivityJson(
      res,
      toApOrderedPage({
        id: afterParam ? `${id}?after=${afterParam}` : `${id}?page=1`,
        partOf: id,
        items: posts.filter((p) => p.deletedAt === null).map((p) => p.objectId),
        next:
          posts.length === PAGE_SIZE && last
            ? `${id}?after=${encodeCursor({ published: last.createdAt, id: last.objectId })}`
            : null,
      }),
    );
  });

  return r;
}

export function encodeCursor(c: OutboxCursor): string {
  return Buffer.from(`${c.published}\n${c.id}`).toString('base64url');
}

export function decodeCursor(s: string): OutboxCursor | null {
  const text = Buffer.from(s, 'base64url').toString('utf8');
  const nl = text.indexOf('\n');
  if (nl < 0) return null;
  const published = Number(text.slice(0, nl));
  const id = text.slice(nl + 1);
  return Number.isSafeInteger(published) && id.length > 0 ? { published, id } : null;
}
