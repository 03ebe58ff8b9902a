/**
 * The interop corpus: real payloads sent by other fediverse servers (`test/fixtures/interop`, see its
 * README.md), loaded from disk and rewritten so that a Guild on loopback can receive them. Every host named in
 * a payload stands for a loopback peer (see `interop-peers.ts`), every community URL (`/c/NAME`, `/m/NAME`)
 * becomes a Guild group, and each activity gets an id unique to the run. No real host is ever contacted.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AS_CONTEXT,
  SECURITY_CONTEXT,
  idOf,
  isObject,
  isPublic,
  recipientsOf,
  typeOf,
} from '../../src/activitypub/vocab.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';

/** Where the corpus lives: in the repository, `test/fixtures/interop`. */
export function interopFixturesDir(): string {
  return fileURLToPath(new URL('../fixtures/interop', import.meta.url));
}

export type FixtureKind = 'activity' | 'object' | 'collection';

export interface InteropFixture {
  /** The sending software: the first folder (`lemmy`, `mastodon`...). */
  server: string;
  /** Path relative to the corpus, e.g. `lemmy/activities/create_or_update/create_page.json`. */
  name: string;
  kind: FixtureKind;
  json: ApObject;
}

const KIND_FOLDERS: Record<string, FixtureKind> = {
  activities: 'activity',
  objects: 'object',
  collections: 'collection',
};

/** Reads every `*.json` under `<server>/{activities,objects,collections}/` of the corpus, sorted by name. */
export function loadInteropCorpus(dir: string): InteropFixture[] {
  const out: InteropFixture[] = [];
  for (const server of readdirSync(dir).sort()) {
    const serverDir = join(dir, server);
    if (!statSync(serverDir).isDirectory()) continue;
    for (const [folder, kind] of Object.entries(KIND_FOLDERS)) {
      const base = join(serverDir, folder);
      if (!existsSync(base)) continue;
      for (const file of walkJson(base)) {
        const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
        if (!isObject(json)) throw new Error(`${file} is not a JSON object`);
        out.push({ server, name: relative(dir, file), kind, json });
      }
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function walkJson(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...walkJson(p));
    else if (entry.name.endsWith('.json')) files.push(p);
  }
  return files;
}

/** Hosts that are vocabulary namespaces, not peers: never rewritten. */
const NAMESPACE_HOSTS = new Set(['www.w3.org', 'w3id.org']);
const URL_IN_TEXT = /\bhttps?:\/\/([A-Za-z0-9.-]+(?::\d+)?)([^\s"'<>\\]*)/g;
/** Lemmy communities (`/c/NAME`) and Mbin magazines (`/m/NAME`), with the collections a group has. */
const COMMUNITY_PATH = /^\/(c|m)\/([^/?#]+)(\/(?:followers|inbox|outbox|moderators|featured))?\/?$/;

/** Every peer host (host[:port], lower case) named in a document outside its `@context`. */
export function hostsIn(doc: unknown, into = new Set<string>()): Set<string> {
  if (typeof doc === 'string') {
    for (const m of doc.matchAll(URL_IN_TEXT)) {
      const host = (m[1] ?? '').toLowerCase();
      if (host && !NAMESPACE_HOSTS.has(host)) into.add(host);
    }
  } else if (Array.isArray(doc)) {
    for (const v of doc) hostsIn(v, into);
  } else if (isObject(doc)) {
    for (const [k, v] of Object.entries(doc)) if (k !== '@context') hostsIn(v, into);
  }
  return into;
}

/** How URLs of one delivery are rewritten. */
export interface RewriteContext {
  /** The loopback origin standing for an original host (host[:port], lower case). */
  originOf(host: string): string;
  /** The Guild group actor id every community URL becomes. */
  groupId: string;
  /** Communities that stay remote (`host/c/name`, lower case): the activity's actor is that community. */
  remoteCommunities?: ReadonlySet<string>;
}

/** `host/c/name` when the URL names a community (or one of its collections), else null. */
export function communityKey(url: string): string | null {
  const u = safeUrl(url);
  const m = u ? COMMUNITY_PATH.exec(u.pathname) : null;
  return u && m ? `${u.host}/${m[1] ?? ''}/${m[2] ?? ''}`.toLowerCase() : null;
}

/** One URL rewritten: a community (or its followers, inbox...) becomes the group, any other host its peer. */
export function rewriteUrl(url: string, ctx: RewriteContext): string {
  const u = safeUrl(url);
  if (!u) return url;
  const host = u.host.toLowerCase();
  if (NAMESPACE_HOSTS.has(host)) return url;
  const m = COMMUNITY_PATH.exec(u.pathname);
  const key = communityKey(url);
  if (m && key && !ctx.remoteCommunities?.has(key)) return `${ctx.groupId}${m[3] ?? ''}`;
  return `${ctx.originOf(host)}${u.pathname}${u.search}${u.hash}`;
}

/**
 * A deep copy with every URL (also inside text such as HTML content) rewritten; `@context` is kept, except the
 * per-server context documents (Pleroma's LitePub, Mbin's), served by the sender itself, which move with it.
 */
export function rewriteDocument<T>(doc: T, ctx: RewriteContext): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(URL_IN_TEXT, (whole) => rewriteUrl(whole, ctx));
    if (Array.isArray(v)) return v.map(walk);
    if (isObject(v)) {
      const out: ApObject = {};
      for (const [k, val] of Object.entries(v))
        out[k] = k === '@context' ? rewriteContext(val, ctx) : walk(val);
      return out;
    }
    return v;
  };
  return walk(doc) as T;
}

const PER_SERVER_CONTEXT = /^https?:\/\/[^/]+\/(?:schemas\/litepub-0\.1\.jsonld|contexts(?:\.jsonld)?)$/;

function rewriteContext(context: unknown, ctx: RewriteContext): unknown {
  if (typeof context === 'string')
    return PER_SERVER_CONTEXT.test(context) ? rewriteUrl(context, ctx) : context;
  return Array.isArray(context) ? context.map((c) => rewriteContext(c, ctx)) : context;
}

function safeUrl(s: string): URL | null {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null;
  } catch {
    return null;
  }
}

/**
 * The `@context` Lemmy 0.19 sends (as in `lemmy/activities/create_or_update/create_private_message_0.19.json`).
 * Lemmy's test assets store most payloads without it; on the wire it is always there.
 */
export const LEMMY_CONTEXT = ['https://join-lemmy.org/context.json', AS_CONTEXT];

/** Where a peer delivers an activity: the group's own inbox or the server's shared inbox. */
export type InboxChoice = 'group' | 'shared';

/** An activity ready to be signed and delivered, with the documents its peer must serve. */
export interface PreparedActivity {
  fixture: string;
  activity: ApObject;
  /** The rewritten id, unique to this run. */
  id: string;
  type: string;
  /** The actor that signs (the activity's actor, or the author of a bare object). */
  signerId: string;
  /** The signer's actor document, with the peer's public key. */
  actorDocument: ApObject;
  /** Inline objects (and the activity itself) to serve at their ids. */
  documents: Array<{ url: string; doc: ApObject }>;
  inbox: InboxChoice;
}

export interface PrepareOptions {
  ctx: RewriteContext;
  /** Appended to the activity id as `?run=TAG` so that every delivery is new to Guild. */
  runTag: string;
  /** Actor documents from the corpus, by original id. */
  actors: ReadonlyMap<string, ApObject>;
  publicKeyPem: string;
}

/** Rewrites one fixture activity for delivery (see the module comment). */
export function prepareActivity(fixture: InteropFixture, o: PrepareOptions): PreparedActivity {
  const original = fixture.json;
  const originalActor = idOf(original.actor) ?? idOf(original.attributedTo);
  if (!originalActor) throw new Error(`${fixture.name} names no actor`);
  const actorCommunity = communityKey(originalActor);
  const ctx: RewriteContext = actorCommunity
    ? { ...o.ctx, remoteCommunities: new Set([...(o.ctx.remoteCommunities ?? []), actorCommunity]) }
    : o.ctx;
  const activity = rewriteDocument(original, ctx);
  if (activity['@context'] === undefined) activity['@context'] = LEMMY_CONTEXT;
  const rewrittenId =
    typeof activity.id === 'string' ? activity.id : `${rewriteUrl(originalActor, ctx)}/no-id`;
  const id = withRunTag(rewrittenId, o.runTag);
  activity.id = id;
  const signerId = rewriteUrl(originalActor, ctx);
  const known = o.actors.get(originalActor);
  const actorDocument = actorDocumentFor(signerId, known ? rewriteDocument(known, ctx) : null, {
    isGroup: actorCommunity !== null,
    publicKeyPem: o.publicKeyPem,
  });
  const documents: PreparedActivity['documents'] = [];
  const context = activity['@context'];
  for (const obj of nestedObjects(activity)) {
    const objId = idOf(obj);
    if (!objId || objId === signerId || objId.includes('#') || objId.startsWith(ctx.groupId)) continue;
    documents.push({ url: objId, doc: obj === activity ? obj : { '@context': context, ...obj } });
  }
  return {
    fixture: fixture.name,
    activity,
    id,
    type: typeOf(activity) ?? '(none)',
    signerId,
    actorDocument,
    documents,
    inbox: inboxFor(activity),
  };
}

/** Adds `run=TAG` to the query of an id (before any fragment). */
export function withRunTag(id: string, tag: string): string {
  const u = new URL(id);
  u.searchParams.set('run', tag);
  return u.href;
}

/**
 * The actor document a peer serves: the corpus's own document for that actor when there is one, else the
 * shape of the raw actor's document; in both cases with the peer's key as `<id>#main-key`.
 */
export function actorDocumentFor(
  id: string,
  known: ApObject | null,
  o: { isGroup: boolean; publicKeyPem: string },
): ApObject {
  const origin = new URL(id).origin;
  const publicKey = { id: `${id}#main-key`, owner: id, publicKeyPem: o.publicKeyPem };
  if (known) {
    return { ...known, '@context': known['@context'] ?? LEMMY_CONTEXT, id, publicKey };
  }
  return {
    '@context': [AS_CONTEXT, SECURITY_CONTEXT],
    id,
    type: o.isGroup ? 'Group' : 'Person',
    preferredUsername: id.split('/').filter(Boolean).pop() ?? 'actor',
    inbox: `${id}/inbox`,
    outbox: `${id}/outbox`,
    followers: `${id}/followers`,
    endpoints: { sharedInbox: `${origin}/inbox` },
    publicKey,
  };
}

function nestedObjects(root: ApObject): ApObject[] {
  const out: ApObject[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 8) return;
    if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (isObject(v)) {
      if (typeof v.id === 'string' && typeOf(v) !== null) out.push(v);
      for (const [k, x] of Object.entries(v)) if (k !== '@context' && k !== 'signature') walk(x, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/**
 * Where the sending server would deliver: broadcast activities (public, or addressed to a community's
 * audience) go to the shared inbox, as Mastodon, Lemmy, Pleroma and Friendica do when the receiver advertises
 * one; follows, answers to follows and reports go to the group's own inbox.
 */
export function inboxFor(activity: ApObject): InboxChoice {
  const type = typeOf(activity);
  const inner = typeOf(activity.object);
  if (type === 'Follow' || type === 'Accept' || type === 'Reject' || type === 'Flag') return 'group';
  if (type === 'Undo' && inner === 'Follow') return 'group';
  const r = recipientsOf(activity);
  return [...r.to, ...r.cc].some(isPublic) || r.audience.length > 0 ? 'shared' : 'group';
}

/**
 * Delivery order within one server's fixtures, so that each activity meets the state it was sent in: follows,
 * then new threads, replies, edits, votes and other activities, undos, deletions, restorations, leaving, and
 * account deletion last.
 */
export function deliveryRank(activity: ApObject): number {
  const type = typeOf(activity);
  const inner = typeOf(activity.object);
  switch (type) {
    case 'Follow':
      return 0;
    case 'Create':
      return isObject(activity.object) && activity.object.inReplyTo ? 2 : 1;
    case 'Update':
      return 3;
    case 'Undo':
      return inner === 'Follow' ? 8 : inner === 'Delete' ? 7 : 5;
    case 'Delete':
      return idOf(activity.object) === idOf(activity.actor) ? 9 : 6;
    default:
      return 4;
  }
}

/**
 * The fixtures among `earlier` (one server's, in delivery order) that `f` builds on: those that are or bring
 * what it acts on (its object, the post a reply answers, the activity an Undo takes back), and those these
 * build on in turn, in delivery order. Delivered first into a group of its own, they give `f` the state it
 * meets in the full sequence, whatever runs before it.
 */
export function historyOf(f: InteropFixture, earlier: InteropFixture[]): InteropFixture[] {
  const wanted = new Set<string>();
  // What an Undo takes back, by type and object: the corpus's Undo may embed its own copy of the activity.
  const undone = new Set<string>();
  const want = (a: ApObject): void => {
    for (const id of referencedIds(a)) wanted.add(id);
    if (typeOf(a) === 'Undo' && isObject(a.object))
      undone.add(`${typeOf(a.object)} ${idOf(a.object.object)}`);
  };
  want(f.json);
  const chosen = new Set<InteropFixture>();
  for (let grew = true; grew;) {
    grew = false;
    for (const g of earlier) {
      if (chosen.has(g)) continue;
      const takenBack = undone.has(`${typeOf(g.json)} ${idOf(g.json.object)}`);
      if (!takenBack && !broughtIds(g.json).some((id) => wanted.has(id))) continue;
      chosen.add(g);
      grew = true;
      want(g.json);
    }
  }
  return earlier.filter((g) => chosen.has(g));
}

/** Ids an activity acts on: its object (and, nested, the object's own object and id) and what it replies to. */
function referencedIds(activity: ApObject): string[] {
  const out: string[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (depth > 4) return;
    if (Array.isArray(v)) for (const x of v) visit(x, depth);
    else if (typeof v === 'string') out.push(v);
    else if (isObject(v)) {
      const id = idOf(v);
      if (id) out.push(id);
      visit(v.object, depth + 1);
      if (typeof v.inReplyTo === 'string') out.push(v.inReplyTo);
    }
  };
  visit(activity.object, 1);
  return out;
}

/** Ids a fixture brings into being: its own, and its object's when it carries the object (a Create). */
function broughtIds(activity: ApObject): string[] {
  const object = isObject(activity.object) ? idOf(activity.object) : null;
  return [idOf(activity), object].filter((id): id is string => id !== null);
}

/** Actor documents of the corpus (objects whose type is an actor type), by id. */
export function corpusActors(corpus: InteropFixture[]): Map<string, ApObject> {
  const actorTypes = new Set(['Person', 'Service', 'Application', 'Group', 'Organization']);
  const out = new Map<string, ApObject>();
  for (const f of corpus) {
    const id = idOf(f.json);
    const type = typeOf(f.json);
    if (f.kind === 'object' && id && type && actorTypes.has(type)) out.set(id, f.json);
  }
  return out;
}
