/**
 * What an inbound document's `@context` may say. Guild reads activities by their plain keys (`actor`,
 * `attributedTo`, `id`...) and never runs a JSON-LD processor on them; a JSON-LD reader downstream (a member's
 * server reading what the group re-shares) interprets the same keys through the context. The two readings agree
 * only when the context keeps the ActivityStreams and security terms as their standard contexts define them, so:
 *
 * - the top-level `@context` must include the ActivityStreams context (as Mastodon requires), or be absent (AS2
 *   Core 2.1: a document without one is read with the ActivityStreams context, as is the group's Announce that
 *   embeds it);
 * - URL entries come from a fixed list of known contexts (plus the per-server context documents of Pleroma,
 *   Akkoma and Mbin, on the sender's own origin); none is ever fetched; a known context that redefines
 *   ActivityStreams terms (identity/v1, did/v1) may only come before the ActivityStreams context;
 * - inline entries may add terms, but not redefine an ActivityStreams or security term, alias a keyword, give an
 *   ActivityStreams or security term a second name, scope contexts, reverse properties, or change `@vocab`,
 *   `@base` or `@import`;
 * - a nested `@context` anywhere in the document follows the same rules (an LD signature may name identity/v1,
 *   under which it is read); no keyword that adds statements
 *   (`@graph`, `@reverse`, `@included`, `@nest`...) is used as a key.
 *
 * Pure and linear in the size of the document: safe on the request path.
 */
import { createRequire } from 'node:module';
import { AS_CONTEXT, SECURITY_CONTEXT, isObject, type ApObject } from './vocab.ts';

const require = createRequire(import.meta.url);
const BUNDLED = require('./contexts/bundled-contexts.json') as Record<string, unknown>;

/** The ActivityStreams context under the names peers use for it. */
const AS_URLS: ReadonlySet<string> = new Set([
  AS_CONTEXT,
  'http://www.w3.org/ns/activitystreams',
  `${AS_CONTEXT}.jsonld`,
  'http://www.w3.org/ns/activitystreams.jsonld',
]);

/**
 * Context documents that peers name by URL: the bundled ones (`contexts/bundled-contexts.json`), GoToSocial's
 * namespace and Lemmy's context. Never fetched.
 */
const KNOWN_URLS: ReadonlySet<string> = new Set([
  ...AS_URLS,
  SECURITY_CONTEXT,
  'https://w3id.org/security/data-integrity/v1',
  'https://w3id.org/security/multikey/v1',
  'https://www.w3.org/ns/did/v1',
  'https://w3id.org/identity/v1',
  'https://purl.archive.org/socialweb/webfinger',
  'https://gotosocial.org/ns',
  'https://join-lemmy.org/context.json',
]);

/** Per-server context documents, served by the sender itself: Pleroma and Akkoma (LitePub), Mbin. */
const PER_SERVER_PATHS: ReadonlySet<string> = new Set([
  '/schemas/litepub-0.1.jsonld',
  '/contexts',
  '/contexts.jsonld',
]);

/** Keywords a document may use as keys besides `@context`: they name or type a node, or a value's language. */
const BODY_KEYWORDS: ReadonlySet<string> = new Set(['@id', '@type', '@value', '@language', '@direction']);
/** Keywords an inline context may set; the others change how every key or IRI is read. */
const INLINE_KEYWORDS: ReadonlySet<string> = new Set(['@language', '@direction', '@version', '@protected']);
/** What a term definition object may hold. */
const DEFINITION_KEYS: ReadonlySet<string> = new Set([
  '@id',
  '@type',
  '@container',
  '@language',
  '@direction',
]);

/** A term as a standard context defines it, IRIs expanded. */
interface StandardTerm {
  id: string;
  type: string | undefined;
  container: string | undefined;
}

export type ContextVerdict = { ok: true } | { ok: false; reason: string };

export interface ContextCheckOptions {
  /** Origin of the sender (the activity's actor): its per-server context documents are accepted. */
  senderOrigin: string | null;
  /**
   * A top-level `@context` must include the ActivityStreams context (inbound activities; none at all reads as
   * ActivityStreams). Default true.
   */
  requireActivityStreams?: boolean;
}

/** Checks every `@context` of a document, and that no other keyword is used as a key (see the module comment). */
export function checkContexts(doc: ApObject, opts: ContextCheckOptions): ContextVerdict {
  const top = doc['@context'];
  if (opts.requireActivityStreams !== false && top !== undefined) {
    const entries = Array.isArray(top) ? top : [top];
    if (!entries.some((e) => typeof e === 'string' && AS_URLS.has(e)))
      return refuse(`the @context does not include the ActivityStreams context (${AS_CONTEXT})`);
  }
  if (top !== undefined) {
    const verdict = checkContextValue(top, opts.senderOrigin, true);
    if (!verdict.ok) return verdict;
  }
  return checkNested(doc, opts.senderOrigin, 0);
}

function checkNested(value: unknown, senderOrigin: string | null, depth: number): ContextVerdict {
  if (Array.isArray(value)) {
    for (const v of value) {
      const verdict = checkNested(v, senderOrigin, depth + 1);
      if (!verdict.ok) return verdict;
    }
    return OK;
  }
  if (!isObject(value)) return OK;
  for (const [key, v] of Object.entries(value)) {
    if (key === '@context') {
      if (depth === 0) continue;
      const verdict = checkContextValue(v, senderOrigin, false);
      if (!verdict.ok) return verdict;
      continue;
    }
    if (depth === 0 && key === 'signature' && isObject(v)) {
      // An LD signature (RsaSignature2017) is read under identity/v1 alone, as its own document: fedify names
      // that context in it. Only its own context, and keys that add nothing, are accepted there.
      const verdict = checkSignature(v, senderOrigin);
      if (!verdict.ok) return verdict;
      continue;
    }
    if (key.startsWith('@') && !BODY_KEYWORDS.has(key))
      return refuse(`the keyword ${key} is not accepted as a key`);
    const verdict = checkNested(v, senderOrigin, depth + 1);
    if (!verdict.ok) return verdict;
  }
  return OK;
}

function checkSignature(signature: ApObject, senderOrigin: string | null): ContextVerdict {
  const context = signature['@context'];
  if (context !== undefined) {
    const verdict = checkContextValue(context, senderOrigin, true);
    if (!verdict.ok) return verdict;
  }
  const { ['@context']: _context, ...rest } = signature;
  return checkNested(rest, senderOrigin, 1);
}

/** One `@context` value: a URL, an inline object, or a list of those. */
function checkContextValue(value: unknown, senderOrigin: string | null, topLevel: boolean): ContextVerdict {
  const entries = Array.isArray(value) ? value : [value];
  let standardSeen = !topLevel;
  for (const entry of entries) {
    if (typeof entry === 'string') {
      if (KNOWN_URLS.has(entry)) {
        if (REDEFINING_URLS.has(entry) && standardSeen)
          return refuse(`the context ${entry} redefines ActivityStreams terms and must come before it`);
        if (AS_URLS.has(entry) || entry === SECURITY_CONTEXT) standardSeen = true;
        continue;
      }
      if (isPerServerContext(entry, senderOrigin)) continue;
      return refuse(
        `the @context entry ${entry.slice(0, 200)} is not a known context (contexts are never fetched)`,
      );
    }
    if (isObject(entry)) {
      const verdict = checkInline(entry);
      if (!verdict.ok) return verdict;
      continue;
    }
    if (entry === null) return refuse('a null @context entry (which resets the context) is not accepted');
    return refuse('an @context entry is neither a URL nor an object');
  }
  return OK;
}

function isPerServerContext(url: string, senderOrigin: string | null): boolean {
  if (senderOrigin === null) return false;
  try {
    const u = new URL(url);
    return u.origin === senderOrigin && u.search === '' && u.hash === '' && PER_SERVER_PATHS.has(u.pathname);
  } catch {
    return false;
  }
}

/** An inline context object: new terms are fine; standard terms keep their meaning; no keyword games. */
function checkInline(ctx: ApObject): ContextVerdict {
  const raw = new Map<string, string>();
  for (const [term, def] of Object.entries(ctx)) {
    if (typeof def === 'string') raw.set(term, def);
    else if (isObject(def) && typeof def['@id'] === 'string') raw.set(term, def['@id']);
  }
  const resolve = (value: string): string => expand(value, raw);
  for (const [term, def] of Object.entries(ctx)) {
    if (term.startsWith('@')) {
      if (INLINE_KEYWORDS.has(term)) continue;
      return refuse(`the inline @context sets ${term}, which is not accepted`);
    }
    if (term.includes(':')) return refuse(`the inline @context defines the IRI-like term ${term}`);
    const standard = PROTECTED_TERMS.get(term);
    let id: string | undefined;
    let type: string | undefined;
    let container: string | undefined;
    if (def === null) {
      if (standard) return refuse(`the inline @context removes the term ${term}`);
      continue;
    } else if (typeof def === 'string') {
      id = resolve(def);
    } else if (isObject(def)) {
      for (const key of Object.keys(def)) {
        if (!DEFINITION_KEYS.has(key))
          return refuse(`the inline @context gives ${term} a ${key}, which is not accepted`);
      }
      const [rawId, rawType, rawContainer] = [def['@id'], def['@type'], def['@container']];
      if (rawId !== undefined && typeof rawId !== 'string')
        return refuse(`the term ${term} has a malformed @id`);
      if (rawType !== undefined && typeof rawType !== 'string')
        return refuse(`the term ${term} has a malformed @type`);
      if (rawContainer !== undefined && typeof rawContainer !== 'string' && !Array.isArray(rawContainer))
        return refuse(`the term ${term} has a malformed @container`);
      id = rawId === undefined ? undefined : resolve(rawId);
      type = rawType === undefined ? undefined : resolve(rawType);
      container = rawContainer === undefined ? undefined : JSON.stringify(rawContainer);
    } else {
      return refuse(`the inline @context defines ${term} with neither a string nor an object`);
    }
    if (id !== undefined && id.startsWith('@') && !(standard && standard.id === id))
      return refuse(`the inline @context makes ${term} an alias of the keyword ${id}`);
    if (standard) {
      if (id !== standard.id) return refuse(`the inline @context redefines the term ${term}`);
      if (type !== undefined && type !== standard.type)
        return refuse(`the inline @context changes the type of the term ${term}`);
      if (container !== undefined && container !== standard.container)
        return refuse(`the inline @context changes the container of the term ${term}`);
      continue;
    }
    if (id !== undefined && PROTECTED_IRIS.has(id) && localName(id) !== term)
      return refuse(`the inline @context makes ${term} another name for ${id}`);
  }
  return OK;
}

/**
 * Expands a term, compact IRI or keyword with the inline definitions first, then the standard ones. A term that
 * refers to another is followed a few steps (definitions may refer to each other; cycles end unexpanded).
 */
function expand(value: string, inline: ReadonlyMap<string, string>, depth = 0): string {
  if (value.startsWith('@') || depth > 8) return value;
  const direct = inline.get(value);
  if (direct !== undefined && direct !== value) return expand(direct, inline, depth + 1);
  const standard = PROTECTED_TERMS.get(value);
  if (direct === undefined && standard) return standard.id;
  const colon = value.indexOf(':');
  if (colon <= 0) return value;
  const rest = value.slice(colon + 1);
  if (rest.startsWith('//')) return value;
  const prefix = value.slice(0, colon);
  const base = inline.has(prefix) ? expand(prefix, inline, depth + 1) : PROTECTED_TERMS.get(prefix)?.id;
  return base === undefined || base.startsWith('@') || base === prefix ? value : base + rest;
}

function localName(iri: string): string {
  const cut = Math.max(iri.lastIndexOf('#'), iri.lastIndexOf('/'));
  return iri.slice(cut + 1);
}

function refuse(reason: string): ContextVerdict {
  return { ok: false, reason };
}

const OK: ContextVerdict = { ok: true };

/** The term definitions of a bundled context document, IRIs expanded with its own prefixes. */
function standardTerms(url: string): Map<string, StandardTerm> {
  const doc = BUNDLED[url];
  const ctx = isObject(doc) ? doc['@context'] : undefined;
  const defs: ApObject = {};
  for (const part of Array.isArray(ctx) ? ctx : [ctx]) if (isObject(part)) Object.assign(defs, part);
  const prefixes = new Map<string, string>();
  for (const [term, def] of Object.entries(defs)) if (typeof def === 'string') prefixes.set(term, def);
  const full = (v: string): string => {
    if (v.startsWith('@')) return v;
    const colon = v.indexOf(':');
    if (colon <= 0 || v.slice(colon + 1).startsWith('//')) return prefixes.get(v) ?? v;
    const base = prefixes.get(v.slice(0, colon));
    return base === undefined ? v : base + v.slice(colon + 1);
  };
  const out = new Map<string, StandardTerm>();
  for (const [term, def] of Object.entries(defs)) {
    if (term.startsWith('@')) continue;
    if (typeof def === 'string') out.set(term, { id: full(def), type: undefined, container: undefined });
    else if (isObject(def) && typeof def['@id'] === 'string') {
      out.set(term, {
        id: full(def['@id']),
        type: typeof def['@type'] === 'string' ? full(def['@type']) : undefined,
        container: def['@container'] === undefined ? undefined : JSON.stringify(def['@container']),
      });
    }
  }
  return out;
}

const AS_TERMS = standardTerms(AS_CONTEXT);
const SECURITY_TERMS = standardTerms(SECURITY_CONTEXT);

/**
 * ActivityStreams terms and security properties, as their contexts define them (ActivityStreams last, as peers
 * order them). Security class names (`EncryptedMessage`, signature suites) are left out: Mastodon's actor context
 * redefines some, and no reader decides anything by them.
 */
const PROTECTED_TERMS: ReadonlyMap<string, StandardTerm> = new Map([
  ...[...SECURITY_TERMS].filter(([term]) => !/^[A-Z]/.test(term)),
  ...AS_TERMS,
]);

/** IRIs of the ActivityStreams and security terms (not of prefixes): no other name may stand for them. */
const PROTECTED_IRIS: ReadonlySet<string> = new Set(
  [...PROTECTED_TERMS.values()].map((t) => t.id).filter((id) => !id.endsWith('#') && !id.endsWith('/')),
);

/** Known contexts that define some ActivityStreams or security term differently. */
const REDEFINING_URLS: ReadonlySet<string> = new Set(
  [...KNOWN_URLS].filter((url) => {
    if (AS_URLS.has(url) || url === SECURITY_CONTEXT || BUNDLED[url] === undefined) return false;
    for (const [term, def] of standardTerms(url)) {
      const standard = PROTECTED_TERMS.get(term);
      if (standard && (standard.id !== def.id || (def.type !== undefined && def.type !== standard.type)))
        return true;
    }
    return false;
  }),
);
