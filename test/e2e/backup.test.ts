/**
 * `guild backup` and `guild restore` as an admin runs them, against a server that keeps taking posts: the backup
 * is a consistent database that another server serves; restore refuses while a server runs on its target.
 * SQLite only; on MongoDB the commands point to mongodump and mongorestore.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { runGuildCli, startGuildProcess, type GuildProcess } from '../support/guild-process.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { freePort, waitUntil } from '../support/net.ts';
import { testStoreKind } from '../support/test-store.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
const PUBLIC = `${AS}#Public`;
const AP = { accept: 'application/activity+json' };

describe('backup and restore', function () {
  this.timeout(120_000);
  if (testStoreKind() === 'mongodb') {
    it('points to mongodump and mongorestore on MongoDB', async function () {
      const env = {
        GUILD_STORE: 'mongodb',
        GUILD_MONGODB_URL: process.env['MONGODB_URL'] ?? 'mongodb://127.0.0.1/x',
      };
      for (const command of ['backup', 'restore']) {
        const r = await runGuildCli([command, '/tmp/guild-backup-file'], env);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.include('mongodump').and.to.include('mongorestore');
      }
    });
    return;
  }

  const procs: GuildProcess[] = [];
  let dir: string;
  let env: Record<string, string>;
  let origin: string;
  let member: RawActor;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'guild-backup-'));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    env = {
      GUILD_STORE: 'sqlite',
      GUILD_SQLITE_PATH: join(dir, 'live', 'guild.sqlite'),
      GUILD_ORIGIN: origin,
      GUILD_PORT: String(port),
      GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
      GUILD_LOG_LEVEL: 'warn',
    };
    const created = await runGuildCli(['group', 'create', 'kept', '--title', 'Kept safe'], env);
    expect(created.code, created.stderr).to.equal(0);
    procs.push(await startGuildProcess(env));
    member = await startRawActor('writer');
    const follow = {
      '@context': AS,
      id: `${member.actorId}/f/1`,
      type: 'Follow',
      actor: member.actorId,
      object: `${origin}/groups/kept`,
    };
    expect((await member.post(`${origin}/groups/kept/inbox`, follow)).status).to.equal(202);
    await waitUntil(
      async () => {
        const res = await fetch(`${origin}/groups/kept/followers`, { headers: AP });
        return ((await res.json()) as { totalItems?: number }).totalItems === 1;
      },
      { what: 'the member to join' },
    );
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      for (const p of procs)
        process.stderr.write(`---- guild ${p.origin} ----\n${p.output.slice(-50).join('\n')}\n`);
  });
  after(async function () {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await member?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A public post by the member into the group. */
  async function post(n: number): Promise<number> {
    const noteId = `${member.actorId}/notes/${randomUUID()}`;
    const create = {
      '@context': AS,
      id: `${noteId}/activity`,
      type: 'Create',
      actor: member.actorId,
      to: [PUBLIC],
      cc: [`${origin}/groups/kept`],
      object: {
        id: noteId,
        type: 'Note',
        attributedTo: member.actorId,
        content: `<p>post ${n}</p>`,
        to: [PUBLIC],
        cc: [`${origin}/groups/kept`],
      },
    };
    return (await member.post(`${origin}/groups/kept/inbox`, create)).status;
  }

  it('takes a consistent backup while posts flow, which another server then serves', async function () {
    let posting = true;
    let sent = 0;
    const flow = (async () => {
      while (posting) expect(await post(sent++)).to.equal(202);
    })();
    await waitUntil(() => sent >= 5 || undefined, { what: 'posts to flow' });
    const file = join(dir, 'backup.sqlite');
    const r = await runGuildCli(['backup', file], env);
    posting = false;
    await flow;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('backed up');
    // A second backup to the same file is refused: nothing is overwritten.
    const again = await runGuildCli(['backup', file], env);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include('exists');

    const copy = new BetterSqlite3(file, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).to.equal('ok');
      expect(copy.pragma('journal_mode', { simple: true }), 'a self-contained file').to.equal('delete');
    } finally {
      copy.close();
    }

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const elsewhere = {
      ...env,
      GUILD_SQLITE_PATH: join(dir, 'elsewhere', 'guild.sqlite'),
      GUILD_PORT: String(port),
      GUILD_ORIGIN: base,
    };
    const restored = await runGuildCli(['restore', file], elsewhere);
    expect(restored.code, restored.stderr).to.equal(0);
    const other = await startGuildProcess(elsewhere);
    procs.push(other);
    const actor = (await (await fetch(`${base}/groups/kept`, { headers: AP })).json()) as { name?: string };
    expect(actor.name).to.equal('Kept safe');
    const followers = (await (await fetch(`${base}/groups/kept/followers`, { headers: AP })).json()) as {
      totalItems?: number;
    };
    expect(followers.totalItems).to.equal(1);
  });

  it('refuses to restore while a server runs on the database, or a file that is not a Guild database', async function () {
    const file = join(dir, 'refused.sqlite');
    const made = await runGuildCli(['backup', file], env);
    expect(made.code, made.stderr).to.equal(0);
    const refused = await runGuildCli(['restore', file], env);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include('a Guild server runs on');
    // The running server is untouched and still takes posts.
    expect(await post(-1)).to.equal(202);

    const junk = join(dir, 'junk.sqlite');
    const db = new BetterSqlite3(junk);
    db.exec('CREATE TABLE t (x)');
    db.close();
    const target = { ...env, GUILD_SQLITE_PATH: join(dir, 'nowhere', 'guild.sqlite') };
    const notGuild = await runGuildCli(['restore', junk], target);
    expect(notGuild.code).to.equal(1);
    expect(notGuild.stderr).to.include('no Guild schema');
  });
});
