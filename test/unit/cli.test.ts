import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { runCli } from '../../src/cli/main.ts';
import { openStore } from '../../src/storage/open-store.ts';
import type { Store } from '../../src/storage/store.ts';
import type { DeliverPayload } from '../../src/federation/publisher.ts';
import { Urls } from '../../src/activitypub/urls.ts';
import { webRoutes } from '../../src/web/web.routes.ts';

const ORIGIN = 'https://guild.example';
const PNG = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
]);

interface Run {
  code: number;
  out: string;
  err: string;
}

describe('guild CLI', function () {
  this.timeout(30_000);
  let dir: string;
  let sqlitePath: string;
  let env: Record<string, string>;

  async function cli(...argv: string[]): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  /** Opens the same SQLite file the CLI uses, for checks between commands. */
  async function withStore<T>(f: (store: Store) => Promise<T>): Promise<T> {
    const store = await openStore({ kind: 'sqlite', path: sqlitePath });
    try {
      return await f(store);
    } finally {
      await store.close();
    }
  }

  const fanoutQueued = () => withStore(async (s) => (await s.jobs.stats('fanout', Date.now())).queued);

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), 'guild-cli-'));
    sqlitePath = path.join(dir, 'data', 'guild.sqlite');
    env = { GUILD_SQLITE_PATH: sqlitePath, GUILD_ORIGIN: ORIGIN, GUILD_LOG_LEVEL: 'error' };
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints usage for help and for no command', async function () {
    const help = await cli('help');
    expect(help.code).to.equal(0);
    expect(help.out).to.contain('group set NAME').and.contain('group approve NAME ACTOR');
    expect((await cli()).code).to.equal(2);
    const unknown = await cli('frobnicate');
    expect(unknown.code).to.equal(2);
    expect(unknown.err).to.contain('unknown command "frobnicate"');
  });

  it('creates and lists groups', async function () {
    const r = await cli('group', 'create', 'rust', '--title', 'Rustaceans', '--summary', 'All about Rust');
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('@rust@guild.example').and.contain(`${ORIGIN}/groups/rust`);
    expect((await cli('group', 'create', 'go')).code).to.equal(0);
    const list = await cli('group', 'list');
    expect(list.code).to.equal(0);
    expect(list.out.split('\n')).to.deep.equal([
      'go\t0 members\topen\tgo',
      'rust\t0 members\topen\tRustaceans',
    ]);
  });

  it('refuses bad and taken names', async function () {
    const bad = await cli('group', 'create', 'Not-Valid');
    expect(bad.code).to.equal(1);
    expect(bad.err).to.contain('lowercase letters, digits or underscores');
    const taken = await cli('group', 'create', 'rust');
    expect(taken.code).to.equal(1);
    expect(taken.err).to.contain('"rust" is taken');
    const noTitle = await cli('group', 'create', 'empty', '--title', '  ');
    expect(noTitle.code).to.equal(1);
    expect(await withStore((s) => s.groups.getGroup('empty'))).to.equal(null);
  });

  it('sets profile and settings, and queues Update{Group}', async function () {
    const before = await fanoutQueued();
    const r = await cli(
      'group',
      'set',
      'rust',
      '--title',
      'Rust folks',
      '--summary',
      'Systems **programming**',
      '--rules',
      'Be kind',
      '--language',
      'en',
      '--tags',
      'rust,#Systems',
      '--sensitive',
      'true',
      '--discoverable',
      'false',
      '--membership',
      'approval',
      '--posting',
      'moderators',
      '--max-group-mentions',
      '3',
      '--list-followers',
      'true',
      '--max-activities-per-hour',
      '20',
      '--max-edits-per-post-per-hour',
      '2',
      '--banner',
      'https://cdn.example/banner.jpg',
    );
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('updated rust:').and.contain('membership').and.contain('members are being told');
    const g = await withStore((s) => s.groups.getGroup('rust'));
    expect(g?.title).to.equal('Rust folks');
    expect(g?.summary).to.equal('Systems **programming**');
    expect(g?.settings).to.deep.equal({
      membershipPolicy: 'approval',
      postingPolicy: 'moderators',
      iconUrl: null,
      bannerUrl: 'https://cdn.example/banner.jpg',
      rules: 'Be kind',
      language: 'en',
      tags: ['rust', 'systems'],
      sensitive: true,
      discoverable: false,
      maxGroupMentions: 3,
      listFollowers: true,
      maxPostsPerHour: 30,
      maxActivitiesPerHour: 20,
      maxEditsPerPostPerHour: 2,
      premoderateFirstPosts: 0,
      acceptGroupFollowers: true,
    });
    expect(await fanoutQueued()).to.equal(before + 1);
    const show = await cli('group', 'show', 'rust');
    expect(show.out).to.contain('membership:\tapproval').and.contain('tags:\trust,systems');
    expect(show.out)
      .to.contain('max-activities-per-hour:\t20')
      .and.contain('max-edits-per-post-per-hour:\t2');
  });

  it('changes nothing when any value is bad, and names every problem', async function () {
    const before = await withStore((s) => s.groups.getGroup('rust'));
    const queued = await fanoutQueued();
    const cases: string[][] = [
      ['--title', 'Fine', '--sensitive', 'maybe'],
      ['--membership', 'closed'],
      ['--posting', 'everyone'],
      ['--max-group-mentions', '-1'],
      ['--max-group-mentions', '0'],
      ['--language', 'not a language'],
      ['--tags', 'ok,no-dashes'],
      ['--icon', 'ftp://example.com/a.png'],
      ['--icon', path.join(dir, 'missing.png')],
      ['--title'],
      ['--colour', 'red'],
      ['--title', 'x'.repeat(201)],
      [],
    ];
    for (const flags of cases) {
      const r = await cli('group', 'set', 'rust', ...flags);
      expect(r.code, `${flags.join(' ')}: ${r.out}`).to.equal(1);
      expect(r.err, flags.join(' ')).to.contain('rust was not changed');
    }
    const many = await cli(
      'group',
      'set',
      'rust',
      '--sensitive',
      'maybe',
      '--membership',
      'closed',
      '--title',
      '',
    );
    expect(many.err).to.contain('--sensitive').and.contain('--membership').and.contain('--title');
    expect(await withStore((s) => s.groups.getGroup('rust'))).to.deep.equal(before);
    expect(await fanoutQueued()).to.equal(queued);
    expect((await cli('group', 'set', 'nope', '--title', 'x')).err).to.contain('no group named "nope"');
  });

  it('copies a local image into the media directory and serves it', async function () {
    const file = path.join(dir, 'icon.png');
    await writeFile(file, PNG);
    const notImage = path.join(dir, 'icon.txt');
    await writeFile(notImage, 'hello');
    const refused = await cli('group', 'set', 'rust', '--icon', notImage, '--title', 'Changed');
    expect(refused.code).to.equal(1);
    expect(refused.err).to.contain('not a PNG, JPEG, GIF or WebP');
    const big = path.join(dir, 'big.png');
    await writeFile(big, Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]));
    expect((await cli('group', 'set', 'rust', '--icon', big)).err).to.contain('the limit is');
    expect((await withStore((s) => s.groups.getGroup('rust')))?.title).to.equal('Rust folks');

    const r = await cli('group', 'set', 'rust', '--icon', file);
    expect(r.code, r.err).to.equal(0);
    const sha = createHash('sha256').update(PNG).digest('hex');
    const url = `${ORIGIN}/media/${sha}.png`;
    expect(r.out).to.contain(url);
    expect((await withStore((s) => s.groups.getGroup('rust')))?.settings.iconUrl).to.equal(url);
    const mediaDir = path.join(dir, 'data', 'media');
    expect(await readFile(path.join(mediaDir, `${sha}.png`))).to.deep.equal(PNG);

    const server = await withStore(async (store) => {
      const app = express();
      app.use(webRoutes({ store, urls: new Urls(ORIGIN), domain: 'guild.example', mediaDir }));
      const s: Server = createServer(app);
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      try {
        const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
        const res = await fetch(`${base}/media/${sha}.png`);
        const missing = await fetch(`${base}/media/${'0'.repeat(64)}.png`);
        const traversal = await fetch(`${base}/media/..%2Fguild.sqlite`);
        return {
          status: res.status,
          type: res.headers.get('content-type'),
          cache: res.headers.get('cache-control'),
          body: Buffer.from(await res.arrayBuffer()),
          missing: missing.status,
          traversal: traversal.status,
        };
      } finally {
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    });
    expect(server.status).to.equal(200);
    expect(server.type).to.equal('image/png');
    expect(server.cache).to.contain('immutable');
    expect(server.body).to.deep.equal(PNG);
    expect(server.missing).to.equal(404);
    expect(server.traversal).to.equal(404);

    const cleared = await cli('group', 'set', 'rust', '--icon', 'none');
    expect(cleared.code).to.equal(0);
    expect((await withStore((s) => s.groups.getGroup('rust')))?.settings.iconUrl).to.equal(null);
    expect((await stat(path.join(mediaDir, `${sha}.png`))).isFile()).to.equal(true);
  });

  it('lists, approves and refuses join requests', async function () {
    const alice = 'https://a.example/users/alice';
    const bob = 'https://b.example/users/bob';
    await withStore(async (s) => {
      for (const [actorId, n] of [
        [alice, 'alice'],
        [bob, 'bob'],
      ] as const) {
        await s.members.upsertMember({
          groupName: 'rust',
          actorId,
          inbox: `${actorId}/inbox`,
          sharedInbox: null,
          deliveryInbox: `${actorId}/inbox`,
          state: 'pending',
          followId: `${actorId}/follow/1`,
          createdAt: 1,
          updatedAt: 1,
        });
        await s.remoteActors.putRemoteActor({
          id: actorId,
          type: 'Person',
          inbox: `${actorId}/inbox`,
          sharedInbox: null,
          preferredUsername: n,
          name: n,
          url: null,
          keyId: null,
          publicKeyPem: null,
          fetchedAt: 1,
        });
      }
    });
    const pending = await cli('group', 'pending', 'rust');
    expect(pending.code).to.equal(0);
    expect(pending.out).to.contain('2 pending').and.contain(alice).and.contain('@bob@b.example');
    const firstPage = await cli('group', 'pending', 'rust', '--limit', '1');
    expect(firstPage.out).to.contain(`--after ${alice}`).and.not.contain(bob);

    const approved = await cli('group', 'approve', 'rust', '@alice@a.example');
    expect(approved.code, approved.err).to.equal(0);
    const refused = await cli('group', 'reject', 'rust', bob);
    expect(refused.code, refused.err).to.equal(0);
    const unknown = await cli('group', 'approve', 'rust', '@carol@c.example');
    expect(unknown.code).to.equal(1);
    expect(unknown.err).to.contain('give the actor id');
    const again = await cli('group', 'approve', 'rust', alice);
    expect(again.err).to.contain('already a member');

    await withStore(async (s) => {
      expect((await s.members.getMember('rust', alice))?.state).to.equal('accepted');
      expect(await s.members.getMember('rust', bob)).to.equal(null);
      const jobs = await s.jobs.claim('deliver', 'test', Date.now() + 60_000, 60_000, 10);
      const sent = await Promise.all(
        jobs.map(async (j) => {
          const p = j.payload as DeliverPayload;
          const a = JSON.parse((await s.activities.getActivity(p.activityId))?.json ?? '{}') as {
            type: string;
            object: { id: string };
          };
          return `${a.type} ${a.object.id} -> ${p.inbox}`;
        }),
      );
      expect(sent.sort()).to.deep.equal([
        `Accept ${alice}/follow/1 -> ${alice}/inbox`,
        `Reject ${bob}/follow/1 -> ${bob}/inbox`,
      ]);
    });
    const members = await cli('group', 'members', 'rust');
    expect(members.out).to.contain('1 members').and.contain(alice);
  });

  it('deletes a group for good: the name is never reused', async function () {
    const r = await cli('group', 'delete', 'go');
    expect(r.code).to.equal(0);
    expect((await cli('group', 'list')).out).to.not.match(/^go\t/m);
    const again = await cli('group', 'create', 'go');
    expect(again.code).to.equal(1);
    expect(again.err).to.contain('taken');
    expect((await cli('group', 'delete', 'go')).err).to.contain('already deleted');
    expect((await cli('group', 'set', 'go', '--title', 'Back')).err).to.contain('no group named "go"');
    expect((await cli('group', 'delete', 'never')).err).to.contain('no group named "never"');
  });
});
