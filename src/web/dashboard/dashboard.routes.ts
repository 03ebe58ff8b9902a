/**
 * The dashboard at `/dashboard`: the groups of the signed-in person, and a form to create one (under the same
 * policy as by direct message). Every request reads the session and the person's groups from the store, so a
 * session that ended, or a moderator role that was taken away, is gone at once. The group pages are in
 * `group.routes.ts`.
 */
import express, { Router, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { Store } from '../../storage/store.ts';
import type { Urls } from '../../activitypub/urls.ts';
import type { SignInService } from '../../groups/sign-in.service.ts';
import type { OwnershipService } from '../../groups/ownership.service.ts';
import type { GroupCreationService, CreationRefusal } from '../../groups/group-creation.service.ts';
import type { ModerationService } from '../../groups/moderation.service.ts';
import type { MoveService } from '../../groups/move.service.ts';
import type { GroupFollowService } from '../../groups/group-follow.service.ts';
import type { HandleResolver } from '../../groups/commands.service.ts';
import type { Logger } from '../../log.ts';
import { escapeHtml } from '../../text/html.ts';
import { page } from '../layout.ts';
import { buttonForm, notice, postForm, textField } from './forms.ts';
import {
  csrfToken,
  csrfValid,
  readCookies,
  sameOriginPost,
  securityHeaders,
  type CookieNames,
} from './web-security.ts';
import { refuseForgery } from './sign-in.routes.ts';
import { groupRoutes } from './group.routes.ts';

export interface DashboardDeps {
  store: Store;
  urls: Urls;
  /** host[:port], in handles. */
  domain: string;
  signIn: SignInService;
  ownership: OwnershipService;
  creation: GroupCreationService;
  moderation: ModerationService;
  /** Moves (owner only) and groups following groups. */
  moves: MoveService;
  groupFollows: GroupFollowService;
  handles: HandleResolver;
  names: CookieNames;
  log: Logger;
}

/** The signed-in person of one request. */
export interface Viewer {
  actorId: string;
  /** `@user@host`, or the actor id. */
  handle: string;
  /** The session's token: the secret of the CSRF tokens of the forms. */
  secret: string;
  csrf: string;
}

/** The viewer of a request, read from the store; null when not signed in (or the session ended). */
export async function viewerOf(d: DashboardDeps, req: Request): Promise<Viewer | null> {
  const token = readCookies(req).get(d.names.session) ?? null;
  const session = await d.signIn.sessionOf(token);
  if (!session || token === null) return null;
  const actor = await d.store.remoteActors.getRemoteActor(session.actorId);
  const handle = actor?.preferredUsername
    ? `@${actor.preferredUsername}@${new URL(actor.id).host}`
    : session.actorId;
  return { actorId: session.actorId, handle, secret: token, csrf: csrfToken(token) };
}

/** The frame of a dashboard page: who is signed in, and the sign-out buttons. */
export function dashboardPage(v: Viewer, title: string, body: string): string {
  const bar = `<div class="account"><span>Signed in as <strong>${escapeHtml(v.handle)}</strong></span>
${buttonForm('/logout', v.csrf, 'Sign out', {})}
${buttonForm('/logout/everywhere', v.csrf, 'Sign out everywhere', {})}</div>`;
  return page(title, `${bar}\n${body}`);
}

const CREATED = 'created';

export function dashboardRoutes(d: DashboardDeps): Router {
  const r = Router();
  r.use('/dashboard', securityHeaders, express.urlencoded({ extended: false, limit: '64kb' }));

  /** Runs `handle` for a signed-in viewer; others are sent to the sign-in page. */
  const signedIn =
    (handle: (v: Viewer, req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response) => {
      const v = await viewerOf(d, req);
      if (!v) {
        if (req.method === 'GET') return res.redirect(303, '/login');
        return refuseForgery(req, res, d);
      }
      if (req.method === 'POST') {
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (!sameOriginPost(req, d.urls.origin) || !csrfValid(v.secret, body._csrf))
          return refuseForgery(req, res, d);
      }
      await handle(v, req, res);
    };

  const home = async (
    v: Viewer,
    res: Response,
    status: number,
    message: string,
    fields = { name: '', title: '' },
  ) => {
    const mine = await d.ownership.groupsOf(v.actorId);
    const list =
      mine.length === 0
        ? '<p class="muted" id="no-groups">You own or moderate no group here yet.</p>'
        : `<ul class="groups" id="my-groups">${mine
            .map(
              (m) => `<li class="group-card" data-group="${escapeHtml(m.group.name)}"><div>
<h3><a href="/dashboard/groups/${escapeHtml(m.group.name)}">${escapeHtml(m.group.title)}</a></h3>
<p class="handle"><code>@${escapeHtml(m.group.name)}@${escapeHtml(d.domain)}</code> <span class="role">${m.role}</span></p></div></li>`,
            )
            .join('\n')}</ul>`;
    const create =
      d.creation.mode === 'closed'
        ? '<p class="muted">New groups are created by the admin of this server.</p>'
        : postForm(
            '/dashboard/groups',
            v.csrf,
            `${textField('name', 'Name (in the handle)', fields.name, { hint: 'Lowercase letters, digits and underscores, e.g. rust', required: true, max: 64 })}
${textField('title', 'Title', fields.title, { required: true, max: 200 })}
<button type="submit">Create the group</button>${d.creation.mode === 'approval' ? '<p class="hint">The admin approves new groups; you will be told by direct message.</p>' : ''}`,
            { cls: 'stack', label: 'Create a group' },
          );
    res
      .status(status)
      .type('html')
      .send(
        dashboardPage(
          v,
          'Your groups',
          `<h1>Your groups</h1>\n${message}\n${list}\n<h2>Create a group</h2>\n${create}`,
        ),
      );
  };

  r.get(
    '/dashboard',
    signedIn(async (v, req, res) => {
      const msg =
        req.query.done === CREATED
          ? notice('done', 'The group was created. You own it.')
          : req.query.done === 'requested'
            ? notice('done', 'Your request waits for the admin’s approval.')
            : '';
      await home(v, res, 200, msg);
    }),
  );

  r.post(
    '/dashboard/groups',
    signedIn(async (v, req, res) => {
      const body = req.body as Record<string, unknown>;
      const name = typeof body.name === 'string' ? body.name.trim().toLowerCase().slice(0, 100) : '';
      const title = typeof body.title === 'string' ? body.title.trim().slice(0, 300) : '';
      const r = await d.creation.request(v.actorId, name, title || undefined, `dashboard:${randomUUID()}`);
      if (!r.ok)
        return home(
          v,
          res,
          r.error.type === 'rate-limited' ? 429 : 400,
          notice('error', refusalText(r.error, name)),
          { name, title },
        );
      if (r.value.kind === 'pending') return res.redirect(303, '/dashboard?done=requested');
      res.redirect(303, `/dashboard/groups/${r.value.group.name}?done=${CREATED}`);
    }),
  );

  r.use(groupRoutes(d, signedIn));
  return r;
}

function refusalText(e: CreationRefusal, name: string): string {
  switch (e.type) {
    case 'closed':
      return 'This server does not take new groups from its users.';
    case 'blocked':
      return 'This server does not federate with yours.';
    case 'invalid-name':
    case 'invalid-title':
      return `Not created: ${e.detail}.`;
    case 'name-taken':
      return `The name "${name}" is taken or reserved. Choose another.`;
    case 'rate-limited':
      return e.scope === 'account'
        ? 'You asked for several groups lately. Try again later.'
        : 'Many groups were asked for from your server lately. Try again later.';
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}
