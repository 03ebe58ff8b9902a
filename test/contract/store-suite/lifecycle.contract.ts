import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { expect } from 'chai';
import { openStore, type StoreOptions } from '../../../src/storage/open-store.ts';
import { SQLITE_MIGRATIONS } from '../../../src/storage/sqlite/migrations.sqlite.ts';
import { newTestStoreLocation, testStoreKind, type TestStoreLocation } from '../../support/test-store.ts';
import { group, member, newJob, rsaKeyPair } from './fixtures.ts';

const CHILD = fileURLToPath(new URL('./open-store.child.ts', import.meta.url));

/** Runs open-store.child.ts; resolves with its exit code and output. */
function openInChild(options: StoreOptions, name: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(options), name], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

export function describeLifecycle(): void {
  describe('lifecycle', () => {
    let location: TestStoreLocation;

    beforeEach(async () => {
      location = await newTestStoreLocation();
    });

    afterEach(async () => {
      await location.remove();
    });

    it(`opens a ${testStoreKind()} store that answers ping`, async () => {
      const store = await openStore(location.options);
      try {
        expect(store.kind).to.equal(testStoreKind());
        await store.ping();
      } finally {
        await store.close();
      }
    });

    it('keeps the data when the same store is opened again', async () => {
      const first = await openStore(location.options);
      try {
        await first.groups.createGroup(group('cats'));
        await first.keys.putKeyPairIfAbsent(rsaKeyPair('group:cats'));
        await first.members.upsertMember(member('cats', 'https://remote.example/users/a'));
        await first.jobs.enqueue([newJob('a')], 0);
      } finally {
        await first.close();
      }
      const second = await openStore(location.options);
      try {
        expect(await second.groups.getGroup('cats')).to.deep.equal(group('cats'));
        expect(await second.keys.getPublicKey('group:cats')).to.equal(rsaKeyPair('x').publicKeyPem);
        expect(await second.members.countMembers('cats', 'accepted')).to.equal(1);
        expect((await second.jobs.getJob('a'))?.state).to.equal('queued');
        expect(await second.groups.createGroup(group('dogs'))).to.equal(true);
      } finally {
        await second.close();
      }
    });

    it('lets several processes open a new store at once', async function () {
      this.timeout(60_000);
      const names = ['p1', 'p2', 'p3', 'p4'];
      const results = await Promise.all(names.map((name) => openInChild(location.options, name)));
      for (const result of results) expect(result.code, result.output).to.equal(0);
      const store = await openStore(location.options);
      try {
        expect((await store.groups.listGroups(null, 10)).map((g) => g.name)).to.deep.equal(names);
      } finally {
        await store.close();
      }
      if (location.options.kind === 'sqlite') {
        const db = new BetterSqlite3(location.options.path, { readonly: true });
        try {
          const rows = db
            .prepare('SELECT version, count(*) AS n FROM schema_migrations GROUP BY version')
            .all();
          expect(rows).to.deep.equal(SQLITE_MIGRATIONS.map((m) => ({ version: m.version, n: 1 })));
          expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
        } finally {
          db.close();
        }
      }
    });
  });
}
