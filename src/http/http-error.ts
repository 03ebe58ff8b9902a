/** One HTTP error type: a status and a message safe to show the client. The cause is logged, never sent. */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../log.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly clientMessage: string,
    options?: { cause?: unknown },
  ) {
    super(clientMessage, options);
    this.name = 'HttpError';
  }
}

export function errorMiddleware(log: Logger) {
  return (e: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let status = 500;
    let message = 'internal error';
    if (e instanceof HttpError) {
      status = e.status;
      message = e.clientMessage;
    } else if (isBodyParserError(e)) {
      status = e.status;
      message = e.type === 'entity.too.large' ? 'request body too large' : 'bad request body';
    }
    if (status >= 500) log.error('request failed', { method: req.method, path: req.path, err: e });
    else log.debug('request refused', { method: req.method, path: req.path, status, message });
    if (res.headersSent) return;
    res.status(status).json({ error: message });
  };
}

function isBodyParserError(e: unknown): e is { status: number; type: string } {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { status?: unknown }).status === 'number' &&
    typeof (e as { type?: unknown }).type === 'string'
  );
}
