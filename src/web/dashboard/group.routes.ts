/**
 * A group's dashboard, for its owner and moderators: one page per section, and one POST per action, each
 * through the same services as the CLI, the admin API and the commands by direct message, acting as the
 * signed-in person (who is recorded in the audit log). On every request the person's role in the group is
 * read from the store: someone who is not (or no longer) a moderator of it gets 404, a moderator gets 403 for
 * what only the owner may do, and bad input gets a message on the page while nothing changes.
 */
import { Router, type Request, type Response } from 'express';
import { parseDuration } from '../../groups/commands.service.ts';
import type { SettingsPatch } from '../../groups/settings.service.ts';
import type { GroupRole } from '../../groups/ownership.service.ts';
import { MAX_IMAGE_BYTES } from '../../groups/settings.service.ts';
import { escapeHtml } from '../../text/html.ts';
import { page } from '../layout.ts';
import { notice } from './forms.ts';
import { readMultipart, type MultipartForm } from './multipart.ts';
import { renderSection, sectionNav, sectionTitle, SECTIONS, type Section } from './group.pages.ts';
import { exportRoute, LINK_ACTIONS, LINK_DONE } from './links.section.ts';
import { dashboardPage, type DashboardDeps, type Viewer } from './dashboard.routes.ts';

type SignedIn = (
  h: (v: Viewer, req: Request, res: Response) => Promise<void>,
) => (req: Request, res: Response) => Promise<void>;

/** What an action did, or the message of why it did nothing. */
export type Done = { ok: true; message: string } | { ok: false; message: string; status?: number };

const uploads = new WeakMap<Request, MultipartForm>();

export function groupRoutes(d: DashboardDeps, signedIn: SignedIn): Router {
  const r = Router();

  /** The viewer's role in the live group, read now; null when none (the page then answers 404). */
  const roleOf = async (v: Viewer, name: string): Promise<GroupRole | null> =>
    d.ownership.roleIn(name, v.actorId);

  const notYours = (v: Viewer, res: Response): void => {
    res
      .status(404)
      .type('html')
      .send(
        dashboardPage(
          v,
          'Not found',
          `<h1>Not one of your groups</h1>\n<p><a href="/dashboard">Back to your groups</a></p>`,
        ),
      );
  };

  const show = async (
    v: Viewer,
    req: Request,
    res: Response,
    section: Section,
    status = 200,
    message = '',
  ): Promise<void> => {
    const name = String(req.params.name);
    const role = await roleOf(v, name);
    const group = role ? await d.store.groups.getGroup(name) : null;
    if (!role || !group) return notYours(v, res);
    const body = await renderSection(section, {
      store: d.store,
      group,
      role,
      csrf: v.csrf,
      domain: d.domain,
      query: req.query as Record<string, unknown>,
    });
    res
      .status(status)
      .type('html')
      .send(
        dashboardPage(
          v,
          `${sectionTitle(section)} · ${group.title}`,
          `<p><a href="/dashboard">Your groups</a></p>
<h1>${escapeHtml(group.title)} <span class="muted">@${escapeHtml(name)}@${escapeHtml(d.domain)}</span></h1>
<p>You are its <strong id="role">${role}</strong>.</p>
${sectionNav(name, section)}
${message}
<h2>${sectionTitle(section)}</h2>
${body}`,
        ),
      );
  };

  r.get(
    '/dashboard/groups/:name',
    signedIn(async (v, req, res) => {
      const done = req.query.done === 'created' ? notice('done', 'The group was created. You own it.') : '';
      await show(v, req, res, 'settings', 200, done);
    }),
  );

  exportRoute(r, d, signedIn, roleOf);
  r.get(
    '/dashboard/groups/:name/:section',
    signedIn(async (v, req, res) => {
      const section = SECTIONS.find((s) => s === req.params.section);
      if (!section) return notYours(v, res);
      const done = typeof req.query.done === 'string' ? (DONE[req.query.done] ?? '') : '';
      await show(v, req, res, section, 200, done ? notice('done', done) : '');
    }),
  );

  // The image form is multipart: read it (bounded) before the CSRF check, which reads its fields.
  r.post('/dashboard/groups/:name/images', async (req, res, next) => {
    const form = await readMultipart(req, 2 * MAX_IMAGE_BYTES + 64 * 1024);
    if (!form.ok) {
      res
        .status(form.status)
        .type('html')
        .send(
          page(
            'Upload refused',
            `<h1>Upload refused</h1>\n${notice('error', `${form.detail}. Nothing was changed.`)}`,
          ),
        );
      return;
    }
    uploads.set(req, form.form);
    req.body = Object.fromEntries(form.form.fields);
    next();
  });

  r.post(
    '/dashboard/groups/:name/:action',
    signedIn(async (v, req, res) => {
      const name = String(req.params.name);
      const action = String(req.params.action);
      const role = await roleOf(v, name);
      if (!role) return notYours(v, res);
      const spec = ACTIONS[action];
      if (!spec) return notYours(v, res);
      if (spec.ownerOnly && role !== 'owner') {
        await show(
          v,
          req,
          res,
          spec.section,
          403,
          notice('error', 'Only the owner of this group may do that. Nothing was changed.'),
        );
        return;
      }
      const body = (req.body ?? {}) as Record<string, unknown>;
      const done = await spec.run({ d, v, name, body, upload: uploads.get(req) ?? null });
      if (!done.ok)
        return show(
          v,
          req,
          res,
          spec.section,
          done.status ?? 400,
          notice('error', `${done.message} Nothing was changed.`),
        );
      if (action === 'delete') return res.redirect(303, '/dashboard');
      res.redirect(303, `/dashboard/groups/${name}/${spec.section}?done=${action}`);
    }),
  );
  return r;
}

export interface ActionContext {
  d: DashboardDeps;
  v: Viewer;
  name: string;
  body: Record<string, unknown>;
  upload: MultipartForm | null;
}

export interface ActionSpec {
  section: Section;
  ownerOnly?: boolean;
  run(c: ActionContext): Promise<Done>;
}

const DONE: Record<string, string> = {
  settings: 'Settings saved; members’ servers are being told.',
  images: 'Image saved; members’ servers are being told.',
  approve: 'Join request approved.',
  reject: 'Join request rejected.',
  'remove-member': 'Member removed.',
  resolve: 'Report resolved.',
  'approve-post': 'Post approved; it is being shared.',
  'reject-post': 'Post rejected; it will not be shared.',
  ban: 'Banned.',
  unban: 'Ban lifted.',
  'add-moderator': 'Moderator appointed.',
  'remove-moderator': 'Moderator removed.',
  transfer: 'Ownership transferred; you stay a moderator.',
  ...LINK_DONE,
};

const text = (b: Record<string, unknown>, k: string, max = 2048): string =>
  typeof b[k] === 'string' ? b[k].trim().slice(0, max) : '';

/** The actor id of an account given as `@user@host` or as its URL; null when it cannot be found. */
async function actorArg(c: ActionContext, key: string): Promise<string | null> {
  const given = text(c.body, key);
  if (/^https?:\/\/\S+$/.test(given)) return given;
  if (!/^@?[^@\s]+@[^@\s]+$/.test(given)) return null;
  return c.d.handles.resolveHandle(given);
}

/** The message of a moderation refusal. */
function refused(e: { type: string; detail?: string; problems?: Array<{ detail: string }> }): Done {
  if (e.problems) return { ok: false, message: `${e.problems.map((p) => p.detail).join('; ')}.` };
  switch (e.type) {
    case 'not-allowed':
      return { ok: false, status: 403, message: 'You may not do that in this group.' };
    case 'invalid':
      return { ok: false, message: `${e.detail ?? 'Invalid'}.` };
    case 'not-found':
    case 'post-not-found':
    case 'no-such-request':
    case 'not-a-member':
      return { ok: false, status: 404, message: 'That is not (or no longer) there.' };
    default:
      return { ok: false, status: 404, message: 'No such group.' };
  }
}

const result = (r: { ok: true } | { ok: false; error: Parameters<typeof refused>[0] }, message = ''): Done =>
  r.ok ? { ok: true, message } : refused(r.error);

/** A whole number field, or the message of why not. */
function whole(b: Record<string, unknown>, k: string, label: string): number | string {
  const t = text(b, k, 20);
  return /^\d{1,9}$/.test(t) ? Number(t) : `${label} must be a whole number`;
}

const ACTIONS: Record<string, ActionSpec> = {
  settings: {
    section: 'settings',
    async run(c) {
      const b = c.body;
      const numbers = {
        maxGroupMentions: whole(b, 'maxGroupMentions', 'The mention limit'),
        maxPostsPerHour: whole(b, 'maxPostsPerHour', 'Posts per hour'),
        maxActivitiesPerHour: whole(b, 'maxActivitiesPerHour', 'Votes and edits per hour'),
        maxEditsPerPostPerHour: whole(b, 'maxEditsPerPostPerHour', 'Edits of one post per hour'),
        premoderateFirstPosts: whole(b, 'premoderateFirstPosts', 'Held first posts'),
      };
      const wrong = Object.values(numbers).filter((n): n is string => typeof n === 'string');
      if (wrong.length > 0) return { ok: false, message: `${wrong.join('; ')}.` };
      const membership = text(b, 'membershipPolicy');
      const posting = text(b, 'postingPolicy');
      if (membership !== 'open' && membership !== 'approval')
        return { ok: false, message: 'Choose who may join.' };
      if (posting !== 'members' && posting !== 'moderators')
        return { ok: false, message: 'Choose who may post.' };
      const icon = text(b, 'iconUrl');
      const banner = text(b, 'bannerUrl');
      const patch: SettingsPatch = {
        title: text(b, 'title', 1000),
        summary: text(b, 'summary', 20_000),
        rules: text(b, 'rules', 20_000),
        language: text(b, 'language', 100) || null,
        tags: text(b, 'tags', 2000)
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        membershipPolicy: membership,
        postingPolicy: posting,
        maxGroupMentions: numbers.maxGroupMentions as number,
        maxPostsPerHour: numbers.maxPostsPerHour as number,
        maxActivitiesPerHour: numbers.maxActivitiesPerHour as number,
        maxEditsPerPostPerHour: numbers.maxEditsPerPostPerHour as number,
        premoderateFirstPosts: numbers.premoderateFirstPosts as number,
        sensitive: text(b, 'sensitive') === '1',
        discoverable: text(b, 'discoverable') === '1',
        listFollowers: text(b, 'listFollowers') === '1',
        acceptGroupFollowers: text(b, 'acceptGroupFollowers') === '1',
        icon: icon ? { url: icon } : null,
        banner: banner ? { url: banner } : null,
      };
      return result(await c.d.moderation.changeSettings(c.name, patch, { by: c.v.actorId }));
    },
  },
  images: {
    section: 'settings',
    async run(c) {
      const patch: SettingsPatch = {};
      for (const key of ['icon', 'banner'] as const) {
        const file = c.upload?.files.get(key);
        if (file && file.bytes.length > 0) patch[key] = { bytes: new Uint8Array(file.bytes) };
      }
      if (Object.keys(patch).length === 0) return { ok: false, message: 'Choose an icon or a banner image.' };
      return result(await c.d.moderation.changeSettings(c.name, patch, { by: c.v.actorId }));
    },
  },
  approve: {
    section: 'members',
    run: async (c) =>
      result(await c.d.moderation.approveMember(c.name, text(c.body, 'actor'), { by: c.v.actorId })),
  },
  reject: {
    section: 'members',
    run: async (c) =>
      result(await c.d.moderation.rejectMember(c.name, text(c.body, 'actor'), { by: c.v.actorId })),
  },
  'remove-member': {
    section: 'members',
    run: async (c) =>
      result(await c.d.moderation.removeMember(c.name, text(c.body, 'actor'), { by: c.v.actorId })),
  },
  resolve: {
    section: 'reports',
    run: async (c) =>
      result(await c.d.moderation.resolveReport(c.name, text(c.body, 'report', 100), { by: c.v.actorId })),
  },
  'approve-post': {
    section: 'held',
    run: async (c) =>
      result(await c.d.moderation.approvePost(c.name, text(c.body, 'post'), { by: c.v.actorId })),
  },
  'reject-post': {
    section: 'held',
    run: async (c) =>
      result(await c.d.moderation.rejectPost(c.name, text(c.body, 'post'), { by: c.v.actorId })),
  },
  ban: {
    section: 'bans',
    async run(c) {
      const who = await actorArg(c, 'actor');
      if (!who) return { ok: false, message: 'That account could not be found: give @user@host or its URL.' };
      const d = text(c.body, 'duration', 16);
      const ms = d === '' ? null : parseDuration(d);
      if (d !== '' && ms === null)
        return { ok: false, message: 'Give the duration as 30m, 12h, 7d or 2w, or leave it empty.' };
      const reason = text(c.body, 'reason', 1000);
      return result(
        await c.d.moderation.ban(c.name, who, {
          by: c.v.actorId,
          reason,
          expiresAt: ms === null ? null : Date.now() + ms,
        }),
      );
    },
  },
  unban: {
    section: 'bans',
    run: async (c) => result(await c.d.moderation.unban(c.name, text(c.body, 'actor'), { by: c.v.actorId })),
  },
  'add-moderator': {
    section: 'moderators',
    ownerOnly: true,
    async run(c) {
      const who = await actorArg(c, 'actor');
      if (!who) return { ok: false, message: 'That account could not be found: give @user@host or its URL.' };
      return result(await c.d.moderation.addModerator(c.name, who, { by: c.v.actorId }));
    },
  },
  'remove-moderator': {
    section: 'moderators',
    ownerOnly: true,
    run: async (c) =>
      result(await c.d.moderation.removeModerator(c.name, text(c.body, 'actor'), { by: c.v.actorId })),
  },
  transfer: {
    section: 'moderators',
    ownerOnly: true,
    async run(c) {
      const who = await actorArg(c, 'to');
      if (!who) return { ok: false, message: 'That account could not be found: give @user@host or its URL.' };
      return result(await c.d.ownership.transfer(c.name, who, { by: c.v.actorId }));
    },
  },
  delete: {
    section: 'moderators',
    ownerOnly: true,
    async run(c) {
      if (text(c.body, 'confirm', 100) !== c.name)
        return { ok: false, message: `Type ${c.name} to confirm the deletion.` };
      return result(await c.d.ownership.deleteGroup(c.name, { by: c.v.actorId }));
    },
  },
  ...LINK_ACTIONS,
};
