/**
 * WebFinger, host-meta, NodeInfo, and the instance actor at `/` for ActivityPub clients. WebFinger answers only
 * for groups that exist: asking never creates one.
 */
import { Router } from 'express';
import type { Urls } from '../activitypub/urls.ts';
import type { GroupService } from '../groups/group.service.ts';
import type { Store } from '../storage/store.ts';
import { escapeHtml } from '../text/html.ts';
import { wantsActivityJson } from './negotiation.ts';

export interface DiscoveryDeps {
  urls: Urls;
  domain: string;
  /** preferredUsername of the instance's Service actor: `acct:NAME@HOST` names it. */
  serviceActor: string;
  groups: GroupService;
  store: Store;
  software: { name: string; version: string };
}

export function discoveryRoutes(d: DiscoveryDeps): Router {
  const r = Router();
  const serviceAcct = `acct:${d.serviceActor}@${d.domain}`;
  // The name the instance actor answered to before it had one of its own.
  const instanceAcct = `acct:${d.domain}@${d.domain}`;
  /** True when `resource` names the Service actor (a group of that name, made before it was reserved, wins). */
  const isService = async (resource: string): Promise<boolean> => {
    if (resource === instanceAcct || resource === d.urls.instanceActor()) return true;
    const acct = resource.replace(/^acct:@?/, 'acct:').toLowerCase();
    return acct === serviceAcct.toLowerCase() && (await d.groups.get(d.serviceActor)) === null;
  };

  // Lemmy asks `/` of every new domain for its instance actor (LemmyNet/lemmy 0.19,
  // crates/apub/src/objects/instance.rs `fetch_instance_actor_for_object`): an ActivityPub request there is
  // answered by the instance actor's own route, with the document served at /actor (whose id it follows,
  // being on the same domain). Browsers get the directory; both vary with Accept.
  r.get('/', (req, res, next) => {
    res.vary('Accept');
    if (wantsActivityJson(req)) req.url = '/actor';
    next();
  });

  r.get('/.well-known/webfinger', async (req, res) => {
    const resource = typeof req.query.resource === 'string' ? req.query.resource : '';
    if (!resource) {
      res.status(400).json({ error: 'the resource parameter is required' });
      return;
    }
    if (await isService(resource)) {
      res.set('Content-Type', 'application/jrd+json; charset=utf-8').send(
        JSON.stringify({
          subject: serviceAcct,
          aliases: [d.urls.instanceActor()],
          links: [{ rel: 'self', type: 'application/activity+json', href: d.urls.instanceActor() }],
        }),
      );
      return;
    }
    const name = groupNameFromResource(resource, d);
    const group = name ? await d.groups.get(name) : null;
    if (!group) {
      res.status(404).json({ error: 'no such group' });
      return;
    }
    const actor = d.urls.group(group.name);
    res
      .set('Content-Type', 'application/jrd+json; charset=utf-8')
      .set('Access-Control-Allow-Origin', '*')
      .send(
        JSON.stringify({
          subject: `acct:${group.name}@${d.domain}`,
          aliases: [actor],
          links: [
            { rel: 'http://webfinger.net/rel/profile-page', type: 'text/html', href: actor },
            // Last, because some servers take the last self link.
            { rel: 'self', type: 'application/activity+json', href: actor },
          ],
        }),
      );
  });

  const template = `${d.urls.origin}/.well-known/webfinger?resource={uri}`;
  const hostMetaJson = (res: import('express').Response): void => {
    res
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ links: [{ rel: 'lrdd', template }] }));
  };
  r.get('/.well-known/host-meta', (req, res) => {
    if ((req.headers.accept ?? '').includes('json')) return hostMetaJson(res);
    res
      .set('Content-Type', 'application/xrd+xml; charset=utf-8')
      .send(
        `<?xml version="1.0" encoding="UTF-8"?>\n<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n  <Link rel="lrdd" template="${escapeHtml(template)}"/>\n</XRD>\n`,
      );
  });
  r.get('/.well-known/host-meta.json', (_req, res) => hostMetaJson(res));

  r.get('/.well-known/nodeinfo', (_req, res) => {
    res.json({
      links: [
        { rel: 'http://nodeinfo.diaspora.software/ns/schema/2.1', href: `${d.urls.origin}/nodeinfo/2.1` },
      ],
    });
  });
  r.get('/nodeinfo/2.1', async (_req, res) => {
    const groups = await d.store.groups.countGroups();
    res
      .set(
        'Content-Type',
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"; charset=utf-8',
      )
      .send(
        JSON.stringify({
          version: '2.1',
          software: { name: d.software.name, version: d.software.version },
          protocols: ['activitypub'],
          services: { inbound: [], outbound: [] },
          openRegistrations: false,
          usage: { users: { total: 0, activeMonth: 0, activeHalfyear: 0 }, localPosts: 0 },
          metadata: { nodeName: d.domain, localGroups: groups },
        }),
      );
  });
  return r;
}

function groupNameFromResource(resource: string, d: DiscoveryDeps): string | null {
  if (resource.startsWith('acct:')) {
    const acct = resource.slice(5).replace(/^@/, '');
    const at = acct.lastIndexOf('@');
    if (at <= 0) return null;
    const host = acct.slice(at + 1).toLowerCase();
    if (host !== d.domain.toLowerCase()) return null;
    return acct.slice(0, at).toLowerCase();
  }
  return d.urls.groupNameOf(resource);
}
