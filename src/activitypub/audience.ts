/** Who may read a document: its public addressing and its addressees. No I/O. */
import { httpUrl, idsOf, isObject, isPublic, type ApObject } from './vocab.ts';

/** True when a document is addressed to the public (`to` or `cc`, as Mastodon reads it). */
export function isPublicDocument(doc: ApObject): boolean {
  return [...idsOf(doc.to), ...idsOf(doc.cc)].some(isPublic);
}

/**
 * Everyone a document is addressed to (`to`, `cc`, `bto`, `bcc`, `audience`), with those of the object it
 * carries inline (a `Create` and its note), the public collection left out.
 */
export function addresseesOf(doc: ApObject): string[] {
  const out = new Set<string>();
  for (const o of isObject(doc.object) ? [doc, doc.object] : [doc]) {
    for (const key of ['to', 'cc', 'bto', 'bcc', 'audience'] as const) {
      for (const id of idsOf(o[key])) if (!isPublic(id)) out.add(id);
    }
  }
  return [...out];
}

/**
 * True when `reader` (the verified signer of a fetch) may read a document addressed to `addressees`: it is
 * one of them, or it is on the same host as one of them (a server fetches on its users' behalf, signing with
 * its own instance actor, as Mastodon and GoToSocial do). `isLocal` addressees (this server's collections)
 * name no host that a remote reader could share.
 */
export function readerIsAddressed(
  addressees: readonly string[],
  reader: string,
  isLocal: (id: string) => boolean,
): boolean {
  if (addressees.includes(reader)) return true;
  const readerHost = httpUrl(reader)?.host.toLowerCase();
  if (!readerHost) return false;
  return addressees.some((id) => !isLocal(id) && httpUrl(id)?.host.toLowerCase() === readerHost);
}
