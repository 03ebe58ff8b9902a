/**
 * WebFinger lookups of `acct:` handles (RFC 7033), as Mastodon does them: the answer's `subject` must be the
 * handle asked for, or a handle that itself round-trips; the actor is the `rel=self` ActivityPub link.
 */
import { httpUrl } from './actor-decoder.ts';
import { isJsonObject } from './json-limits.ts';
import type { SafeFetcher } from './safe-fetch.ts';

/** A parsed `user@host[:port]` handle, lowercased host. */
export interface Handle {
  user: string;
  host: string;
}

const WEBFINGER_ACCEPT = 'application/jrd+json, application/json';

/** Parses `@alice@host`, `alice@host` or `acct:alice@host` (host may carry a port); null when malformed. */
export function parseHandle(handle: string): Handle | null {
  const text = handle
    .trim()
    .replace(/^acct:/i, '')
    .replace(/^@/, '');
  const match = /^([^@\s/?#:]+)@([^@\s/?#]+)$/.exec(text);
  if (match === null) return null;
  const [, user = '', host = ''] = match;
  if (user.length > 256) return null;
  try {
    const url = new URL(`https://${host}/`);
    // Refuse anything the URL parser would rewrite (a path, odd characters): the host must be plain.
    if (url.host !== host.toLowerCase()) return null;
    return { user, host: url.host };
  } catch {
    return null;
  }
}

/** Options of {@link resolveWebfinger}. */
export interface WebfingerOptions {
  /**
   * The `preferredUsername` of an actor (its document fetched and checked), to confirm a `self` link on another
   * host than the handle's. Without it such links are refused.
   */
  usernameOf?: (actorId: string) => Promise<string | null>;
}

/**
 * Resolves a handle to its actor id. Tries https, then http when the fetcher allows private addresses (local
 * peers on loopback). When the subject differs from the handle, looks the subject up once and requires it
 * to answer with itself. When the `self` link is on another host than the (canonical) handle's, the actor's own
 * host must vouch for it, as Mastodon checks (`FetchRemoteActorService#check_webfinger!`): WebFinger there for
 * `preferredUsername@actorhost` must name the same handle as subject and the same actor as `self`. So a server
 * cannot make its handle stand for someone else's account.
 */
export async function resolveWebfinger(
  fetcher: SafeFetcher,
  handle: string,
  opts: WebfingerOptions = {},
): Promise<string | null> {
  const parsed = parseHandle(handle);
  if (parsed === null) return null;
  const first = await lookup(fetcher, parsed);
  if (first === null) return null;
  if (sameHandle(first.subject, parsed)) return confirmSelf(fetcher, parsed, first.self, opts);
  const canonical = first.subject === null ? null : parseHandle(first.subject);
  if (canonical === null) return null;
  const second = await lookup(fetcher, canonical);
  if (second === null || !sameHandle(second.subject, canonical)) return null;
  return confirmSelf(fetcher, canonical, second.self, opts);
}

/** `self` when it is on the handle's host, or when the actor's own host names it by this handle; else null. */
async function confirmSelf(
  fetcher: SafeFetcher,
  handle: Handle,
  self: string,
  opts: WebfingerOptions,
): Promise<string | null> {
  const actorHost = new URL(self).host;
  if (actorHost === handle.host) return self;
  if (opts.usernameOf === undefined) return null;
  const username = await opts.usernameOf(self);
  const home = username === null ? null : parseHandle(`${username}@${actorHost}`);
  if (home === null) return null;
  const back = await lookup(fetcher, home);
  return back !== null && back.self === self && sameHandle(back.subject, handle) ? self : null;
}

async function lookup(
  fetcher: SafeFetcher,
  handle: Handle,
): Promise<{ subject: string | null; self: string } | null> {
  const resource = `acct:${handle.user}@${handle.host}`;
  const schemes = fetcher.allowPrivateAddresses ? ['https', 'http'] : ['https'];
  for (const scheme of schemes) {
    const url = `${scheme}://${handle.host}/.well-known/webfinger?resource=${encodeURIComponent(resource)}`;
    const res = await fetcher.getJson(url, { accept: WEBFINGER_ACCEPT });
    if (!res.ok) continue;
    const self = selfLink(res.doc['links']);
    if (self === null) return null;
    const subject = res.doc['subject'];
    return { subject: typeof subject === 'string' ? subject : null, self };
  }
  return null;
}

function sameHandle(subject: string | null, handle: Handle): boolean {
  if (subject === null) return false;
  const parsed = parseHandle(subject);
  return parsed !== null && parsed.user === handle.user && parsed.host === handle.host;
}

/** The `href` of the last `rel=self` link with an ActivityPub media type (the one Mastodon uses). */
function selfLink(links: unknown): string | null {
  if (!Array.isArray(links)) return null;
  let found: string | null = null;
  for (const link of links.slice(0, 64)) {
    if (!isJsonObject(link) || link['rel'] !== 'self' || typeof link['type'] !== 'string') continue;
    const type = link['type'].replace(/\s+/g, '');
    const isActivityPub =
      type === 'application/activity+json' ||
      type === 'application/ld+json;profile="https://www.w3.org/ns/activitystreams"';
    const href = httpUrl(link['href']);
    if (isActivityPub && href !== null) found = href;
  }
  return found;
}
