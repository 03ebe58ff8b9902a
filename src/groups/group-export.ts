/**
 * The file a group is moved with: a versioned JSON document (`guild group export`, read by `guild group import`
 * on another Guild). It holds the profile and settings, moderators and owners, bans, pinned posts and the
 * accepted members. Reading one checks every field and reports every problem with its path; nothing is imported
 * from a file with a problem.
 */
import { GROUP_NAME_RE } from '../activitypub/urls.ts';
import { isObject, type ApObject } from '../activitypub/vocab.ts';
import { DEFAULT_GROUP_SETTINGS, type GroupSettings } from '../storage/store.ts';
import { err, ok, type Result } from './ports.ts';
import { MAX_SUMMARY_LENGTH, MAX_TITLE_LENGTH, validateSettingsPatch } from './settings.service.ts';

export const EXPORT_FORMAT = 'guild-group-export';
/** The version this Guild writes and reads. */
export const EXPORT_VERSION = 1;
/** Pinned posts a group may have (the featured collection lists 50). */
const MAX_PINNED = 50;
const MAX_MODERATORS = 1000;
/** Members and bans one file may hold. */
const MAX_LIST = 5_000_000;

export interface ExportedModerator {
  actorId: string;
  addedBy: string;
  /** ISO 8601. */
  addedAt: string;
}

export interface ExportedBan {
  actorId: string;
  reason: string;
  by: string;
  createdAt: string;
  expiresAt: string | null;
}

/** A pinned post: its object, its author and the Create that brought it (kept for the featured collection). */
export interface ExportedPost {
  objectId: string;
  authorId: string;
  create: ApObject;
}

export interface ExportedMember {
  actorId: string;
  inbox: string;
  sharedInbox: string | null;
}

export interface GroupExport {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exportedAt: string;
  /** The group as it was known where it was exported: its actor id and handle. */
  source: { actor: string; handle: string };
  group: { name: string; title: string; summary: string; createdAt: string; settings: GroupSettings };
  moderators: ExportedModerator[];
  /** The group's owner (who may move or delete it), or none for a group the admin created. */
  owners: string[];
  bans: ExportedBan[];
  pinned: ExportedPost[];
  /** The accepted members: they may follow the new group without a new approval. */
  members: ExportedMember[];
}

/** One problem of a file, with where it is (`group.settings.tags[2]`). */
export interface ExportProblem {
  path: string;
  detail: string;
}

/** Reads a parsed file; every problem is reported, and none of it is usable when there is one. */
export function decodeGroupExport(doc: unknown): Result<GroupExport, ExportProblem[]> {
  const p: ExportProblem[] = [];
  const bad = (path: string, detail: string): null => {
    if (p.length < 50) p.push({ path, detail });
    return null;
  };
  if (!isObject(doc)) return err([{ path: '', detail: 'the file is not a JSON object' }]);
  if (doc.format !== EXPORT_FORMAT)
    return err([{ path: 'format', detail: `not a Guild group export (format must be "${EXPORT_FORMAT}")` }]);
  if (doc.version !== EXPORT_VERSION)
    return err([
      {
        path: 'version',
        detail: `version ${JSON.stringify(doc.version)} is not one this Guild reads (it reads ${EXPORT_VERSION})`,
      },
    ]);
  const text = (path: string, v: unknown, max: number, min = 0): string | null =>
    typeof v === 'string' && v.length >= min && v.length <= max
      ? v
      : bad(path, `must be a string of ${min} to ${max} characters`);
  const url = (path: string, v: unknown): string | null =>
    typeof v === 'string' && /^https?:\/\/[^\s]+$/.test(v) && v.length <= 2048 && URL.canParse(v)
      ? v
      : bad(path, 'must be an http(s) URL');
  const date = (path: string, v: unknown): string | null =>
    typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : bad(path, 'must be an ISO 8601 date');
  const list = (path: string, v: unknown, max: number): unknown[] => {
    if (!Array.isArray(v)) return bad(path, 'must be a list') ?? [];
    if (v.length > max) return bad(path, `has ${v.length} entries; at most ${max}`) ?? [];
    return v;
  };
  const object = (path: string, v: unknown): Record<string, unknown> =>
    isObject(v) ? v : (bad(path, 'must be an object') ?? {});

  const exportedAt = date('exportedAt', doc.exportedAt);
  const src = object('source', doc.source);
  const sourceActor = url('source.actor', src.actor);
  const sourceHandle = text('source.handle', src.handle, 300, 3);

  const g = object('group', doc.group);
  const name =
    typeof g.name === 'string' && GROUP_NAME_RE.test(g.name)
      ? g.name
      : bad('group.name', 'must be 1 to 64 lowercase letters, digits or underscores');
  const title = text('group.title', g.title, MAX_TITLE_LENGTH, 1);
  const summary = text('group.summary', g.summary, MAX_SUMMARY_LENGTH);
  const createdAt = date('group.createdAt', g.createdAt);
  const settings = decodeSettings(object('group.settings', g.settings), bad);

  const moderators = list('moderators', doc.moderators, MAX_MODERATORS).map((m, i) => {
    const o = object(`moderators[${i}]`, m);
    return {
      actorId: url(`moderators[${i}].actorId`, o.actorId) ?? '',
      addedBy: text(`moderators[${i}].addedBy`, o.addedBy, 2048, 1) ?? '',
      addedAt: date(`moderators[${i}].addedAt`, o.addedAt) ?? '',
    };
  });
  const owners = list('owners', doc.owners, MAX_MODERATORS).map((o, i) => url(`owners[${i}]`, o) ?? '');
  const bans = list('bans', doc.bans, MAX_LIST).map((b, i) => {
    const o = object(`bans[${i}]`, b);
    return {
      actorId: url(`bans[${i}].actorId`, o.actorId) ?? '',
      reason: text(`bans[${i}].reason`, o.reason, 5000) ?? '',
      by: text(`bans[${i}].by`, o.by, 2048, 1) ?? '',
      createdAt: date(`bans[${i}].createdAt`, o.createdAt) ?? '',
      expiresAt: o.expiresAt === null ? null : (date(`bans[${i}].expiresAt`, o.expiresAt) ?? null),
    };
  });
  const pinned = list('pinned', doc.pinned, MAX_PINNED).map((x, i) => {
    const o = object(`pinned[${i}]`, x);
    const objectId = url(`pinned[${i}].objectId`, o.objectId) ?? '';
    const create = object(`pinned[${i}].create`, o.create);
    if (create.type !== 'Create' || !isObject(create.object) || create.object.id !== objectId)
      bad(`pinned[${i}].create`, 'must be the Create of the pinned object');
    return { objectId, authorId: url(`pinned[${i}].authorId`, o.authorId) ?? '', create };
  });
  const members = list('members', doc.members, MAX_LIST).map((m, i) => {
    const o = object(`members[${i}]`, m);
    return {
      actorId: url(`members[${i}].actorId`, o.actorId) ?? '',
      inbox: url(`members[${i}].inbox`, o.inbox) ?? '',
      sharedInbox: o.sharedInbox === null ? null : (url(`members[${i}].sharedInbox`, o.sharedInbox) ?? null),
    };
  });
  if (
    p.length > 0 ||
    !exportedAt ||
    !sourceActor ||
    !sourceHandle ||
    !name ||
    !title ||
    summary === null ||
    !createdAt ||
    !settings
  )
    return err(p.length > 0 ? p : [{ path: '', detail: 'the file is incomplete' }]);
  return ok({
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt,
    source: { actor: sourceActor, handle: sourceHandle },
    group: { name, title, summary, createdAt, settings },
    moderators,
    owners,
    bans,
    pinned,
    members,
  });
}

/** The settings of a file, checked as a settings change would be (same limits, same messages). */
function decodeSettings(
  s: Record<string, unknown>,
  bad: (path: string, detail: string) => null,
): GroupSettings | null {
  const known = new Set(Object.keys(DEFAULT_GROUP_SETTINGS));
  for (const key of Object.keys(s))
    if (!known.has(key)) bad(`group.settings.${key}`, 'is not a setting this Guild knows');
  for (const key of ['rules', 'language', 'iconUrl', 'bannerUrl'])
    if (s[key] !== undefined && s[key] !== null && typeof s[key] !== 'string')
      bad(`group.settings.${key}`, 'must be a string');
  if (s.tags !== undefined && (!Array.isArray(s.tags) || s.tags.some((t) => typeof t !== 'string')))
    bad('group.settings.tags', 'must be a list of strings');
  const str = (k: string): string | undefined => (typeof s[k] === 'string' ? (s[k] as string) : undefined);
  const checked = validateSettingsPatch(
    {
      rules: str('rules') ?? '',
      language: s.language === null ? null : (str('language') ?? null),
      tags: Array.isArray(s.tags) ? s.tags.map(String) : [],
      ...pick(s, ['sensitive', 'discoverable', 'listFollowers', 'acceptGroupFollowers']),
      ...pick(s, ['membershipPolicy', 'postingPolicy', 'maxGroupMentions', 'maxPostsPerHour']),
      ...pick(s, ['premoderateFirstPosts']),
      icon: typeof s.iconUrl === 'string' ? { url: s.iconUrl } : null,
      banner: typeof s.bannerUrl === 'string' ? { url: s.bannerUrl } : null,
    },
    { uploads: false },
  );
  if (!checked.ok) {
    for (const problem of checked.error) bad(`group.settings.${settingName(problem.field)}`, problem.detail);
    return null;
  }
  const v = checked.value;
  const imageUrl = (x: typeof v.icon): string | null => (x && 'url' in x ? x.url : null);
  return {
    ...DEFAULT_GROUP_SETTINGS,
    ...Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'icon' && k !== 'banner')),
    iconUrl: imageUrl(v.icon),
    bannerUrl: imageUrl(v.banner),
  } as GroupSettings;
}

/** The fields of `s` named in `keys`, as they are (the settings check decides whether they are right). */
function pick(s: Record<string, unknown>, keys: string[]): Record<string, never> {
  return Object.fromEntries(keys.filter((k) => s[k] !== undefined).map((k) => [k, s[k]])) as Record<
    string,
    never
  >;
}

function settingName(field: string): string {
  return field === 'icon' ? 'iconUrl' : field === 'banner' ? 'bannerUrl' : field;
}
