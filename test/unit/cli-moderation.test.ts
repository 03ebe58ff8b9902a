/** The admin command line's moderator and domain commands, on a SQLite file: effects, audit entries, refusals. */
import { expect } from 'chai';
import { ALICE, SPAMMER, member, useCliWorld } from './cli-world.ts';

describe('guild CLI: moderators and domains', function () {
  this.timeout(30_000);
  const world = useCliWorld();
  const { cli, withStore, audit, auditOf } = world;

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
    const handle = `@carol@127.0.0.1:${world.webfinger.port}`;
    const r = await cli('mod', 'add', 'go', handle);
    expect(r.code, r.err).to.equal(0);
    const carol = `${world.webfinger.origin}/users/carol`;
    expect(await withStore((s) => s.moderators.isModerator('go', carol))).to.equal(true);
    const unknown = await cli('mod', 'add', 'go', `@nobody@127.0.0.1:${world.webfinger.port}`);
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
});
