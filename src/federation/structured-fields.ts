/**
 * Structured Field Values for HTTP (RFC 8941, RFC 9651) through `structured-headers`, for HTTP message
 * signatures. Values are the library's: a Dictionary member is an Item `[value, params]` or an Inner List
 * `[items, params]`; strings are JS strings, tokens `Token`s, byte sequences `ArrayBuffer`s. What is added here:
 * a length cap, null instead of an exception for a malformed value, and typed readers of bare items.
 */
import {
  parseDictionary as parse,
  serializeInnerList,
  Token,
  type BareItem,
  type Dictionary,
  type InnerList,
  type Item,
} from 'structured-headers';

export { serializeInnerList, type BareItem, type Dictionary, type InnerList, type Item };

/** Longest field value parsed. */
const MAX_LENGTH = 16_384;

/** Parses a Dictionary field value; null when it is not one. A repeated key keeps its last value (RFC 8941). */
export function parseDictionary(text: string): Dictionary | null {
  if (text.length > MAX_LENGTH) return null;
  try {
    return parse(text);
  } catch {
    return null;
  }
}

/** The member is an Inner List (rather than an Item). */
export function isInnerList(member: Item | InnerList): member is InnerList {
  return Array.isArray(member[0]);
}

/** The value of a String item, or null. */
export function stringOf(value: BareItem | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

/** The value of a String or Token item, or null. */
export function textOf(value: BareItem | undefined): string | null {
  return typeof value === 'string' ? value : value instanceof Token ? value.toString() : null;
}

/** The value of an Integer item, or null. */
export function integerOf(value: BareItem | undefined): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

/** The bytes of a Byte Sequence item, or null. */
export function bytesOf(value: BareItem | undefined): Buffer | null {
  return value instanceof ArrayBuffer ? Buffer.from(value) : null;
}
