/**
 * Upgrades: a database written by an earlier Guild (test/fixtures/sqlite/guild-b5e5164.sqlite, schema versions 1
 * to 4; see test/fixtures/README.md) takes every later migration, once, and the upgraded server serves its
 * groups, members and posts. SQLite only: the MongoDB store has no schema to migrate.
 */
import { expect } from 'chai';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { startGuild, type Guild } from '../../src/app/start.ts';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.sqlite.ts';
import { freePort } from '../support/net.ts';
import { testStoreKind } from '../support/test-store.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/sqlite/guild-b5e5164.sqlite', import.meta.url));
/** The origin the fixture was made with: actor ids derive from it. */
const ORIGIN = 'http://127.0.0.1:18080';
const AP = { accept: 'application/activity+json' };

(testStoreKind() === 'sqlite' ? describe : describe.skip)(
  'upgrade of a database written by an earlier Guild',
  function () {
    this.timeout(60_000);
    let dir: string;
    let path: string;
    let guild: Guild | undefined;
    let base: string;

    before(async function () {
      dir = await mkdtemp(join(tmpdir(), 'guild-upgrade-'));
      path = join(dir, 'guild.sqlite');
      await copyFile(FIXTURE, path);
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      const config = loadConfig({
        GUILD_ORIGIN: ORIGIN,
        GUILD_HOST: '127.0.0.1',
        GUILD_PORT: String(port),
        GUILD_SQLITE_PATH: path,
        GUILD_WORKER_THREADS: '0',
        GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
      });
      guild = await startGuild(config, { log: createLogger('silent', { service: 'upgrade-test' }) });
    });
    after(async function () {
      await guild?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('applies every later migration once, keeping the earlier ones as they were', function () {
      const db = new BetterSqlite3(path, { readonly: true });
      try {
        const rows = db
          .prepare<[], { version: number; n: number }>(
            'SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version',
          )
          .all();
        expect(rows.map((r) => r.version)).to.deep.equal(SQLITE_MIGRATIONS.map((m) => m.version));
        for (const r of rows) expect(r.n, `version ${r.version}`).to.equal(1);
        expect(rows.length, 'the fixture predates at least one migration').to.be.above(4);
      } finally {
        db.close();
      }
    });

    it('keeps its groups, members, moderators and posts', async function () {
      const store = guild?.services.store;
      if (!store) throw new Error('not started');
      expect((await store.groups.listGroups(null, 10)).map((g) => [g.name, g.title])).to.deep.equal([
        ['birds', 'Birdwatchers'],
        ['rust', 'Rustaceans'],
      ]);
      expect(await store.members.countMembers('birds', 'accepted')).to.equal(2);
      const members = await store.members.listMembers('birds', 'accepted', null, 10);
      const alice = members.find((m) => m.actorId.endsWith('/users/alice'))?.actorId ?? '';
      const bob = members.find((m) => m.actorId.endsWith('/users/bob'))?.actorId ?? '';
      expect(alice).to.match(/^http:\/\/127\.0\.0\.1:\d+\/users\/alice$/);
      expect(bob).to.match(/^http:\/\/127\.0\.0\.1:\d+\/users\/bob$/);
      expect(await store.moderators.isModerator('birds', alice)).to.equal(true);
      const thread = await store.posts.listThread('birds', `${alice}/notes/1`, null, 10);
      expect(thread.map((p) => [p.objectId, p.authorId])).to.deep.equal([
        [`${alice}/notes/1`, alice],
        [`${bob}/notes/2`, bob],
      ]);
    });

    it('serves the group actor, its followers count and its outbox over HTTP', async function () {
      const actor = (await (await fetch(`${base}/groups/birds`, { headers: AP })).json()) as Record<
        string,
        unknown
      >;
      expect(actor['id']).to.equal(`${ORIGIN}/groups/birds`);
      expect(actor['type']).to.equal('Group');
      expect(actor['name']).to.equal('Birdwatchers');
      const key = actor['publicKey'] as { publicKeyPem?: string } | undefined;
      expect(key?.publicKeyPem).to.match(/BEGIN PUBLIC KEY/);
      const followers = (await (await fetch(`${base}/groups/birds/followers`, { headers: AP })).json()) as {
        totalItems?: number;
      };
      expect(followers.totalItems).to.equal(2);
      const outbox = (await (await fetch(`${base}/groups/birds/outbox`, { headers: AP })).json()) as {
        totalItems?: number;
      };
      expect(outbox.totalItems).to.be.at.least(2);
    });

    it("shows the group's posts on its page", async function () {
      const page = await (await fetch(`${base}/groups/birds`, { headers: { accept: 'text/html' } })).text();
      expect(page).to.include('Birdwatchers');
      expect(page).to.include('A heron on the river this morning');
    });
  },
);
