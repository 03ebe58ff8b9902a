/**
 * Changing a group's profile and settings: every value is validated first and nothing changes when one is
 * wrong; a changed group is sent to its members (`SettingsChanged`, an `Update{Group}` with the full actor
 * document). Who may change them, and the audit log, are the moderation service's.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Group, GroupSettings, MembershipPolicy, PostingPolicy, Store } from '../storage/store.ts';
import { err, ok, type Result } from './ports.ts';
import type { EventSink } from './events.ts';
import type { MembershipService } from './membership.service.ts';

/** The largest image accepted for an icon or banner. */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
export const MAX_TITLE_LENGTH = 200;
export const MAX_SUMMARY_LENGTH = 5000;
export const MAX_RULES_LENGTH = 10_000;
export const MAX_TAGS = 10;
export const MAX_URL_LENGTH = 2048;
export const MAX_GROUP_MENTIONS_LIMIT = 100;

export type ImageExtension = 'png' | 'jpg' | 'gif' | 'webp';

/** An image whose format was recognised from its first bytes. */
export interface SniffedImage {
  bytes: Uint8Array;
  ext: ImageExtension;
  contentType: string;
  /** Lowercase hex SHA-256 of the bytes. */
  sha256: string;
}

/** An icon or banner: a remote http(s) URL kept as is, or the bytes of a local image file. */
export type ImageSource = { url: string } | { bytes: Uint8Array };

/** Where uploaded images are kept and served from. */
export interface MediaStore {
  /** Stores the image (content-addressed, so storing twice is harmless); returns its absolute public URL. */
  saveImage(image: SniffedImage): Promise<string>;
}

/** The fields to change; an absent field stays as it is. `null` clears language, icon and banner. */
export interface SettingsPatch {
  title?: string;
  /** Markdown source. */
  summary?: string;
  /** Markdown source. */
  rules?: string;
  /** BCP 47 language tag, or null to clear. */
  language?: string | null;
  /** Hashtags without `#` (a leading `#` is dropped); replaces the whole list. */
  tags?: string[];
  sensitive?: boolean;
  discoverable?: boolean;
  membershipPolicy?: MembershipPolicy;
  postingPolicy?: PostingPolicy;
  maxGroupMentions?: number;
  maxPostsPerHour?: number;
  maxActivitiesPerHour?: number;
  maxEditsPerPostPerHour?: number;
  premoderateFirstPosts?: number;
  listFollowers?: boolean;
  acceptGroupFollowers?: boolean;
  icon?: ImageSource | null;
  banner?: ImageSource | null;
}

export type SettingsField = keyof SettingsPatch;

/** One rejected value, with a message that can be shown as is. */
export interface FieldProblem {
  field: SettingsField;
  detail: string;
}

export type UpdateSettingsError = { type: 'not-found' } | { type: 'invalid'; problems: FieldProblem[] };

export interface SettingsUpdated {
  group: Group;
  /** Names of the fields whose value changed. */
  changed: SettingsField[];
  /** Join requests accepted because membership became open. */
  approvedPending: number;
}

/** A validated change, ready to be committed. */
export interface PreparedSettings {
  before: Group;
  after: Group;
  changed: SettingsField[];
}

export interface SettingsServiceDeps {
  store: Store;
  events: EventSink;
  /** Where local image files go; without it only image URLs are accepted. */
  media?: MediaStore | null;
  /** When given, opening an approval group accepts its pending join requests (as unlocking does on Mastodon). */
  membership?: MembershipService | null;
  now?: () => number;
}

const TAG_RE = /^[\p{L}\p{N}_]{1,64}$/u;
const LANGUAGE_RE = /^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/i;
const MEMBERSHIP: readonly MembershipPolicy[] = ['open', 'approval'];
const POSTING: readonly PostingPolicy[] = ['members', 'moderators'];

export class SettingsService {
  private readonly now: () => number;
  constructor(private readonly deps: SettingsServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Validates every field of `patch`, then stores the changed group and tells its members. Nothing is stored or
   * sent when any field is invalid, nor when no value actually changes. `basis` names the action (the ids of
   * what is sent derive from it).
   */
  async update(
    name: string,
    patch: SettingsPatch,
    basis: string = `settings:${randomUUID()}`,
  ): Promise<Result<SettingsUpdated, UpdateSettingsError>> {
    const prepared = await this.prepare(name, patch);
    if (!prepared.ok) return prepared;
    return this.commit(prepared.value, basis);
  }

  /**
   * Validates a patch against the group as stored and computes the group it gives; writes nothing but the
   * images it names (content-addressed, so harmless to write twice).
   */
  async prepare(name: string, patch: SettingsPatch): Promise<Result<PreparedSettings, UpdateSettingsError>> {
    const group = await this.deps.store.groups.getGroup(name);
    if (!group || group.deletedAt !== null) return err({ type: 'not-found' });
    const checked = validateSettingsPatch(patch, { uploads: Boolean(this.deps.media) });
    if (!checked.ok) return err({ type: 'invalid', problems: checked.error });
    const v = checked.value;

    const next: Group = { ...group, settings: { ...group.settings, tags: [...group.settings.tags] } };
    const s: GroupSettings = next.settings;
    if (v.title !== undefined) next.title = v.title;
    if (v.summary !== undefined) next.summary = v.summary;
    if (v.rules !== undefined) s.rules = v.rules;
    if (v.language !== undefined) s.language = v.language;
    if (v.tags !== undefined) s.tags = v.tags;
    if (v.sensitive !== undefined) s.sensitive = v.sensitive;
    if (v.discoverable !== undefined) s.discoverable = v.discoverable;
    if (v.membershipPolicy !== undefined) s.membershipPolicy = v.membershipPolicy;
    if (v.postingPolicy !== undefined) s.postingPolicy = v.postingPolicy;
    if (v.maxGroupMentions !== undefined) s.maxGroupMentions = v.maxGroupMentions;
    if (v.maxPostsPerHour !== undefined) s.maxPostsPerHour = v.maxPostsPerHour;
    if (v.maxActivitiesPerHour !== undefined) s.maxActivitiesPerHour = v.maxActivitiesPerHour;
    if (v.maxEditsPerPostPerHour !== undefined) s.maxEditsPerPostPerHour = v.maxEditsPerPostPerHour;
    if (v.premoderateFirstPosts !== undefined) s.premoderateFirstPosts = v.premoderateFirstPosts;
    if (v.listFollowers !== undefined) s.listFollowers = v.listFollowers;
    if (v.acceptGroupFollowers !== undefined) s.acceptGroupFollowers = v.acceptGroupFollowers;
    // Images last: they are written only once everything else is known to be valid.
    if (v.icon !== undefined) s.iconUrl = await this.imageUrl(v.icon);
    if (v.banner !== undefined) s.bannerUrl = await this.imageUrl(v.banner);
    const changed = changedFields(group, next);
    if (changed.length > 0) next.updatedAt = Math.max(this.now(), group.updatedAt + 1);
    return ok({ before: group, after: changed.length > 0 ? next : group, changed });
  }

  /**
   * Stores a prepared change and tells the members; an open group accepts the pending requests it has (those
   * of an approval group that was just opened). Members are told first, then the group is stored, then the
   * requests accepted: after a failure at any step, the same change done again (same `basis`) queues nothing
   * new, stores it, and accepts the requests still pending, even when it finds the group already changed.
   */
  async commit(p: PreparedSettings, basis: string): Promise<Result<SettingsUpdated, UpdateSettingsError>> {
    const name = p.after.name;
    if (p.changed.length > 0) {
      await this.deps.events.emit({
        type: 'SettingsChanged',
        group: name,
        basis,
        source: null,
        snapshot: p.after,
      });
      if (!(await this.deps.store.groups.updateGroup(p.after))) return err({ type: 'not-found' });
    }
    const open = p.after.settings.membershipPolicy === 'open';
    const approvedPending = open ? await this.approveAllPending(name, basis) : 0;
    return ok({ group: p.after, changed: p.changed, approvedPending });
  }

  /** Accepts every pending join request of a group (after its membership became open). */
  private async approveAllPending(name: string, basis: string): Promise<number> {
    const membership = this.deps.membership;
    if (!membership) return 0;
    let approved = 0;
    for (;;) {
      // Approved requests leave the pending list, so the first page is read again until it is empty.
      const page = await membership.listPending(name, null, 100);
      if (!page.ok || page.value.length === 0) return approved;
      let progressed = false;
      for (const m of page.value) {
        const r = await membership.approve(name, m.actorId, `${basis}#approve:${m.actorId}`);
        if (r.ok) {
          approved++;
          progressed = true;
        }
      }
      if (!progressed) return approved;
    }
  }

  private async imageUrl(image: ValidImage | null): Promise<string | null> {
    if (image === null) return null;
    if ('url' in image) return image.url;
    if (!this.deps.media) throw new Error('an image file was accepted without a media store');
    return this.deps.media.saveImage(image.file);
  }
}

type ValidImage = { url: string } | { file: SniffedImage };

/** A patch whose values passed validation, normalised (trimmed, tags deduplicated, images recognised). */
export interface ValidSettingsPatch extends Omit<SettingsPatch, 'icon' | 'banner'> {
  icon?: ValidImage | null;
  banner?: ValidImage | null;
}

/**
 * Checks every field of a patch and reports all problems at once. `uploads` tells whether image files are
 * accepted (a media store exists).
 */
export function validateSettingsPatch(
  patch: SettingsPatch,
  opts: { uploads: boolean },
): Result<ValidSettingsPatch, FieldProblem[]> {
  const problems: FieldProblem[] = [];
  const out: ValidSettingsPatch = {};
  const bad = (field: SettingsField, detail: string): void => {
    problems.push({ field, detail });
  };

  if (patch.title !== undefined) {
    const title = patch.title.trim();
    if (title.length === 0 || title.length > MAX_TITLE_LENGTH)
      bad('title', `the title must be 1 to ${MAX_TITLE_LENGTH} characters`);
    else out.title = title;
  }
  if (patch.summary !== undefined) {
    if (patch.summary.length > MAX_SUMMARY_LENGTH)
      bad('summary', `the summary must be at most ${MAX_SUMMARY_LENGTH} characters`);
    else out.summary = patch.summary;
  }
  if (patch.rules !== undefined) {
    if (patch.rules.length > MAX_RULES_LENGTH)
      bad('rules', `the rules must be at most ${MAX_RULES_LENGTH} characters`);
    else out.rules = patch.rules;
  }
  if (patch.language !== undefined) {
    const language = patch.language === null ? '' : patch.language.trim();
    if (language === '') out.language = null;
    else if (language.length > 35 || !LANGUAGE_RE.test(language))
      bad('language', `"${language}" is not a language tag such as en, de or pt-BR`);
    else out.language = language;
  }
  if (patch.tags !== undefined) {
    const tags: string[] = [];
    for (const raw of patch.tags) {
      const tag = raw.trim().replace(/^#/, '').toLowerCase();
      if (tag === '') continue;
      if (!TAG_RE.test(tag)) {
        bad('tags', `"${raw}" is not a tag: use letters, digits and underscores (at most 64)`);
        continue;
      }
      if (!tags.includes(tag)) tags.push(tag);
    }
    if (tags.length > MAX_TAGS) bad('tags', `at most ${MAX_TAGS} tags (got ${tags.length})`);
    else if (!problems.some((p) => p.field === 'tags')) out.tags = tags;
  }
  for (const field of ['sensitive', 'discoverable', 'listFollowers', 'acceptGroupFollowers'] as const) {
    const value = patch[field];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') bad(field, `${field} must be true or false`);
    else out[field] = value;
  }
  if (patch.membershipPolicy !== undefined) {
    if (!MEMBERSHIP.includes(patch.membershipPolicy))
      bad('membershipPolicy', `membership must be one of ${MEMBERSHIP.join(', ')}`);
    else out.membershipPolicy = patch.membershipPolicy;
  }
  if (patch.postingPolicy !== undefined) {
    if (!POSTING.includes(patch.postingPolicy))
      bad('postingPolicy', `posting must be one of ${POSTING.join(', ')}`);
    else out.postingPolicy = patch.postingPolicy;
  }
  if (patch.maxGroupMentions !== undefined) {
    const n = patch.maxGroupMentions;
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_GROUP_MENTIONS_LIMIT)
      bad(
        'maxGroupMentions',
        `the mention limit must be a whole number from 1 to ${MAX_GROUP_MENTIONS_LIMIT}`,
      );
    else out.maxGroupMentions = n;
  }
  for (const [field, max, label] of [
    ['maxPostsPerHour', 10_000, 'posts per member per hour (0 = no limit)'],
    ['maxActivitiesPerHour', 10_000, 'votes and edits per member per hour (0 = no limit)'],
    ['maxEditsPerPostPerHour', 1_000, 'edits per post per hour (0 = no limit)'],
    ['premoderateFirstPosts', 100, "new members' posts held for approval (0 = off)"],
  ] as const) {
    const n = patch[field];
    if (n === undefined) continue;
    if (!Number.isSafeInteger(n) || n < 0 || n > max)
      bad(field, `${label} must be a whole number from 0 to ${max}`);
    else out[field] = n;
  }
  for (const field of ['icon', 'banner'] as const) {
    const value = patch[field];
    if (value === undefined) continue;
    const r = validateImage(value, opts.uploads);
    if (!r.ok) bad(field, r.error);
    else out[field] = r.value;
  }
  return problems.length > 0 ? err(problems) : ok(out);
}

function validateImage(image: ImageSource | null, uploads: boolean): Result<ValidImage | null, string> {
  if (image === null) return ok(null);
  if ('url' in image) {
    const url = safeImageUrl(image.url);
    return url ? ok({ url }) : err(`"${image.url.slice(0, 100)}" is not an http(s) URL`);
  }
  if (!uploads) return err('image files cannot be stored here; give an http(s) URL');
  if (image.bytes.length === 0) return err('the file is empty');
  if (image.bytes.length > MAX_IMAGE_BYTES)
    return err(`the file is ${image.bytes.length} bytes; the limit is ${MAX_IMAGE_BYTES} (2 MiB)`);
  const file = sniffImage(image.bytes);
  return file ? ok({ file }) : err('the file is not a PNG, JPEG, GIF or WebP image');
}

/** The normalised URL when `raw` is an absolute http(s) URL without credentials, else null. */
export function safeImageUrl(raw: string): string | null {
  const text = raw.trim();
  if (text.length === 0 || text.length > MAX_URL_LENGTH) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password) return null;
  return url.href;
}

/** Recognises PNG, JPEG, GIF and WebP from their magic bytes; null for anything else. */
export function sniffImage(bytes: Uint8Array): SniffedImage | null {
  const starts = (sig: number[], at = 0): boolean =>
    bytes.length >= at + sig.length && sig.every((b, i) => bytes[at + i] === b);
  let ext: ImageExtension | null = null;
  let contentType = '';
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    ext = 'png';
    contentType = 'image/png';
  } else if (starts([0xff, 0xd8, 0xff])) {
    ext = 'jpg';
    contentType = 'image/jpeg';
  } else if (starts([0x47, 0x49, 0x46, 0x38, 0x37, 0x61]) || starts([0x47, 0x49, 0x46, 0x38, 0x39, 0x61])) {
    ext = 'gif';
    contentType = 'image/gif';
  } else if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) {
    ext = 'webp';
    contentType = 'image/webp';
  }
  if (ext === null) return null;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { bytes, ext, contentType, sha256 };
}

/** The content type of a stored image extension. */
export function imageContentType(ext: ImageExtension): string {
  return { png: 'image/png', jpg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' }[ext];
}

function changedFields(before: Group, after: Group): SettingsField[] {
  const a = before.settings;
  const b = after.settings;
  const out: SettingsField[] = [];
  if (before.title !== after.title) out.push('title');
  if (before.summary !== after.summary) out.push('summary');
  if (a.rules !== b.rules) out.push('rules');
  if (a.language !== b.language) out.push('language');
  if (a.tags.join('\n') !== b.tags.join('\n')) out.push('tags');
  if (a.sensitive !== b.sensitive) out.push('sensitive');
  if (a.discoverable !== b.discoverable) out.push('discoverable');
  if (a.membershipPolicy !== b.membershipPolicy) out.push('membershipPolicy');
  if (a.postingPolicy !== b.postingPolicy) out.push('postingPolicy');
  if (a.maxGroupMentions !== b.maxGroupMentions) out.push('maxGroupMentions');
  if (a.maxPostsPerHour !== b.maxPostsPerHour) out.push('maxPostsPerHour');
  if (a.maxActivitiesPerHour !== b.maxActivitiesPerHour) out.push('maxActivitiesPerHour');
  if (a.maxEditsPerPostPerHour !== b.maxEditsPerPostPerHour) out.push('maxEditsPerPostPerHour');
  if (a.premoderateFirstPosts !== b.premoderateFirstPosts) out.push('premoderateFirstPosts');
  if (a.listFollowers !== b.listFollowers) out.push('listFollowers');
  if (a.acceptGroupFollowers !== b.acceptGroupFollowers) out.push('acceptGroupFollowers');
  if (a.iconUrl !== b.iconUrl) out.push('icon');
  if (a.bannerUrl !== b.bannerUrl) out.push('banner');
  return out;
}
