/**
 * Sign-in pages: `/login` asks for a handle and has a link sent by direct message; `/login/TOKEN` (the link)
 * shows a button that uses the token, so that a link preview fetching the URL does not spend it; sign-out
 * here and everywhere. Nothing said here tells whether an account has groups.
 */
import express, { Router, type Request, type Response } from 'express';
import type { SignInService } from '../../groups/sign-in.service.ts';
import type { Logger } from '../../log.ts';
import { escapeHtml } from '../../text/html.ts';
import { page } from '../layout.ts';
import { notice, postForm, textField } from './forms.ts';
import {
  csrfToken,
  csrfValid,
  preSecret,
  readCookies,
  sameOriginPost,
  securityHeaders,
  setCookie,
  type CookieNames,
} from './web-security.ts';

export interface SignInRoutesDeps {
  signIn: SignInService;
  origin: string;
  /** `@guild@HOST`: who sends the links. */
  serviceHandle: string;
  names: CookieNames;
  sessionTtlMs: number;
  log: Logger;
}

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function signInRoutes(d: SignInRoutesDeps): Router {
  const r = Router();
  r.use(['/login', '/logout'], securityHeaders, express.urlencoded({ extended: false, limit: '16kb' }));

  const loginPage = (res: Response, csrf: string, status = 200, message = '', handle = ''): void => {
    const form = postForm(
      '/login',
      csrf,
      `${textField('handle', 'Your fediverse handle', handle, { hint: 'For example @alice@mastodon.social', required: true, max: 300 })}
<button type="submit">Send me a sign-in link</button>`,
      { cls: 'stack', label: 'Sign in' },
    );
    res
      .status(status)
      .type('html')
      .send(
        page(
          'Sign in',
          `<h1>Sign in to run your groups</h1>
${message}
<p>No password and no account here: ${escapeHtml(d.serviceHandle)} sends a one-time link by direct message to your account, wherever it lives. The link works once, within 15 minutes.</p>
${form}
<p class="muted">You can also send <code>login</code> in a direct message to ${escapeHtml(d.serviceHandle)}.</p>`,
        ),
      );
  };

  r.get('/login', (req, res) => {
    const m = req.query.signed_out === '1' ? notice('done', 'You are signed out.') : '';
    loginPage(res, csrfToken(preSecret(req, res, d.names)), 200, m);
  });

  r.post('/login', async (req, res) => {
    const secret = readCookies(req).get(d.names.pre) ?? null;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!sameOriginPost(req, d.origin) || !csrfValid(secret, body._csrf)) return refuseForgery(req, res, d);
    const handle = typeof body.handle === 'string' ? body.handle.trim().slice(0, 300) : '';
    const csrf = csrfToken(secret ?? '');
    const r = await d.signIn.requestLink(handle, req.ip ?? 'unknown');
    if (r.ok) {
      // Answered alike whether a link went out or the account may not sign in: the page tells nobody which.
      if (r.value.barred)
        d.log.info('sign-in link refused', { actorId: r.value.actorId, handle, reason: r.value.barred });
      else d.log.info('sign-in link sent', { actorId: r.value.actorId });
      res
        .status(200)
        .type('html')
        .send(
          page(
            'Check your messages',
            `<h1>Check your direct messages</h1>
${notice('done', `A sign-in link is on its way to ${handle} from ${d.serviceHandle}.`)}
<p>It works once, within 15 minutes. Open it in this browser.</p>`,
          ),
        );
      return;
    }
    switch (r.error.type) {
      case 'invalid-handle':
        return loginPage(
          res,
          csrf,
          400,
          notice('error', 'Enter a handle such as @alice@mastodon.social.'),
          handle,
        );
      case 'rate-limited': {
        const minutes = Math.max(1, Math.ceil(r.error.retryAfterMs / 60_000));
        res.set('Retry-After', String(Math.ceil(r.error.retryAfterMs / 1000)));
        return loginPage(
          res,
          csrf,
          429,
          notice(
            'error',
            `Too many sign-in links were asked for. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
          ),
          handle,
        );
      }
      case 'not-found':
        return loginPage(
          res,
          csrf,
          400,
          notice('error', 'That account could not be found or reached. Check the handle.'),
          handle,
        );
      default: {
        const never: never = r.error;
        throw new Error(`unhandled ${JSON.stringify(never)}`);
      }
    }
  });

  r.get('/login/:token', (req, res) => {
    const token = req.params.token;
    if (!TOKEN_RE.test(token)) return invalidLink(res);
    const form = postForm(
      `/login/${token}`,
      csrfToken(preSecret(req, res, d.names)),
      '<button type="submit" id="continue">Sign in</button>',
    );
    res
      .type('html')
      .send(
        page(
          'Sign in',
          `<h1>Sign in</h1>\n<p>Continue to the groups dashboard in this browser.</p>\n${form}`,
        ),
      );
  });

  r.post('/login/:token', async (req, res) => {
    const secret = readCookies(req).get(d.names.pre) ?? null;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!sameOriginPost(req, d.origin) || !csrfValid(secret, body._csrf)) return refuseForgery(req, res, d);
    const r = await d.signIn.redeem(req.params.token);
    if (!r.ok) return invalidLink(res);
    setCookie(res, d.names, d.names.session, r.value.token, d.sessionTtlMs);
    d.log.info('signed in', { actorId: r.value.session.actorId });
    res.redirect(303, '/dashboard');
  });

  const signOut = (everywhere: boolean) => async (req: Request, res: Response) => {
    const token = readCookies(req).get(d.names.session) ?? null;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!sameOriginPost(req, d.origin) || !csrfValid(token, body._csrf)) return refuseForgery(req, res, d);
    const session = await d.signIn.sessionOf(token);
    if (token !== null) await d.signIn.signOut(token);
    if (everywhere && session) await d.signIn.signOutEverywhere(session.actorId);
    setCookie(res, d.names, d.names.session, '', 0);
    res.redirect(303, '/login?signed_out=1');
  };
  r.post('/logout', signOut(false));
  r.post('/logout/everywhere', signOut(true));
  return r;
}

function invalidLink(res: Response): void {
  res
    .status(400)
    .type('html')
    .send(
      page(
        'Sign-in link',
        `<h1>This sign-in link does not work</h1>\n${notice('error', 'It has expired or was already used.')}\n<p><a href="/login">Ask for a new link</a>.</p>`,
      ),
    );
}

/** A form posted without its CSRF token (or from another site): refused, nothing changed. */
export function refuseForgery(req: Request, res: Response, d: { log: Logger }): void {
  d.log.info('form refused: missing or wrong CSRF token, or posted from another site', { path: req.path });
  res
    .status(403)
    .type('html')
    .send(
      page(
        'Refused',
        `<h1>This form has expired</h1>\n${notice('error', 'Nothing was changed. Go back, reload the page and try again.')}`,
      ),
    );
}
