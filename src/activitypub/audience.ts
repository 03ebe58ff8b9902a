/** Who may read a document: its public addressing and its addressees. No I/O. */
import { idsOf, isPublic, type ApObject } from './vocab.ts';

/** True when a document is addressed to the public (`to` or `cc`, as Mastodon reads it). */
export function isPublicDocument(doc: ApObject): boolean {
  return [...idsOf(doc.to), ...idsOf(doc.cc)].some(isPublic);
}
