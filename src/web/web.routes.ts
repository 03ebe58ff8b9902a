/** Pages for people: the directory, the join redirect, and the stylesheet. */
import { Router } from 'express';
import type { Store } from '../storage/store.ts';
import type { Urls } from '../groups/urls.ts';
import { renderDirectory } from './directory.page.ts';
import { STYLESHEET } from './stylesheet.ts';

export interface WebDeps {
  store: Store;
  urls: Urls;
  domain: string;
}

/** A server name as a person types it: host with optional port, no scheme or path. */
const SERVER_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?::\d{1,5})?$/;

export function webRoutes(d: WebDeps): Router {
  const r = Router();
  r.get('/', async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 200) : '';
    const after = typeof req.query.after === 'string' ? req.query.after.slice(0, 64) : null;
    res.type('html').send(await renderDirectory({ store: d.store, urls: d.urls, domain: d.domain, query: q, after }));
  });

  r.get('/join', (req, res) => {
    const uri = typeof req.query.uri === 'string' ? req.query.uri : '';
    const raw = typeof req.query.server === 'string' ? req.query.server.trim().toLowerCase() : '';
    const server = raw.replace(/^https?:\/\//, '').replace(/\/.*$/, '').replace(/^@?[^@]*@/, '');
    if (!d.urls.groupNameOf(uri) || !SERVER_RE.test(server)) {
      res.status(400).type('text/plain').send('Enter the name of your server, such as mastodon.social.');
      return;
    }
    res.redirect(303, `https://${server}/authorize_interaction?uri=${encodeURIComponent(uri)}`);
  });

  r.get('/static/guild.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'public, max-age=3600').send(STYLESHEET);
  });
  return r;
}
