/**
 * The latest posts of a group for its page, read from the outbox: each entry is an `Announce` whose `object`
 * is the member's original activity. Creates become posts (with the newest announced Update applied, deleted
 * posts left out); other activities are skipped. Everything shown comes from other servers, so it is escaped
 * or sanitized here.
 */
import type { OutboxCursor, Store } from '../storage/store.ts';
import { POST_TYPES, httpUrl, idOf, isObject, str, typeOf, type ApObject } from '../activitypub/vocab.ts';
import { isPublicDocument } from '../activitypub/audience.ts';
import { escapeHtml } from '../text/html.ts';
import { htmlToText, sanitizeHtml } from './sanitize-html.ts';

export interface RecentPost {
  objectId: string;
  /** A link to the post on its server (its `url`, else its id), http(s) only. */
  link: string | null;
  authorId: string;
  authorName: string;
  /** `@user@host` when the author's profile is cached, else null. */
  authorHandle: string | null;
  authorLink: string | null;
  /** Title of a Page or Article, plain text. */
  title: string | null;
  /** Content warning, plain text. */
  warning: string | null;
  /** Sanitized HTML. */
  contentHtml: string;
  published: number;
  isReply: boolean;
}

const PAGE = 10;
/** Outbox entries read at most to find `limit` posts. */
const SCAN_LIMIT = 60;

/** Up to `limit` recent posts of a group, newest first. */
export async function loadRecentPosts(store: Store, groupName: string, limit = 10): Promise<RecentPost[]> {
  const posts: RecentPost[] = [];
  const updates = new Map<string, ApObject>();
  const seen = new Set<string>();
  let before: OutboxCursor | null = null;
  let scanned = 0;
  while (posts.length < limit && scanned < SCAN_LIMIT) {
    const page = await store.activities.listOutbox(groupName, before, PAGE);
    if (page.length === 0) break;
    for (const entry of page) {
      scanned++;
      before = { published: entry.published, id: entry.id };
      if (posts.length >= limit) break;
      const inner = announcedActivity(entry.json);
      if (!inner) continue;
      const type = typeOf(inner);
      const object = isObject(inner.object) ? inner.object : null;
      const objectId = idOf(inner.object);
      if (!object || !objectId || !POST_TYPES.has(typeOf(object) ?? '')) continue;
      // Newest first: an Update is met before the Create it changes.
      if (type === 'Update') {
        if (!updates.has(objectId)) updates.set(objectId, object);
        continue;
      }
      if (type !== 'Create' || seen.has(objectId)) continue;
      seen.add(objectId);
      const stored = await store.posts.getPost(groupName, objectId);
      if (stored && stored.deletedAt !== null) continue;
      const authorId = idOf(object.attributedTo) ?? idOf(inner.actor);
      if (!authorId) continue;
      posts.push(
        await toRecentPost(store, updates.get(objectId) ?? object, objectId, authorId, entry.published),
      );
    }
    if (page.length < PAGE) break;
  }
  return posts;
}

function announcedActivity(json: string): ApObject | null {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return null;
  }
  // Only what the group announced publicly is shown, whatever the outbox holds.
  if (!isObject(doc) || typeOf(doc) !== 'Announce' || !isPublicDocument(doc)) return null;
  return isObject(doc.object) ? doc.object : null;
}

async function toRecentPost(
  store: Store,
  object: ApObject,
  objectId: string,
  authorId: string,
  announcedAt: number,
): Promise<RecentPost> {
  const actor = await store.remoteActors.getRemoteActor(authorId);
  const host = httpUrl(authorId)?.host ?? '';
  const handle = actor?.preferredUsername ? `@${actor.preferredUsername}@${host}` : null;
  const publishedText = str(object.published);
  const published = publishedText ? Date.parse(publishedText) : NaN;
  const summary = str(object.summary);
  const sensitive = object.sensitive === true;
  const type = typeOf(object);
  const isNoteLike = type === 'Note' || type === 'Question';
  const name = str(object.name);
  return {
    objectId,
    link: linkOf(object.url) ?? httpUrl(objectId)?.href ?? null,
    authorId,
    authorName: (actor?.name && htmlToText(actor.name)) || handle || authorId,
    authorHandle: handle,
    authorLink: linkOf(actor?.url) ?? httpUrl(authorId)?.href ?? null,
    title: !isNoteLike && name ? htmlToText(name) : null,
    warning: summary && (sensitive || isNoteLike) ? htmlToText(summary) || 'Content warning' : null,
    contentHtml: sanitizeHtml(str(object.content) ?? ''),
    published: Number.isFinite(published) ? published : announcedAt,
    isReply: idOf(object.inReplyTo) !== null,
  };
}

/** The first http(s) link of a `url` property (a string, a Link or an array of them). */
function linkOf(v: unknown): string | null {
  for (const item of Array.isArray(v) ? v : [v]) {
    const href = typeof item === 'string' ? item : isObject(item) ? str(item.href) : null;
    const url = httpUrl(href);
    if (url) return url.href;
  }
  return null;
}

/** The posts as an HTML list (every remote value escaped or sanitized). */
export function renderRecentPosts(posts: RecentPost[]): string {
  if (posts.length === 0) return '<p class="muted">No posts yet.</p>';
  const items = posts.map((p) => {
    const when = new Date(p.published);
    const author = p.authorLink
      ? `<a href="${escapeHtml(p.authorLink)}" rel="nofollow noopener noreferrer">${escapeHtml(p.authorName)}</a>`
      : escapeHtml(p.authorName);
    const handle = p.authorHandle ? ` <span class="muted">${escapeHtml(p.authorHandle)}</span>` : '';
    const time = `<time datetime="${escapeHtml(when.toISOString())}">${escapeHtml(formatTime(when))}</time>`;
    const stamp = p.link
      ? `<a href="${escapeHtml(p.link)}" rel="nofollow noopener noreferrer">${time}</a>`
      : time;
    const title = p.title ? `<h3>${escapeHtml(p.title)}</h3>` : '';
    const content = `<div class="content">${p.contentHtml}</div>`;
    const body = p.warning
      ? `<details><summary>${escapeHtml(p.warning)}</summary>${content}</details>`
      : content;
    return `<li class="post">
  <p class="byline">${author}${handle}${p.isReply ? ' <span class="muted">replied</span>' : ''} · ${stamp}</p>
  ${title}${body}
</li>`;
  });
  return `<ol class="posts">${items.join('\n')}</ol>`;
}

function formatTime(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
