/**
 * Remote documents read as they are now, for moves, groups following groups and peering: an actor document (a
 * move's target must list the old group in `alsoKnownAs`), a remote group's members (its followers collection,
 * as it lists them to this server), and an instance's Service actor (what its `/` serves to ActivityPub
 * requests, as Lemmy looks for it). Everything comes through the safe fetcher, signed by this instance.
 */
import { isObject, type ApObject } from '../activitypub/vocab.ts';
import type { RemoteDocuments } from '../groups/ports.ts';
import { httpUrl, sameOrigin } from './actor-decoder.ts';
import type { ActorResolver } from './actor-resolver.ts';
import type { SafeFetcher } from './safe-fetch.ts';

/** Members read at most from one followers collection. */
const MAX_MEMBERS = 100_000;
/** Pages read at most from one followers collection. */
const MAX_PAGES = 2_000;

export class RemoteDocumentReader implements RemoteDocuments {
  constructor(
    private readonly fetcher: SafeFetcher,
    private readonly resolver: ActorResolver,
  ) {}

  resolveHandle(handle: string): Promise<string | null> {
    return this.resolver.resolveHandle(handle);
  }

  async fetchActor(id: string): Promise<ApObject | null> {
    const res = await this.fetcher.getActivityPubObject(id);
    if (!res.ok || res.doc['id'] !== id) return null;
    // The cached copy (inbox, key) is refreshed from the same fetch's answer on the next lookup.
    await this.resolver.getActor(id, { refresh: true });
    return res.doc;
  }

  async readMembers(groupId: string): Promise<string[] | null> {
    const actor = await this.fetcher.getActivityPubObject(groupId);
    if (!actor.ok) return null;
    const followers = httpUrl(actor.doc['followers']);
    if (followers === null || !sameOrigin(followers, groupId)) return null;
    const root = await this.fetcher.getActivityPubObject(followers);
    if (!root.ok) return null;
    const out: string[] = [];
    let listedAny = false;
    let page: ApObject | null = root.doc;
    const seen = new Set<string>();
    for (let n = 0; page !== null && n < MAX_PAGES && out.length < MAX_MEMBERS; n++) {
      const items = page['orderedItems'] ?? page['items'];
      if (Array.isArray(items)) {
        listedAny = true;
        for (const item of items) {
          const id = typeof item === 'string' ? item : isObject(item) ? item['id'] : null;
          if (typeof id === 'string' && httpUrl(id) !== null) out.push(id);
        }
      }
      const next: unknown = page === root.doc ? (page['first'] ?? null) : (page['next'] ?? null);
      const nextUrl = isObject(next) ? httpUrl(next['id']) : httpUrl(next);
      if (isObject(next) && page === root.doc && (next['orderedItems'] ?? next['items']) !== undefined) {
        // The first page embedded in the collection.
        page = next;
        continue;
      }
      if (nextUrl === null || seen.has(nextUrl) || !sameOrigin(nextUrl, followers)) break;
      seen.add(nextUrl);
      const res = await this.fetcher.getActivityPubObject(nextUrl);
      page = res.ok ? res.doc : null;
    }
    return listedAny ? out.slice(0, MAX_MEMBERS) : null;
  }

  async instanceActor(host: string): Promise<{ id: string; inbox: string } | null> {
    const schemes = this.fetcher.allowPrivateAddresses ? ['https', 'http'] : ['https'];
    for (const scheme of schemes) {
      const res = await this.fetcher.getActivityPubObject(`${scheme}://${host}/`);
      if (!res.ok) continue;
      const id = httpUrl(res.doc['id']);
      if (id === null || new URL(id).host !== host) continue;
      const actor = await this.resolver.getActor(id, { refresh: true });
      if (actor === null) continue;
      return { id: actor.id, inbox: actor.sharedInbox ?? actor.inbox };
    }
    return null;
  }
}
