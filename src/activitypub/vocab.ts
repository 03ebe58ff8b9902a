/** ActivityStreams vocabulary helpers: constants and tolerant readers for compacted JSON-LD. No I/O. */

export const AS_CONTEXT = 'https://www.w3.org/ns/activitystreams';
export const SECURITY_CONTEXT = 'https://w3id.org/security/v1';
export const PUBLIC = 'https://www.w3.org/ns/activitystreams#Public';
const PUBLIC_ALIASES = new Set([PUBLIC, 'as:Public', 'Public']);

/** The `@context` of every document this server emits: only contexts that peers bundle, plus inline terms. */
export const GUILD_CONTEXT = [
  AS_CONTEXT,
  SECURITY_CONTEXT,
  {
    manuallyApprovesFollowers: 'as:manuallyApprovesFollowers',
    sensitive: 'as:sensitive',
    toot: 'http://joinmastodon.org/ns#',
    discoverable: 'toot:discoverable',
    indexable: 'toot:indexable',
    featured: { '@id': 'toot:featured', '@type': '@id' },
    lemmy: 'https://join-lemmy.org/ns#',
    postingRestrictedToMods: 'lemmy:postingRestrictedToMods',
    audience: { '@id': 'as:audience', '@type': '@id' },
    alsoKnownAs: { '@id': 'as:alsoKnownAs', '@type': '@id' },
    movedTo: { '@id': 'as:movedTo', '@type': '@id' },
  },
] as const;

/** A JSON object as received from the network, not yet trusted. */
export type ApObject = Record<string, unknown>;

export const ACTOR_TYPES = new Set(['Person', 'Service', 'Application', 'Group', 'Organization']);
/** Object types accepted as group posts. */
export const POST_TYPES = new Set([
  'Note',
  'Page',
  'Article',
  'Question',
  'Video',
  'Event',
  'Image',
  'Audio',
]);

export function isObject(v: unknown): v is ApObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asArray(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** The id of a value that is either an IRI string or an object with an `id`. */
export function idOf(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.id === 'string') return v.id;
  return null;
}

/** Every id in a property that holds one or several IRIs or objects. */
export function idsOf(v: unknown): string[] {
  return asArray(v)
    .map(idOf)
    .filter((x): x is string => x !== null);
}

export function typeOf(v: unknown): string | null {
  if (!isObject(v)) return null;
  const t = v.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t) && typeof t[0] === 'string') return t[0];
  return null;
}

export function isPublic(id: string): boolean {
  return PUBLIC_ALIASES.has(id);
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** An absolute http(s) URL, or null. */
export function httpUrl(v: unknown): URL | null {
  if (typeof v !== 'string') return null;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u : null;
  } catch {
    return null;
  }
}

/**
 * `text` when it is an absolute http(s) URL without credentials or spaces, at most 2,048 characters, kept as
 * given (ids compare exactly); else null. For ids typed by the admin (CLI, admin API).
 */
export function httpIdText(text: string): string | null {
  if (text.length > 2048 || /\s/.test(text)) return null;
  const url = httpUrl(text);
  return url && !url.username && !url.password ? text : null;
}

export function sameOrigin(a: string, b: string): boolean {
  const ua = httpUrl(a);
  const ub = httpUrl(b);
  return ua !== null && ub !== null && ua.origin === ub.origin;
}

/** Audience fields of an activity or object, flattened. */
export function recipientsOf(o: ApObject): {
  to: string[];
  cc: string[];
  audience: string[];
  mentions: string[];
} {
  const mentions = asArray(o.tag)
    .filter((t) => isObject(t) && t.type === 'Mention')
    .map((t) => (isObject(t) ? str(t.href) : null))
    .filter((x): x is string => x !== null);
  return {
    to: idsOf(o.to),
    cc: idsOf(o.cc),
    audience: idsOf(o.audience),
    mentions,
  };
}
