import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { ActorResolver } from '../../src/federation/actor-resolver.ts';
import { signRequest, verifyRequest } from '../../src/federation/http-signature.ts';
import { SafeFetcher } from '../../src/federation/safe-fetch.ts';
import type { RemoteActor, RemoteActorRepository } from '../../src/storage/store.ts';
import { sendJson, startLoopbackServer, type LoopbackServer } from './loopback-server.ts';

/** Test double of the storage port: a map, copying on the way in and out like a real store. */
class MemoryRemoteActors implements RemoteActorRepository {
  readonly byId = new Map<string, RemoteActor>();

  async putRemoteActor(actor: RemoteActor): Promise<void> {
    this.byId.set(actor.id, { ...actor });
  }

  async getRemoteActor(id: string): Promise<RemoteActor | null> {
    const found = this.byId.get(id);
    return found ? { ...found } : null;
  }

  async getRemoteActorByKeyId(keyId: string): Promise<RemoteActor | null> {
    for (const actor of this.byId.values()) if (actor.keyId === keyId) return { ...actor };
    return null;
  }

  async purgeStale(): Promise<number> {
    return 0;
  }
}

function rsaPair(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

const HOUR = 3600_000;

describe('ActorResolver', () => {
  const key1 = rsaPair();
  const key2 = rsaPair();
  const mallory = rsaPair();
  /** Documents served by the first server (A), by path; changed by tests to simulate remote edits. */
  const docsA = new Map<string, unknown>();
  const docsB = new Map<string, unknown>();
  let a: LoopbackServer;
  let b: LoopbackServer;
  let now: number;
  let repo: MemoryRemoteActors;
  let resolver: ActorResolver;

  const fetcher = (allowPrivateAddresses = true): SafeFetcher =>
    new SafeFetcher({ allowPrivateAddresses, userAgent: 'Guild/test', timeoutMs: 2000 });

  function person(origin: string, name: string, publicKey: unknown): Record<string, unknown> {
    const id = `${origin}/users/${name}`;
    return {
      '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
      id,
      type: 'Person',
      preferredUsername: name,
      name: name.toUpperCase(),
      url: `${origin}/@${name}`,
      inbox: `${id}/inbox`,
      endpoints: { sharedInbox: `${origin}/inbox` },
      publicKey,
    };
  }

  function mainKey(origin: string, name: string, publicKeyPem: string): Record<string, unknown> {
    const id = `${origin}/users/${name}`;
    return { id: `${id}#main-key`, owner: id, publicKeyPem };
  }

  /** Subjects server A gives its users instead of `user@A` (a server whose handles use another domain). */
  const subjectsA = new Map<string, string>();

  function webfinger(origin: string, host: string, resource: string): unknown {
    const match = /^acct:([^@]+)@(.+)$/.exec(resource);
    if (match === null || match[2] !== host) return null;
    const user = (match[1] ?? '').toLowerCase();
    if (!docsA.has(`/users/${user}`)) return null;
    return {
      subject: subjectsA.get(user) ?? `acct:${user}@${host}`,
      links: [
        { rel: 'http://webfinger.net/rel/profile-page', type: 'text/html', href: `${origin}/@${user}` },
        { rel: 'self', type: 'application/activity+json', href: `${origin}/users/${user}` },
      ],
    };
  }

  before(async () => {
    a = await startLoopbackServer((req, res) => {
      const url = new URL(req.url, a.origin);
      if (url.pathname === '/.well-known/webfinger') {
        const jrd = webfinger(a.origin, `127.0.0.1:${a.port}`, url.searchParams.get('resource') ?? '');
        return jrd === null ? void res.writeHead(404).end() : sendJson(res, jrd, 'application/jrd+json');
      }
      const doc = docsA.get(req.url);
      if (doc === 'fail') return void res.writeHead(503).end();
      return doc === undefined ? void res.writeHead(404).end() : sendJson(res, doc);
    });
    b = await startLoopbackServer((req, res) => {
      const doc = docsB.get(req.url);
      return doc === undefined ? void res.writeHead(404).end() : sendJson(res, doc);
    });
  });

  after(async () => {
    await a.close();
    await b.close();
  });

  beforeEach(() => {
    a.seen.length = 0;
    b.seen.length = 0;
    docsA.clear();
    docsB.clear();
    subjectsA.clear();
    docsA.set('/users/alice', person(a.origin, 'alice', mainKey(a.origin, 'alice', key1.publicKeyPem)));
    now = 1_700_000_000_000;
    repo = new MemoryRemoteActors();
    resolver = new ActorResolver({ fetcher: fetcher(), cache: repo, now: () => now });
  });

  const aliceId = (): string => `${a.origin}/users/alice`;
  const aliceKeyId = (): string => `${aliceId()}#main-key`;

  describe('fromApActor', () => {
    it('decodes the fields kept in the cache', () => {
      const actor = resolver.fromApActor(
        person(a.origin, 'alice', mainKey(a.origin, 'alice', key1.publicKeyPem)),
      );
      expect(actor).to.deep.equal({
        id: aliceId(),
        type: 'Person',
        inbox: `${aliceId()}/inbox`,
        sharedInbox: `${a.origin}/inbox`,
        preferredUsername: 'alice',
        name: 'ALICE',
        url: `${a.origin}/@alice`,
        keyId: aliceKeyId(),
        publicKeyPem: key1.publicKeyPem,
        fetchedAt: now,
      });
    });

    it('refuses documents without id, actor type or http(s) inbox', () => {
      const base = person(a.origin, 'alice', undefined);
      expect(resolver.fromApActor({ ...base, id: undefined })).to.equal(null);
      expect(resolver.fromApActor({ ...base, type: 'Note' })).to.equal(null);
      expect(resolver.fromApActor({ ...base, inbox: 'javascript:alert(1)' })).to.equal(null);
      expect(resolver.fromApActor(base)?.keyId).to.equal(null);
    });

    it('refuses an inbox on another origin and ignores a shared inbox there', () => {
      const base = person(a.origin, 'alice', undefined);
      expect(resolver.fromApActor({ ...base, inbox: `${b.origin}/inbox` })).to.equal(null);
      const elsewhere = resolver.fromApActor({ ...base, endpoints: { sharedInbox: `${b.origin}/inbox` } });
      expect(elsewhere?.inbox).to.equal(`${aliceId()}/inbox`);
      expect(elsewhere?.sharedInbox).to.equal(null);
    });

    it('picks the valid key from an array and drops keys that are not the actor’s', () => {
      const id = aliceId();
      const keys = [
        { id: `${id}#stolen`, owner: `${a.origin}/users/bob`, publicKeyPem: mallory.publicKeyPem },
        { id: `${b.origin}/keys/x`, owner: id, publicKeyPem: mallory.publicKeyPem },
        { id: `${id}#not-rsa`, owner: id, publicKeyPem: 'garbage' },
        { id: `${id}#private`, owner: id, publicKeyPem: key1.privateKeyPem },
        { id: `${id}#good`, controller: id, publicKeyPem: key2.publicKeyPem },
      ];
      const actor = resolver.fromApActor(person(a.origin, 'alice', keys));
      expect(actor?.keyId).to.equal(`${id}#good`);
      expect(actor?.publicKeyPem).to.equal(key2.publicKeyPem);
    });
  });

  describe('getActor', () => {
    it('fetches once and serves the cache afterwards', async () => {
      const first = await resolver.getActor(aliceId());
      expect(first?.keyId).to.equal(aliceKeyId());
      expect(await resolver.getActor(aliceId())).to.deep.equal(first);
      expect(a.hits('/users/alice')).to.equal(1);
      expect(repo.byId.get(aliceId())?.publicKeyPem).to.equal(key1.publicKeyPem);
    });

    it('refetches after the TTL (24 h by default) or on refresh', async () => {
      await resolver.getActor(aliceId());
      now += 24 * HOUR - 1;
      await resolver.getActor(aliceId());
      expect(a.hits('/users/alice')).to.equal(1);
      now += 2;
      expect((await resolver.getActor(aliceId()))?.fetchedAt).to.equal(now);
      expect(a.hits('/users/alice')).to.equal(2);
      await resolver.getActor(aliceId(), { refresh: true });
      expect(a.hits('/users/alice')).to.equal(3);
    });

    it('keeps the stale entry when the server fails', async () => {
      const cached = await resolver.getActor(aliceId());
      docsA.set('/users/alice', 'fail');
      now += 25 * HOUR;
      expect(await resolver.getActor(aliceId())).to.deep.equal(cached);
      expect(a.hits('/users/alice')).to.equal(2);
    });

    it('does not let a document on another origin poison the cache', async () => {
      await resolver.getActor(aliceId());
      const before = structuredClone(repo.byId);
      const forged = person(a.origin, 'alice', mainKey(a.origin, 'alice', mallory.publicKeyPem));
      docsB.set('/evil', forged);
      expect(await resolver.getActor(`${b.origin}/evil`)).to.equal(null);
      expect(await resolver.getKey(`${b.origin}/evil#main-key`)).to.equal(null);
      expect(b.hits('/evil')).to.equal(2);
      expect(repo.byId).to.deep.equal(before);
    });

    it('does not cache a same-origin document under another id', async () => {
      docsA.set('/users/alias', person(a.origin, 'alice', mainKey(a.origin, 'alice', mallory.publicKeyPem)));
      expect(await resolver.getActor(`${a.origin}/users/alias`)).to.equal(null);
      expect(repo.byId.size).to.equal(0);
    });
  });

  describe('key fetch budgets', () => {
    beforeEach(() => {
      for (const name of ['k1', 'k2', 'k3', 'k4']) {
        docsA.set(`/users/${name}`, person(a.origin, name, mainKey(a.origin, name, key1.publicKeyPem)));
      }
    });
    const keyOf = (name: string) => `${a.origin}/users/${name}#main-key`;

    it('fetches at most the burst of new keys from one host, then refreshes its budget over time', async () => {
      resolver = new ActorResolver({
        fetcher: fetcher(),
        cache: repo,
        now: () => now,
        keyFetchesPerHost: { perSecond: 1, burst: 2 },
      });
      expect((await resolver.lookupKey(keyOf('k1'))).kind).to.equal('found');
      expect((await resolver.lookupKey(keyOf('k2'))).kind).to.equal('found');
      expect(await resolver.lookupKey(keyOf('k3'))).to.deep.equal({
        kind: 'throttled',
        retryAfterSeconds: 1,
      });
      expect(a.seen.filter((r) => r.url.startsWith('/users/k')).length).to.equal(2);
      // Keys already known are still served from the cache.
      expect((await resolver.lookupKey(keyOf('k1'))).kind).to.equal('found');
      now += 1000;
      expect((await resolver.lookupKey(keyOf('k3'))).kind).to.equal('found');
    });

    it("counts a fetch against the caller's budget only when the host's allows it", async () => {
      let asked = 0;
      const budget = () => (asked++ === 0 ? 0 : 7);
      expect((await resolver.lookupKey(keyOf('k1'), { fetchBudget: budget })).kind).to.equal('found');
      expect(await resolver.lookupKey(keyOf('k2'), { fetchBudget: budget })).to.deep.equal({
        kind: 'throttled',
        retryAfterSeconds: 7,
      });
      expect(a.seen.filter((r) => r.url.startsWith('/users/k')).map((r) => r.url)).to.deep.equal([
        '/users/k1',
      ]);
      // A cached key needs no fetch, whatever the budget.
      expect((await resolver.lookupKey(keyOf('k1'), { fetchBudget: () => 7 })).kind).to.equal('found');
    });
  });

  describe('getKey', () => {
    it('resolves actor#main-key to the key and its owner, then from the cache', async () => {
      expect(await resolver.getKey(aliceKeyId())).to.deep.equal({
        publicKeyPem: key1.publicKeyPem,
        ownerId: aliceId(),
      });
      await resolver.getKey(aliceKeyId());
      expect(a.hits('/users/alice')).to.equal(1);
    });

    it('rate-limits forced refreshes per key', async () => {
      await resolver.getKey(aliceKeyId());
      docsA.set('/users/alice', person(a.origin, 'alice', mainKey(a.origin, 'alice', key2.publicKeyPem)));
      now += 59_000;
      const limited = await resolver.getKey(aliceKeyId(), { refresh: true });
      expect(limited?.publicKeyPem).to.equal(key1.publicKeyPem);
      expect(a.hits('/users/alice')).to.equal(1);
      now += 2000;
      const refreshed = await resolver.getKey(aliceKeyId(), { refresh: true });
      expect(refreshed?.publicKeyPem).to.equal(key2.publicKeyPem);
      expect(a.hits('/users/alice')).to.equal(2);
      expect(await resolver.getKey(aliceKeyId(), { refresh: true })).to.deep.equal(refreshed);
      expect(a.hits('/users/alice')).to.equal(2);
    });

    it('verifies a signature made with a rotated key through one refresh', async () => {
      await resolver.getKey(aliceKeyId());
      docsA.set('/users/alice', person(a.origin, 'alice', mainKey(a.origin, 'alice', key2.publicKeyPem)));
      now += HOUR;
      const body = '{"type":"Like"}';
      const sign = (privateKeyPem: string): Record<string, string> =>
        Object.fromEntries(
          Object.entries(
            signRequest({
              method: 'POST',
              url: 'https://guild.example/inbox',
              body,
              keyId: aliceKeyId(),
              privateKeyPem,
              now: new Date(now),
            }),
          ).map(([k, v]) => [k.toLowerCase(), v]),
        );
      const verify = (headers: Record<string, string>) =>
        verifyRequest({
          method: 'POST',
          path: '/inbox',
          headers,
          rawBody: Buffer.from(body),
          now: new Date(now),
          resolveKey: (keyId, opts) => resolver.getKey(keyId, opts),
        });
      expect(await verify(sign(key2.privateKeyPem))).to.deep.equal({
        ok: true,
        keyId: aliceKeyId(),
        ownerId: aliceId(),
      });
      expect(a.hits('/users/alice')).to.equal(2);
      const forged = await verify(sign(mallory.privateKeyPem));
      expect(forged.ok).to.equal(false);
      expect(a.hits('/users/alice')).to.equal(2);
    });

    it('refuses a key whose owner is another actor', async () => {
      const id = `${a.origin}/users/dave`;
      docsA.set(
        '/users/dave',
        person(a.origin, 'dave', {
          id: `${id}#main-key`,
          owner: aliceId(),
          publicKeyPem: mallory.publicKeyPem,
        }),
      );
      expect(await resolver.getKey(`${id}#main-key`)).to.equal(null);
      expect((await resolver.getActor(id))?.keyId).to.equal(null);
    });

    it('resolves a separate key document whose owner lists it', async () => {
      const carol = `${a.origin}/users/carol`;
      const keyId = `${a.origin}/keys/carol`;
      docsA.set('/keys/carol', { id: keyId, owner: carol, publicKeyPem: key2.publicKeyPem });
      docsA.set(
        '/users/carol',
        person(a.origin, 'carol', { id: keyId, owner: carol, publicKeyPem: key2.publicKeyPem }),
      );
      expect(await resolver.getKey(keyId)).to.deep.equal({ publicKeyPem: key2.publicKeyPem, ownerId: carol });
      expect(await resolver.getKey(keyId)).to.deep.equal({ publicKeyPem: key2.publicKeyPem, ownerId: carol });
      expect(a.hits('/keys/carol')).to.equal(1);
      // Listed by reference only.
      docsA.set('/users/carol', person(a.origin, 'carol', keyId));
      now += 25 * HOUR;
      expect((await resolver.getKey(keyId))?.ownerId).to.equal(carol);
    });

    it('refuses a key document whose owner does not list it, or lists another PEM', async () => {
      const keyId = `${a.origin}/keys/orphan`;
      docsA.set('/keys/orphan', { id: keyId, owner: aliceId(), publicKeyPem: mallory.publicKeyPem });
      expect(await resolver.getKey(keyId)).to.equal(null);
      docsA.set(
        '/users/alice',
        person(a.origin, 'alice', [
          mainKey(a.origin, 'alice', key1.publicKeyPem),
          { id: keyId, owner: aliceId(), publicKeyPem: key2.publicKeyPem },
        ]),
      );
      now += HOUR;
      expect(await resolver.getKey(keyId)).to.equal(null);
    });

    describe('key URLs that answer with a minimal actor (GoToSocial)', () => {
      // GoToSocial (superseriousbusiness/gotosocial internal/processing/fedi/user.go): `/users/NAME/main-key`
      // answers unsigned with AccountToASMinimal (id = the actor, type, preferredUsername, publicKey); the
      // actor needs a signed GET.
      const gts = (): string => `${a.origin}/users/gts`;
      const gtsKeyId = (): string => `${gts()}/main-key`;
      const minimal = (id: string, pem: string): Record<string, unknown> => ({
        '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
        id,
        type: 'Person',
        preferredUsername: 'gts',
        publicKey: { id: gtsKeyId(), owner: id, publicKeyPem: pem },
      });
      const full = (pem: string, keyId = gtsKeyId()): Record<string, unknown> =>
        person(a.origin, 'gts', { id: keyId, owner: gts(), publicKeyPem: pem });

      it('fetches the actor by its id and takes the key it lists', async () => {
        docsA.set('/users/gts/main-key', minimal(gts(), key1.publicKeyPem));
        docsA.set('/users/gts', full(key1.publicKeyPem));
        expect(await resolver.getKey(gtsKeyId())).to.deep.equal({
          publicKeyPem: key1.publicKeyPem,
          ownerId: gts(),
        });
        expect(a.seen.map((r) => r.url)).to.deep.equal(['/users/gts/main-key', '/users/gts']);
        expect((await repo.getRemoteActorByKeyId(gtsKeyId()))?.id).to.equal(gts());
      });

      it('refuses it when the actor does not list the key, or lists another PEM', async () => {
        docsA.set('/users/gts/main-key', minimal(gts(), key1.publicKeyPem));
        docsA.set('/users/gts', full(key1.publicKeyPem, `${gts()}#other-key`));
        expect(await resolver.getKey(gtsKeyId())).to.equal(null);
        docsA.set('/users/gts', full(key2.publicKeyPem));
        now += HOUR;
        expect(await resolver.getKey(gtsKeyId())).to.equal(null);
        expect(await repo.getRemoteActor(gts())).to.equal(null);
      });

      it('refuses a minimal actor that names an actor on another origin, fetching nothing there', async () => {
        docsA.set('/users/gts/main-key', minimal(`${b.origin}/users/gts`, key1.publicKeyPem));
        docsB.set(
          '/users/gts',
          person(b.origin, 'gts', {
            id: gtsKeyId(),
            owner: `${b.origin}/users/gts`,
            publicKeyPem: key1.publicKeyPem,
          }),
        );
        expect(await resolver.getKey(gtsKeyId())).to.equal(null);
        expect(b.seen).to.deep.equal([]);
      });

      it('refuses a minimal actor that does not list the key as its own', async () => {
        docsA.set('/users/gts/main-key', { ...minimal(gts(), key1.publicKeyPem), publicKey: undefined });
        docsA.set('/users/gts', full(key1.publicKeyPem));
        expect(await resolver.getKey(gtsKeyId())).to.equal(null);
        expect(a.hits('/users/gts')).to.equal(0);
      });
    });

    it('refuses a key on another origin than its owner, both ways', async () => {
      const erin = `${a.origin}/users/erin`;
      const foreignKey = `${b.origin}/keys/erin`;
      docsA.set(
        '/users/erin',
        person(a.origin, 'erin', { id: foreignKey, owner: erin, publicKeyPem: mallory.publicKeyPem }),
      );
      docsB.set('/keys/erin', { id: foreignKey, owner: erin, publicKeyPem: mallory.publicKeyPem });
      expect(await resolver.getKey(foreignKey)).to.equal(null);
      expect((await resolver.getActor(erin))?.keyId).to.equal(null);
      expect(a.hits('/users/erin')).to.equal(1);
    });
  });

  describe('resolveHandle', () => {
    it('finds the actor of a loopback handle over http', async () => {
      const host = `127.0.0.1:${a.port}`;
      expect(await resolver.resolveHandle(`@alice@${host}`)).to.equal(aliceId());
      expect(await resolver.resolveHandle(`alice@${host}`)).to.equal(aliceId());
      expect(await resolver.resolveHandle(`acct:alice@${host}`)).to.equal(aliceId());
    });

    it('follows a subject that differs from the handle when it round-trips', async () => {
      expect(await resolver.resolveHandle(`@Alice@127.0.0.1:${a.port}`)).to.equal(aliceId());
      const lookups = a.seen.filter((r) => r.url.startsWith('/.well-known/webfinger?'));
      expect(lookups.map((r) => new URL(r.url, a.origin).searchParams.get('resource'))).to.deep.equal([
        `acct:Alice@127.0.0.1:${a.port}`,
        `acct:alice@127.0.0.1:${a.port}`,
      ]);
    });

    /** Server B's WebFinger answer for `user@B`, naming `self` as the account. */
    const webfingerAtB = (user: string, self: string): void => {
      const host = `127.0.0.1:${b.port}`;
      const resource = encodeURIComponent(`acct:${user}@${host}`);
      docsB.set(`/.well-known/webfinger?resource=${resource}`, {
        subject: `acct:${user}@${host}`,
        links: [{ rel: 'self', type: 'application/activity+json', href: self }],
      });
    };

    it("refuses a handle whose self link names another server's account that does not answer to it", async () => {
      // B says spammer@B is alice on A; A knows alice only as alice@A.
      webfingerAtB('spammer', aliceId());
      expect(await resolver.resolveHandle(`@spammer@127.0.0.1:${b.port}`)).to.equal(null);
      const lookups = a.seen.filter((r) => r.url.startsWith('/.well-known/webfinger?'));
      expect(lookups.map((r) => new URL(r.url, a.origin).searchParams.get('resource'))).to.deep.equal([
        `acct:alice@127.0.0.1:${a.port}`,
      ]);
    });

    it('accepts a self link on another host when that host names the actor by the handle (split domains)', async () => {
      webfingerAtB('alice', aliceId());
      subjectsA.set('alice', `acct:alice@127.0.0.1:${b.port}`);
      expect(await resolver.resolveHandle(`@alice@127.0.0.1:${b.port}`)).to.equal(aliceId());
    });

    it('returns null for unknown or malformed handles', async () => {
      expect(await resolver.resolveHandle(`@nobody@127.0.0.1:${a.port}`)).to.equal(null);
      expect(await resolver.resolveHandle('alice')).to.equal(null);
      expect(await resolver.resolveHandle('@alice@host/path')).to.equal(null);
      expect(await resolver.resolveHandle('@a@b@c')).to.equal(null);
    });

    it('does not reach loopback when private addresses are not allowed', async () => {
      const strict = new ActorResolver({ fetcher: fetcher(false), cache: repo, now: () => now });
      const before = a.seen.length;
      expect(await strict.resolveHandle(`@alice@127.0.0.1:${a.port}`)).to.equal(null);
      expect(a.seen.length).to.equal(before);
    });
  });
});
