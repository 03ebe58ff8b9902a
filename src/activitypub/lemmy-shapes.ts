/**
 * What Lemmy 0.19 can deserialize, for the collections it reads as a whole: one item it cannot parse makes it
 * drop the whole featured collection (`Vec<Page>`) or outbox (`Vec<AnnounceActivity>`), so Guild lists there
 * only items that pass these checks. Each check names the serde type it mirrors (LemmyNet/lemmy, crates/apub).
 * No I/O.
 */
import { isObject, str, type ApObject } from './vocab.ts';

/** `PageType` (protocol/objects/page.rs): the object types Lemmy takes as posts. */
const LEMMY_PAGE_TYPES = new Set(['Page', 'Article', 'Note', 'Video', 'Event']);
/** `MediaTypeMarkdownOrHtml` (activitypub_federation::protocol::values). */
const LEMMY_MEDIA_TYPES = new Set(['text/markdown', 'text/html']);

const optional = (v: unknown, ok: (x: unknown) => boolean): boolean => v === undefined || v === null || ok(v);
const isString = (v: unknown): boolean => typeof v === 'string';
const isUrl = (v: unknown): boolean => typeof v === 'string' && URL.canParse(v);
/** `deserialize_one_or_many` of `Url`: one URL or an array of URLs. */
const urlOrUrls = (v: unknown): boolean => (Array.isArray(v) ? v.every(isUrl) : isUrl(v));

/**
 * `Attachment` (protocol/objects/page.rs): an untagged enum of `Link { href, type: Link }`,
 * `Image { type: Image, url }` and `Document { type: Document, url }`.
 */
function isLemmyAttachment(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (v.type === 'Link') return isUrl(v.href) && optional(v.mediaType, isString);
  if (v.type === 'Image' || v.type === 'Document')
    return isUrl(v.url) && optional(v.name, isString) && optional(v.mediaType, isString);
  return false;
}

/**
 * True when Lemmy 0.19 deserializes `o` as a `Page` (protocol/objects/page.rs): a top-level post (an
 * `inReplyTo` makes it a comment, which `Page` refuses), with `attributedTo`, and every field it declares
 * without `deserialize_skip_error` in the type it expects.
 */
export function readableAsLemmyPage(o: unknown): o is ApObject {
  if (!isObject(o)) return false;
  const type = str(o.type);
  if (!type || !LEMMY_PAGE_TYPES.has(type) || !isUrl(o.id)) return false;
  if (o.inReplyTo !== undefined && o.inReplyTo !== null) return false;
  const attributedTo = o.attributedTo;
  const attributedOk = isUrl(attributedTo) || (Array.isArray(attributedTo) && attributedTo.every(isObject));
  return (
    attributedOk &&
    optional(o.to, urlOrUrls) &&
    optional(o.cc, urlOrUrls) &&
    optional(o.name, isString) &&
    optional(o.content, isString) &&
    optional(o.mediaType, (m) => typeof m === 'string' && LEMMY_MEDIA_TYPES.has(m)) &&
    // `Vec<Attachment>` with `#[serde(default)]`: absent, or an array (a lone object does not parse).
    optional(o.attachment, (a) => Array.isArray(a) && a.every(isLemmyAttachment)) &&
    optional(o.image, (i) => isObject(i) && i.type === 'Image' && isUrl(i.url)) &&
    optional(o.sensitive, (s) => typeof s === 'boolean') &&
    optional(o.published, isDateTime) &&
    optional(o.updated, isDateTime) &&
    optional(o.language, (l) => isObject(l) && isString(l.identifier) && isString(l.name)) &&
    optional(o.audience, isUrl)
  );
}

/** chrono's `DateTime<Utc>` reads RFC 3339 date-times. */
function isDateTime(v: unknown): boolean {
  return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
}

/**
 * True when Lemmy 0.19 deserializes `doc` as an `AnnounceActivity` (protocol/activities/community/announce.rs):
 * `id`, `actor`, `to` and `cc` (one URL or several), and an `object` that is a URL or an activity with a URL
 * `id` and a URL `actor` (`RawAnnouncableActivities`).
 */
export function readableAsLemmyAnnounce(doc: unknown): doc is ApObject {
  if (!isObject(doc) || doc.type !== 'Announce') return false;
  if (!isUrl(doc.id) || !isUrl(doc.actor) || !urlOrUrls(doc.to) || !urlOrUrls(doc.cc)) return false;
  const object = doc.object;
  return isUrl(object) || (isObject(object) && isUrl(object.id) && isUrl(object.actor));
}

/**
 * True when Lemmy backfills a post from this outbox item: an `Announce` of a `Create` or `Update` of a post it
 * reads as a `Page`, with the `to` and `cc` that `CreateOrUpdatePage` requires
 * (protocol/activities/create_or_update/page.rs; collections/community_outbox.rs handles nothing else).
 */
export function backfillableByLemmy(doc: unknown): doc is ApObject {
  if (!readableAsLemmyAnnounce(doc)) return false;
  const inner = doc.object;
  if (!isObject(inner) || (inner.type !== 'Create' && inner.type !== 'Update')) return false;
  // `to` and `cc` are declared without a default: both must be present.
  return (
    inner.to !== undefined &&
    inner.cc !== undefined &&
    urlOrUrls(inner.to) &&
    urlOrUrls(inner.cc) &&
    readableAsLemmyPage(inner.object)
  );
}
