/** Content negotiation between ActivityPub clients and browsers. */
import type { Request, Response } from 'express';

export const AP_CONTENT_TYPE = 'application/activity+json; charset=utf-8';

/** True when the client asks for an ActivityPub document rather than a page. */
export function wantsActivityJson(req: Request): boolean {
  const accept = (req.headers.accept ?? '').toLowerCase();
  return (
    accept.includes('application/activity+json') ||
    accept.includes('application/ld+json') ||
    accept.includes('application/json')
  );
}

export function sendActivityJson(res: Response, doc: unknown, status = 200): void {
  res.status(status).set('Content-Type', AP_CONTENT_TYPE).set('Vary', 'Accept').send(JSON.stringify(doc));
}
