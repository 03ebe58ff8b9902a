/** The delivery client on its own: signatures from the signer threads, and the address rules. */
import { expect } from 'chai';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { SignerPool } from '../../src/federation/signer-pool.ts';
import { DeliveryClient } from '../../src/federation/delivery.client.ts';
import { verifyRequest } from '../../src/federation/http-signature.ts';

const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('SignerPool', function () {
  it('signs on its threads with each key it is given: the signatures verify', async function () {
    const pool = new SignerPool(2, 0);
    try {
      const a = pair();
      const b = pair();
      const jobs = Array.from({ length: 40 }, (_, i) => ({
        key: i % 2 === 0 ? a : b,
        data: `line ${i}\nhost: x`,
      }));
      const signatures = await Promise.all(jobs.map((j) => pool.sign(j.key.privateKey, j.data)));
      jobs.forEach((j, i) => {
        const sig = Buffer.from(signatures[i] ?? '', 'base64');
        expect(verify('sha256', Buffer.from(j.data), j.key.publicKey, sig), `signature ${i}`).to.equal(true);
        const other = j.key === a ? b : a;
        expect(verify('sha256', Buffer.from(j.data), other.publicKey, sig)).to.equal(false);
      });
    } finally {
      await pool.close();
    }
  });

  it('refuses to sign once closed', async function () {
    const pool = new SignerPool(1, 0);
    await pool.close();
    let error: unknown = null;
    await pool.sign(pair().privateKey, 'x').catch((e: unknown) => (error = e));
    expect(String(error)).to.contain('closed');
  });
});

describe('DeliveryClient', function () {
  let server: Server;
  let origin: string;
  const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];

  before(async function () {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body });
        res.writeHead(req.url === '/slow' ? 503 : 202, { 'retry-after': '7' }).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async function () {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const options = { timeoutMs: 5_000, userAgent: 'guild-test', connectionsPerOrigin: 2 };

  it('POSTs the body signed with the key (signer threads), and reports status, Retry-After and the answer', async function () {
    const signers = new SignerPool(1, 0);
    const client = new DeliveryClient({ ...options, allowPrivateAddresses: true, signers });
    try {
      const { privateKey, publicKey } = pair();
      const body = JSON.stringify({ type: 'Announce', id: 'https://guild.example/a/1' });
      const ok = await client.post(`${origin}/inbox`, body, {
        keyId: 'https://guild.example/k',
        privateKeyPem: privateKey,
      });
      expect(ok).to.deep.equal({ kind: 'status', status: 202, retryAfterMs: 7_000, body: 'ok' });
      const hit = seen[seen.length - 1];
      expect(hit?.body).to.equal(body);
      const v = await verifyRequest({
        method: 'POST',
        path: '/inbox',
        headers: hit?.headers ?? {},
        rawBody: Buffer.from(hit?.body ?? ''),
        now: new Date(),
        resolveKey: async () => ({
          publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          ownerId: 'https://guild.example/g',
        }),
      });
      expect(v.ok, JSON.stringify(v)).to.equal(true);
      const busy = await client.post(`${origin}/slow`, body, {
        keyId: 'https://guild.example/k',
        privateKeyPem: createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })),
      });
      expect(busy).to.include({ kind: 'status', status: 503 });
      expect(createPublicKey(privateKey).asymmetricKeyType).to.equal('rsa');
    } finally {
      await client.close();
      await signers.close();
    }
  });

  it('refuses loopback destinations, written as addresses or as names, when private addresses are not allowed', async function () {
    const client = new DeliveryClient({ ...options, allowPrivateAddresses: false });
    const before = seen.length;
    try {
      const key = { keyId: 'https://guild.example/k', privateKeyPem: pair().privateKey };
      const port = new URL(origin).port;
      for (const inbox of [
        `${origin}/inbox`,
        `http://localhost:${port}/inbox`,
        `http://[::1]:${port}/inbox`,
      ]) {
        const r = await client.post(inbox, '{}', key);
        expect(r.kind, inbox).to.equal('network');
        expect(r.kind === 'network' ? r.error : '', inbox).to.match(/EFORBIDDEN/);
      }
      expect(seen.length, 'nothing reached the server').to.equal(before);
    } finally {
      await client.close();
    }
  });
});
