/** A client of the admin HTTP API for tests, and the records the admin API tests seed. */
import type { Member } from '../../src/storage/store.ts';

export const TOKEN = 'admin-token-0123456789abcdef';
/** Deliveries to seeded members go to a closed loopback port and fail at once. */
const DEAD_INBOX = 'http://127.0.0.1:9/inbox';

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export interface ApiOptions {
  body?: unknown;
  raw?: string;
  token?: string | null;
  headers?: Record<string, string>;
}

/** An accepted or pending member whose inbox refuses connections. */
export function member(groupName: string, actorId: string, state: Member['state']): Member {
  return {
    groupName,
    actorId,
    inbox: DEAD_INBOX,
    sharedInbox: null,
    deliveryInbox: DEAD_INBOX,
    state,
    followId: `${actorId}/follows/1`,
    createdAt: 1,
    updatedAt: 1,
  };
}

/** Calls `METHOD /api/v1/admin/PATH` on the Guild at `origin()` with TOKEN unless told otherwise. */
export function adminApi(
  origin: () => string,
): (method: string, path: string, o?: ApiOptions) => Promise<Answer> {
  return async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? TOKEN : o.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    } else if (o.raw !== undefined) {
      body = o.raw;
    }
    const res = await fetch(`${origin()}/api/v1/admin${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
}
