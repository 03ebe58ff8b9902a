import { expect } from 'chai';
import { ALICE, BOB, useCliWorld } from './cli-world.ts';

describe('CLI: owners and requests to create groups', function () {
  this.timeout(30_000);
  const w = useCliWorld();

  it('shows, sets and clears the owner of a group, recording each change', async function () {
    expect((await w.cli('owner', 'show', 'rust')).out).to.equal('no owner');
    const set = await w.cli('owner', 'set', 'rust', ALICE, '--reason', 'founder');
    expect(set.code, set.err).to.equal(0);
    expect(set.out).to.include(`${ALICE} now owns rust`);
    expect((await w.cli('owner', 'show', 'rust')).out).to.match(new RegExp(`^${ALICE}\\tsince `));
    expect((await w.cli('group', 'show', 'rust')).out).to.include(`owner:\t${ALICE}`);
    expect(await w.withStore((s) => s.moderators.isModerator('rust', ALICE))).to.equal(true);
    expect(await w.auditOf('transfer-owner', ALICE)).to.have.length(1);
    const refused = await w.cli('mod', 'remove', 'rust', ALICE);
    expect(refused.code).to.equal(1);
    expect(refused.err).to.include('transfer the ownership first');
    expect((await w.cli('owner', 'clear', 'rust')).out).to.equal('rust has no owner now');
    expect((await w.cli('owner', 'clear', 'rust')).out).to.equal('rust had no owner');
    expect((await w.cli('owner', 'show', 'nope')).code).to.equal(1);
    expect((await w.cli('owner', 'set', 'rust')).code).to.equal(2);
  });

  it('lists, approves and rejects queued requests; a decided one cannot be decided again', async function () {
    await w.withStore(async (s) => {
      for (const [id, name, who, at] of [
        ['req1', 'cats', ALICE, 1000],
        ['req2', 'dogs', BOB, 2000],
      ] as const)
        await s.groupRequests.putGroupRequest({
          id,
          name,
          title: `All about ${name}`,
          requesterId: who,
          requesterHost: new URL(who).hostname,
          state: 'pending',
          createdAt: at,
          decidedAt: null,
          decidedBy: null,
          reason: 'new groups are approved by the admin',
        });
    });
    const list = await w.cli('requests');
    expect(
      list.out
        .split('\n')
        .slice(1)
        .map((l) => l.split('\t')[1]),
    ).to.deep.equal(['cats', 'dogs']);
    const approved = await w.cli('requests', 'approve', 'req1');
    expect(approved.code, approved.err).to.equal(0);
    expect(await w.withStore((s) => s.owners.getOwner('cats'))).to.include({ actorId: ALICE });
    expect((await w.cli('requests', 'reject', 'req2', '--reason', 'duplicate')).code).to.equal(0);
    expect(await w.withStore((s) => s.groups.getGroup('dogs'))).to.equal(null);
    const again = await w.cli('requests', 'approve', 'req2');
    expect(again.code).to.equal(1);
    expect(again.err).to.include('already decided');
    expect((await w.cli('requests')).out).to.include('no pending requests');
    expect((await w.cli('requests', '--state', 'rejected')).out).to.include('duplicate');
  });
});
