/**
 * What every page of the dashboard and of the sign-in shares: cookies (HttpOnly, `SameSite=Lax`, `Secure` and
 * the `__Host-` prefix on https), the CSRF token of every form, and the security headers (a strict
 * Content-Security-Policy: scripts and styles from this origin only, no frames, forms posted here only).
 *
 * The CSRF token of a form is an HMAC of a secret the browser holds in an HttpOnly cookie (the session's token,
 * or, before signing in, a random cookie of its own): a page on another site can neither read it nor, with
 * `SameSite=Lax`, post with the cookie; a form posted without the token, or with another's, changes nothing.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const policy = (formAction: string): string =>
  [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // Group icons and banners may live on other servers.
    "img-src 'self' https: http:",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');

/** The policy of the sign-in and dashboard pages: forms post here only. */
export const CONTENT_SECURITY_POLICY = policy("'self'");

/**
 * The policy of every other response: the same, except that a form may lead to another https server, as the
 * group page's "join from your server" form does (`/join` redirects to the person's server, and browsers apply
 * `form-action` to where a form's redirect goes).
 */
export const PUBLIC_CONTENT_SECURITY_POLICY = policy("'self' https:");

/** The names of the cookies on this origin (https gets the `__Host-` prefix: no Domain, Path /, Secure). */
export interface CookieNames {
  session: string;
  pre: string;
  secure: boolean;
}

export function cookieNames(origin: string): CookieNames {
  const secure = origin.startsWith('https:');
  return secure
    ? { session: '__Host-guild_session', pre: '__Host-guild_pre', secure }
    : { session: 'guild_session', pre: 'guild_pre', secure };
}

/** The cookies of a request (name -> value); malformed pairs are skipped. */
export function readCookies(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  const header = req.headers.cookie;
  if (typeof header !== 'string') return out;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (/^[A-Za-z0-9_-]{1,64}$/.test(value) && !out.has(name)) out.set(name, value);
  }
  return out;
}

/** Sets an HttpOnly, SameSite=Lax cookie on Path=/ (Secure on https); `maxAgeMs` 0 deletes it. */
export function setCookie(
  res: Response,
  names: CookieNames,
  name: string,
  value: string,
  maxAgeMs: number,
): void {
  const parts = [
    `${name}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
  ];
  if (names.secure) parts.push('Secure');
  res.append('Set-Cookie', parts.join('; '));
}

/** The CSRF token of the forms shown to the holder of `secret`. */
export function csrfToken(secret: string): string {
  return createHmac('sha256', secret).update('guild-csrf').digest('base64url');
}

/** True when `given` is the CSRF token of `secret` (compared in constant time). */
export function csrfValid(secret: string | null, given: unknown): boolean {
  if (secret === null || typeof given !== 'string') return false;
  const want = Buffer.from(csrfToken(secret));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * The secret of the forms of a visitor not signed in: the `pre` cookie, set with a fresh random value when
 * absent.
 */
export function preSecret(req: Request, res: Response, names: CookieNames): string {
  const existing = readCookies(req).get(names.pre);
  if (existing) return existing;
  const fresh = randomBytes(32).toString('base64url');
  setCookie(res, names, names.pre, fresh, 24 * 3_600_000);
  return fresh;
}

/**
 * True when a POST comes from a page of this origin: a browser's `Origin` (or, without it, `Referer`) names
 * this origin. A request with neither (not a browser) relies on the CSRF token alone.
 */
export function sameOriginPost(req: Request, origin: string): boolean {
  const o = req.headers.origin;
  if (typeof o === 'string' && o !== 'null') return o === origin;
  const ref = req.headers.referer;
  if (typeof ref === 'string' && URL.canParse(ref)) return new URL(ref).origin === origin;
  return o === undefined;
}

/**
 * The headers of every response of this server, pages or not: a strict Content-Security-Policy (no inline
 * script or style, nothing from elsewhere but images, no frames), no content sniffing, and no referrer sent to
 * other sites.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': PUBLIC_CONTENT_SECURITY_POLICY,
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  // Browsers send `Origin: null` on a form post under no-referrer; same-origin keeps it and hides links elsewhere.
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** Sets {@link SECURITY_HEADERS} on every response (mounted first in the application). */
export function allResponseHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set(SECURITY_HEADERS);
  next();
}

/** The headers of every dashboard and sign-in page: the above, forms posted here only, nothing cached. */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    ...SECURITY_HEADERS,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'Cache-Control': 'no-store',
  });
  next();
}
