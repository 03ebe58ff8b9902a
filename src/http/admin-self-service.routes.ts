/**
 * Admin API: owners of groups, and the queue of requests to create groups (under `GUILD_GROUP_CREATION`). The
 * admin names, replaces or clears an owner, and approves or rejects queued requests; the requester is told by
 * direct message from the Service actor either way.
 */
import type { Router } from 'express';
import type { GroupRequest, GroupRequestState } from '../storage/self-service.store.ts';
import type { ModerationError } from '../groups/moderation.service.ts';
import { HttpError } from './http-error.ts';
import type { AdminRouteDeps } from './admin.routes.ts';
import { liveGroup } from './admin-groups.routes.ts';
import {
  actorFrom,
  iso,
  jsonBody,
  numberStringCursor,
  optionalBody,
  page,
  pageQuery,
  param,
  query,
  reasonField,
  reqString,
} from './admin-decode.ts';

const STATES: readonly GroupRequestState[] = ['pending', 'created', 'approved', 'rejected'];

export function selfServiceAdminRoutes(r: Router, d: AdminRouteDeps): void {
  r.get('/groups/:name/owner', async (req, res) => {
    const name = param(req, 'name');
    await liveGroup(d, name);
    const owner = await d.store.owners.getOwner(name);
    res.json({ actor: owner?.actorId ?? null, since: owner ? iso(owner.since) : null });
  });

  r.put('/groups/:name/owner', async (req, res) => {
    const name = param(req, 'name');
    const body = jsonBody(req, ['actor', 'reason']);
    const given = reqString(body, 'actor', 2048);
    const reason = reasonField(body);
    await liveGroup(d, name);
    const actorId = await actorFrom(given, d.handles);
    const done = await d.ownership.transfer(name, actorId, { by: 'admin', reason });
    if (!done.ok) throw ownerError(done.error);
    res.json({ actor: actorId, changed: done.value });
  });

  r.delete('/groups/:name/owner', async (req, res) => {
    const name = param(req, 'name');
    await liveGroup(d, name);
    const done = await d.ownership.clearOwner(name, {
      by: 'admin',
      reason: reasonField(optionalBody(req, ['reason'])),
    });
    if (!done.ok) throw ownerError(done.error);
    if (!done.value) throw new HttpError(404, 'the group has no owner');
    res.status(204).end();
  });

  r.get('/group-requests', async (req, res) => {
    const q = pageQuery(req);
    const state = query(req, 'state') ?? 'pending';
    const known = STATES.find((s) => s === state);
    if (!known) throw new HttpError(400, `state must be one of ${STATES.join(', ')}`);
    const after = numberStringCursor(q.after);
    const list = await d.creation.list(known, after ? { createdAt: after[0], id: after[1] } : null, q.limit);
    res.json({ mode: d.creation.mode, ...page(list, q.limit, requestJson, (x) => [x.createdAt, x.id]) });
  });

  for (const action of ['approve', 'reject'] as const) {
    r.post(`/group-requests/:id/${action}`, async (req, res) => {
      const id = param(req, 'id');
      const reason = reasonField(optionalBody(req, ['reason']));
      const done =
        action === 'approve' ? await d.creation.approve(id, reason) : await d.creation.reject(id, reason);
      if (!done.ok) {
        switch (done.error.type) {
          case 'not-found':
            throw new HttpError(404, 'no such request');
          case 'not-pending':
            throw new HttpError(409, 'the request was already decided');
          case 'name-taken':
            throw new HttpError(409, 'the name was taken meanwhile; reject the request');
          default: {
            const never: never = done.error;
            throw new Error(`unhandled ${JSON.stringify(never)}`);
          }
        }
      }
      const request = await d.creation.get(id);
      res.json(request ? requestJson(request) : { id });
    });
  }
}

function requestJson(r: GroupRequest) {
  return {
    id: r.id,
    name: r.name,
    title: r.title,
    requester: r.requesterId,
    state: r.state,
    reason: r.reason,
    createdAt: iso(r.createdAt),
    decidedAt: r.decidedAt === null ? null : iso(r.decidedAt),
  };
}

function ownerError(e: ModerationError): HttpError {
  switch (e.type) {
    case 'group-not-found':
      return new HttpError(404, 'no such group');
    case 'not-allowed':
      return new HttpError(403, 'not allowed');
    case 'invalid':
      return new HttpError(400, e.detail);
    case 'post-not-found':
    case 'not-found':
      return new HttpError(404, 'not found');
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}
