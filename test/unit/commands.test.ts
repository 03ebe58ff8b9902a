/**
 * DM commands go through the moderation service like every other surface: the same checks, the same events,
 * the same audit log, with the DM's Create as the basis of what they send. How a message is read, who may
 * do what, and that a command run again for the same message (a retried job) answers as it did the first time.
 */
import { expect } from 'chai';
import { T0, createNote, startHarness, type Harness } from '../support/domain-harness.ts';
import { COMMAND_HELP, messageText, parseCommand, parseDuration } from '../../src/groups/commands.service.ts';

const ALICE = 'https://a.example/users/alice';
const BOB = 'https://b.example/users/bob';
const MOD = 'https://m.example/users/mod';

describe('DM commands', function () {
  let h: Harness;
  let group: string;
  let n = 0;
  const run = (from: string, text: string) =>
    h.commands.run('club', from, { html: `<p>${text}</p>`, basis: `${from}/creates/dm${++n}` });

  beforeEach(async function () {
    h = await startHarness();
    group = await h.group('club');
    await h.member('club', ALICE);
    await h.member('club', BOB);
    await h.moderator('club', MOD);
  });
  afterEach(async function () {
    await h?.close();
  });

  it('changes settings with `set`, refusing a bad value with its reason', async function () {
    expect(await run(MOD, 'set title The Club')).to.equal('Changed title.');
    expect((await h.store.groups.getGroup('club'))?.title).to.equal('The Club');
    expect(await run(MOD, 'set membership approval')).to.equal('Changed membershipPolicy.');
    expect(await run(MOD, 'set membership maybe')).to.equal('Usage: set membership open|approval');
    expect(await run(MOD, 'set language english!')).to.contain('is not a language tag');
    expect(await run(MOD, 'set colour red')).to.contain('Usage: set title|summary');
    expect(await run(ALICE, 'set title Mine')).to.equal('Only moderators of this group may do that.');
    const [changed] = h.events.of('SettingsChanged');
    expect(changed?.basis).to.equal(`${MOD}/creates/dm1`);
    const audit = await h.store.audit.listAudit({ group: 'club' }, null, 10);
    expect(audit.map((e) => [e.actorId, e.action, e.target])).to.have.deep.members([
      [MOD, 'update-settings', 'title'],
      [MOD, 'update-settings', 'membershipPolicy'],
    ]);
  });

  it('removes a member with `kick`, and restores a removed post with `restore`', async function () {
    expect(await run(MOD, `kick ${BOB}`)).to.equal(`Removed ${BOB} from the group.`);
    expect(await h.store.members.getMember('club', BOB)).to.equal(null);
    expect(await run(MOD, `kick ${BOB}`)).to.equal(`${BOB} is not a member.`);
    await h.post('club', `${ALICE}/notes/1`, ALICE);
    expect(await run(MOD, `restore ${ALICE}/notes/1`)).to.equal('That post is not removed.');
    expect(await run(MOD, `remove ${ALICE}/notes/1 spam`)).to.equal('Removed.');
    expect(await run(MOD, `restore ${ALICE}/notes/1`)).to.equal('Restored.');
    expect((await h.store.posts.getPost('club', `${ALICE}/notes/1`))?.deletedAt).to.equal(null);
    expect(h.events.events.map((e) => e.type)).to.deep.equal(['JoinRejected', 'PostRemoved', 'PostRestored']);
  });

  it('approves or rejects a held post', async function () {
    await h.settings.update('club', { premoderateFirstPosts: 1 });
    await h.deliver(createNote(ALICE, group, '1'));
    await h.deliver(createNote(BOB, group, '2'));
    expect(await run(MOD, `approve-post ${ALICE}/notes/1`)).to.equal('Approved; the post is being shared.');
    expect(await run(MOD, `reject-post ${BOB}/notes/2`)).to.equal('Rejected; it will not be shared.');
    expect(await run(MOD, `reject-post ${BOB}/notes/2`)).to.equal('No post is held with that URL.');
    expect(await h.store.posts.getPost('club', `${ALICE}/notes/1`)).to.not.equal(null);
    expect(await h.store.posts.getPost('club', `${BOB}/notes/2`)).to.equal(null);
    expect(await h.store.held.listHeldPosts('club', null, 10)).to.deep.equal([]);
  });

  it('answers a command run again for the same message as the first time; another message is told it is done', async function () {
    const dm = { html: '<p>ban @alice@a.example 7d spam</p>', basis: `${MOD}/creates/ban` };
    expect(await h.commands.run('club', MOD, dm, T0)).to.equal('Banned @alice@a.example for 7d.');
    expect(await h.store.bans.getActiveBan('club', ALICE, T0)).to.deep.include({
      reason: 'spam',
      expiresAt: T0 + 7 * 86_400_000,
    });
    expect(await h.commands.run('club', MOD, dm, T0), 'the same message again').to.equal(
      'Banned @alice@a.example for 7d.',
    );
    const other = { ...dm, basis: `${MOD}/creates/ban-again` };
    expect(await h.commands.run('club', MOD, other, T0), 'another message').to.equal(
      '@alice@a.example was already banned.',
    );
    expect(h.events.of('MemberBanned')).to.have.length(1);
    const set = { html: '<p>set title The Club</p>', basis: `${MOD}/creates/title` };
    expect(await h.commands.run('club', MOD, set)).to.equal('Changed title.');
    expect(await h.commands.run('club', MOD, set)).to.equal('Changed title.');
    expect(await run(MOD, 'set title The Club')).to.equal('Nothing to change.');
  });

  it('tells who may do what: anyone help and rules, members report, moderators the rest', async function () {
    const carol = 'https://c.example/users/carol';
    await h.post('club', `${ALICE}/notes/1`, ALICE);
    expect(await run(carol, 'help')).to.equal(COMMAND_HELP);
    expect(await run(carol, 'rules')).to.equal('This group has no written rules.');
    expect(await run(carol, `report ${ALICE}/notes/1 rude`)).to.equal('Only members may report posts.');
    expect(await run(BOB, `report ${ALICE}/notes/1 rude`)).to.match(
      /^Thank you: report [0-9a-f]{12} is with the moderators\.$/,
    );
    expect(await run(BOB, `pin ${ALICE}/notes/1`)).to.equal('Only moderators of this group may do that.');
    expect(await run(MOD, 'frobnicate')).to.equal(`Unknown command "frobnicate".\n${COMMAND_HELP}`);
    expect(await run(MOD, '')).to.equal(`I did not find a command.\n${COMMAND_HELP}`);
    const [report] = await h.store.reports.listReports('club', 'open', null, 10);
    expect(report).to.deep.include({ reporterId: BOB, targetActorId: ALICE, reason: 'rude', flagId: null });
  });

  it('pins, locks and names moderators once, saying when there is nothing to change', async function () {
    await h.post('club', `${ALICE}/notes/1`, ALICE);
    const answers = [];
    for (const text of [
      `pin ${ALICE}/notes/1`,
      `pin ${ALICE}/notes/1`,
      `unpin ${ALICE}/notes/1`,
      `lock ${ALICE}/notes/1`,
      `unlock ${ALICE}/notes/1`,
      `unlock ${ALICE}/notes/1`,
      `lock ${ALICE}/notes/nothing`,
      'mod @bob@b.example',
      'mod @bob@b.example',
      'unmod @bob@b.example',
      'unmod @bob@b.example',
    ])
      answers.push(await run(MOD, text));
    expect(answers).to.deep.equal([
      'Pinned.',
      'Nothing to change.',
      'Unpinned.',
      'Locked.',
      'Unlocked.',
      'Nothing to change.',
      'That post is not in this group.',
      '@bob@b.example is now a moderator.',
      '@bob@b.example already was one.',
      '@bob@b.example is no longer a moderator.',
      '@bob@b.example was not a moderator.',
    ]);
  });

  it('shows the last actions with `log`, newest first, at the time they were taken', async function () {
    expect(await run(MOD, 'log')).to.equal('Nothing recorded yet.');
    await run(MOD, 'ban @alice@a.example spam');
    h.clock.now = T0 + 90 * 60_000;
    await run(MOD, 'unban @alice@a.example');
    expect(await run(MOD, 'log')).to.equal(
      [`2026-01-01T01:30 ${MOD}: unban ${ALICE}`, `2026-01-01T00:00 ${MOD}: ban ${ALICE} (spam)`].join('\n'),
    );
  });
});

describe('reading a DM command', function () {
  it('reads Mastodon’s HTML: mentions as handles, links as their URL, entities decoded, one line per paragraph', function () {
    const html =
      '<p><span class="h-card"><a href="https://guild.example/groups/club" class="u-url mention">@<span>club</span></a></span> ban ' +
      '<a href="https://a.example/@alice" rel="nofollow"><span class="invisible">https://</span>a.example/@alice</a> 7d</p>' +
      '<p>spam &amp; &quot;ads&quot;<br>again</p>';
    expect(messageText(html)).to.equal('@club ban https://a.example/@alice 7d\nspam & "ads"\nagain');
  });

  it('takes the first line with a word after the mentions, without a ! or / before it', function () {
    const cmd = parseCommand('@club\n@club @mod !BAN @x@y.example 2w being rude');
    expect(cmd && [cmd.name, cmd.args, cmd.rest(2)]).to.deep.equal([
      'ban',
      ['@x@y.example', '2w', 'being', 'rude'],
      'being rude',
    ]);
    expect(parseCommand('/help')?.name).to.equal('help');
    expect(parseCommand('@club @mod')).to.equal(null);
  });

  it('reads durations in minutes, hours, days and weeks, and nothing else', function () {
    expect(['30m', '12h', '7d', '2w', '9999d'].map(parseDuration)).to.deep.equal([
      30 * 60_000,
      12 * 3_600_000,
      7 * 86_400_000,
      2 * 604_800_000,
      9999 * 86_400_000,
    ]);
    expect(['7', 'd', '10000d', '1y', '-1d', '1.5h'].map(parseDuration)).to.deep.equal([
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });
});
