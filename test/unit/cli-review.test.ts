/** The admin command line's bans, post removals, reports and audit log, on a SQLite file. */
import { expect } from 'chai';
import { ALICE, BOB, ORIGIN, member, useCliWorld } from './cli-world.ts';

describe('guild CLI: bans, posts, reports and the audit log', function () {
  this.timeout(30_000);
  const { cli, withStore, audit, auditOf } = useCliWorld();

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
          removedBy: null,
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
        removedBy: null,
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

  it('restores, pins and locks posts, and approves or rejects held posts, each recorded', async function () {
    const post = (objectId: string) => ({
      objectId,
      groupName: 'rust',
      authorId: ALICE,
      inReplyTo: null,
      threadRoot: objectId,
      createId: `${objectId}/create`,
      boostId: null,
      createdAt: Date.now(),
      deletedAt: null,
      removedBy: null,
    });
    const note = (n: string) => {
      const object = {
        id: `${ALICE}/posts/${n}`,
        type: 'Note',
        attributedTo: ALICE,
        content: 'first post',
        to: ['https://www.w3.org/ns/activitystreams#Public'],
        cc: [`${ORIGIN}/groups/rust`],
      };
      return {
        id: `${ALICE}/creates/${n}`,
        type: 'Create',
        actor: ALICE,
        to: object.to,
        cc: object.cc,
        object,
      };
    };
    const pinned = `${ALICE}/posts/pinned`;
    await withStore(async (s) => {
      await s.members.upsertMember(member('rust', ALICE));
      await s.posts.putPost(post(pinned));
      for (const n of ['h1', 'h2'])
        await s.held.holdPost({
          groupName: 'rust',
          objectId: `${ALICE}/posts/${n}`,
          authorId: ALICE,
          activityJson: JSON.stringify(note(n)),
          reason: 'first post',
          createdAt: Date.now(),
        });
    });
    const steps: Array<[string[], string]> = [
      [['pin', 'rust', pinned], 'pinned'],
      [['pin', 'rust', pinned], 'is already pinned'],
      [['lock', 'rust', pinned], 'locked the thread of'],
      [['unlock', 'rust', pinned], 'unlocked the thread of'],
      [['unpin', 'rust', pinned], 'unpinned'],
      [['remove-post', 'rust', pinned], 'removed'],
      [['restore-post', 'rust', pinned], 'restored'],
      [['restore-post', 'rust', pinned], 'is not removed'],
      [['approve-post', 'rust', `${ALICE}/posts/h1`], 'approved'],
      [['reject-post', 'rust', `${ALICE}/posts/h2`, '--reason', 'spam'], 'discarded'],
    ];
    for (const [argv, said] of steps) {
      const r = await cli(...argv);
      expect(r.code, `${argv.join(' ')}: ${r.err}`).to.equal(0);
      expect(r.out, argv.join(' ')).to.contain(said);
    }
    const missing = await cli('approve-post', 'rust', `${ALICE}/posts/h2`);
    expect(missing.code).to.equal(1);
    expect(missing.err).to.contain('is held in rust');
    await withStore(async (s) => {
      expect((await s.posts.getPost('rust', pinned))?.deletedAt).to.equal(null);
      expect((await s.posts.getPost('rust', `${ALICE}/posts/h1`))?.createId).to.equal(`${ALICE}/creates/h1`);
      expect(await s.posts.getPost('rust', `${ALICE}/posts/h2`)).to.equal(null);
      expect(await s.held.listHeldPosts('rust', null, 10)).to.deep.equal([]);
    });
    const recorded: Array<[string, string]> = [
      ['pin', pinned],
      ['lock', pinned],
      ['unlock', pinned],
      ['unpin', pinned],
      ['restore-post', pinned],
      ['approve-post', `${ALICE}/posts/h1`],
      ['reject-post', `${ALICE}/posts/h2`],
    ];
    for (const [action, target] of recorded)
      expect(await auditOf(action, target), `${action} recorded once`).to.have.length(1);
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

  it('prints held posts and members from other servers with control characters escaped', async function () {
    const odd = 'https://odd.example/users/\u001b[2J\u001b]0;x\u0007\n\tz';
    expect((await cli('group', 'create', 'escapes')).code).to.equal(0);
    await withStore(async (s) => {
      await s.held.holdPost({
        groupName: 'escapes',
        objectId: `${odd}/posts/1`,
        authorId: odd,
        activityJson: '{}',
        reason: 'first post',
        createdAt: 7,
      });
      await s.members.upsertMember(member('escapes', odd));
    });
    for (const argv of [
      ['held', 'escapes'],
      ['group', 'members', 'escapes'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, r.err).to.equal(0);
      // eslint-disable-next-line no-control-regex -- control characters are what the test looks for
      expect(r.out, argv.join(' ')).not.to.match(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(r.out).to.contain('https://odd.example/users/\\x1b[2J\\x1b]0;x\\x07\\n\\tz');
    }
    expect((await cli('held', 'escapes')).out.split('\n')).to.have.length(1);
  });

  it('shows the audit log of a group or of everything, newest first, paged', async function () {
    // An instance-wide entry, which the log of a group leaves out.
    expect((await cli('domain', 'block', 'spam.example')).code).to.equal(0);
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
