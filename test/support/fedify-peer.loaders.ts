/**
 * Document and context loaders for the fedify test peer.
 *
 * - The context loader answers only from the JSON-LD contexts that fedify bundles (read from fedify's own
 *   `runtime/contexts.js`, so the list is exactly what this fedify version preloads). Any other context URL
 *   fails at once with a `FetchError`: the peer never goes to the network for a context.
 * - The document loader serves the same preloaded contexts, fetches documents only from loopback hosts
 *   (127.0.0.1, localhost, [::1]) and gives up after a timeout, so a test fails fast instead of hanging.
 */
import { FetchError, getDocumentLoader } from '@fedify/fedify';
import type { DocumentLoader, RemoteDocument } from '@fedify/fedify';

/** The JSON-LD contexts fedify preloads, keyed by context URL. */
export type PreloadedContexts = ReadonlyMap<string, unknown>;

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

let preloadedContexts: Promise<PreloadedContexts> | undefined;

/**
 * Loads the map of contexts bundled with the installed fedify (its `runtime/contexts.js` module, which the
 * package's export map does not expose, so it is imported by file URL next to the package entry point).
 */
export function loadPreloadedContexts(): Promise<PreloadedContexts> {
  preloadedContexts ??= (async () => {
    const entry = import.meta.resolve('@fedify/fedify');
    const moduleUrl = new URL('./runtime/contexts.js', entry).href;
    const mod: unknown = await import(moduleUrl);
    const table: unknown =
      typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : undefined;
    if (typeof table !== 'object' || table === null) {
      throw new Error(`fedify's preloaded contexts were not found at ${moduleUrl}`);
    }
    return new Map(Object.entries(table));
  })();
  return preloadedContexts;
}

function fromPreloaded(contexts: PreloadedContexts, url: string): RemoteDocument | null {
  if (!contexts.has(url)) return null;
  return { contextUrl: null, document: contexts.get(url), documentUrl: url };
}

/** A context loader that knows only fedify's preloaded contexts and rejects any other URL immediately. */
export function preloadedOnlyContextLoader(contexts: PreloadedContexts): DocumentLoader {
  return (url) => {
    const found = fromPreloaded(contexts, url);
    if (found !== null) return Promise.resolve(found);
    return Promise.reject(
      new FetchError(url, 'JSON-LD context is not preloaded by fedify; the test peer never fetches contexts'),
    );
  };
}

function isLoopbackHttpUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') && LOOPBACK_HOSTNAMES.has(parsed.hostname)
  );
}

/**
 * Wraps a document loader: preloaded contexts are answered locally, non-loopback URLs are refused, and a load
 * that takes longer than `timeoutMs` is rejected.
 */
export function guardDocumentLoader(
  inner: DocumentLoader,
  contexts: PreloadedContexts,
  timeoutMs: number,
): DocumentLoader {
  return async (url) => {
    const found = fromPreloaded(contexts, url);
    if (found !== null) return found;
    if (!isLoopbackHttpUrl(url)) {
      throw new FetchError(url, 'the test peer only fetches documents from loopback hosts');
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FetchError(url, `no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([inner(url), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The peer's unauthenticated document loader: fedify's fetch loader (private addresses allowed), guarded. */
export function peerDocumentLoader(contexts: PreloadedContexts, timeoutMs: number): DocumentLoader {
  return guardDocumentLoader(getDocumentLoader({ allowPrivateAddress: true }), contexts, timeoutMs);
}
