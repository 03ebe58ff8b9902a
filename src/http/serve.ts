/**
 * The HTTP side of a process: inbox POSTs first (inbox.fast-path.ts), then the express application. Loaded only
 * by processes that serve HTTP: background threads and worker processes never load express or the web pages.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createApp, type AppDeps } from './app.ts';
import { inboxFastPath, type InboxFastPathDeps } from './inbox.fast-path.ts';

export function httpHandler(
  app: AppDeps,
  inbox: InboxFastPathDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const express = createApp(app);
  const fastInbox = inboxFastPath(inbox);
  return (req, res) => {
    if (!fastInbox(req, res)) express(req, res);
  };
}
