/**
 * Which software another server runs, as its NodeInfo names it, and the family of servers that read what a
 * group sends the same way. No I/O: `peer-software.service.ts` fetches and stores; `peer-software.forms.ts`
 * says what each family takes.
 *
 * NodeInfo `software.name` as each server writes it (compared without case):
 * - `mastodon`: Mastodon (`app/serializers/node_info/serializer.rb`), glitch-soc and Hometown too (their
 *   version carries `+glitch` / `+hometown`);
 * - `gotosocial` (`internal/processing/fedi/wellknown.go`), `snac` (`httpd.c`), `lemmy`
 *   (`crates/routes/src/nodeinfo.rs`), `mbin` (`src/Service/ProjectInfoService.php`), `NodeBB`
 *   (`src/routes/well-known.js`), `misskey`, `pleroma` and `akkoma` (`Pleroma.Application.name()` lowercased).
 * Forks that name themselves are mapped to the code base they share their federation code with.
 */

/** Families of servers that take the same forms of what a group sends. */
export const PEER_FAMILIES = [
  'lemmy',
  'mbin',
  'nodebb',
  'mastodon',
  'gotosocial',
  'snac',
  'misskey',
  'pleroma',
  'unknown',
] as const;

export type PeerFamily = (typeof PEER_FAMILIES)[number];

/** NodeInfo names (lowercased) of each family, forks included. */
const NAMES: Record<Exclude<PeerFamily, 'unknown'>, readonly string[]> = {
  lemmy: ['lemmy'],
  mbin: ['mbin', 'kbin'],
  nodebb: ['nodebb'],
  mastodon: ['mastodon', 'hometown', 'glitch', 'glitch-soc', 'glitchsoc', 'ecko', 'kmyblue', 'fedibird'],
  gotosocial: ['gotosocial'],
  snac: ['snac'],
  misskey: [
    'misskey',
    'sharkey',
    'firefish',
    'calckey',
    'iceshrimp',
    'cherrypick',
    'foundkey',
    'catodon',
    'meisskey',
  ],
  pleroma: ['pleroma', 'akkoma'],
};

const FAMILY_BY_NAME = new Map<string, PeerFamily>(
  Object.entries(NAMES).flatMap(([family, names]) => names.map((n) => [n, family as PeerFamily] as const)),
);

/** The family of a NodeInfo software name (any case); `unknown` for null and for software not listed. */
export function familyOf(name: string | null): PeerFamily {
  if (name === null) return 'unknown';
  return FAMILY_BY_NAME.get(name.trim().toLowerCase()) ?? 'unknown';
}

/** What is known of one server's software. */
export interface KnownSoftware {
  origin: string;
  family: PeerFamily;
  /** NodeInfo name, lowercased, or null when not known. */
  name: string | null;
  version: string | null;
}

/** The major version number of a version string (`0.19.20` -> 0), or null. */
export function majorVersion(version: string | null): number | null {
  const m = /^v?(\d+)\./.exec(version ?? '');
  return m?.[1] === undefined ? null : Number(m[1]);
}

/** The origin (`scheme://host[:port]`) of a URL, or null when it is not an http(s) URL. */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : null;
  } catch {
    return null;
  }
}

const NODEINFO_SCHEMA = /^https?:\/\/nodeinfo\.diaspora\.software\/ns\/schema\/2\.(\d+)$/;

/**
 * The URL of the newest NodeInfo 2.x document a `/.well-known/nodeinfo` answer links to, or null. Only links
 * of the NodeInfo 2.x schemas are taken (1.x has no `software` the same way).
 */
export function nodeInfoLink(doc: Record<string, unknown>, base: string): string | null {
  const links = Array.isArray(doc['links']) ? doc['links'] : [];
  let best: { minor: number; href: string } | null = null;
  for (const link of links.slice(0, 20)) {
    if (typeof link !== 'object' || link === null) continue;
    const { rel, href } = link as Record<string, unknown>;
    if (typeof rel !== 'string' || typeof href !== 'string') continue;
    const m = NODEINFO_SCHEMA.exec(rel.trim());
    if (!m) continue;
    const minor = Number(m[1]);
    let url: string;
    try {
      url = new URL(href, base).href;
    } catch {
      continue;
    }
    if (best === null || minor > best.minor) best = { minor, href: url };
  }
  return best?.href ?? null;
}

/** `software.name` (lowercased) and `software.version` of a NodeInfo 2.x document, or null when it has none. */
export function nodeInfoSoftware(
  doc: Record<string, unknown>,
): { name: string; version: string | null } | null {
  const software = doc['software'];
  if (typeof software !== 'object' || software === null) return null;
  const { name, version } = software as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) return null;
  return {
    name: name.trim().toLowerCase(),
    version: typeof version === 'string' && version.length <= 100 ? version : null,
  };
}
