import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { verifyRequest } from '../../src/federation/http-signature.ts';
import { isForbiddenAddress, SafeFetcher, type FetchResult } from '../../src/federation/safe-fetch.ts';
import { sendJson, startLoopbackServer, type LoopbackServer } from './loopback-server.ts';

const UA = 'Guild/test (+http://127.0.0.1)';

function expectError(result: FetchResult | { ok: boolean; error?: string }, error: string): void {
  expect(result.ok, JSON.stringify(result)).to.equal(false);
  if (!result.ok) expect(result.error, JSON.stringify(result)).to.equal(error);
}

describe('isForbiddenAddress', () => {
  const forbidden = [
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '100.127.255.255',
    '169.254.169.254',
    '192.0.0.8',
    '192.0.2.5',
    '198.18.0.1',
    '198.51.100.7',
    '203.0.113.9',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '0:0:0:0:0:0:0:1',
    '0000:0000:0000:0000:0000:0000:0000:0001',
    '[::1]',
    'fe80::1',
    'fe80::1%eth0',
    'febf:ffff::1',
    'fec0::1',
    'fc00::1',
    'fd12:3456:789a::1',
    'ff02::1',
    'ff0e::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::FFFF:10.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:192.168.0.1',
    '::127.0.0.1',
    '64:ff9b::127.0.0.1',
    '64:ff9b::a00:1',
    '64:ff9b:1::8.8.8.8',
    '2002:7f00:1::1',
    '2002:c0a8:101::1',
    '2001:db8::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '100::1',
    // not addresses at all: refused rather than guessed
    '',
    'localhost',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '256.1.1.1',
    '0x7f.0.0.1',
    '::ffff:1.2.3',
    '1::2::3',
    '12345::1',
    'g::1',
  ];
  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '169.253.255.255',
    '169.255.0.1',
    '192.167.255.255',
    '192.169.0.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2a00:1450:4001:82b::200e',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::808:808',
    '2002:808:808::1',
    'fbff::1',
    'fe7f::1',
  ];
  for (const ip of forbidden)
    it(`forbids ${JSON.stringify(ip)}`, () => expect(isForbiddenAddress(ip)).to.equal(true));
  for (const ip of allowed) it(`allows ${ip}`, () => expect(isForbiddenAddress(ip)).to.equal(false));
});

describe('SafeFetcher', () => {
  let server: LoopbackServer;
  let other: LoopbackServer;
  const trickles: NodeJS.Timeout[] = [];
  const lookups: string[] = [];
  const names: Record<string, string[]> = {};
  const lookup = async (host: string): Promise<string[]> => {
    lookups.push(host);
    const found = names[host];
    if (found === undefined) throw new Error(`ENOTFOUND ${host}`);
    return found;
  };
  const fetcher = (opts: Partial<ConstructorParameters<typeof SafeFetcher>[0]> = {}): SafeFetcher =>
    new SafeFetcher({ allowPrivateAddresses: true, userAgent: UA, timeoutMs: 2000, lookup, ...opts });

  before(async () => {
    server = await startLoopbackServer((req, res) => {
      const path = req.url;
      const self = `http://${req.headers.host ?? ''}${path}`;
      if (path === '/doc') return sendJson(res, { id: self, type: 'Note' });
      if (path === '/ld') {
        return sendJson(
          res,
          { id: self },
          'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        );
      }
      if (path === '/plain-json') return sendJson(res, { id: self }, 'application/json');
      if (path === '/html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>');
      if (path === '/array') return sendJson(res, [1, 2]);
      if (path === '/broken')
        return void res.writeHead(200, { 'content-type': 'application/activity+json' }).end('{"a":');
      if (path === '/deep')
        return void res
          .writeHead(200, { 'content-type': 'application/activity+json' })
          .end(`{"a":${'['.repeat(100)}${']'.repeat(100)}}`);
      if (path === '/deep-in-string') return sendJson(res, { id: self, s: '['.repeat(1000) });
      if (path === '/big-chunked') {
        res.writeHead(200, { 'content-type': 'application/activity+json' });
        res.write('{"pad":"');
        for (let i = 0; i < 40; i++) res.write('x'.repeat(64 * 1024));
        return void res.end('"}');
      }
      if (path === '/big-declared') {
        const body = JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) });
        return void res
          .writeHead(200, { 'content-type': 'application/activity+json', 'content-length': body.length })
          .end(body);
      }
      if (path === '/never') return; // accepts the request, never answers
      if (path === '/trickle') {
        res.writeHead(200, { 'content-type': 'application/activity+json' });
        res.write('{"a":"');
        trickles.push(setInterval(() => res.write('x'), 20));
        return;
      }
      if (path === '/missing') return void res.writeHead(404).end();
      if (path === '/other-origin-id') return sendJson(res, { id: `${other.origin}/doc`, type: 'Person' });
      if (path === '/no-id') return sendJson(res, { type: 'Note' });
      if (path.startsWith('/redirect?to=')) {
        return void res
          .writeHead(302, { location: decodeURIComponent(path.slice('/redirect?to='.length)) })
          .end();
      }
      if (path === '/loop') return void res.writeHead(301, { location: '/loop' }).end();
      if (path === '/inbox' && req.method === 'POST') return void res.writeHead(202).end();
      res.writeHead(404).end();
    });
    other = await startLoopbackServer((req, res) => {
      if (req.url === '/doc') return sendJson(res, { id: `${other.origin}/doc` });
      if (req.url === '/claims-first') return sendJson(res, { id: `${server.origin}/doc` });
      res.writeHead(404).end();
    });
    names['actor.test'] = ['127.0.0.1'];
    names['internal.test'] = ['10.1.2.3'];
    names['mixed.test'] = ['93.184.216.34', '127.0.0.1'];
  });

  after(async () => {
    for (const t of trickles) clearInterval(t);
    await server.close();
    await other.close();
  });

  describe('address checks', () => {
    it('refuses a loopback server when private addresses are not allowed, without connecting', async () => {
      const before = server.seen.length;
      const f = fetcher({ allowPrivateAddresses: false });
      expectError(await f.getJson(`${server.origin}/doc`), 'forbidden-address');
      expectError(await f.getJson(`http://[::1]:${server.port}/doc`), 'forbidden-address');
      expectError(await f.getJson(`http://2130706433:${server.port}/doc`), 'forbidden-address');
      expectError(await f.getJson(`http://0x7f.1:${server.port}/doc`), 'forbidden-address');
      expectError(await f.getJson(`http://actor.test:${server.port}/doc`), 'forbidden-address');
      expectError(await f.getJson('http://internal.test/doc'), 'forbidden-address');
      expectError(await f.getJson('http://mixed.test/doc'), 'forbidden-address');
      expect(server.seen.length).to.equal(before);
    });

    it('fetches from loopback when private addresses are allowed', async () => {
      const res = await fetcher().getJson(`${server.origin}/doc`);
      expect(res).to.deep.equal({
        ok: true,
        doc: { id: `${server.origin}/doc`, type: 'Note' },
        url: `${server.origin}/doc`,
      });
      const last = server.seen.at(-1);
      expect(last?.headers['accept']).to.equal(
        'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
      );
      expect(last?.headers['user-agent']).to.equal(UA);
    });

    it('connects to the address it checked, resolving the name once', async () => {
      lookups.length = 0;
      const res = await fetcher().getJson(`http://actor.test:${server.port}/doc`);
      expect(res.ok && res.doc['id']).to.equal(`http://actor.test:${server.port}/doc`);
      expect(lookups).to.deep.equal(['actor.test']);
      expect(server.seen.at(-1)?.headers.host).to.equal(`actor.test:${server.port}`);
    });

    it('reports names that do not resolve as network errors', async () => {
      expectError(await fetcher().getJson('http://nowhere.test/doc'), 'network');
    });

    it('refuses URLs that are not plain http(s)', async () => {
      const f = fetcher();
      for (const url of [
        'ftp://example.com/x',
        'file:///etc/passwd',
        'not a url',
        `http://u:p@127.0.0.1:${server.port}/doc`,
      ]) {
        expectError(await f.getJson(url), 'bad-url');
      }
    });
  });

  describe('redirects', () => {
    it('follows a redirect and reports the final URL', async () => {
      const res = await fetcher().getJson(
        `${server.origin}/redirect?to=${encodeURIComponent(`${other.origin}/doc`)}`,
      );
      expect(res.ok && res.url).to.equal(`${other.origin}/doc`);
    });

    it('re-checks every hop: a redirect to a forbidden address is refused', async () => {
      // 127.0.0.1 plays a public address here; everything else keeps the real policy.
      const f = fetcher({
        allowPrivateAddresses: false,
        isForbiddenAddress: (ip) => ip !== '127.0.0.1' && isForbiddenAddress(ip),
      });
      expect((await f.getJson(`${server.origin}/doc`)).ok).to.equal(true);
      for (const target of [
        'http://169.254.169.254/latest/meta-data',
        'http://internal.test/',
        `http://127.0.0.2:${server.port}/doc`,
      ]) {
        expectError(
          await f.getJson(`${server.origin}/redirect?to=${encodeURIComponent(target)}`),
          'forbidden-address',
        );
      }
      expectError(
        await f.getJson(`${server.origin}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`),
        'bad-url',
      );
    });

    it('stops after 3 redirects', async () => {
      const before = server.hits('/loop');
      const res = await fetcher().getJson(`${server.origin}/loop`);
      expectError(res, 'http-error');
      expect(server.hits('/loop') - before).to.equal(4);
    });
  });

  describe('limits', () => {
    it('refuses a body larger than maxBytes, streamed or declared', async () => {
      expectError(await fetcher().getJson(`${server.origin}/big-chunked`), 'too-large');
      expectError(await fetcher().getJson(`${server.origin}/big-declared`), 'too-large');
      expect(
        (await fetcher({ maxBytes: 4 * 1024 * 1024 }).getJson(`${server.origin}/big-chunked`)).ok,
      ).to.equal(true);
    });

    it('refuses JSON nested too deep, but not brackets inside strings', async () => {
      expectError(await fetcher().getJson(`${server.origin}/deep`), 'too-deep');
      expect((await fetcher().getJson(`${server.origin}/deep-in-string`)).ok).to.equal(true);
    });

    it('times out on a server that never answers, within the deadline', async () => {
      const started = Date.now();
      expectError(await fetcher({ timeoutMs: 300 }).getJson(`${server.origin}/never`), 'timeout');
      expect(Date.now() - started).to.be.lessThan(2000);
    });

    it('times out on a body that never ends', async () => {
      const started = Date.now();
      expectError(await fetcher({ timeoutMs: 300 }).getJson(`${server.origin}/trickle`), 'timeout');
      expect(Date.now() - started).to.be.lessThan(2000);
    });
  });

  describe('documents', () => {
    it('reports HTTP errors with their status', async () => {
      const res = await fetcher().getJson(`${server.origin}/missing`);
      expectError(res, 'http-error');
      expect(!res.ok && res.status).to.equal(404);
    });

    it('refuses invalid JSON, non-objects and non-JSON content types', async () => {
      expectError(await fetcher().getJson(`${server.origin}/broken`), 'bad-json');
      expectError(await fetcher().getJson(`${server.origin}/array`), 'bad-json');
      expectError(await fetcher().getJson(`${server.origin}/html`), 'bad-content-type');
    });

    it('takes only ActivityPub media types for ActivityPub objects', async () => {
      expect((await fetcher().getActivityPubObject(`${server.origin}/doc`)).ok).to.equal(true);
      expect((await fetcher().getActivityPubObject(`${server.origin}/ld`)).ok).to.equal(true);
      expectError(await fetcher().getActivityPubObject(`${server.origin}/plain-json`), 'bad-content-type');
      expect((await fetcher().getJson(`${server.origin}/plain-json`)).ok).to.equal(true);
    });

    it('refuses an object whose id is on another origin than the URL it came from', async () => {
      expectError(
        await fetcher().getActivityPubObject(`${server.origin}/other-origin-id`),
        'origin-mismatch',
      );
      expectError(await fetcher().getActivityPubObject(`${server.origin}/no-id`), 'origin-mismatch');
      const viaRedirect = `${server.origin}/redirect?to=${encodeURIComponent(`${other.origin}/claims-first`)}`;
      expectError(await fetcher().getActivityPubObject(viaRedirect), 'origin-mismatch');
    });
  });

  describe('signing', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyId = 'https://guild.example/actor#main-key';
    const signer = { keyId, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const verify = (
      method: string,
      req: { url: string; headers: Record<string, string | string[] | undefined>; body: Buffer },
    ) =>
      verifyRequest({
        method,
        path: req.url,
        headers: req.headers,
        rawBody: req.body.length > 0 ? req.body : null,
        now: new Date(),
        resolveKey: async (id) =>
          id === keyId ? { publicKeyPem, ownerId: 'https://guild.example/actor' } : null,
      });

    it('signs GETs when given a signer', async () => {
      expect((await fetcher({ signer }).getJson(`${server.origin}/doc`)).ok).to.equal(true);
      const seen = server.seen.at(-1);
      if (seen === undefined) throw new Error('no request seen');
      expect(seen.headers['signature']).to.contain('headers="(request-target) host date accept"');
      expect(await verify('GET', seen)).to.deep.equal({
        ok: true,
        keyId,
        ownerId: 'https://guild.example/actor',
      });
    });

    it('POSTs a signed activity and returns the status', async () => {
      const body = JSON.stringify({ type: 'Follow' });
      expect(await fetcher().postJson(`${server.origin}/inbox`, body, signer)).to.deep.equal({
        ok: true,
        status: 202,
      });
      const seen = server.seen.at(-1);
      if (seen === undefined) throw new Error('no request seen');
      expect(seen.headers['content-type']).to.equal('application/activity+json');
      expect(seen.body.toString()).to.equal(body);
      expect((await verify('POST', seen)).ok).to.equal(true);
    });

    it('refuses to POST to a forbidden address', async () => {
      const before = server.seen.length;
      expectError(
        await fetcher({ allowPrivateAddresses: false }).postJson(`${server.origin}/inbox`, '{}', signer),
        'forbidden-address',
      );
      expect(server.seen.length).to.equal(before);
    });
  });
});
