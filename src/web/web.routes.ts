/** Pages for people: the directory, the join redirect, uploaded media, the stylesheet and the script. */
import { Router } from 'express';
import type { Store } from '../storage/store.ts';
import type { Urls } from '../activitypub/urls.ts';
import { renderDirectory } from './directory.page.ts';
import { STYLESHEET } from './stylesheet.ts';
import { CLIENT_SCRIPT } from './client-script.ts';
import { FileMediaStore } from './media.store.ts';

export interface WebDeps {
  store: Store;
  urls: Urls;
  domain: string;
  /** Directory of uploaded images (see `mediaDirFor`); without it `/media/...` answers 404. */
  mediaDir?: string | null;
}

/** A server name as a person types it: host with optional port, no scheme or path. */
const SERVER_RE =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?::\d{1,5})?$/;

export function webRoutes(d: WebDeps): Router {
  const r = Router();
  const media = d.mediaDir ? new FileMediaStore(d.mediaDir, d.urls.origin) : null;

  r.get('/', async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 200) : '';
    const after = typeof req.query.after === 'string' ? req.query.after.slice(0, 64) : null;
    res
      .type('html')
      .send(await renderDirectory({ store: d.store, urls: d.urls, domain: d.domain, query: q, after }));
  });

  r.get('/join', async (req, res) => {
    const uri = typeof req.query.uri === 'string' ? req.query.uri : '';
    const raw = typeof req.query.server === 'string' ? req.query.server.trim().toLowerCase() : '';
    const server = raw
      .replace(/^https?:\/\//, '')
      .replace(/\/.*$/, '')
      .replace(/^@?[^@]*@/, '');
    // A group here, or one a peer lists in the directory.
    const known = d.urls.groupNameOf(uri) !== null || (await d.store.directory.getEntry(uri)) !== null;
    if (!known || !SERVER_RE.test(server)) {
      res.status(400).type('text/plain').send('Enter the name of your server, such as mastodon.social.');
      return;
    }
    res.redirect(303, `https://${server}/authorize_interaction?uri=${encodeURIComponent(uri)}`);
  });

  r.get('/media/:file', async (req, res) => {
    const found = media ? await media.read(req.params.file) : null;
    if (!found) {
      res.status(404).type('text/plain').send('No such file');
      return;
    }
    res
      .status(200)
      .set({
        'Content-Type': found.contentType,
        // The name is the content's hash: it never changes.
        'Cache-Control': 'public, max-age=31536000, immutable',
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': "default-src 'none'; sandbox",
        'Cross-Origin-Resource-Policy': 'cross-origin',
      })
      .send(found.bytes);
  });

  r.get('/static/guild.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'public, max-age=3600').send(STYLESHEET);
  });
  r.get('/static/guild.js', (_req, res) => {
    res.type('js').set('Cache-Control', 'public, max-age=3600').send(CLIENT_SCRIPT);
  });
  return r;
}
