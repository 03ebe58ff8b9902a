/**
 * JSON-LD with bundled contexts only: the document loader never touches the network.
 *
 * Peers send compacted AS2 whose `@context` starts with the ActivityStreams context; those are read as they are
 * (the fast path, as every major server does). Anything else (expanded documents, other contexts first) is
 * compacted against {@link GUILD_CONTEXT} with the bundled contexts, and refused when it needs one we lack.
 */
import jsonld from 'jsonld';
import { createRequire } from 'node:module';
import { AS_CONTEXT, GUILD_CONTEXT, isObject, type ApObject } from './vocab.ts';

const require = createRequire(import.meta.url);
const BUNDLED = require('./contexts/bundled-contexts.json') as Record<string, unknown>;

export class UnknownContextError extends Error {
  constructor(readonly url: string) {
    super(`JSON-LD context ${url} is not bundled and is never fetched`);
    this.name = 'UnknownContextError';
  }
}

/** A jsonld document loader that serves bundled contexts and refuses everything else. */
export async function bundledDocumentLoader(url: string): Promise<{
  contextUrl: null;
  documentUrl: string;
  document: unknown;
}> {
  const key = url.replace(/^http:\/\/www\.w3\.org/, 'https://www.w3.org').replace(/\.jsonld$/, '');
  const doc = BUNDLED[key] ?? BUNDLED[url];
  if (doc === undefined) throw new UnknownContextError(url);
  return { contextUrl: null, documentUrl: url, document: doc };
}

/**
 * True when the document is compacted AS2: its context includes the ActivityStreams context (peers put it
 * first, or after an LD-signature context such as identity/v1, whose terms AS2 then overrides).
 */
export function isCompactedAs2(doc: ApObject): boolean {
  const ctx = doc['@context'];
  // Activity Streams 2.0: a document without @context is read with the AS2 context.
  if (ctx === undefined) return true;
  const list = Array.isArray(ctx) ? ctx : [ctx];
  return list.some(
    (c) => c === AS_CONTEXT || c === 'http://www.w3.org/ns/activitystreams' || c === `${AS_CONTEXT}.jsonld`,
  );
}

/**
 * Returns the document in compacted AS2 form: as it is when it already is, otherwise compacted with bundled
 * contexts. Throws {@link UnknownContextError} when that would need a context from the network.
 */
export async function toCompactedAs2(doc: ApObject): Promise<ApObject> {
  if (isCompactedAs2(doc)) return doc;
  const compacted = await jsonld.compact(
    doc as jsonld.JsonLdDocument,
    GUILD_CONTEXT as unknown as jsonld.ContextDefinition,
    {
      documentLoader: bundledDocumentLoader as unknown as jsonld.Options.DocLoader['documentLoader'],
      safe: false,
    } as jsonld.Options.Compact,
  );
  if (!isObject(compacted)) throw new Error('JSON-LD compaction did not give an object');
  return compacted as ApObject;
}
