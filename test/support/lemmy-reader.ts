/**
 * A test peer that reads a group the way Lemmy 0.19 deserializes it, written from its serde types
 * (LemmyNet/lemmy, tag 0.19.20, crates/apub/src/):
 * - `protocol/objects/group.rs` `Group` (with `protocol/objects/mod.rs` `LanguageTag`, `Endpoints`);
 * - `protocol/collections/group_outbox.rs` `GroupOutbox` of `protocol/activities/community/announce.rs`
 *   `AnnounceActivity`; `collections/community_outbox.rs` then receives each inner `CreateOrUpdatePage`
 *   (`protocol/activities/create_or_update/page.rs`) and skips anything else;
 * - `protocol/collections/group_featured.rs` `GroupFeatured` of `protocol/objects/page.rs` `Page`;
 * - `protocol/collections/group_followers.rs` `GroupFollowers` (`collections/community_follower.rs` stores
 *   its `totalItems` as the subscriber count);
 * - `protocol/collections/group_moderators.rs` `GroupModerators`.
 * Like serde, it ignores unknown fields, fails on a missing required field or a value of the wrong type, and
 * fails a whole `Vec` when one element fails. It accepts Lemmy's own documents (test/fixtures/lemmy/).
 */

type Check = (v: unknown, path: string) => void;

export class LemmyParseError extends Error {}

const fail = (path: string, what: string): never => {
  throw new LemmyParseError(`${path}: ${what}`);
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const str: Check = (v, p) => {
  if (typeof v !== 'string') fail(p, 'expected a string');
};
const bool: Check = (v, p) => {
  if (typeof v !== 'boolean') fail(p, 'expected a boolean');
};
const int: Check = (v, p) => {
  if (!Number.isInteger(v)) fail(p, 'expected an integer');
};
const url: Check = (v, p) => {
  if (typeof v !== 'string' || !URL.canParse(v)) fail(p, 'expected a URL');
};
/** chrono `DateTime<Utc>`: an RFC 3339 date-time. */
const dateTime: Check = (v, p) => {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) || Number.isNaN(Date.parse(v)))
    fail(p, 'expected an RFC 3339 date-time');
};
const literal =
  (...values: string[]): Check =>
  (v, p) => {
    if (typeof v !== 'string' || !values.includes(v)) fail(p, `expected one of ${values.join(', ')}`);
  };
const vec =
  (item: Check): Check =>
  (v, p) => {
    if (!Array.isArray(v)) return fail(p, 'expected an array');
    v.forEach((x, i) => item(x, `${p}[${i}]`));
  };
/** `deserialize_one_or_many`: one value or an array of them. */
const oneOrMany =
  (item: Check): Check =>
  (v, p) => {
    if (Array.isArray(v)) v.forEach((x, i) => item(x, `${p}[${i}]`));
    else item(v, p);
  };
/** `()`: JSON null only. */
const unit: Check = (v, p) => {
  if (v !== null) fail(p, 'expected null');
};
const anyOf =
  (...checks: Check[]): Check =>
  (v, p) => {
    for (const c of checks) {
      try {
        c(v, p);
        return;
      } catch (e) {
        if (!(e instanceof LemmyParseError)) throw e;
      }
    }
    fail(p, 'matches no variant of the untagged enum');
  };

interface Field {
  check: Check;
  /** `Option<T>` (absent or null allowed), `#[serde(default)]` (absent allowed), or required. */
  presence: 'option' | 'default' | 'required';
}
const req = (check: Check): Field => ({ check, presence: 'required' });
const opt = (check: Check): Field => ({ check, presence: 'option' });
const dflt = (check: Check): Field => ({ check, presence: 'default' });
/** `deserialize_skip_error`: any value, a failure reads as absent. */
const skipError: Field = { check: () => undefined, presence: 'option' };

const struct =
  (fields: Record<string, Field>): Check =>
  (v, p) => {
    if (!isRecord(v)) return fail(p, 'expected an object');
    for (const [name, f] of Object.entries(fields)) {
      const value = v[name];
      if (value === undefined) {
        if (f.presence === 'required') fail(`${p}.${name}`, 'missing field');
        continue;
      }
      if (value === null && f.presence === 'option') continue;
      f.check(value, `${p}.${name}`);
    }
  };

/** activitypub_federation `PublicKey`. */
const publicKey = struct({ id: req(str), owner: req(url), publicKeyPem: req(str) });
const languageTag = struct({ identifier: req(str), name: req(str) });
const imageObject = struct({ type: req(literal('Image')), url: req(url) });

const group = struct({
  type: req(literal('Group')),
  id: req(url),
  preferredUsername: req(str),
  inbox: req(url),
  followers: opt(url),
  publicKey: req(publicKey),
  name: opt(str),
  summary: opt(str),
  source: skipError,
  icon: skipError,
  image: skipError,
  sensitive: opt(bool),
  attributedTo: skipError,
  postingRestrictedToMods: opt(bool),
  outbox: req(url),
  endpoints: opt(struct({ sharedInbox: req(url) })),
  featured: opt(url),
  language: dflt(vec(languageTag)),
  published: opt(dateTime),
  updated: opt(dateTime),
});

/** `Page.in_reply_to` uses `deserialize_not_present`: a comment is not a post. */
const notPresent: Check = (v, p) => {
  if (v !== null) fail(p, 'Post must not have inReplyTo property');
};
const attachment = anyOf(
  struct({ href: req(url), mediaType: opt(str), type: req(literal('Link')) }),
  struct({ type: req(literal('Image')), url: req(url), name: opt(str) }),
  struct({ type: req(literal('Document')), url: req(url), mediaType: opt(str), name: opt(str) }),
);
const page = struct({
  type: req(literal('Page', 'Article', 'Note', 'Video', 'Event')),
  id: req(url),
  attributedTo: req(anyOf(url, vec(struct({ type: req(str), id: req(url) })))),
  to: dflt(oneOrMany(url)),
  inReplyTo: dflt(notPresent),
  name: opt(str),
  cc: dflt(oneOrMany(url)),
  content: opt(str),
  mediaType: opt(literal('text/markdown', 'text/html')),
  source: skipError,
  attachment: dflt(vec(attachment)),
  image: opt(imageObject),
  sensitive: opt(bool),
  published: opt(dateTime),
  updated: opt(dateTime),
  language: opt(languageTag),
  audience: opt(url),
  tag: skipError,
});

/** `RawAnnouncableActivities`: an id, an actor, anything else. */
const rawAnnouncable = struct({ id: req(url), actor: req(url) });
const announce = struct({
  actor: req(url),
  to: req(oneOrMany(url)),
  object: req(anyOf(url, rawAnnouncable)),
  cc: req(oneOrMany(url)),
  type: req(literal('Announce')),
  id: req(url),
});
const createOrUpdatePage = struct({
  actor: req(url),
  to: req(oneOrMany(url)),
  object: req(page),
  cc: req(oneOrMany(url)),
  type: req(literal('Create', 'Update')),
  id: req(url),
  audience: opt(url),
});

const outbox = struct({
  type: req(literal('OrderedCollection')),
  id: req(url),
  totalItems: req(int),
  orderedItems: req(vec(announce)),
});
const featured = struct({
  type: req(literal('OrderedCollection')),
  id: req(url),
  totalItems: req(int),
  orderedItems: req(vec(page)),
});
const followers = struct({
  id: req(url),
  type: req(literal('Collection')),
  totalItems: req(int),
  items: req(vec(unit)),
});
const moderators = struct({
  type: req(literal('OrderedCollection')),
  id: req(url),
  orderedItems: req(vec(url)),
});

function parses(check: Check, doc: unknown, what: string): Record<string, unknown> {
  check(doc, what);
  return doc as Record<string, unknown>;
}

function succeeds(check: Check, doc: unknown): boolean {
  try {
    check(doc, '$');
    return true;
  } catch (e) {
    if (e instanceof LemmyParseError) return false;
    throw e;
  }
}

/** What Lemmy 0.19 makes of a group's documents; each function throws LemmyParseError where Lemmy refuses. */
export const lemmyReads = {
  /** The community: its language codes (Lemmy keeps those it knows). */
  group(doc: unknown): { languages: string[] } {
    const g = parses(group, doc, 'Group');
    const langs = (g.language as Array<{ identifier: string }> | undefined) ?? [];
    return { languages: langs.map((l) => l.identifier) };
  },
  /**
   * The outbox: the ids of the posts a newly arriving instance backfills (the nested `Create`/`Update` of a
   * `Page` in each Announce; other items, and Announces of an id, are skipped one by one).
   */
  outbox(doc: unknown): { backfilledPostIds: string[] } {
    const o = parses(outbox, doc, 'GroupOutbox');
    const ids: string[] = [];
    for (const item of o.orderedItems as Array<{ object: unknown }>) {
      if (typeof item.object === 'string' || !succeeds(createOrUpdatePage, item.object)) continue;
      ids.push((item.object as { object: { id: string } }).object.id);
    }
    return { backfilledPostIds: ids };
  },
  /** The featured posts: their ids, which Lemmy then refetches one by one. */
  featured(doc: unknown): { postIds: string[] } {
    const f = parses(featured, doc, 'GroupFeatured');
    return { postIds: (f.orderedItems as Array<{ id: string }>).map((p) => p.id) };
  },
  /** The subscriber count Lemmy shows. */
  followers(doc: unknown): { subscribers: number } {
    return { subscribers: parses(followers, doc, 'GroupFollowers').totalItems as number };
  },
  moderators(doc: unknown): { moderatorIds: string[] } {
    return { moderatorIds: parses(moderators, doc, 'GroupModerators').orderedItems as string[] };
  },
};
