/** The group actors, their collections and emitted activities, and the server's application actor. */
import { Router, type Request, type Response } from 'express';
import type { Store, OutboxCursor } from '../storage/store.ts';
import type { Urls } from '../groups/urls.ts';
import { groupKeyOwner, INSTANCE_KEY_OWNER } from '../groups/urls.ts';
import type { GroupService } from '../groups/group.service.ts';
import { toApGroup, toApOrderedCollection, toApTombstone } from '../activitypub/group.serializer.ts';
import { GUILD_CONTEXT } from '../activitypub/vocab.ts';
import { sendActivityJson, wantsActivityJson } from './negotiation.ts';
import { renderGroupPage } from '../web/group.page.ts';
import type { FetchAuthorization } from '../federation/signed-fetch.ts';

export interface ActorRoutesDeps {
  store: Store;
  urls: Urls;
  domain: string;
  groups: GroupService;
  /** Checks a GET's signature when signed fetches are required; null lets every GET through. */
  authorizeFetch: ((req: Request) => Promise<FetchAuthorization>) | null;
}

const PAGE_SIZE = 20;

export function actorRoutes(d: ActorRoutesDeps): Router {
  const r = Router();

  /** Answers ActivityPub GETs only for signed requests when secure mode is on. */
  const authorized = async (req: Request, res: Response): Promise<boolean> => {
    if (!d.authorizeFetch) return true;
    const verdict = await d.authorizeFetch(req);
    if (verdict.ok) return true;
    if (verdict.status === 429) res.set('Retry-After', String(verdict.retryAfterS));
    res.status(verdict.status).json({
      error: verdict.status === 401 ? `a signed request is required (${verdict.message})` : verdict.message,
    });
    return false;
  };

  r.get('/actor', async (req, res) => {
    const pem = await d.store.keys.getPublicKey(INSTANCE_KEY_OWNER);
    if (!pem) {
      res.status(503).json({ error: 'starting' });
      return;
    }
    const id = d.urls.instanceActor();
    // The application actor is always served unsigned: peers fetch it to verify our signed GETs.
    sendActivityJson(res, {
      '@context': GUILD_CONTEXT,
      id,
      type: 'Application',
      preferredUsername: d.domain,
      name: d.domain,
      inbox: d.urls.sharedInbox(),
      outbox: `${id}/outbox`,
      url: d.urls.origin,
      endpoints: { sharedInbox: d.urls.sharedInbox() },
      manuallyApprovesFollowers: true,
      publicKey: { id: d.urls.instanceKeyId(), owner: id, publicKeyPem: pem },
    });
    void req;
  });

  r.get('/groups/:name', async (req, res) => {
    const name = req.params.name;
    const group = await d.store.groups.getGroup(name);
    if (!group) {
      res.status(404).type('text/plain').send('No such group');
      return;
    }
    if (!wantsActivityJson(req)) {
      res
        .status(group.deletedAt ? 410 : 200)
        .set('Vary', 'Accept')
        .type('html');
      res.send(await renderGroupPage({ group, store: d.store, urls: d.urls, domain: d.domain }));
      return;
    }
    if (!(await authorized(req, res))) return;
    if (group.deletedAt !== null) {
      sendActivityJson(res, toApTombstone(d.urls.group(name), group.deletedAt), 410);
      return;
    }
    const pem = await d.store.keys.getPublicKey(groupKeyOwner(name));
    if (!pem) throw new Error(`group ${name} has no key`);
    sendActivityJson(res, toApGroup(group, d.urls, pem, d.domain));
  });

  r.get('/groups/:name/followers', async (req, res) => {
    const group = await d.groups.get(req.params.name);
    if (!group) return notFound(res);
    if (!(await authorized(req, res))) return;
    const total = await d.store.members.countMembers(group.name, 'accepted');
    const id = d.urls.followers(group.name);
    if (!group.settings.listFollowers) {
      sendActivityJson(res, toApOrderedCollection(id, total));
      return;
    }
    const after = typeof req.query.after === 'string' ? req.query.after : null;
    if (req.query.page === undefined && after === null) {
      sendActivityJson(res, toApOrderedCollection(id, total, { first: `${id}?page=1` }));
      return;
    }
    const members = await d.store.members.listMembers(group.name, 'accepted', after, PAGE_SIZE);
    const last = members[members.length - 1];
    sendActivityJson(res, {
      '@context': GUILD_CONTEXT,
      id: after ? `${id}?after=${encodeURIComponent(after)}` : `${id}?page=1`,
      type: 'OrderedCollectionPage',
      partOf: id,
      totalItems: total,
      orderedItems: members.map((m) => m.actorId),
      ...(members.length === PAGE_SIZE && last
        ? { next: `${id}?after=${encodeURIComponent(last.actorId)}` }
        : {}),
    });
  });

  r.get('/groups/:name/outbox', async (req, res) => {
    const group = await d.groups.get(req.params.name);
    if (!group) return notFound(res);
    if (!(await authorized(req, res))) return;
    const id = d.urls.outbox(group.name);
    const total = await d.store.activities.countOutbox(group.name);
    const beforeParam = typeof req.query.before === 'string' ? req.query.before : null;
    if (req.query.page === undefined && beforeParam === null) {
      sendActivityJson(res, toApOrderedCollection(id, total, { first: `${id}?page=1` }));
      return;
    }
    const before = beforeParam ? decodeCursor(beforeParam) : null;
    if (beforeParam && !before) {
      res.status(400).json({ error: 'bad cursor' });
      return;
    }
    const items = await d.store.activities.listOutbox(group.name, before, PAGE_SIZE);
    const last = items[items.length - 1];
    sendActivityJson(res, {
      '@context': GUILD_CONTEXT,
      id: beforeParam ? `${id}?before=${beforeParam}` : `${id}?page=1`,
      type: 'OrderedCollectionPage',
      partOf: id,
      totalItems: total,
      orderedItems: items.map((a) => withoutContext(JSON.parse(a.json) as Record<string, unknown>)),
      ...(items.length === PAGE_SIZE && last
        ? { next: `${id}?before=${encodeCursor({ published: last.published, id: last.id })}` }
        : {}),
    });
  });

  r.get('/groups/:name/moderators', async (req, res) => {
    const group = await d.groups.get(req.params.name);
    if (!group) return notFound(res);
    if (!(await authorized(req, res))) return;
    // Lemmy and Mbin read the moderators inline; a group has few, so the first 1,000 are listed.
    const mods = await d.store.moderators.listModerators(group.name, null, 1000);
    const total = await d.store.moderators.countModerators(group.name);
    sendActivityJson(
      res,
      toApOrderedCollection(d.urls.moderators(group.name), total, {
        orderedItems: mods.map((m) => m.actorId),
      }),
    );
  });

  r.get('/groups/:name/featured', async (req, res) => {
    const group = await d.groups.get(req.params.name);
    if (!group) return notFound(res);
    if (!(await authorized(req, res))) return;
    const pinned = await d.store.postFlags.listPinned(group.name, 50);
    sendActivityJson(
      res,
      toApOrderedCollection(d.urls.featured(group.name), pinned.length, { orderedItems: pinned }),
    );
  });

  /** A thread (FEP-7888 `context`): the posts of the group in one thread, oldest first, paged. */
  r.get('/groups/:name/threads/:root', async (req, res) => {
    const group = await d.groups.get(req.params.name);
    if (!group) return notFound(res);
    if (!(await authorized(req, res))) return;
    const rootId = Buffer.from(req.params.root, 'base64url').toString('utf8');
    const root = await d.store.posts.getPost(group.name, rootId);
    if (!root || root.threadRoot !== rootId) return notFound(res);
    const id = d.urls.thread(group.name, rootId);
    const afterParam = typeof req.query.after === 'string' ? req.query.after : null;
    if (req.query.page === undefined && afterParam === null) {
      sendActivityJson(res, {
        '@context': GUILD_CONTEXT,
        id,
        type: 'OrderedCollection',
        attributedTo: root.authorId,
        first: `${id}?page=1`,
      });
      return;
    }
    const after = afterParam ? decodeCursor(afterParam) : null;
    if (afterParam && !after) {
      res.status(400).json({ error: 'bad cursor' });
      return;
    }
    const posts = await d.store.posts.listThread(group.name, rootId, after, PAGE_SIZE);
    const last = posts[posts.length - 1];
    sendActivityJson(res, {
      '@context': GUILD_CONTEXT,
      id: afterParam ? `${id}?after=${afterParam}` : `${id}?page=1`,
      type: 'OrderedCollectionPage',
      partOf: id,
      orderedItems: posts.filter((p) => p.deletedAt === null).map((p) => p.objectId),
      ...(posts.length === PAGE_SIZE && last
        ? { next: `${id}?after=${encodeCursor({ published: last.createdAt, id: last.objectId })}` }
        : {}),
    });
  });

  r.get('/groups/:name/activities/:id', async (req, res) => {
    const id = d.urls.activity(req.params.name, req.params.id);
    const stored = await d.store.activities.getActivity(id);
    if (!stored) return notFound(res);
    if (!(await authorized(req, res))) return;
    res.status(200).set('Content-Type', 'application/activity+json; charset=utf-8').send(stored.json);
  });

  return r;
}

function notFound(res: Response): void {
  res.status(404).json({ error: 'not found' });
}

function withoutContext(o: Record<string, unknown>): Record<string, unknown> {
  const { '@context': _c, ...rest } = o;
  return rest;
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
