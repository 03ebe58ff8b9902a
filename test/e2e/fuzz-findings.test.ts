/** Problems the inbox fuzzer (fuzz.test.ts) found, replayed by hand as fixed scenarios. */
import { expect } from 'chai';
import { runGuildCli } from '../support/guild-process.ts';
import { waitUntil } from '../support/net.ts';
import { intakeJobId } from '../../src/federation/inbox.receiver.ts';
import { AS_CONTEXT } from '../../src/activitypub/vocab.ts';
import { MOD_GROUP, startFuzzTarget, type FuzzTarget } from '../support/fuzz-target.ts';

describe('fuzz findings, replayed', function () {
  this.timeout(90_000);
  let t: FuzzTarget;
  before(async function () {
    t = await startFuzzTarget();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      process.stderr.write(`---- guild output ----\n${t?.guild.output.slice(-40).join('\n')}\n`);
  });
  after(async function () {
    await t?.close();
  });

  it('a remote moderator cannot make a local actor a moderator, and Guild never delivers to itself', async function () {
    // Found by the fuzzer: Add{moderators} of the instance actor, then a report. The group notified its
    // "moderator", over HTTP to its own inbox, and took its own message in as an inbound activity.
    const { guild, member } = t;
    const group = `${guild.origin}/groups/${MOD_GROUP}`;
    const instanceActor = `${guild.origin}/actor`;
    const add = {
      '@context': AS_CONTEXT,
      id: `${member.actorId}/activities/add-instance-actor`,
      type: 'Add',
      actor: member.actorId,
      object: instanceActor,
      target: `${group}/moderators`,
      to: [group],
    };
    expect((await member.post(`${group}/inbox`, add)).status).to.equal(202);
    const addJob = intakeJobId(add.id);
    await waitUntil(
      async () => (await t.intakeJobs()).some((j) => j.id === addJob && j.state === 'done') || undefined,
      {
        what: 'the Add to be processed',
        timeoutMs: 30_000,
      },
    );
    const flag = {
      '@context': AS_CONTEXT,
      id: `${member.actorId}/activities/flag-1`,
      type: 'Flag',
      actor: member.actorId,
      object: [`${member.origin}/notes/1`],
      to: [group],
      content: 'please have a look',
    };
    expect((await member.post(`${group}/inbox`, flag)).status).to.equal(202);
    await waitUntil(async () => (await t.unfinishedJobs()) === 0 || undefined, {
      what: 'every job to finish',
      timeoutMs: 60_000,
    });

    const own = (await t.intakeJobs(true)).filter((j) => (j.actorId ?? '').startsWith(`${guild.origin}/`));
    expect(
      own.map((j) => `${j.actorId ?? ''} ${(j.payload ?? '').slice(0, 200)}`),
      'activities of local actors Guild delivered to its own inbox',
    ).to.deep.equal([]);
    const mods = await runGuildCli(['mod', 'list', MOD_GROUP], t.env);
    expect(mods.stdout, 'the moderators of the group')
      .to.contain(member.actorId)
      .and.not.contain(instanceActor);
  });
});
