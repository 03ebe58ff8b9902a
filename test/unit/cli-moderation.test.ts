import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { openStore } from '../../src/storage/open-store.ts';
import type { Member, Store } from '../../src/storage/store.ts';
import type { AuditEntry } from '../../src/storage/moderation.store.ts';
import { sendJson, startLoopbackServer, type LoopbackServer } from './loopback-server.ts';

const ORIGIN = 'https://guild.example';
const ALICE = 'https://a.example/users/alice';
const BOB = 'https://b.example/users/bob';
const SPAMMER = 'https://spam.example/users/spammer';

interface Run {
  code: number;
  out: string;
  err: string;
}

function member(groupName: string, actorId: string, state: Member['state'] = 'accepted'): Member {
  return {
    groupName,
    actorId,
    inbox: `${actorId}/inbox`,
    sharedInbox: null,
    deliveryInbox: `${actorId}/inbox`,
    state,
    followId: `${actorId}/follows/${groupName}`,
    createdAt: 1,
    updatedAt: 1,
  };
}

describe('guild CLI: moderation and domains', function () {
  this.timeout(30_000);
  let dir: string;
  let sqlitePath: string;
  let env: Record<string, string>;
  let webfinger: LoopbackServer;

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

  const audit = (): Promise<AuditEntry[]> => withStore((s) => s.audit.listAudit({ all: true }, null, 1000));
  const auditOf = async (action: string, target: string): Promise<AuditEntry[]> =>
    (await audit()).filter((e) => e.action === action && e.target === target);

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), 'guild-cli-mod-'));
    sqlitePath = path.join(dir, 'data', 'guild.sqlite');
    env = {
      GUILD_SQLITE_PATH: sqlitePath,
      GUILD_ORIGIN: ORIGIN,
      GUILD_LOG_LEVEL: 'error',
      GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
    };
    // A WebFinger server on loopback that knows one account, carol.
    webfinger = await startLoopbackServer((req, res) => {
      const url = new URL(req.url, 'http://127.0.0.1');
      const subject = `acct:carol@127.0.0.1:${webfinger.port}`;
      if (url.pathname === '/.well-known/webfinger' && url.searchParams.get('resource') === subject) {
        sendJson(
          res,
          {
            subject,
            links: [
              { rel: 'self', type: 'application/activity+json', href: `${webfinger.origin}/users/carol` },
            ],
          },
          'application/jrd+json',
        );
        return;
      }
      res.writeHead(404).end();
    });
    for (const name of ['rust', 'go']) expect((await cli('group', 'create', name)).code).to.equal(0);
  });

  after(async function () {
    await webfinger?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('documents the moderation commands in the usage text', async function () {
    const help = await cli('help');
    expect(help.code).to.equal(0);
    for (const text of [
      'mod add GROUP',
      'ban GROUP ACTOR',
      'domain block DOMAIN',
      'report resolve',
      'audit [GROUP]',
    ])
      expect(help.out).to.contain(text);
  });

  it('adds, lists and removes moderators by actor id, once each', async function () {
    const added = await cli('mod', 'add', 'rust', ALICE);
    expect(added.code, added.err).to.equal(0);
    expect(added.out).to.contain(`${ALICE} is now a moderator of rust`);
    const again = await cli('mod', 'add', 'rust', ALICE);
    expect(again.code).to.equal(0);
    expect(again.out).to.contain('already a moderator');
    expect(await auditOf('add-moderator', ALICE)).to.have.length(1);
    expect((await auditOf('add-moderator', ALICE))[0]).to.include({ groupName: 'rust', actorId: 'admin' });

    const list = await cli('mod', 'list', 'rust');
    expect(list.code).to.equal(0);
    expect(list.out).to.contain(ALICE).and.contain('added by admin');
    expect((await cli('mod', 'list', 'go')).out).to.contain('no moderators');

    const removed = await cli('mod', 'remove', 'rust', ALICE);
    expect(removed.code, removed.err).to.equal(0);
    expect(await withStore((s) => s.moderators.isModerator('rust', ALICE))).to.equal(false);
    expect((await cli('mod', 'remove', 'rust', ALICE)).out).to.contain('is not a moderator');
    expect(await auditOf('remove-moderator', ALICE)).to.have.length(1);
  });

  it('resolves a handle with WebFinger', async function () {
    const handle = `@carol@127.0.0.1:${webfinger.port}`;
    const r = await cli('mod', 'add', 'go', handle);
    expect(r.code, r.err).to.equal(0);
    const carol = `${webfinger.origin}/users/carol`;
    expect(await withStore((s) => s.moderators.isModerator('go', carol))).to.equal(true);
    const unknown = await cli('mod', 'add', 'go', `@nobody@127.0.0.1:${webfinger.port}`);
    expect(unknown.code).to.equal(1);
    expect(unknown.err).to.contain('give the actor id');
    expect(await withStore((s) => s.moderators.countModerators('go'))).to.equal(1);
  });

  it('refuses bad moderator commands and changes nothing', async function () {
    const before = (await audit()).length;
    const cases: Array<[string[], number, string]> = [
      [['mod', 'add', 'rust'], 2, 'usage'],
      [['mod', 'promote', 'rust', ALICE], 2, 'usage'],
      [['mod', 'add', 'rust', 'alice'], 1, 'neither an actor id'],
      [['mod', 'add', 'rust', 'ftp://a.example/alice'], 1, 'not an http(s) actor id'],
      [['mod', 'add', 'nope', ALICE], 1, 'no group named "nope"'],
      [['mod', 'add', 'rust', ALICE, '--colour', 'red'], 2, 'unknown option --colour'],
      [['mod', 'list', 'nope'], 1, 'no group named "nope"'],
    ];
    for (const [argv, code, message] of cases) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).to.equal(code);
      expect(r.err, argv.join(' ')).to.contain(message);
    }
    expect((await audit()).length).to.equal(before);
    expect(await withStore((s) => s.moderators.countModerators('rust'))).to.equal(0);
  });

  it('bans for a while and unbans, with an audit entry each', async function () {
    await withStore((s) => s.members.upsertMember(member('rust', BOB)));
    const start = Date.now();
    const banned = await cli('ban', 'rust', BOB, '--duration', '7d', '--reason', 'spam links');
    expect(banned.code, banned.err).to.equal(0);
    expect(banned.out).to.contain(`banned ${BOB} from rust until`);
    const ban = await withStore((s) => s.bans.getActiveBan('rust', BOB, Date.now()));
    expect(ban).to.include({ reason: 'spam links', by: 'admin' });
    expect(ban?.expiresAt).to.be.within(start + 7 * 86_400_000, Date.now() + 7 * 86_400_000);
    expect(await withStore((s) => s.members.getMember('rust', BOB))).to.equal(null);
    const entries = await auditOf('ban', BOB);
    expect(entries).to.have.length(1);
    expect(entries[0]).to.include({ groupName: 'rust', actorId: 'admin', reason: 'spam links' });

    const bans = await cli('bans', 'rust');
    expect(bans.out).to.contain(BOB).and.contain('spam links');

    const lifted = await cli('unban', 'rust', BOB);
    expect(lifted.code, lifted.err).to.equal(0);
    expect(await withStore((s) => s.bans.getActiveBan('rust', BOB, Date.now()))).to.equal(null);
    expect(await auditOf('unban', BOB)).to.have.length(1);
    const again = await cli('unban', 'rust', BOB);
    expect(again.out).to.contain('is not banned');
    expect(await auditOf('unban', BOB)).to.have.length(1);
  });

  it('refuses bad bans and changes nothing', async function () {
    await withStore((s) => s.members.upsertMember(member('rust', ALICE)));
    const before = (await audit()).length;
    const cases: Array<[string[], number, string]> = [
      [['ban', 'rust', ALICE, '--duration', '7x'], 1, '--duration must be'],
      [['ban', 'rust', ALICE, '--duration', '0d'], 1, '--duration must be'],
      [['ban', 'rust', ALICE, '--duration'], 2, '--duration needs a value'],
      [['ban', 'rust', ALICE, '--remove-posts=maybe'], 2, '--remove-posts takes no value'],
      [['ban', 'rust', ALICE, '--reason', 'x'.repeat(1001)], 1, '--reason must be at most'],
      [['ban', 'rust'], 2, 'usage'],
      [['ban', 'rust', ALICE, 'extra'], 2, 'unexpected argument "extra"'],
      [['ban', 'nope', ALICE], 1, 'no group named "nope"'],
    ];
    for (const [argv, code, message] of cases) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).to.equal(code);
      expect(r.err, argv.join(' ')).to.contain(message);
    }
    expect((await audit()).length).to.equal(before);
    expect(await withStore((s) => s.bans.getActiveBan('rust', ALICE, Date.now()))).to.equal(null);
    expect((await withStore((s) => s.members.getMember('rust', ALICE)))?.state).to.equal('accepted');
  });

  it('bans with --remove-posts before the actor and removes their posts', async function () {
    await withStore(async (s) => {
      await s.members.upsertMember(member('go', BOB));
      for (const n of [1, 2]) {
        const objectId = `${BOB}/posts/${n}`;
        await s.posts.putPost({
          objectId,
          groupName: 'go',
          authorId: BOB,
          inReplyTo: null,
          threadRoot: objectId,
          createId: `${objectId}/create`,
          boostId: null,
          createdAt: Date.now(),
          deletedAt: null,
        });
      }
    });
    const r = await cli('ban', 'go', '--remove-posts', BOB);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('for good').and.contain('posts are being removed');
    await withStore(async (s) => {
      expect((await s.bans.getActiveBan('go', BOB, Date.now()))?.expiresAt).to.equal(null);
      for (const n of [1, 2])
        expect((await s.posts.getPost('go', `${BOB}/posts/${n}`))?.deletedAt).to.be.a('number');
    });
    expect(await auditOf('remove-post', `${BOB}/posts/1`)).to.have.length(1);
  });

  it('removes a post, once', async function () {
    const objectId = `${ALICE}/posts/9`;
    await withStore((s) =>
      s.posts.putPost({
        objectId,
        groupName: 'rust',
        authorId: ALICE,
        inReplyTo: null,
        threadRoot: objectId,
        createId: `${objectId}/create`,
        boostId: null,
        createdAt: Date.now(),
        deletedAt: null,
      }),
    );
    expect((await cli('remove-post', 'rust', 'not a url')).code).to.equal(1);
    expect((await cli('remove-post', 'rust', 'mailto:x@y')).code).to.equal(1);
    const missing = await cli('remove-post', 'rust', `${ALICE}/posts/404`);
    expect(missing.code).to.equal(1);
    expect(missing.err).to.contain('has no post');
    const r = await cli('remove-post', 'rust', objectId, '--reason', 'off topic');
    expect(r.code, r.err).to.equal(0);
    expect((await withStore((s) => s.posts.getPost('rust', objectId)))?.deletedAt).to.be.a('number');
    expect((await cli('remove-post', 'rust', objectId)).out).to.contain('already removed');
    expect(await auditOf('remove-post', objectId)).to.have.length(1);
  });

  it("blocks a domain: its members and its sub-domains' leave every group, others stay; blocking again records nothing", async function () {
    const others = ['https://notspam.example/users/x', 'https://spam.example.org/users/y'];
    await withStore(async (s) => {
      await s.members.upsertMember(member('rust', SPAMMER));
      await s.members.upsertMember(member('go', SPAMMER, 'pending'));
      await s.members.upsertMember(member('go', 'http://spam.example:8080/users/other'));
      await s.members.upsertMember(member('rust', 'https://sub.spam.example/users/z'));
      for (const id of others) await s.members.upsertMember(member('rust', id));
    });
    const r = await cli('domain', 'block', 'Spam.Example', '--reason', 'spam wave');
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('blocked spam.example').and.contain('removed 4 memberships');
    await withStore(async (s) => {
      expect(await s.members.getMember('rust', SPAMMER)).to.equal(null);
      expect(await s.members.getMember('go', SPAMMER)).to.equal(null);
      expect(await s.members.getMember('go', 'http://spam.example:8080/users/other')).to.equal(null);
      expect(await s.members.getMember('rust', 'https://sub.spam.example/users/z')).to.equal(null);
      for (const id of others) expect(await s.members.getMember('rust', id), id).to.not.equal(null);
      expect(await s.domains.getDomainPolicy('spam.example')).to.include({
        policy: 'block',
        reason: 'spam wave',
      });
    });
    const entries = await auditOf('block-domain', 'spam.example');
    expect(entries).to.have.length(1);
    expect(entries[0]).to.include({ groupName: null, actorId: 'admin', reason: 'spam wave' });

    const again = await cli('domain', 'block', 'spam.example');
    expect(again.code).to.equal(0);
    expect(again.out).to.contain('already blocked');
    expect(await auditOf('block-domain', 'spam.example')).to.have.length(1);
    expect((await withStore((s) => s.domains.getDomainPolicy('spam.example')))?.reason).to.equal('spam wave');
  });

  it('limits, allows, lists and clears domains', async function () {
    expect((await cli('domain', 'limit', 'slow.example')).code).to.equal(0);
    const allowed = await cli('domain', 'allow', 'bücher.example');
    expect(allowed.code, allowed.err).to.equal(0);
    expect(allowed.out).to.contain('allowed xn--bcher-kva.example').and.contain('GUILD_FEDERATION_MODE=open');
    const all = await cli('domain', 'list');
    expect(all.out.split('\n').map((l) => l.split('\t').slice(0, 2).join(' '))).to.deep.equal([
      'slow.example limit',
      'spam.example block',
      'xn--bcher-kva.example allow',
    ]);
    expect((await cli('domain', 'list', 'limit')).out)
      .to.match(/^slow\.example\tlimit/)
      .and.not.contain('spam');
    const paged = await cli('domain', 'list', '--limit', '1');
    expect(paged.out).to.contain('more: guild domain list --after slow.example');
    expect((await cli('domain', 'list', '--after', 'spam.example')).out).to.match(/^xn--bcher-kva/);

    const cleared = await cli('domain', 'clear', 'slow.example');
    expect(cleared.code).to.equal(0);
    expect(cleared.out).to.contain('was limit');
    expect((await cli('domain', 'clear', 'slow.example')).out).to.contain('has no policy');
    expect(await auditOf('clear-domain', 'slow.example')).to.have.length(1);
    expect(await withStore((s) => s.domains.getDomainPolicy('slow.example'))).to.equal(null);
  });

  it('refuses bad domains and changes nothing', async function () {
    const before = (await audit()).length;
    const policies = () => withStore((s) => s.domains.listDomainPolicies(null, null, 100));
    const kept = await policies();
    const bad: Array<[string, string]> = [
      ['https://evil.example/', 'without a scheme'],
      ['evil.example/users', 'without a path'],
      ['evil.example:443', 'without a port'],
      ['*.evil.example', 'wildcards'],
      ['alice@evil.example', 'not an account handle'],
      ['evil..example', 'not a valid domain'],
      ['-evil.example', 'not a valid domain'],
      ['evil_example.com', 'not a valid domain'],
      ['guild.example', "this server's own domain"],
    ];
    for (const [domain, message] of bad) {
      const r = await cli('domain', 'block', domain);
      expect(r.code, domain).to.equal(1);
      expect(r.err, domain).to.contain(message);
    }
    expect((await cli('domain', 'block')).code).to.equal(2);
    expect((await cli('domain', 'forbid', 'evil.example')).code).to.equal(2);
    expect((await cli('domain', 'list', 'blocked')).code).to.equal(2);
    expect((await cli('domain', 'limit', 'evil.example', '--reason', 'x'.repeat(1001))).code).to.equal(1);
    expect(await policies()).to.deep.equal(kept);
    expect((await audit()).length).to.equal(before);
  });

  it('lists and resolves reports, and lists held posts', async function () {
    await withStore(async (s) => {
      for (const [id, at] of [
        ['r1', 1000],
        ['r2', 2000],
      ] as const) {
        await s.reports.putReport({
          id,
          groupName: 'rust',
          reporterId: ALICE,
          targetActorId: BOB,
          objectIds: [`${BOB}/posts/${id}`],
          reason: `reason ${id}`,
          flagId: null,
          state: 'open',
          createdAt: at,
          resolvedAt: null,
          resolvedBy: null,
        });
      }
      await s.held.holdPost({
        groupName: 'rust',
        objectId: `${BOB}/posts/held`,
        authorId: BOB,
        activityJson: '{}',
        reason: 'first post',
        createdAt: 5,
      });
    });
    const open = await cli('reports', 'rust');
    expect(open.code).to.equal(0);
    expect(open.out.split('\n').map((l) => l.split('\t')[0])).to.deep.equal(['r2', 'r1']);
    const first = await cli('reports', 'rust', '--limit', '1');
    const more = /--after (\S+)/.exec(first.out)?.[1];
    expect(more).to.be.a('string');
    expect((await cli('reports', 'rust', '--after', more ?? '')).out).to.match(/^r1\t/);
    expect((await cli('reports', 'rust', '--after', 'garbage')).code).to.equal(1);

    const resolved = await cli('report', 'resolve', 'rust', 'r1');
    expect(resolved.code, resolved.err).to.equal(0);
    expect((await cli('report', 'resolve', 'rust', 'r1')).out).to.contain('already resolved');
    const unknown = await cli('report', 'resolve', 'rust', 'r9');
    expect(unknown.code).to.equal(1);
    expect(unknown.err).to.contain('no report r9');
    expect((await cli('report', 'resolve', 'go', 'r2')).code).to.equal(1);
    expect((await cli('reports', 'rust', '--resolved')).out)
      .to.match(/^r1\t/)
      .and.contain('resolved by admin');
    expect((await cli('reports', 'rust')).out).to.not.contain('r1');
    expect(await auditOf('resolve-report', 'r1')).to.have.length(1);

    const held = await cli('held', 'rust');
    expect(held.out).to.contain(`${BOB}/posts/held`).and.contain('first post');
    expect((await cli('held', 'go')).out).to.contain('no posts are waiting');
  });

  it('shows the audit log of a group or of everything, newest first, paged', async function () {
    const all = await cli('audit');
    expect(all.code).to.equal(0);
    expect(all.out).to.contain('(instance)\tadmin\tblock-domain\tspam.example');
    expect(all.out).to.contain('rust\tadmin\tban');
    const rust = await cli('audit', 'rust', '--limit', '2');
    const lines = rust.out.split('\n');
    expect(lines).to.have.length(3);
    expect(lines[0]).to.contain('resolve-report');
    expect(lines[2]).to.match(/^more: guild audit rust --after \S+/);
    expect(rust.out).to.not.contain('block-domain');
    const next = await cli('audit', 'rust', '--after', lines[2]?.split(' ').pop() ?? '');
    expect(next.out).to.not.contain('resolve-report');
    expect((await cli('audit', 'nope')).code).to.equal(1);
    expect((await cli('audit', '--limit', '0')).code).to.equal(1);
  });
});
