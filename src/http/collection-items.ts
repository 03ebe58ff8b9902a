/**
 * The items of the collections that carry documents rather than ids: the newest posts inline in the outbox and
 * the pinned posts in `featured`, read from the announced activities the store keeps. Each read is bounded.
 */
import type { OutboxCursor, StoredActivity, Store } from '../storage/store.ts';
import { isObject, type ApObject } from '../activitypub/vocab.ts';
import { backfillableByLemmy, readableAsLemmyPage } from '../activitypub/lemmy-shapes.ts';
import { isPublicDocument } from '../activitypub/audience.ts';

/** Outbox entries read at most to find the newest posts (votes and replies are skipped over). */
const OUTBOX_SCAN_LIMIT = 300;
const OUTBOX_SCAN_PAGE = 100;
/** Pinned posts listed at most (Lemmy reads 50: `FETCH_LIMIT_MAX`). */
const FEATURED_LIMIT = 50;
/** Activities read about one pinned post to find the post (its Create comes first). */
const ABOUT_SCAN_LIMIT = 20;

function parse(stored: StoredActivity): ApObject | null {
  try {
    const doc: unknown = JSON.parse(stored.json);
    return isObject(doc) ? doc : null;
  } catch {
    return null;
  }
}

/**
 * Up to `limit` outbox entries, newest first, each the latest `Announce{Create}` or `Announce{Update}` of a
 * different top-level post, in the form Lemmy backfills a community from (lemmy-shapes.ts). Entries that are
 * not public are never taken.
 */
export async function newestPostAnnounces(
  store: Store,
  groupName: string,
  limit: number,
): Promise<ApObject[]> {
  const out: ApObject[] = [];
  const seen = new Set<string>();
  let before: OutboxCursor | null = null;
  for (let scanned = 0; scanned < OUTBOX_SCAN_LIMIT && out.length < limit; scanned += OUTBOX_SCAN_PAGE) {
    const page = await store.activities.listOutbox(groupName, before, OUTBOX_SCAN_PAGE);
    for (const entry of page) {
      const doc = parse(entry);
      if (!doc || !isPublicDocument(doc) || !backfillableByLemmy(doc)) continue;
      const objectId = (doc.object as { object: { id: string } }).object.id;
      // Newest first: an edit is met before the Create it changes.
      if (seen.has(objectId)) continue;
      seen.add(objectId);
      out.push(doc);
      if (out.length >= limit) break;
    }
    const last = page[page.length - 1];
    if (!last || page.length < OUTBOX_SCAN_PAGE) break;
    before = { published: last.published, id: last.id };
  }
  return out;
}

/**
 * The pinned top-level posts of a group that are not deleted, most recently pinned first, each as the object
 * of the latest Create or Update announced among the first activities about it, when Lemmy reads it as a
 * `Page` (a reply or an object it cannot read would make it drop the whole collection).
 */
export async function featuredObjects(store: Store, groupName: string): Promise<ApObject[]> {
  const out: ApObject[] = [];
  for (const objectId of await store.postFlags.listPinned(groupName, FEATURED_LIMIT)) {
    const post = await store.posts.getPost(groupName, objectId);
    if (!post || post.deletedAt !== null || post.inReplyTo !== null) continue;
    const object = await announcedObject(store, groupName, objectId);
    if (object && readableAsLemmyPage(object)) out.push(object);
  }
  return out;
}

/** The post as carried by the latest public Announce{Create|Update} among the first activities about it. */
async function announcedObject(store: Store, groupName: string, objectId: string): Promise<ApObject | null> {
  let object: ApObject | null = null;
  const about = await store.activities.listActivitiesAbout(groupName, objectId, null, ABOUT_SCAN_LIMIT);
  for (const stored of about) {
    if (stored.withdrawnAt !== null) continue;
    const doc = parse(stored);
    if (!doc || !isPublicDocument(doc)) continue;
    const inner = doc.object;
    if (!isObject(inner) || (inner.type !== 'Create' && inner.type !== 'Update')) continue;
    if (isObject(inner.object) && inner.object.id === objectId) object = inner.object;
  }
  return object;
}
