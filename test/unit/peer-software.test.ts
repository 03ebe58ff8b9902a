/**
 * Which software a member's server runs, from its NodeInfo (names as each server writes them:
 * mastodon/mastodon `app/serializers/node_info/serializer.rb`, superseriousbusiness/gotosocial
 * `internal/processing/fedi/wellknown.go`, grunfink/snac2 `httpd.c`, LemmyNet/lemmy
 * `crates/routes/src/nodeinfo.rs`, MbinOrg/mbin `src/Service/ProjectInfoService.php`, NodeBB/NodeBB
 * `src/routes/well-known.js`), learned through the safe fetcher from real loopback servers and kept in a real
 * store, with a fixed clock.
 */
import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import { createLogger } from '../../src/log.ts';
import { SafeFetcher } from '../../src/federation/safe-fetch.ts';
import {
  familyOf,
  majorVersion,
  nodeInfoLink,
  nodeInfoSoftware,
} from '../../src/federation/peer-software.ts';
import {
  PeerSoftwareService,
  SOFTWARE_RETRY_MS,
  SOFTWARE_TTL_MS,
} from '../../src/federation/peer-software.service.ts';
import type { Store } from '../../src/storage/store.ts';
import { openTestStore } from '../support/test-store.ts';
import { waitUntil } from '../support/net.ts';
import { startLoopbackServer, type LoopbackServer, type SeenRequest } from './loopback-server.ts';

const NI21 = 'http://nodeinfo.diaspora.software/ns/schema/2.1';
const NI20 = 'http://nodeinfo.diaspora.software/ns/schema/2.0';

function json(res: ServerResponse, doc: unknown, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
}

/** A server answering NodeInfo 2.0 with `name` (what it answers may change between reads). */
async function nodeInfoServer(software: { name: string; version: string } | null): Promise<{
  server: LoopbackServer;
  set(s: { name: string; version: string } | null): void;
}> {
  let current = software;
  const server = await startLoopbackServer((req: SeenRequest, res) => {
    if (current === null) return json(res, { error: 'not found' }, 404);
    if (req.url === '/.well-known/nodeinfo')
      return json(res, { links: [{ rel: NI20, href: `${server.origin}/nodeinfo/2.0` }] });
    if (req.url === '/nodeinfo/2.0')
      return json(res, { version: '2.0', software: current, protocols: ['activitypub'] });
    json(res, {}, 404);
  });
  return { server, set: (s) => (current = s) };
}

describe('peer software', function () {
  describe('names and documents', function () {
    it('maps NodeInfo names, in any case, to families, forks with their code base', function () {
      const cases: Array<[string | null, string]> = [
        ['mastodon', 'mastodon'],
        ['Hometown', 'mastodon'],
        ['gotosocial', 'gotosocial'],
        ['snac', 'snac'],
        ['lemmy', 'lemmy'],
        ['mbin', 'mbin'],
        ['kbin', 'mbin'],
        ['NodeBB', 'nodebb'],
        ['misskey', 'misskey'],
        ['sharkey', 'misskey'],
        ['pleroma', 'pleroma'],
        ['Akkoma', 'pleroma'],
        ['friendica', 'unknown'],
        ['guild', 'unknown'],
        [null, 'unknown'],
      ];
      for (const [name, family] of cases) expect(familyOf(name), String(name)).to.equal(family);
      expect(majorVersion('0.19.20')).to.equal(0);
      expect(majorVersion('1.0.0-beta.1')).to.equal(1);
      expect(majorVersion(null)).to.equal(null);
    });

    it('follows the newest NodeInfo 2.x link and reads software name and version', function () {
      const base = 'https://x.example/.well-known/nodeinfo';
      expect(
        nodeInfoLink(
          {
            links: [
              { rel: 'http://nodeinfo.diaspora.software/ns/schema/1.0', href: '/nodeinfo/1.0' },
              { rel: NI20, href: '/nodeinfo/2.0' },
              { rel: NI21, href: 'https://x.example/nodeinfo/2.1' },
              { rel: 'https://www.w3.org/ns/activitystreams#Application', href: '/actor' },
            ],
          },
          base,
        ),
      ).to.equal('https://x.example/nodeinfo/2.1');
      expect(nodeInfoLink({ links: [{ rel: NI20, href: '/n' }] }, base)).to.equal('https://x.example/n');
      expect(nodeInfoLink({ links: 'nope' }, base)).to.equal(null);
      expect(nodeInfoLink({}, base)).to.equal(null);
      expect(nodeInfoSoftware({ software: { name: 'NodeBB', version: '4.15.1' } })).to.deep.equal({
        name: 'nodebb',
        version: '4.15.1',
      });
      expect(nodeInfoSoftware({ software: { name: 'snac' } })).to.deep.equal({ name: 'snac', version: null });
      expect(nodeInfoSoftware({ software: { name: '' } })).to.equal(null);
      expect(nodeInfoSoftware({ software: 'mastodon' })).to.equal(null);
    });
  });

  describe('learning', function () {
    let store: Store;
    let t: number;
    let service: PeerSoftwareService;
    let logs: string[];
    const servers: LoopbackServer[] = [];

    beforeEach(async function () {
      store = await openTestStore();
      t = Date.UTC(2026, 0, 1);
      logs = [];
      service = new PeerSoftwareService({
        store,
        fetcher: new SafeFetcher({ allowPrivateAddresses: true, userAgent: 'Guild/test', timeoutMs: 2000 }),
        log: createLogger('debug', {}, (line) => logs.push(line)),
        now: () => t,
      });
    });
    afterEach(async function () {
      await Promise.all(servers.splice(0).map((s) => s.close()));
      await store.close();
    });

    it('learns a server noticed when someone joins, and keeps it in the store', async function () {
      const peer = await nodeInfoServer({ name: 'GoToSocial', version: '0.20.0-rc1' });
      servers.push(peer.server);
      service.noticed(`${peer.server.origin}/users/alice/inbox`);
      await waitUntil(async () => (await store.peers.getSoftware([peer.server.origin]))[0]?.name ?? false, {
        what: 'the software learned',
      });
      expect(await store.peers.getSoftware([peer.server.origin])).to.deep.equal([
        {
          origin: peer.server.origin,
          name: 'gotosocial',
          version: '0.20.0-rc1',
          learnedAt: t,
          refreshAt: t + SOFTWARE_TTL_MS,
        },
      ]);
      expect(await service.softwareOf(`${peer.server.origin}/inbox`)).to.deep.equal({
        origin: peer.server.origin,
        family: 'gotosocial',
        name: 'gotosocial',
        version: '0.20.0-rc1',
      });
    });

    it('reads the NodeInfo of a server noticed again only when what was learned is due', async function () {
      const peer = await nodeInfoServer({ name: 'mastodon', version: '4.5.0' });
      servers.push(peer.server);
      expect((await service.learn(peer.server.origin)).family).to.equal('mastodon');
      const reads = () => peer.server.hits('/nodeinfo/2.0');
      expect(reads()).to.equal(1);
      // Another process (no cache) notices someone of the same server joining: the store answers.
      const other = new PeerSoftwareService({
        store,
        fetcher: new SafeFetcher({ allowPrivateAddresses: true, userAgent: 'Guild/test', timeoutMs: 2000 }),
        log: createLogger('silent'),
        now: () => t,
      });
      other.noticed(`${peer.server.origin}/users/bob/inbox`);
      await other.settled();
      expect(reads(), 'known and not due: not read again').to.equal(1);
      t += SOFTWARE_TTL_MS;
      other.noticed(`${peer.server.origin}/users/carol/inbox`);
      await other.settled();
      expect(reads(), 'due: read again').to.equal(2);
    });

    it('notes servers met at fan-out as unknown, and the refresh learns them when due', async function () {
      const peer = await nodeInfoServer({ name: 'lemmy', version: '0.19.20' });
      servers.push(peer.server);
      const inbox = `${peer.server.origin}/inbox`;
      const first = await service.softwareOfAll([inbox, `${peer.server.origin}/u/x/inbox`]);
      expect([...first.values()].map((s) => s.family)).to.deep.equal(['unknown']);
      expect(peer.server.seen, 'nothing fetched on the fan-out path').to.deep.equal([]);
      expect(await service.refreshDue()).to.equal(1);
      expect((await service.softwareOf(inbox)).family).to.equal('lemmy');
      expect(await service.refreshDue(), 'nothing due until the time to live ends').to.equal(0);

      // The server now runs something else: read again once due.
      peer.set({ name: 'mbin', version: '1.10.0' });
      t += SOFTWARE_TTL_MS;
      expect(await service.refreshDue()).to.equal(1);
      expect((await service.softwareOf(inbox)).family).to.equal('mbin');
    });

    it('reads a server never learned before a message to one person there, once, and not again while its failure is recent', async function () {
      const lemmy = await nodeInfoServer({ name: 'lemmy', version: '0.19.20' });
      servers.push(lemmy.server);
      const inbox = `${lemmy.server.origin}/u/x/inbox`;
      expect((await service.softwareOf(inbox)).family).to.equal('lemmy');
      expect((await service.softwareOf(`${lemmy.server.origin}/inbox`)).family).to.equal('lemmy');
      expect(lemmy.server.hits('/nodeinfo/2.0'), 'read once').to.equal(1);

      // Met at fan-out first (noted, unknown there), then a message to someone on it reads it.
      const mbin = await nodeInfoServer({ name: 'mbin', version: '1.10.0' });
      servers.push(mbin.server);
      await service.softwareOfAll([`${mbin.server.origin}/inbox`]);
      expect((await service.softwareOf(`${mbin.server.origin}/u/y`)).family).to.equal('mbin');

      // No NodeInfo: asked once, unknown until it is due again.
      const mute = await nodeInfoServer(null);
      servers.push(mute.server);
      expect((await service.softwareOf(`${mute.server.origin}/inbox`)).family).to.equal('unknown');
      expect((await service.softwareOf(`${mute.server.origin}/inbox`)).family).to.equal('unknown');
      expect(mute.server.seen.length).to.equal(1);
      t += SOFTWARE_RETRY_MS;
      await service.softwareOf(`${mute.server.origin}/inbox`);
      expect(mute.server.seen.length).to.equal(2);
    });

    it('keeps what was learned when a server stops answering, and asks again later', async function () {
      const peer = await nodeInfoServer({ name: 'snac', version: '2.94' });
      servers.push(peer.server);
      expect((await service.learn(peer.server.origin)).family).to.equal('snac');
      peer.set(null);
      t += SOFTWARE_TTL_MS;
      expect((await service.learn(peer.server.origin)).family).to.equal('snac');
      const [row] = await store.peers.getSoftware([peer.server.origin]);
      expect(row).to.deep.include({ name: 'snac', refreshAt: t + SOFTWARE_RETRY_MS });
      expect(logs.some((l) => l.includes('software of a server not learned') && l.includes('404'))).to.equal(
        true,
      );
    });

    it('treats a server without NodeInfo as unknown', async function () {
      const peer = await nodeInfoServer(null);
      servers.push(peer.server);
      expect(await service.learn(peer.server.origin)).to.deep.equal({
        origin: peer.server.origin,
        family: 'unknown',
        name: null,
        version: null,
      });
      expect((await store.peers.getSoftware([peer.server.origin]))[0]?.refreshAt).to.equal(
        t + SOFTWARE_RETRY_MS,
      );
    });
  });
});
