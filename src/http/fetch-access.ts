/**
 * Access to ActivityPub documents: secure mode (signed fetches required), and who signed a fetch, for
 * documents that only their audience may read.
 */
import type { Request, Response } from 'express';
import type { FetchAuthorization } from '../federation/signed-fetch.ts';

/** Checks a GET's signature when signed fetches are required; null lets every GET through. */
export type AuthorizeFetch = ((req: Request) => Promise<FetchAuthorization>) | null;

/** The actor whose valid signature a GET carries (the key's owner), or null: unsigned or not verified. */
export type FetchSigner = (req: Request) => Promise<string | null>;

/**
 * True when the GET may be answered; otherwise answers the refusal (secure mode): 401 without a valid signature,
 * 403 for a host this server does not federate with, 429 with `Retry-After` when too many keys were fetched.
 */
export async function allowedFetch(
  authorizeFetch: AuthorizeFetch,
  req: Request,
  res: Response,
): Promise<boolean> {
  if (!authorizeFetch) return true;
  const verdict = await authorizeFetch(req);
  if (verdict.ok) return true;
  refuseFetch(verdict, res);
  return false;
}

/** Answers a refused GET: 401, 403, or 429 with `Retry-After`. */
export function refuseFetch(verdict: Extract<FetchAuthorization, { ok: false }>, res: Response): void {
  if (verdict.status === 429) res.set('Retry-After', String(verdict.retryAfterSeconds));
  res.status(verdict.status).json({
    error: verdict.status === 401 ? `a signed request is required (${verdict.message})` : verdict.message,
  });
}

export function notFound(res: Response): void {
  res.status(404).json({ error: 'not found' });
}
