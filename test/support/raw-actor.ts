/**
 * A hand-driven remote actor for security tests: a node:http server on loopback that serves one Person with a
 * real RSA key, and helpers to sign (or mis-sign) POSTs exactly as a test needs. It records every request it
 * gets, so a test can show that Guild fetched nothing it should not have.
 */
import { createServer, request as httpRequest, type Server, type IncomingMessage } from 'node:http';
import { generateKeyPairSync, sign as rsaSign, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { signRequest } from '../../src/federation/http-signature.ts';

export interface RawActor {
  origin: string;
  actorId: string;
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
  /** Paths requested from this server, in order. */
  requests: string[];
  /** Extra documents to serve: path -> JSON. */
  documents: Map<string, unknown>;
  /** POSTs received: path and parsed body. */
  inbox: Array<{ path: string; body: unknown; headers: IncomingMessage['headers'] }>;
  /**
   * Signs and POSTs `body` (string or object) to `url`; `mutate` may change headers/body after signing. With
   * `via`, the request goes to that origin instead, keeping `url`'s Host (as a reverse proxy forwards it to one
   * of several web processes).
   */
  post(
    url: string,
    body: unknown,
    mutate?: (r: { headers: Record<string, string>; body: string }) => void,
    opts?: { via?: string },
  ): Promise<{ status: number; text: string; headers: Headers }>;
  close(): Promise<void>;
}

let cachedKeys: { publicKey: string; privateKey: string } | null = null;
function keyPair(): { publicKey: string; privateKey: string } {
  // One key pair per test process keeps the suite fast; every actor still has its own id and key id.
  cachedKeys ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return cachedKeys;
}

export async function startRawActor(
  username = 'mallory',
  opts: {
    freshKey?: boolean;
    /** Loopback address to listen on (127.0.0.1 by default). */
    host?: string;
    /** How the actor's URLs write that address (another form of it, e.g. `[::ffff:127.0.0.2]`). */
    urlHost?: string;
  } = {},
): Promise<RawActor> {
  const keys = opts.freshKey
    ? generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      })
    : keyPair();
  const requests: string[] = [];
  const documents = new Map<string, unknown>();
  const inbox: RawActor['inbox'] = [];
  let origin = '';
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(`${req.method} ${path}`);
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: unknown = null;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = null;
        }
        inbox.push({ path, body, headers: req.headers });
        res.writeHead(202).end();
      });
      return;
    }
    const doc = documents.get(path);
    if (doc === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/activity+json' }).end(JSON.stringify(doc));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  origin = `http://${opts.urlHost ?? host}:${(server.address() as AddressInfo).port}`;
  const actorId = `${origin}/users/${username}`;
  const keyId = `${actorId}#main-key`;
  documents.set(`/users/${username}`, {
    '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
    id: actorId,
    type: 'Person',
    preferredUsername: username,
    inbox: `${actorId}/inbox`,
    outbox: `${actorId}/outbox`,
    followers: `${actorId}/followers`,
    endpoints: { sharedInbox: `${origin}/inbox` },
    publicKey: { id: keyId, owner: actorId, publicKeyPem: keys.publicKey },
  });
  return {
    origin,
    actorId,
    keyId,
    privateKeyPem: keys.privateKey,
    publicKeyPem: keys.publicKey,
    requests,
    documents,
    inbox,
    async post(url, body, mutate, opts) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      const headers = signRequest({
        method: 'POST',
        url,
        headers: { 'Content-Type': 'application/activity+json' },
        body: text,
        keyId,
        privateKeyPem: keys.privateKey,
      });
      const r = { headers, body: text };
      mutate?.(r);
      if (opts?.via !== undefined) return postVia(opts.via, url, r.headers, r.body);
      const res = await fetch(url, { method: 'POST', headers: r.headers, body: r.body });
      return { status: res.status, text: await res.text(), headers: res.headers };
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** POSTs to `via` (an origin) the request meant for `url`, with its headers as given (`Host` included). */
function postVia(
  via: string,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string; headers: Headers }> {
  const target = new URL(url);
  const to = new URL(via);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: to.hostname,
        port: to.port,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: h });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A draft-cavage Signature header over exactly the given header names (for tests of weak signatures). */
export function customSignature(o: {
  keyId: string;
  privateKeyPem: string;
  names: string[];
  values: Record<string, string>;
  algorithm?: string;
}): string {
  const lines = o.names.map((n) => `${n}: ${o.values[n] ?? ''}`);
  const sig = rsaSign('sha256', Buffer.from(lines.join('\n')), o.privateKeyPem).toString('base64');
  return `keyId="${o.keyId}",algorithm="${o.algorithm ?? 'rsa-sha256'}",headers="${o.names.join(' ')}",signature="${sig}"`;
}

export function sha256Digest(body: string): string {
  return `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
}
