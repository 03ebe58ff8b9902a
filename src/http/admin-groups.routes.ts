/** Admin API: groups (list, create, get, delete), their settings, pending join requests and members. */
import type { Router } from 'express';
import type { Group, Member } from '../storage/store.ts';
import type { MemberDecisionError, SettingsChangeError } from '../groups/moderation.service.ts';
import {
  MAX_RULES_LENGTH,
  MAX_SUMMARY_LENGTH,
  MAX_TAGS,
  MAX_TITLE_LENGTH,
  MAX_URL_LENGTH,
  type SettingsPatch,
} from '../groups/settings.service.ts';
import { HttpError } from './http-error.ts';
import type { AdminRouteDeps } from './admin.routes.ts';
import {
  actorFrom,
  iso,
  jsonBody,
  optBoolean,
  optInteger,
  optNullableString,
  optString,
  optStringArray,
  page,
  pageQuery,
  param,
  reqString,
  stringCursor,
  type Body,
} from './admin-decode.ts';

const SETTINGS_FIELDS = [
  'title',
  'summary',
  'rules',
  'language',
  'tags',
  'sensitive',
  'discoverable',
  'listFollowers',
  'acceptGroupFollowers',
  'membershipPolicy',
  'postingPolicy',
  'maxGroupMentions',
  'maxPostsPerHour',
  'maxActivitiesPerHour',
  'maxEditsPerPostPerHour',
  'premoderateFirstPosts',
  'iconUrl',
  'bannerUrl',
] as const;

/** A live group, or 404. */
export async function liveGroup(d: AdminRouteDeps, name: string): Promise<Group> {
  const g = await d.groups.get(name);
  if (!g) throw new HttpError(404, 'no such group');
  return g;
}

export function groupAdminRoutes(r: Router, d: AdminRouteDeps): void {
  const groupJson = async (g: Group) => {
    const [members, pending] = await Promise.all([
      d.store.members.countMembers(g.name, 'accepted'),
      d.store.members.countMembers(g.name, 'pending'),
    ]);
    return {
      name: g.name,
      handle: `@${g.name}@${d.domain}`,
      actor: d.urls.group(g.name),
      title: g.title,
      summary: g.summary,
      createdAt: iso(g.createdAt),
      updatedAt: iso(g.updatedAt),
      settings: { ...g.settings, tags: [...g.settings.tags] },
      members,
      pending,
    };
  };

  r.get('/groups', async (req, res) => {
    const q = pageQuery(req);
    const groups = await d.groups.list(stringCursor(q.after), q.limit);
    const p = page(
      groups,
      q.limit,
      (g) => g,
      (g) => [g.name],
    );
    res.json({ items: await Promise.all(p.items.map(groupJson)), next: p.next });
  });

  r.post('/groups', async (req, res) => {
    const body = jsonBody(req, ['name', 'title', 'summary']);
    const name = reqString(body, 'name', 64);
    const fields: { title?: string; summary?: string } = {};
    const title = optString(body, 'title', MAX_TITLE_LENGTH + 100);
    const summary = optString(body, 'summary', MAX_SUMMARY_LENGTH + 100);
    if (title !== undefined) fields.title = title;
    if (summary !== undefined) fields.summary = summary;
    const created = await d.groups.create(name, fields);
    if (!created.ok) {
      switch (created.error.type) {
        case 'invalid-name':
        case 'invalid-field':
          throw new HttpError(400, created.error.detail);
        case 'name-taken':
          throw new HttpError(409, 'the name is taken (names of deleted groups are never reused)');
        default: {
          const never: never = created.error;
          throw new Error(`unhandled ${JSON.stringify(never)}`);
        }
      }
    }
    res
      .status(201)
      .location(`${req.baseUrl}/groups/${name}`)
      .json(await groupJson(created.value));
  });

  r.get('/groups/:name', async (req, res) => {
    res.json(await groupJson(await liveGroup(d, param(req, 'name'))));
  });

  r.delete('/groups/:name', async (req, res) => {
    const deleted = await d.groups.delete(param(req, 'name'));
    if (!deleted.ok)
      throw new HttpError(
        404,
        deleted.error.type === 'not-found' ? 'no such group' : 'the group is already deleted',
      );
    res.status(204).end();
  });

  r.patch('/groups/:name/settings', async (req, res) => {
    const name = param(req, 'name');
    const patch = settingsPatch(jsonBody(req, SETTINGS_FIELDS));
    await liveGroup(d, name);
    const updated = await d.moderation.changeSettings(name, patch, { by: 'admin' });
    if (!updated.ok) {
      const e: SettingsChangeError = updated.error;
      switch (e.type) {
        case 'not-found':
        case 'group-not-found':
        case 'post-not-found':
          throw new HttpError(404, 'no such group');
        case 'not-allowed':
          throw new HttpError(403, 'not allowed');
        case 'invalid': {
          if (!('problems' in e)) throw new HttpError(400, e.detail);
          const problems = e.problems.map((p) => ({
            field: p.field === 'icon' ? 'iconUrl' : p.field === 'banner' ? 'bannerUrl' : p.field,
            detail: p.detail,
          }));
          res
            .status(400)
            .json({ error: problems.map((p) => `${p.field}: ${p.detail}`).join('; '), problems });
          return;
        }
        default: {
          const never: never = e;
          throw new Error(`unhandled ${JSON.stringify(never)}`);
        }
      }
    }
    const v = updated.value;
    const changed = v.changed.map((f) => (f === 'icon' ? 'iconUrl' : f === 'banner' ? 'bannerUrl' : f));
    res.json({ group: await groupJson(v.group), changed, approvedPending: v.approvedPending });
  });

  r.get('/groups/:name/pending', async (req, res) => {
    const name = param(req, 'name');
    const q = pageQuery(req);
    const listed = await d.membership.listPending(name, stringCursor(q.after), q.limit);
    if (!listed.ok) throw new HttpError(404, 'no such group');
    res.json(page(listed.value, q.limit, memberJson, (m) => [m.actorId]));
  });

  for (const action of ['approve', 'reject'] as const) {
    r.post(`/groups/:name/pending/:actor/${action}`, async (req, res) => {
      const name = param(req, 'name');
      await liveGroup(d, name);
      const actorId = await actorFrom(param(req, 'actor'), d.handles);
      if (action === 'approve') {
        const done = await d.moderation.approveMember(name, actorId, { by: 'admin' });
        if (!done.ok) throw membershipHttpError(done.error);
        res.json(memberJson(done.value));
        return;
      }
      const done = await d.moderation.rejectMember(name, actorId, { by: 'admin' });
      if (!done.ok) throw membershipHttpError(done.error);
      res.json({ actor: actorId, rejected: true });
    });
  }

  r.delete('/groups/:name/members/:actor', async (req, res) => {
    const name = param(req, 'name');
    await liveGroup(d, name);
    const actorId = await actorFrom(param(req, 'actor'), d.handles);
    const removed = await d.moderation.removeMember(name, actorId, { by: 'admin' });
    if (!removed.ok) throw membershipHttpError(removed.error);
    res.json({ actor: actorId, removed: true });
  });
}

function memberJson(m: Member) {
  return {
    actor: m.actorId,
    inbox: m.inbox,
    state: m.state,
    followId: m.followId,
    createdAt: iso(m.createdAt),
    updatedAt: iso(m.updatedAt),
  };
}

function membershipHttpError(e: MemberDecisionError): HttpError {
  switch (e.type) {
    case 'group-not-found':
      return new HttpError(404, 'no such group');
    case 'not-allowed':
      return new HttpError(403, 'not allowed');
    case 'post-not-found':
    case 'not-found':
      return new HttpError(404, 'not found');
    case 'invalid':
      return new HttpError(400, e.detail);
    case 'no-such-request':
      return e.isMember
        ? new HttpError(409, 'the actor is already a member')
        : new HttpError(404, 'the actor has no pending join request');
    case 'not-a-member':
      return new HttpError(404, 'the actor is not a member');
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}

/** Decodes the types of a settings body; the values themselves are checked by the settings service. */
function settingsPatch(body: Body): SettingsPatch {
  const patch: SettingsPatch = {};
  const title = optString(body, 'title', MAX_TITLE_LENGTH + 100);
  if (title !== undefined) patch.title = title;
  const summary = optString(body, 'summary', MAX_SUMMARY_LENGTH + 100);
  if (summary !== undefined) patch.summary = summary;
  const rules = optString(body, 'rules', MAX_RULES_LENGTH + 100);
  if (rules !== undefined) patch.rules = rules;
  const language = optNullableString(body, 'language', 64);
  if (language !== undefined) patch.language = language;
  const tags = optStringArray(body, 'tags', MAX_TAGS * 4, 100);
  if (tags !== undefined) patch.tags = tags;
  for (const key of ['sensitive', 'discoverable', 'listFollowers', 'acceptGroupFollowers'] as const) {
    const v = optBoolean(body, key);
    if (v !== undefined) patch[key] = v;
  }
  const membership = optString(body, 'membershipPolicy', 32);
  if (membership !== undefined) {
    if (membership !== 'open' && membership !== 'approval')
      throw new HttpError(400, 'membershipPolicy must be open or approval');
    patch.membershipPolicy = membership;
  }
  const posting = optString(body, 'postingPolicy', 32);
  if (posting !== undefined) {
    if (posting !== 'members' && posting !== 'moderators')
      throw new HttpError(400, 'postingPolicy must be members or moderators');
    patch.postingPolicy = posting;
  }
  const mentions = optInteger(body, 'maxGroupMentions');
  if (mentions !== undefined) patch.maxGroupMentions = mentions;
  const perHour = optInteger(body, 'maxPostsPerHour');
  if (perHour !== undefined) patch.maxPostsPerHour = perHour;
  const activities = optInteger(body, 'maxActivitiesPerHour');
  if (activities !== undefined) patch.maxActivitiesPerHour = activities;
  const edits = optInteger(body, 'maxEditsPerPostPerHour');
  if (edits !== undefined) patch.maxEditsPerPostPerHour = edits;
  const firstPosts = optInteger(body, 'premoderateFirstPosts');
  if (firstPosts !== undefined) patch.premoderateFirstPosts = firstPosts;
  const icon = optNullableString(body, 'iconUrl', MAX_URL_LENGTH);
  if (icon !== undefined) patch.icon = icon === null ? null : { url: icon };
  const banner = optNullableString(body, 'bannerUrl', MAX_URL_LENGTH);
  if (banner !== undefined) patch.banner = banner === null ? null : { url: banner };
  if (Object.keys(patch).length === 0) throw new HttpError(400, 'nothing to change: give at least one field');
  return patch;
}
