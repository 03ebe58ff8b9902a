/**
 * The admin command line's export, import, move, group follow and peer commands, on a SQLite file: what a file
 * holds, every problem of a bad file named with its path and nothing changed, refusals with their reason.
 */
import { expect } from 'chai';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ALICE, BOB, ORIGIN, member, useCliWorld } from './cli-world.ts';

describe('guild CLI: moving groups, groups following groups, peers', function () {
  this.timeout(30_000);
  const { cli, withStore, auditOf } = useCliWorld();
  const files: string[] = [];
  const file = (name: string) => {
    const f = path.join(tmpdir(), `guild-cli-links-${process.pid}-${name}.json`);
    files.push(f);
    return f;
  };
  after(async function () {
    await Promise.all(files.map((f) => rm(f, { force: true })));
  });

  it('documents the commands in the usage text', async function () {
    const help = await cli('help');
    for (const text of [
      'group export NAME FILE',
      'group import FILE',
      'group move NAME --to',
      'group follow NAME',
      'peer add HOST',
    ])
      expect(help.out).to.contain(text);
  });

  it('exports a group to a file and imports it under another name, once', async function () {
    await withStore(async (s) => {
      await s.members.upsertMember(member('rust', ALICE));
      await s.members.upsertMember(member('rust', BOB, 'pending'));
      await s.moderators.addModerator({ groupName: 'rust', actorId: BOB, addedBy: 'admin', addedAt: 5 });
    });
    const out = file('rust');
    const exported = await cli('group', 'export', 'rust', out);
    expect(exported.code, exported.err).to.equal(0);
    expect(exported.out).to.contain('1 members, 1 moderators');
    const doc = JSON.parse(await readFile(out, 'utf8')) as Record<string, unknown>;
    expect(doc).to.include({ format: 'guild-group-export', version: 1 });
    expect(doc.source).to.deep.equal({ actor: `${ORIGIN}/groups/rust`, handle: '@rust@guild.example' });

    const imported = await cli('group', 'import', out, '--name', 'rust2');
    expect(imported.code, imported.err).to.equal(0);
    expect(imported.out).to.contain('imported @rust2@guild.example').and.contain('1 former members');
    expect(imported.out).to.contain('guild group move rust --to @rust2@guild.example');
    const state = await withStore((s) => s.moves.getMoveState('rust2'));
    expect(state.alsoKnownAs).to.deep.equal([`${ORIGIN}/groups/rust`]);
    expect(await withStore((s) => s.moves.isPriorMember('rust2', ALICE))).to.equal(true);
    expect(await withStore((s) => s.moves.isPriorMember('rust2', BOB))).to.equal(false);
    expect(await withStore((s) => s.moderators.isModerator('rust2', BOB))).to.equal(true);
    expect(await auditOf('import-group', `${ORIGIN}/groups/rust`)).to.have.length(1);

    const again = await cli('group', 'import', out, '--name', 'rust2');
    expect(again.code, again.err).to.equal(0);
    expect(again.out).to.contain('completed the import');
    expect(await auditOf('import-group', `${ORIGIN}/groups/rust`)).to.have.length(1);
    const taken = await cli('group', 'import', out, '--name', 'go');
    expect(taken.code).to.equal(1);
    expect(taken.err).to.contain('the name "go" is taken');
  });

  it('refuses a bad file, naming each problem with its path, and changes nothing', async function () {
    const exported = file('go');
    expect((await cli('group', 'export', 'go', exported)).code).to.equal(0);
    const doc = JSON.parse(await readFile(exported, 'utf8')) as Record<string, Record<string, unknown>>;
    const group = doc.group as Record<string, Record<string, unknown>>;
    group.name = 'Not A Name' as never;
    (group.settings as Record<string, unknown>).membershipPolicy = 'sometimes';
    (group.settings as Record<string, unknown>).colour = 'blue';
    doc.members = [{ actorId: 'ftp://x', inbox: 'https://x.example/inbox', sharedInbox: null }] as never;
    const bad = file('bad');
    await writeFile(bad, JSON.stringify(doc));
    const r = await cli('group', 'import', bad);
    expect(r.code).to.equal(1);
    expect(r.err).to.contain('cannot be imported; nothing was changed');
    expect(r.err).to.contain('group.name:').and.contain('group.settings.membershipPolicy:');
    expect(r.err).to.contain('group.settings.colour: is not a setting').and.contain('members[0].actorId:');
    await writeFile(bad, JSON.stringify({ ...doc, version: 2 }));
    expect((await cli('group', 'import', bad)).err).to.contain('version 2 is not one this Guild reads');
    await writeFile(bad, '{ not json');
    expect((await cli('group', 'import', bad)).err).to.contain('is not JSON');
    expect(await withStore((s) => s.groups.getGroup('Not A Name'))).to.equal(null);
  });

  it('refuses a move without a target, or to one that cannot be found', async function () {
    const none = await cli('group', 'move', 'go');
    expect(none.code).to.equal(1);
    expect(none.err).to.contain('--to @name@host');
    const missing = await cli('group', 'move', 'go', '--to', '@nobody@127.0.0.1:9');
    expect(missing.code).to.equal(1);
    expect(missing.err).to.contain('could not be found');
    expect(await withStore((s) => s.moves.getMoveState('go'))).to.include({ movedTo: null });
  });

  it('makes a group follow a group of this instance, lists it, and ends it', async function () {
    const followed = await cli('group', 'follow', 'go', '@rust@guild.example');
    expect(followed.code, followed.err).to.equal(0);
    expect(followed.out).to.contain(`go asked to follow ${ORIGIN}/groups/rust`);
    const list = await cli('group', 'following', 'go');
    expect(list.out).to.contain(`${ORIGIN}/groups/rust\tpending`);
    expect((await cli('group', 'follow', 'go', '@go@guild.example')).err).to.contain('cannot follow itself');
    const ended = await cli('group', 'unfollow', 'go', `${ORIGIN}/groups/rust`);
    expect(ended.code, ended.err).to.equal(0);
    expect((await cli('group', 'following', 'go')).out).to.contain('follows no group');
    expect((await cli('group', 'unfollow', 'go', `${ORIGIN}/groups/rust`)).err).to.contain('does not follow');
  });

  it('lists no peers, and refuses a host that is not one or answers nothing', async function () {
    expect((await cli('peer', 'list')).out).to.contain('no peers');
    expect((await cli('peer', 'add', 'not a host')).err).to.contain('is not a host name');
    expect((await cli('peer', 'add', 'guild.example')).err).to.contain('is this instance');
    expect((await cli('peer', 'add', '127.0.0.1:9')).err).to.contain('no instance actor answers');
    expect((await cli('peer', 'remove', 'b.example')).err).to.contain('is not a peer');
    expect((await cli('peer', 'frob')).code).to.equal(2);
  });
});
