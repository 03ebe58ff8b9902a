/**
 * The admin HTTP API, mounted at `/api/v1/admin` when GUILD_ADMIN_TOKEN is set and described in
 * `docs/openapi/admin.yaml`. Every request needs the bearer token; bodies are JSON; errors are `{ error }`.
 * Lists are paged with `?limit=` and the opaque `?after=` cursor of the previous page's `next`.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Store } from '../storage/store.ts';
import type { Urls } from '../activitypub/urls.ts';
import type { GroupService } from '../groups/group.service.ts';
import type { SettingsService } from '../groups/settings.service.ts';
import type { MembershipService } from '../groups/membership.service.ts';
import type { ModerationService } from '../groups/moderation.service.ts';
import type { InstanceService } from '../groups/instance.service.ts';
import { bearerAuth } from './admin-auth.ts';
import { groupAdminRoutes } from './admin-groups.routes.ts';
import { moderationAdminRoutes } from './admin-moderation.routes.ts';
import { domainAdminRoutes } from './admin-domains.routes.ts';
import { importAdminRoute, linkAdminRoutes } from './admin-links.routes.ts';
import type { MoveService } from '../groups/move.service.ts';
import type { GroupFollowService } from '../groups/group-follow.service.ts';
import type { PeeringService } from '../groups/peering.service.ts';
import { selfServiceAdminRoutes } from './admin-self-service.routes.ts';
import type { OwnershipService } from '../groups/ownership.service.ts';
import type { GroupCreationService } from '../groups/group-creation.service.ts';

/** Where the admin API is mounted. */
export const ADMIN_API_PREFIX = '/api/v1/admin';
/** Largest JSON body the admin API reads. */
export const ADMIN_MAX_BODY = '64kb';

/** The services only the admin API needs (the rest comes from the app's own dependencies). */
export interface AdminApiDeps {
  /** The bearer token (GUILD_ADMIN_TOKEN). */
  token: string;
  settings: SettingsService;
  membership: MembershipService;
  moderation: ModerationService;
  instance: InstanceService;
  moves: MoveService;
  groupFollows: GroupFollowService;
  peering: PeeringService;
  ownership: OwnershipService;
  creation: GroupCreationService;
  handles: {
    /** The actor id behind `@user@host` (WebFinger), or null. */
    resolveHandle(handle: string): Promise<string | null>;
  };
}

export interface AdminRouteDeps extends AdminApiDeps {
  store: Store;
  urls: Urls;
  /** host[:port] used in handles. */
  domain: string;
  groups: GroupService;
}

/** The admin router: authentication, JSON bodies, then the resources. Mount it at {@link ADMIN_API_PREFIX}. */
export function adminRoutes(d: AdminRouteDeps): Router {
  const r = Router();
  r.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  r.use(bearerAuth(d.token));
  r.use(requireJsonBody);
  // An export file is larger than any other body: its route reads its own.
  importAdminRoute(r, d);
  r.use(express.json({ limit: ADMIN_MAX_BODY }));
  groupAdminRoutes(r, d);
  linkAdminRoutes(r, d);
  moderationAdminRoutes(r, d);
  domainAdminRoutes(r, d);
  selfServiceAdminRoutes(r, d);
  r.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return r;
}

/** A request that carries a body must say it is JSON. */
function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
    res.status(415).json({ error: 'send a JSON body (Content-Type: application/json)' });
    return;
  }
  next();
}
