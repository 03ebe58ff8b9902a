/**
 * The wire form of the instance's Service actor (`ORIGIN/actor`). It signs this server's fetches and authors
 * what the admin and DM commands do; Lemmy dereferences it as a person (`Person` in Lemmy 0.19's
 * `crates/apub/src/protocol/objects/person.rs` wants a `Person`, `Service` or `Organization` with
 * `preferredUsername`, `inbox`, `outbox` and `publicKey`). No I/O.
 */
import { GUILD_CONTEXT, type ApObject } from './vocab.ts';

export interface ServiceActorFields {
  id: string;
  /** preferredUsername: the name in `@NAME@HOST`. */
  name: string;
  /** host[:port] of the instance. */
  domain: string;
  inbox: string;
  outbox: string;
  /** Its pinned posts: none, but GoToSocial reads the collection of every actor it meets (see below). */
  featured: string;
  sharedInbox: string;
  keyId: string;
  publicKeyPem: string;
  /** The instance's home page. */
  url: string;
}

export function toApServiceActor(f: ServiceActorFields): ApObject {
  return {
    '@context': GUILD_CONTEXT,
    id: f.id,
    type: 'Service',
    preferredUsername: f.name,
    name: f.domain,
    summary: `<p>The groups server ${f.domain}: it speaks for the admin and the moderators' commands.</p>`,
    inbox: f.inbox,
    outbox: f.outbox,
    // GoToSocial dereferences every actor's `featured` as a URL, and logs an error for an actor without one
    // (superseriousbusiness/gotosocial internal/federation/dereferencing/account.go, dereferenceAccountFeatured).
    featured: f.featured,
    url: f.url,
    endpoints: { sharedInbox: f.sharedInbox },
    manuallyApprovesFollowers: true,
    discoverable: false,
    indexable: false,
    publicKey: { id: f.keyId, owner: f.id, publicKeyPem: f.publicKeyPem },
    webfinger: `acct:${f.name}@${f.domain}`,
  };
}
