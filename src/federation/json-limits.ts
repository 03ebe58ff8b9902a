/**
 * JSON parsing with a nesting limit, for documents that come from other servers. The depth is measured by a
 * linear scan of the text before `JSON.parse` runs, so a hostile document never reaches a recursive parser.
 */

/** Default maximum nesting of arrays and objects in a remote document. */
export const DEFAULT_MAX_JSON_DEPTH = 32;

/** Result of {@link parseJsonObject}. */
export type JsonObjectResult =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; error: 'bad-json' | 'too-deep'; detail: string };

/**
 * The deepest nesting of `[` and `{` in a JSON text, counting only brackets outside strings. Stops early and
 * returns `limit + 1` as soon as the nesting exceeds `limit`. The text need not be valid JSON.
 */
export function jsonNestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return limit + 1;
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return deepest;
}

/** Parses a JSON text that must be an object nested at most `maxDepth` levels. */
export function parseJsonObject(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): JsonObjectResult {
  if (jsonNestingDepth(text, maxDepth) > maxDepth) {
    return { ok: false, error: 'too-deep', detail: `JSON nested deeper than ${maxDepth} levels` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: 'bad-json', detail: err instanceof Error ? err.message : 'unparseable JSON' };
  }
  if (!isJsonObject(value)) return { ok: false, error: 'bad-json', detail: 'JSON document is not an object' };
  return { ok: true, value };
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
