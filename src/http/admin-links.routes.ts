/**
 * Admin API: moving a group (export, import, move), groups following groups, and peered instances. The import
 * takes a whole export file, so it reads its body with a limit of its own ({@link IMPORT_MAX_BODY}); it is
 * registered before the API's JSON parser (see admin.routes.ts).
 */
import express, { type Router } from 'express';
import type { GroupFollow, Peer } from '../storage/links.store.ts';
import { decodeGroupExport } from '../groups/group-export.ts';
import { moveErrorText } from '../groups/moved.ts';
import { followErrorText } from '../groups/group-follow.service.ts';
import { peerErrorText } from '../groups/peering.service.ts';
import type { MoveError } from '../groups/move.service.ts';
import { HttpError } from './http-error.ts';
import type { AdminRouteDeps } from './admin.routes.ts';
import { iso, jsonBody, page, pageQuery, param, query, reqString, stringCursor } from './admin-decode.ts';
import { liveGroup } from './admin-groups.routes.ts';

/** Largest export file the import route reads. */
export const IMPORT_MAX_BODY = '256mb';

/** `POST /groups/import`: registered before the API's JSON parser, with a larger body limit. */
export function importAdminRoute(r: Router, d: AdminRouteDeps): void {
  r.post('/groups/import', express.json({ limit: IMPORT_MAX_BODY }), async (req, res) => {
    const name = query(req, 'name');
    const decoded = decodeGroupExport(req.body);
    if (!decoded.ok) {
      res.status(400).json({
        error: 'the export cannot be imported; nothing was changed',
        problems: decoded.error,
      });
      return;
    }
    const r = await d.moves.importGroup(decoded.value, name === undefined ? {} : { name });
    if (!r.ok) {
      if (r.error.type === 'name-taken')
        throw new HttpError(409, 'the name is taken; give another with ?name=');
      throw new HttpError(400, r.error.detail);
    }
    const g = r.value.group;
    res
      .status(r.value.resumed ? 200 : 201)
      .location(`${req.baseUrl}/groups/${g.name}`)
      .json({
        name: g.name,
        handle: `@${g.name}@${d.domain}`,
        actor: d.urls.group(g.name),
        alsoKnownAs: [decoded.value.source.actor],
        priorMembers: r.value.priorMembers,
        resumed: r.value.resumed,
      });
  });
}

export function linkAdminRoutes(r: Router, d: AdminRouteDeps): void {
  r.get('/groups/:name/export', async (req, res) => {
    const name = param(req, 'name');
    const exported = await d.moves.exportGroup(name);
    if (!exported.ok) throw new HttpError(404, 'no such group');
    res.set('Content-Disposition', `attachment; filename="${name}.guild-export.json"`).json(exported.value);
  });

  r.post('/groups/:name/move', async (req, res) => {
    const name = param(req, 'name');
    const to = reqString(jsonBody(req, ['to']), 'to', 2048);
    const moved = await d.moves.move(name, to, 'admin');
    if (!moved.ok) throw new HttpError(moveStatus(moved.error), moveErrorText(moved.error, name));
    res.json({ movedTo: moved.value.target });
  });

  r.get('/groups/:name/following', async (req, res) => {
    const name = param(req, 'name');
    await liveGroup(d, name);
    const q = pageQuery(req);
    const list = await d.groupFollows.list(name, stringCursor(q.after), q.limit);
    res.json(page(list, q.limit, followJson, (f) => [f.targetId]));
  });

  r.post('/groups/:name/following', async (req, res) => {
    const name = param(req, 'name');
    const target = reqString(jsonBody(req, ['target']), 'target', 2048);
    const followed = await d.groupFollows.follow(name, target, 'admin');
    if (!followed.ok)
      throw new HttpError(
        followed.error.type === 'group-not-found' ? 404 : 400,
        followErrorText(followed.error, name, target),
      );
    res.status(201).json(followJson(followed.value));
  });

  r.delete('/groups/:name/following', async (req, res) => {
    const name = param(req, 'name');
    const target = query(req, 'target');
    if (target === undefined) throw new HttpError(400, 'target is required (?target=)');
    const ended = await d.groupFollows.unfollow(name, target, 'admin');
    if (!ended.ok) throw new HttpError(404, followErrorText(ended.error, name, target));
    res.status(204).end();
  });

  r.get('/peers', async (req, res) => {
    const q = pageQuery(req);
    const list = await d.peering.list(stringCursor(q.after), q.limit);
    res.json(page(list, q.limit, peerJson, (p) => [p.host]));
  });

  r.post('/peers', async (req, res) => {
    const host = reqString(jsonBody(req, ['host']), 'host', 300);
    const added = await d.peering.add(host);
    if (!added.ok)
      throw new HttpError(added.error.type === 'not-found' ? 502 : 400, peerErrorText(added.error, host));
    res.status(201).json(peerJson(added.value));
  });

  r.delete('/peers/:host', async (req, res) => {
    const host = param(req, 'host');
    const removed = await d.peering.remove(host);
    if (!removed.ok) throw new HttpError(404, peerErrorText(removed.error, host));
    res.status(204).end();
  });
}

function moveStatus(e: MoveError): number {
  switch (e.type) {
    case 'group-not-found':
      return 404;
    case 'not-allowed':
      return 403;
    case 'already-moved':
      return 409;
    case 'target-not-found':
    case 'target-refused':
      return 422;
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}

function followJson(f: GroupFollow) {
  return { target: f.targetId, state: f.state, createdAt: iso(f.createdAt), updatedAt: iso(f.updatedAt) };
}

function peerJson(p: Peer) {
  return {
    host: p.host,
    actor: p.actorId,
    added: p.added,
    following: p.following,
    followedBy: p.followedBy,
    addedAt: iso(p.addedAt),
    lastSeenAt: iso(p.lastSeenAt),
  };
}
