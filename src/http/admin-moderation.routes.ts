/**
 * Admin API: a group's moderators, bans, posts (remove, restore, pin, lock), reports and held posts, and the
 * audit log. Acts as `admin`, through the moderation service that every surface uses.
 */
import type { Router } from 'express';
import type { ModerationError } from '../groups/moderation.service.ts';
import { parseDuration } from '../groups/commands.service.ts';
import { GROUP_NAME_RE } from '../activitypub/urls.ts';
import type { AuditEntry, Ban, HeldPost, Moderator, Report } from '../storage/moderation.store.ts';
import { HttpError } from './http-error.ts';
import { httpIdText } from '../activitypub/vocab.ts';
import type { AdminRouteDeps } from './admin.routes.ts';
import { liveGroup } from './admin-groups.routes.ts';
import {
  actorFrom,
  iso,
  jsonBody,
  numberStringCursor,
  optBoolean,
  optString,
  optionalBody,
  page,
  pageQuery,
  param,
  query,
  reasonField,
  reqString,
  stringCursor,
} from './admin-decode.ts';

export function moderationAdminRoutes(r: Router, d: AdminRouteDeps): void {
  r.get('/groups/:name/moderators', async (req, res) => {
    const name = param(req, 'name');
    const q = pageQuery(req);
    await liveGroup(d, name);
    const after = numberStringCursor(q.after);
    const list = await d.store.moderators.listModerators(
      name,
      after ? { addedAt: after[0], actorId: after[1] } : null,
      q.limit,
    );
    res.json(page(list, q.limit, moderatorJson, (m) => [m.addedAt, m.actorId]));
  });

  r.post('/groups/:name/moderators', async (req, res) => {
    const name = param(req, 'name');
    const body = jsonBody(req, ['actor', 'reason']);
    const given = reqString(body, 'actor', 2048);
    const reason = reasonField(body);
    await liveGroup(d, name);
    const actorId = await actorFrom(given, d.handles);
    const added = await d.moderation.addModerator(name, actorId, { by: 'admin', reason });
    if (!added.ok) throw moderationHttpError(added.error);
    res.status(added.value ? 201 : 200).json({ actor: actorId, added: added.value });
  });

  r.delete('/groups/:name/moderators/:actor', async (req, res) => {
    const name = param(req, 'name');
    await liveGroup(d, name);
    const actorId = await actorFrom(param(req, 'actor'), d.handles);
    const removed = await d.moderation.removeModerator(name, actorId, { by: 'admin' });
    if (!removed.ok) throw moderationHttpError(removed.error);
    if (!removed.value) throw new HttpError(404, 'the actor is not a moderator of this group');
    res.status(204).end();
  });

  r.get('/groups/:name/bans', async (req, res) => {
    const name = param(req, 'name');
    const q = pageQuery(req);
    await liveGroup(d, name);
    const bans = await d.store.bans.listBans(name, stringCursor(q.after), q.limit);
    const now = Date.now();
    res.json(
      page(
        bans,
        q.limit,
        (b) => banJson(b, now),
        (b) => [b.actorId],
      ),
    );
  });

  r.post('/groups/:name/bans', async (req, res) => {
    const name = param(req, 'name');
    const body = jsonBody(req, ['actor', 'reason', 'duration', 'expiresAt', 'removePosts']);
    const given = reqString(body, 'actor', 2048);
    const reason = reasonField(body);
    const removePosts = optBoolean(body, 'removePosts') ?? false;
    const expiresAt = banEnd(optString(body, 'duration', 16), optString(body, 'expiresAt', 64));
    await liveGroup(d, name);
    const actorId = await actorFrom(given, d.handles);
    const banned = await d.moderation.ban(name, actorId, { by: 'admin', reason, expiresAt, removePosts });
    if (!banned.ok) throw moderationHttpError(banned.error);
    const ban = await d.store.bans.getActiveBan(name, actorId, Date.now());
    res.status(banned.value ? 201 : 200).json({
      changed: banned.value,
      ban: ban ? banJson(ban, Date.now()) : null,
    });
  });

  r.delete('/groups/:name/bans/:actor', async (req, res) => {
    const name = param(req, 'name');
    await liveGroup(d, name);
    const actorId = await actorFrom(param(req, 'actor'), d.handles);
    const lifted = await d.moderation.unban(name, actorId, { by: 'admin' });
    if (!lifted.ok) throw moderationHttpError(lifted.error);
    if (!lifted.value) throw new HttpError(404, 'the actor is not banned from this group');
    res.status(204).end();
  });

  r.get('/groups/:name/reports', async (req, res) => {
    const name = param(req, 'name');
    const q = pageQuery(req);
    const state = query(req, 'state') ?? 'open';
    if (state !== 'open' && state !== 'resolved') throw new HttpError(400, 'state must be open or resolved');
    await liveGroup(d, name);
    const after = numberStringCursor(q.after);
    const reports = await d.store.reports.listReports(
      name,
      state,
      after ? { createdAt: after[0], id: after[1] } : null,
      q.limit,
    );
    res.json(page(reports, q.limit, reportJson, (x) => [x.createdAt, x.id]));
  });

  r.post('/groups/:name/reports/:id/resolve', async (req, res) => {
    const name = param(req, 'name');
    const id = param(req, 'id');
    const reason = reasonField(optionalBody(req, ['reason']));
    const resolved = await d.moderation.resolveReport(name, id, { by: 'admin', reason });
    if (!resolved.ok) throw moderationHttpError(resolved.error);
    const report = await d.store.reports.getReport(id);
    res.json({ changed: resolved.value, report: report ? reportJson(report) : null });
  });

  r.get('/groups/:name/held', async (req, res) => {
    const name = param(req, 'name');
    const q = pageQuery(req);
    await liveGroup(d, name);
    const after = numberStringCursor(q.after);
    const held = await d.store.held.listHeldPosts(
      name,
      after ? { createdAt: after[0], objectId: after[1] } : null,
      q.limit,
    );
    res.json(page(held, q.limit, heldJson, (h) => [h.createdAt, h.objectId]));
  });

  for (const action of ['approve', 'reject'] as const) {
    r.post(`/groups/:name/held/:object/${action}`, async (req, res) => {
      const name = param(req, 'name');
      const objectId = postId(param(req, 'object'));
      const reason = reasonField(optionalBody(req, ['reason']));
      const o = { by: 'admin' as const, reason };
      const done =
        action === 'approve'
          ? await d.moderation.approvePost(name, objectId, o)
          : await d.moderation.rejectPost(name, objectId, o);
      if (!done.ok) throw moderationHttpError(done.error, 'no such held post in this group');
      res.json({ object: objectId, [action === 'approve' ? 'approved' : 'rejected']: true });
    });
  }

  r.post('/groups/:name/posts/:object/:action', async (req, res) => {
    const name = param(req, 'name');
    const objectId = postId(param(req, 'object'));
    const action = param(req, 'action');
    const reason = reasonField(optionalBody(req, ['reason']));
    const o = { by: 'admin' as const, reason };
    const m = d.moderation;
    const run = {
      remove: () => m.removePost(name, objectId, o),
      restore: () => m.restorePost(name, objectId, o),
      pin: () => m.setPinned(name, objectId, true, o),
      unpin: () => m.setPinned(name, objectId, false, o),
      lock: () => m.setLocked(name, objectId, true, o),
      unlock: () => m.setLocked(name, objectId, false, o),
    }[action];
    if (!run) throw new HttpError(404, 'the actions on a post are remove, restore, pin, unpin, lock, unlock');
    const done = await run();
    if (!done.ok) throw moderationHttpError(done.error);
    res.json({ object: objectId, action, changed: done.value });
  });

  r.get('/audit', async (req, res) => {
    const q = pageQuery(req);
    const after = numberStringCursor(q.after);
    const entries = await d.store.audit.listAudit(
      { all: true },
      after ? { at: after[0], id: after[1] } : null,
      q.limit,
    );
    res.json(page(entries, q.limit, auditJson, (e) => [e.at, e.id]));
  });

  r.get('/groups/:name/audit', async (req, res) => {
    const name = param(req, 'name');
    const q = pageQuery(req);
    // A deleted group's log stays readable.
    if (!GROUP_NAME_RE.test(name) || (await d.store.groups.getGroup(name)) === null)
      throw new HttpError(404, 'no such group');
    const after = numberStringCursor(q.after);
    const entries = await d.store.audit.listAudit(
      { group: name },
      after ? { at: after[0], id: after[1] } : null,
      q.limit,
    );
    res.json(page(entries, q.limit, auditJson, (e) => [e.at, e.id]));
  });
}

/** When a ban ends: from `duration` (`7d`, `12h`...) or `expiresAt` (ISO 8601, in the future); null = never. */
function banEnd(duration: string | undefined, expiresAt: string | undefined): number | null {
  if (duration !== undefined && expiresAt !== undefined)
    throw new HttpError(400, 'give duration or expiresAt, not both');
  if (duration !== undefined) {
    const ms = parseDuration(duration);
    if (ms === null || ms === 0)
      throw new HttpError(400, 'duration must be a number and a unit: 30m, 12h, 7d, 2w');
    return Date.now() + ms;
  }
  if (expiresAt !== undefined) {
    const at = /^\d{4}-\d\d-\d\dT/.test(expiresAt) ? Date.parse(expiresAt) : NaN;
    if (!Number.isFinite(at)) throw new HttpError(400, 'expiresAt must be an ISO 8601 date and time');
    if (at <= Date.now()) throw new HttpError(400, 'expiresAt must be in the future');
    return at;
  }
  return null;
}

/** A post's id as given in a path (URL-encoded): an http(s) URL. */
function postId(given: string): string {
  const id = httpIdText(given);
  if (id === null) throw new HttpError(400, 'give the post as its URL-encoded http(s) id');
  return id;
}

function moderationHttpError(e: ModerationError, notFound = 'no such report in this group'): HttpError {
  switch (e.type) {
    case 'group-not-found':
      return new HttpError(404, 'no such group');
    case 'not-allowed':
      return new HttpError(403, 'not allowed');
    case 'post-not-found':
      return new HttpError(404, 'no such post in this group');
    case 'not-found':
      return new HttpError(404, notFound);
    case 'invalid':
      return new HttpError(400, e.detail);
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}

function moderatorJson(m: Moderator) {
  return { actor: m.actorId, addedBy: m.addedBy, addedAt: iso(m.addedAt) };
}

function banJson(b: Ban, now: number) {
  return {
    actor: b.actorId,
    reason: b.reason,
    by: b.by,
    createdAt: iso(b.createdAt),
    expiresAt: b.expiresAt === null ? null : iso(b.expiresAt),
    active: b.expiresAt === null || b.expiresAt > now,
  };
}

function reportJson(x: Report) {
  return {
    id: x.id,
    reporter: x.reporterId,
    target: x.targetActorId,
    objects: x.objectIds,
    reason: x.reason,
    flagId: x.flagId,
    state: x.state,
    createdAt: iso(x.createdAt),
    resolvedAt: x.resolvedAt === null ? null : iso(x.resolvedAt),
    resolvedBy: x.resolvedBy,
  };
}

function heldJson(h: HeldPost) {
  let activity: unknown = null;
  try {
    activity = JSON.parse(h.activityJson);
  } catch {
    activity = null;
  }
  return { object: h.objectId, author: h.authorId, reason: h.reason, createdAt: iso(h.createdAt), activity };
}

function auditJson(e: AuditEntry) {
  return {
    id: e.id,
    group: e.groupName,
    by: e.actorId,
    action: e.action,
    target: e.target,
    reason: e.reason,
    at: iso(e.at),
  };
}
