/**
 * The group actors, their emitted activities, and the instance's Service actor; the collections are served by
 * collections.routes.ts.
 */
import { Router, type Request, type Response } from 'express';
import type { Store } from '../storage/store.ts';
import type { Urls } from '../activitypub/urls.ts';
import { groupKeyOwner, INSTANCE_KEY_OWNER } from '../activitypub/urls.ts';
import type { GroupService } from '../groups/group.service.ts';
import { toApGroup, toApTombstone } from '../activitypub/group.serializer.ts';
import { GUILD_CONTEXT, isObject } from '../activitypub/vocab.ts';
import { addresseesOf, isPublicDocument, readerIsAddressed } from '../activitypub/audience.ts';
import { toApServiceActor } from '../activitypub/service-actor.serializer.ts';
import type { Logger } from '../log.ts';
import { sendActivityJson, wantsActivityJson } from './negotiation.ts';
import { renderGroupPage } from '../web/group.page.ts';
import { collectionRoutes } from './collections.routes.ts';
import { allowedFetch, notFound, type AuthorizeFetch, type FetchSigner } from './fetch-access.ts';

export interface ActorRoutesDeps {
  store: Store;
  urls: Urls;
  domain: string;
  /** preferredUsername of the Service actor. */
  serviceActor: string;
  groups: GroupService;
  /** Checks a GET's signature when signed fetches are required; null lets every GET through. */
  authorizeFetch: AuthorizeFetch;
  /** Who signed a GET: non-public documents are served only to their audience, in every mode. */
  fetchSigner: FetchSigner;
  log: Logger;
}

export function actorRoutes(d: ActorRoutesDeps): Router {
  const r = Router();

  /** Answers ActivityPub GETs only for signed requests when secure mode is on. */
  const authorized = (req: Request, res: Response): Promise<boolean> =>
    allowedFetch(d.authorizeFetch, req, res);

  r.get('/actor', async (req, res) => {
    const pem = await d.store.keys.getPublicKey(INSTANCE_KEY_OWNER);
    if (!pem) {
      res.status(503).json({ error: 'starting' });
      return;
    }
    const id = d.urls.instanceActor();
    // The Service actor is always served unsigned: peers fetch it to verify our signed GETs.
    sendActivityJson(
      res,
      toApServiceActor({
        id,
        name: d.serviceActor,
        domain: d.domain,
        inbox: d.urls.sharedInbox(),
        outbox: `${id}/outbox`,
        featured: `${id}/featured`,
        sharedInbox: d.urls.sharedInbox(),
        keyId: d.urls.instanceKeyId(),
        publicKeyPem: pem,
        url: d.urls.origin,
      }),
    );
    void req;
  });

  // What the Service actor does is announced by the groups: its own outbox stays empty, and it pins nothing.
  for (const name of ['outbox', 'featured'])
    r.get(`/actor/${name}`, (_req, res) => {
      sendActivityJson(res, {
        '@context': GUILD_CONTEXT,
        id: `${d.urls.instanceActor()}/${name}`,
        type: 'OrderedCollection',
        totalItems: 0,
        orderedItems: [],
      });
    });

  /** A direct message of the Service actor: served only to a signed GET from its addressee or their server. */
  r.get('/actor/activities/:id', async (req, res) => {
    const id = `${d.urls.instanceActor()}/activities/${req.params.id}`;
    const stored = await d.store.activities.getActivity(id);
    if (!stored) return notFound(res);
    const doc: unknown = JSON.parse(stored.json);
    if (!isObject(doc)) throw new Error(`stored activity ${id} is not a JSON object`);
    const reader = await d.fetchSigner(req);
    if (reader === null || !readerIsAddressed(addresseesOf(doc), reader, (a) => d.urls.isLocal(a)))
      return notFound(res);
    res.set('Cache-Control', 'private, no-store');
    res.status(200).set('Content-Type', 'application/activity+json; charset=utf-8').send(stored.json);
  });

  r.get('/groups/:name', async (req, res) => {
    const name = req.params.name;
    const group = await d.store.groups.getGroup(name);
    if (!group) {
      res.status(404).type('text/plain').send('No such group');
      return;
    }
    if (!wantsActivityJson(req)) {
      res
        .status(group.deletedAt ? 410 : 200)
        .set('Vary', 'Accept')
        .type('html');
      res.send(await renderGroupPage({ group, store: d.store, urls: d.urls, domain: d.domain }));
      return;
    }
    if (!(await authorized(req, res))) return;
    if (group.deletedAt !== null) {
      sendActivityJson(res, toApTombstone(d.urls.group(name), group.deletedAt), 410);
      return;
    }
    const pem = await d.store.keys.getPublicKey(groupKeyOwner(name));
    if (!pem) throw new Error(`group ${name} has no key`);
    const links = await d.store.moves.getMoveState(name);
    sendActivityJson(res, toApGroup(group, d.urls, pem, d.domain, links));
  });

  /** An addressee, the server of one, or a member when the group's followers are addressed. */
  const mayRead = async (name: string, doc: Record<string, unknown>, reader: string): Promise<boolean> => {
    const addressees = addresseesOf(doc);
    if (readerIsAddressed(addressees, reader, (a) => d.urls.isLocal(a))) return true;
    if (!addressees.includes(d.urls.followers(name))) return false;
    return (await d.store.members.getMember(name, reader))?.state === 'accepted';
  };

  /**
   * An activity or object the group emitted. One that is not public (a direct message, a notice to the
   * moderators, the answer to a Follow) is served only to a signed request from an actor it is addressed to
   * or from that actor's server, in every mode; anyone else gets 404, as for an id never used (Mastodon does
   * the same for private statuses).
   */
  r.get('/groups/:name/activities/:id', async (req, res) => {
    const name = req.params.name;
    const id = d.urls.activity(name, req.params.id);
    const stored = await d.store.activities.getActivity(id);
    if (!stored) return notFound(res);
    const doc: unknown = JSON.parse(stored.json);
    if (!isObject(doc)) throw new Error(`stored activity ${id} is not a JSON object`);
    if (isPublicDocument(doc)) {
      if (!(await authorized(req, res))) return;
    } else {
      const reader = await d.fetchSigner(req);
      if (reader === null || !(await mayRead(name, doc, reader))) {
        d.log.debug('non-public activity not served', { id, reader: reader ?? '(no valid signature)' });
        return notFound(res);
      }
      // Never kept by a shared cache for someone else.
      res.set('Cache-Control', 'private, no-store');
    }
    // The post it carried was deleted or removed: nothing of it is served any more.
    if (stored.withdrawnAt !== null) {
      sendActivityJson(res, toApTombstone(id, stored.withdrawnAt, stored.type), 410);
      return;
    }
    res.status(200).set('Content-Type', 'application/activity+json; charset=utf-8').send(stored.json);
  });

  r.use(collectionRoutes(d));
  return r;
}
