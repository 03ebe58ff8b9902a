/**
 * Decoding of admin API input: JSON bodies (`unknown` until checked), query strings, path parameters and
 * page cursors. Every problem is an {@link HttpError} with status 400 and a message naming the field.
 */
import type { Request } from 'express';
import { HttpError } from './http-error.ts';
import { httpIdText as httpUrl } from '../activitypub/vocab.ts';

/** Largest page a caller may ask for, and the page size when none is given. */
export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 50;
export const MAX_REASON_LENGTH = 1000;

export type Body = Record<string, unknown>;

const bad = (message: string): HttpError => new HttpError(400, message);

/** The JSON object body of a request, refusing any field not in `allowed`. */
export function jsonBody(req: Request, allowed: readonly string[]): Body {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('the body must be a JSON object (Content-Type: application/json)');
  const unknownKeys = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknownKeys.length > 0) throw bad(`unknown field: ${unknownKeys.slice(0, 5).join(', ')}`);
  return body as Body;
}

/** The body when one was sent, else an empty object (actions whose body is optional). */
export function optionalBody(req: Request, allowed: readonly string[]): Body {
  return req.body === undefined ? {} : jsonBody(req, allowed);
}

export function optString(body: Body, key: string, max: number): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`${key} must be a string`);
  if (v.length > max) throw bad(`${key} must be at most ${max} characters`);
  return v;
}

export function reqString(body: Body, key: string, max: number): string {
  const v = optString(body, key, max);
  if (v === undefined) throw bad(`${key} is required`);
  return v;
}

/** A string, or null to clear; undefined when absent. */
export function optNullableString(body: Body, key: string, max: number): string | null | undefined {
  return body[key] === null ? null : optString(body, key, max);
}

export function optBoolean(body: Body, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw bad(`${key} must be true or false`);
  return v;
}

export function optInteger(body: Body, key: string): number | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(`${key} must be a whole number`);
  return v;
}

export function optStringArray(
  body: Body,
  key: string,
  maxItems: number,
  maxLength: number,
): string[] | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (
    !Array.isArray(v) ||
    v.length > maxItems ||
    v.some((s) => typeof s !== 'string' || s.length > maxLength)
  )
    throw bad(`${key} must be a list of at most ${maxItems} strings`);
  return v as string[];
}

/** The optional `reason` field, trimmed. */
export function reasonField(body: Body): string {
  return (optString(body, 'reason', MAX_REASON_LENGTH) ?? '').trim();
}

export { httpUrl };

/** True for `@user@host` or `user@host`. */
export function isHandle(text: string): boolean {
  return text.length <= 512 && /^@?[^@\s/]+@[^@\s/]+$/.test(text);
}

/** A path parameter as a string (express decodes percent-escapes). */
export function param(req: Request, name: string): string {
  const v: unknown = req.params[name];
  if (typeof v !== 'string' || v === '') throw bad(`missing ${name}`);
  return v;
}

/** A single-valued query parameter, or undefined. */
export function query(req: Request, name: string): string | undefined {
  const v: unknown = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`${name} must be given once`);
  return v;
}

/** `?limit=` (1 to {@link MAX_PAGE}, default {@link DEFAULT_PAGE}) and the raw `?after=` cursor. */
export function pageQuery(req: Request): { limit: number; after: string | null } {
  const text = query(req, 'limit');
  let limit = DEFAULT_PAGE;
  if (text !== undefined) {
    if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > MAX_PAGE)
      throw bad(`limit must be a whole number from 1 to ${MAX_PAGE}`);
    limit = Number(text);
  }
  const after = query(req, 'after');
  if (after !== undefined && (after === '' || after.length > 4096)) throw bad('after is not a valid cursor');
  return { limit, after: after ?? null };
}

/** An opaque page cursor: base64url of a JSON array of the sort key. */
export function encodeCursor(key: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor of `[number, string]`; 400 when it is not one. */
export function numberStringCursor(after: string | null): [number, string] | null {
  if (after === null) return null;
  const key = decodeCursor(after);
  if (key.length !== 2 || typeof key[0] !== 'number' || typeof key[1] !== 'string') throw badCursor();
  return [key[0], key[1]];
}

/** Decodes a cursor of `[string]`; 400 when it is not one. */
export function stringCursor(after: string | null): string | null {
  if (after === null) return null;
  const key = decodeCursor(after);
  if (key.length !== 1 || typeof key[0] !== 'string') throw badCursor();
  return key[0];
}

function decodeCursor(after: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(value)) throw badCursor();
  return value;
}

function badCursor(): HttpError {
  return bad('after is not a cursor returned by this API');
}

/** A page of items and the cursor of the next page (null on the last page). */
export function page<T, J>(
  items: T[],
  limit: number,
  toJson: (item: T) => J,
  key: (item: T) => ReadonlyArray<string | number>,
): { items: J[]; next: string | null } {
  const last = items[items.length - 1];
  return {
    items: items.map(toJson),
    next: items.length >= limit && last !== undefined ? encodeCursor(key(last)) : null,
  };
}

/** Epoch milliseconds as an ISO 8601 string. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * An actor id given as is, or the actor a handle (`@user@host`) names, found with WebFinger; 400 when it is
 * neither or the handle cannot be found.
 */
export async function actorFrom(
  text: string,
  handles: { resolveHandle(handle: string): Promise<string | null> },
  field = 'actor',
): Promise<string> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const url = httpUrl(text);
    if (url === null) throw bad(`${field} must be an http(s) actor id or a handle such as @user@host`);
    return url;
  }
  if (!isHandle(text)) throw bad(`${field} must be an http(s) actor id or a handle such as @user@host`);
  const id = await handles.resolveHandle(text);
  if (id === null) throw bad(`${text} could not be found with WebFinger; give the actor id`);
  return id;
}
