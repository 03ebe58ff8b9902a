/**
 * Sign-in by direct message: a person gives their handle, the Service actor sends them a one-time link, and the
 * link opens a session. No password, no account here.
 *
 * - A link's token is 256 random bits, kept only as its SHA-256, bound to the actor it was sent to, usable
 *   once, within {@link LINK_TTL_MS}.
 * - A session's token (the cookie) is another 256 random bits, kept as its SHA-256, until it expires or the
 *   person signs out (here or everywhere).
 * - Links are asked for at most so often per handle, per host and per client address, so that the form cannot
 *   be used to send messages to anyone at will. Nothing tells whether a handle has groups here.
 * - An actor who may not sign in gets no link, cannot use one, and loses its sessions: one whose domain is
 *   blocked, or one banned from a group who has no group left to run (banned from every group it would
 *   manage). The web form answers such a request exactly as it answers any other, so that it tells nobody
 *   who is blocked or banned.
 * - A session never grants a group the actor is banned from (`OwnershipService.roleIn`).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import type { Session } from '../storage/self-service.store.ts';
import { err, ok, type FederationGate, type Result } from './ports.ts';
import type { HandleResolver } from './commands.service.ts';
import type { ConfidentialText, MessageText, ServiceMessenger } from './service-messages.ts';
import { RateLimiter, type RateLimit } from './rate-limiter.ts';
import { MAX_GROUPS_LISTED } from './ownership.service.ts';

/** How long a sign-in link works. */
export const LINK_TTL_MS = 15 * 60_000;

export interface SignInLimits {
  perHandle: number;
  perHost: number;
  perClient: number;
  windowMs: number;
}

export interface SignInDeps {
  store: Store;
  handles: HandleResolver;
  federation: FederationGate;
  messenger: ServiceMessenger;
  /** The URL of the page that takes a link's token (`TOKEN` is appended). */
  linkBase: string;
  sessionTtlMs: number;
  limits: SignInLimits;
  now?: () => number;
  /** Random bytes (default: crypto.randomBytes). */
  random?: (n: number) => Buffer;
}

export type SignInRefusal =
  { type: 'invalid-handle' } | { type: 'rate-limited'; retryAfterMs: number } | { type: 'not-found' };

/** Why an actor may not sign in: its domain is blocked, or it is banned with no group left to run. */
export type SignInBar = 'blocked' | 'banned';

/**
 * What became of a request that is answered as sent: the link went out (`barred` null), or nothing was sent
 * because the actor may not sign in (the answer is the same; the reason is for the log).
 */
export interface LinkRequestOutcome {
  /** The actor's id; null when its domain is blocked (it was not resolved). */
  actorId: string | null;
  barred: SignInBar | null;
}

/** A handle as typed: `@user@host` or `user@host`, host lowercased; null when it is not one. */
export function normalizeHandle(input: string): { user: string; host: string } | null {
  const m = /^@?([^@\s/]{1,100})@([a-z0-9.-]{1,253}(?::\d{1,5})?)$/i.exec(input.trim());
  if (!m || !m[1] || !m[2]) return null;
  return { user: m[1], host: m[2].toLowerCase() };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The stored hash of a link's token. */
export const linkHash = (token: string): string => sha256(`sign-in\n${token}`);
/** The stored hash of a session's token. */
export const sessionHash = (token: string): string => sha256(`session\n${token}`);

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export class SignInService {
  private readonly now: () => number;
  private readonly random: (n: number) => Buffer;
  private readonly limiter: RateLimiter;

  constructor(private readonly d: SignInDeps) {
    this.now = d.now ?? Date.now;
    this.random = d.random ?? randomBytes;
    this.limiter = new RateLimiter(this.now);
  }

  /**
   * Sends a sign-in link to the account behind `handle`, asked from `client` (an address). Refused when the
   * handle is malformed, the rate limits are reached, or the account cannot be found. An actor who may not
   * sign in ({@link barOf}) gets nothing, but the outcome is answered as if it did (`barred` says why).
   */
  async requestLink(handle: string, client: string): Promise<Result<LinkRequestOutcome, SignInRefusal>> {
    const h = normalizeHandle(handle);
    if (!h) return err({ type: 'invalid-handle' });
    const host = h.host.replace(/:\d+$/, '');
    const limited = this.take([
      [`client:${client}`, this.d.limits.perClient],
      [`host:${host}`, this.d.limits.perHost],
      [`handle:${h.user.toLowerCase()}@${h.host}`, this.d.limits.perHandle],
    ]);
    if (limited) return limited;
    // A blocked domain is not even asked who the handle is.
    if (await this.blocked(`https://${host}/`)) return ok({ actorId: null, barred: 'blocked' });
    const actorId = await this.d.handles.resolveHandle(`${h.user}@${h.host}`);
    if (!actorId) return err({ type: 'not-found' });
    const barred = await this.barOf(actorId);
    if (barred) return ok({ actorId, barred });
    const link = await this.issueLink(actorId);
    const sent = await this.d.messenger.send(actorId, linkMessage(link), {
      basis: `sign-in:${linkHash(link)}`,
    });
    return sent ? ok({ actorId, barred: null }) : err({ type: 'not-found' });
  }

  /**
   * Why `actorId` may not sign in, or null when it may: its domain is blocked, or it is banned from a group
   * and every group it moderates has banned it too (it has nothing left to run here).
   */
  async barOf(actorId: string): Promise<SignInBar | null> {
    if (await this.blocked(actorId)) return 'blocked';
    const now = this.now();
    if (!(await this.d.store.bans.hasActiveBan(actorId, now))) return null;
    const groups = await this.d.store.moderators.listGroupsOfModerator(actorId, null, MAX_GROUPS_LISTED);
    for (const g of groups) if (!(await this.d.store.bans.getActiveBan(g, actorId, now))) return null;
    return 'banned';
  }

  /**
   * A sign-in link for `actorId` (asked by direct message), within the same limits per actor and host; the
   * text to answer with.
   */
  async linkByMessage(actorId: string): Promise<MessageText> {
    const host = new URL(actorId).hostname;
    const limited = this.take([
      [`host:${host}`, this.d.limits.perHost],
      [`actor:${actorId}`, this.d.limits.perHandle],
    ]);
    if (limited) return `Too many sign-in links were asked for; try again in ${minutes(limited.error)}.`;
    switch (await this.barOf(actorId)) {
      case 'blocked':
        return 'This server does not federate with yours.';
      case 'banned':
        return 'This account cannot sign in here: it is banned from the groups it would run.';
      case null:
        break;
    }
    return linkMessage(await this.issueLink(actorId));
  }

  /**
   * Uses a link's token: a new session for the actor it was sent to, with the session's token (the cookie's
   * value). Refused when the token is unknown, used, expired, or its actor may no longer sign in.
   */
  async redeem(token: string): Promise<Result<{ token: string; session: Session }, 'invalid-link'>> {
    if (!TOKEN_RE.test(token)) return err('invalid-link');
    const code = await this.d.store.codes.useCode(linkHash(token), this.now());
    if (!code || code.purpose !== 'sign-in' || (await this.barOf(code.actorId)) !== null)
      return err('invalid-link');
    const sessionToken = this.token();
    const t = this.now();
    const session: Session = {
      hash: sessionHash(sessionToken),
      actorId: code.actorId,
      createdAt: t,
      expiresAt: t + this.d.sessionTtlMs,
    };
    await this.d.store.sessions.putSession(session);
    return ok({ token: sessionToken, session });
  }

  /** The session of a cookie's token, or null (unknown, expired, or its actor may no longer sign in). */
  async sessionOf(token: string | null): Promise<Session | null> {
    if (token === null || !TOKEN_RE.test(token)) return null;
    const s = await this.d.store.sessions.getSession(sessionHash(token), this.now());
    if (!s) return null;
    return (await this.barOf(s.actorId)) === null ? s : null;
  }

  async signOut(token: string): Promise<void> {
    if (TOKEN_RE.test(token)) await this.d.store.sessions.deleteSession(sessionHash(token));
  }

  /** Ends every session of the actor, on every browser. */
  async signOutEverywhere(actorId: string): Promise<number> {
    return this.d.store.sessions.deleteSessionsOf(actorId);
  }

  /** A fresh 256-bit token, base64url (43 characters). */
  token(): string {
    return this.random(32).toString('base64url');
  }

  private async issueLink(actorId: string): Promise<string> {
    const token = this.token();
    const t = this.now();
    await this.d.store.codes.putCode({
      hash: linkHash(token),
      purpose: 'sign-in',
      actorId,
      subject: '',
      createdAt: t,
      expiresAt: t + LINK_TTL_MS,
      usedAt: null,
    });
    return `${this.d.linkBase}${token}`;
  }

  private take(
    keys: Array<[string, number]>,
  ): { ok: false; error: SignInRefusal & { retryAfterMs: number } } | null {
    const rule = (limit: number): RateLimit => ({ limit, windowMs: this.d.limits.windowMs });
    const r = this.limiter.take(keys.map(([k, n]) => [k, rule(n)]));
    return r.ok ? null : err({ type: 'rate-limited', retryAfterMs: r.retryAfterMs });
  }

  private async blocked(actorId: string): Promise<boolean> {
    return this.d.federation.isBlocked(URL.canParse(actorId) ? new URL(actorId).hostname : '');
  }
}

/** The message with a sign-in link; the copy kept on this server says where the link was, not what it was. */
function linkMessage(link: string): ConfidentialText {
  const say = (l: string) =>
    `Sign in to the groups dashboard: ${l}\nThe link works once, within 15 minutes. If you did not ask for it, ignore this message.`;
  return {
    text: say(link),
    keptText: say('(the one-time link was in the message as delivered; it is not kept)'),
  };
}

function minutes(e: { retryAfterMs: number }): string {
  const m = Math.max(1, Math.ceil(e.retryAfterMs / 60_000));
  return `${m} minute${m === 1 ? '' : 's'}`;
}
