/** Bearer-token authentication of the admin API, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const REALM = 'Bearer realm="guild admin"';

/**
 * Lets a request through only with `Authorization: Bearer <token>`. Both sides are hashed first so the
 * comparison is over equal-length digests and takes the same time whatever the token presented.
 */
export function bearerAuth(token: string) {
  const expected = digest(token);
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    const presented = match?.[1];
    if (presented === undefined) {
      res.set('WWW-Authenticate', REALM).status(401).json({ error: 'a bearer token is required' });
      return;
    }
    if (!timingSafeEqual(digest(presented), expected)) {
      res
        .set('WWW-Authenticate', `${REALM}, error="invalid_token"`)
        .status(401)
        .json({ error: 'invalid token' });
      return;
    }
    next();
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
