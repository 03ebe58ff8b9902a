/**
 * Access to ActivityPub documents: secure mode (signed fetches required), and who signed a fetch, for
 * documents that only their audience may read.
 */
import type { Request, Response } from 'express';

/** Checks a GET's signature when signed fetches are required; null lets every GET through. */
export type AuthorizeFetch = ((req: Request) => Promise<boolean>) | null;

/** The actor whose valid signature a GET carries (the key's owner), or null: unsigned or not verified. */
export type FetchSigner = (req: Request) => Promise<string | null>;

/** True when the GET may be answered; otherwise answers 401 (secure mode and no valid signature). */
export async function allowedFetch(
  authorizeFetch: AuthorizeFetch,
  req: Request,
  res: Response,
): Promise<boolean> {
  if (!authorizeFetch || (await authorizeFetch(req))) return true;
  res.status(401).json({ error: 'a signed request is required' });
  return false;
}

export function notFound(res: Response): void {
  res.status(404).json({ error: 'not found' });
}
