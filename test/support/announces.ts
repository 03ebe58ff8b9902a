/** Which of a post's two announces (Announce{Create} and the boost of the note) reached which sink inboxes. */
import { deliveryCounts, type Sink } from './sinks.ts';

/** A post made by a member, and the ids of the two activities the group sends for it once they are seen. */
export interface Posted {
  createId: string;
  noteId: string;
}

export type AnnounceKind = 'create' | 'boost';

/** Which of a post's two announces a body is: Announce{Create} (the activity) or the boost of the note. */
export function kindOf(body: string, post: Posted): AnnounceKind | null {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof doc !== 'object' || doc === null) return null;
  const { type, object } = doc as { type?: unknown; object?: unknown };
  if (type !== 'Announce') return null;
  if (object === post.noteId) return 'boost';
  if (typeof object === 'object' && object !== null && (object as { id?: unknown }).id === post.createId)
    return 'create';
  return null;
}

/** The activity ids of a post's announces seen so far at the sinks. */
export function announceIds(sinks: Sink[], post: Posted): Map<AnnounceKind, string> {
  const ids = new Map<AnnounceKind, string>();
  for (const sink of sinks) {
    for (const p of sink.posts) {
      if (ids.size === 2) return ids;
      if (p.activityId === null) continue;
      const kind = kindOf(p.body, post);
      if (kind && !ids.has(kind)) ids.set(kind, p.activityId);
    }
  }
  return ids;
}

/** How many (inbox, announce) pairs of a post have arrived at least once, of `inboxes.length * 2`. */
export function coverage(
  sinks: Sink[],
  inboxes: string[],
  post: Posted,
): { have: number; want: number; missing: string[] } {
  const ids = [...announceIds(sinks, post).values()];
  const counts = deliveryCounts(sinks);
  const missing: string[] = [];
  for (const inbox of inboxes) {
    const got = ids.filter((id) => (counts.get(`${inbox} ${id}`) ?? 0) > 0).length;
    if (got < 2) missing.push(inbox);
  }
  let have = 0;
  for (const inbox of inboxes) for (const id of ids) if ((counts.get(`${inbox} ${id}`) ?? 0) > 0) have++;
  return { have, want: inboxes.length * 2, missing };
}
