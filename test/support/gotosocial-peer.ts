/**
 * A test peer that serves its actor and key as GoToSocial does (superseriousbusiness/gotosocial):
 *
 * - its `keyId` is `…/users/NAME/main-key` (no fragment); that URL answers unsigned GETs with a minimal actor
 *   (`internal/processing/fedi/user.go` `UserGet`: for a public key path, `AccountToASMinimal` in
 *   `internal/typeutils/internaltoas.go`: `id` = the actor, type, `preferredUsername`, `publicKey` only);
 * - the actor itself (`…/users/NAME`) is served only to a signed GET whose signature verifies (401 otherwise),
 *   checked here with fedify, independently of Guild's code;
 * - it signs its POSTs with draft-cavage over `(request-target) host date digest`;
 * - its documents carry GoToSocial's context first.
 *
 * Every request is recorded with whether it was signed.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { verifyRequest } from '@fedify/fedify';
import { customSignature, sha256Digest } from './raw-actor.ts';
import {
  loadPreloadedContexts,
  peerDocumentLoader,
  preloadedOnlyContextLoader,
} from './fedify-peer.loaders.ts';

const CONTEXT = [
  'https://gotosocial.org/ns',
  'https://www.w3.org/ns/activitystreams',
  'https://w3id.org/security/v1',
];

export interface GoToSocialPeer {
  origin: string;
  actorId: string;
  /** `…/users/NAME/main-key`. */
  keyId: string;
  /** Requests received, in order: method, path, and whether a Signature header came with them. */
  requests: Array<{ method: string; path: string; signed: boolean; status: number }>;
  /** Bodies POSTed to its inboxes. */
  inbox: unknown[];
  /** Signs (as GoToSocial does) and POSTs an activity. */
  post(url: string, activity: unknown): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

export async function startGoToSocialPeer(username: string): Promise<GoToSocialPeer> {
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const contexts = await loadPreloadedContexts();
  const documentLoader = peerDocumentLoader(contexts, 5000);
  const contextLoader = preloadedOnlyContextLoader(contexts);
  const requests: GoToSocialPeer['requests'] = [];
  const inbox: unknown[] = [];
  let origin = '';
  const actorPath = `/users/${username}`;
  const actorId = (): string => `${origin}${actorPath}`;
  const keyId = (): string => `${actorId()}/main-key`;
  const publicKey = () => ({ id: keyId(), owner: actorId(), publicKeyPem: keys.publicKey });

  const send = (res: import('node:http').ServerResponse, status: number, doc?: unknown): number => {
    if (doc === undefined) res.writeHead(status).end();
    else res.writeHead(status, { 'content-type': 'application/activity+json' }).end(JSON.stringify(doc));
    return status;
  };

  const handle = async (req: IncomingMessage, body: Buffer, res: import('node:http').ServerResponse) => {
    const path = req.url ?? '/';
    if (req.method === 'POST' && (path === `${actorPath}/inbox` || path === '/inbox')) {
      try {
        inbox.push(JSON.parse(body.toString('utf8')));
      } catch {
        return send(res, 400);
      }
      return send(res, 202);
    }
    if (req.method !== 'GET') return send(res, 405);
    if (path === `${actorPath}/main-key`) {
      // A public key path: no authentication, the bare minimum profile.
      return send(res, 200, {
        '@context': CONTEXT,
        id: actorId(),
        type: 'Person',
        preferredUsername: username,
        publicKey: publicKey(),
      });
    }
    if (path === actorPath) {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers.set(name, value);
      }
      const request = new Request(`${origin}${path}`, { method: 'GET', headers });
      const key = await verifyRequest(request, { documentLoader, contextLoader }).catch(() => null);
      if (key === null) return send(res, 401);
      return send(res, 200, {
        '@context': CONTEXT,
        id: actorId(),
        type: 'Person',
        preferredUsername: username,
        name: username,
        inbox: `${actorId()}/inbox`,
        outbox: `${actorId()}/outbox`,
        followers: `${actorId()}/followers`,
        following: `${actorId()}/following`,
        endpoints: { sharedInbox: `${origin}/inbox` },
        publicKey: publicKey(),
      });
    }
    return send(res, 404);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, Buffer.concat(chunks), res).then(
        (status) =>
          requests.push({
            method: req.method ?? '',
            path: req.url ?? '/',
            signed: req.headers['signature'] !== undefined,
            status,
          }),
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    actorId: actorId(),
    keyId: keyId(),
    requests,
    inbox,
    async post(url, activity) {
      const body = JSON.stringify(activity);
      const target = new URL(url);
      const headers: Record<string, string> = {
        Host: target.host,
        Date: new Date().toUTCString(),
        Digest: sha256Digest(body),
        'Content-Type': 'application/activity+json',
      };
      headers['Signature'] = customSignature({
        keyId: keyId(),
        privateKeyPem: keys.privateKey,
        names: ['(request-target)', 'host', 'date', 'digest'],
        values: {
          '(request-target)': `post ${target.pathname}`,
          host: headers['Host'] ?? '',
          date: headers['Date'] ?? '',
          digest: headers['Digest'] ?? '',
        },
      });
      const res = await fetch(url, { method: 'POST', headers, body });
      return { status: res.status, text: await res.text() };
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
