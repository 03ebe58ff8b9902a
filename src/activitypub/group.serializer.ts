/** Wire forms of the group actor and its collections. No I/O. */
import type { Group } from '../storage/store.ts';
import type { Urls } from './urls.ts';
import { markdownToHtml } from '../text/markdown.ts';
import { GUILD_CONTEXT, type ApObject } from './vocab.ts';

/** Where a group came from and went: its former ids (`alsoKnownAs`) and its new one (`movedTo`). */
export interface GroupIdentityLinks {
  alsoKnownAs: string[];
  movedTo: string | null;
}

export function toApGroup(
  group: Group,
  urls: Urls,
  publicKeyPem: string,
  domain: string,
  links: GroupIdentityLinks = { alsoKnownAs: [], movedTo: null },
): ApObject {
  const id = urls.group(group.name);
  const s = group.settings;
  const actor: ApObject = {
    '@context': GUILD_CONTEXT,
    id,
    type: 'Group',
    preferredUsername: group.name,
    name: group.title,
    summary: markdownToHtml(group.summary),
    source: { content: group.summary, mediaType: 'text/markdown' },
    url: id,
    inbox: urls.inbox(group.name),
    outbox: urls.outbox(group.name),
    followers: urls.followers(group.name),
    featured: urls.featured(group.name),
    attributedTo: urls.moderators(group.name),
    endpoints: { sharedInbox: urls.sharedInbox() },
    publicKey: { id: urls.groupKeyId(group.name), owner: id, publicKeyPem },
    manuallyApprovesFollowers: s.membershipPolicy === 'approval',
    postingRestrictedToMods: s.postingPolicy === 'moderators',
    discoverable: s.discoverable,
    indexable: s.discoverable,
    sensitive: s.sensitive,
    published: new Date(group.createdAt).toISOString(),
    updated: new Date(group.updatedAt).toISOString(),
    webfinger: `acct:${group.name}@${domain}`,
  };
  if (s.iconUrl) actor.icon = { type: 'Image', url: s.iconUrl };
  if (s.bannerUrl) actor.image = { type: 'Image', url: s.bannerUrl };
  if (s.language) actor.language = toApLanguages(s.language);
  if (s.tags.length > 0) actor.tag = s.tags.map((t) => ({ type: 'Hashtag', name: `#${t}` }));
  // Mastodon and GoToSocial follow a Move only to an actor listing the old one here, and not moved itself.
  if (links.alsoKnownAs.length > 0) actor.alsoKnownAs = [...links.alsoKnownAs];
  if (links.movedTo !== null) actor.movedTo = links.movedTo;
  return actor;
}

const LANGUAGE_NAMES = new Intl.DisplayNames(['en'], { type: 'language' });

/**
 * The group's language as Lemmy reads it: an array of schema.org `Language` objects (LemmyNet/lemmy,
 * crates/apub/src/protocol/objects/group.rs `language: Vec<LanguageTag>`; a single object makes the whole
 * Group unreadable there). Lemmy matches `identifier` against ISO 639-1 codes only
 * (`LanguageTag::to_language_id_multiple`), so the tag's primary subtag is sent (`pt` for `pt-BR`).
 */
export function toApLanguages(tag: string): ApObject[] {
  const identifier = (tag.split('-')[0] ?? tag).toLowerCase();
  let name = identifier;
  try {
    name = LANGUAGE_NAMES.of(identifier) ?? identifier;
  } catch {
    // Not a tag ICU knows: the code stands for its name.
  }
  return [{ identifier, name }];
}

/** Something deleted (a group, a removed post's activities) answers with a Tombstone (410), so peers drop it. */
export function toApTombstone(id: string, deletedAt: number, formerType = 'Group'): ApObject {
  return {
    '@context': GUILD_CONTEXT,
    id,
    type: 'Tombstone',
    formerType,
    deleted: new Date(deletedAt).toISOString(),
  };
}
