/**
 * Reports cannot be turned into harassment (20 Flags from a non-member were 20 DMs to every moderator, each
 * quoting the sender's text): reports are limited per reporter and per host, filed once per reporter and
 * object while open, their quoted reason capped, and moderators are told in a digest, at most one per group
 * per interval, sent by the maintenance loop when the allowance comes back (durably: after a restart too).
 */
import { expect } from 'chai';
import { AS, startHarness, type Harness } from '../support/domain-harness.ts';
import { ReportService, MAX_REPORT_REASON } from '../../src/groups/report.service.ts';
import { RateLimiter } from '../../src/groups/rate-limiter.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';
import { dmToService, startSelfService } from '../support/self-service-harness.ts';

const ALICE = 'https://a.example/users/alice';
const MOD = 'https://m.example/users/mod';
const MOD2 = 'https://n.example/users/mod2';
const EVE = 'https://evil.example/users/eve';
const DIGEST_MS = 600_000;

let seq = 0;
const flag = (actor: string, objects: string[], content = 'rude'): ApObject => ({
  '@context': AS,
  id: `${actor}/flags/${++seq}`,
  type: 'Flag',
  actor,
  object: objects,
  content,
});

describe('reports cannot be turned into harassment', function () {
  let h: Harness;
  const notes = Array.from({ length: 25 }, (_, n) => `${ALICE}/notes/${n}`);
  /** The direct messages sent to one moderator, in order. */
  const dmsTo = (who: string) =>
    h.events
      .of('DirectMessageSent')
      .filter((e) => e.to.id === who)
      .map((e) => e.text);

  beforeEach(async function () {
    h = await startHarness();
    await h.group('club');
    await h.member('club', ALICE);
    await h.moderator('club', MOD);
    await h.moderator('club', MOD2);
    h.actors.add(EVE);
    for (const n of notes) await h.post('club', n, ALICE);
  });
  afterEach(async function () {
    await h?.close();
  });

  it('files 20 Flags of one post by one outsider once, and tells each moderator once', async function () {
    const outcomes = [];
    for (let i = 0; i < 20; i++) outcomes.push(...(await h.deliver(flag(EVE, [notes[0]!], `rude #${i}`))));
    expect(outcomes.filter((o) => o.applied)).to.have.length(1);
    expect(outcomes[5]).to.deep.equal({
      applied: false,
      reason: `${EVE} already has an open report of everything the Flag names in club`,
    });
    expect(await h.store.reports.listReports('club', 'open', null, 100)).to.have.length(1);
    expect(dmsTo(MOD)).to.have.length(1);
    expect(dmsTo(MOD2)).to.have.length(1);
    h.clock.now += DIGEST_MS;
    expect(await h.reports.sendDueDigests()).to.equal(0);
    expect(dmsTo(MOD)).to.have.length(1);
  });

  it('files one of several Flags of one post by one reporter handled at once', async function () {
    const flags = Array.from({ length: 8 }, (_, i) => flag(EVE, [notes[0]!], `at once ${i}`));
    await Promise.all(flags.map((f) => h.deliver(f)));
    expect(await h.store.reports.listReports('club', 'open', null, 100)).to.have.length(1);
    expect(dmsTo(MOD)).to.have.length(1);
  });

  it('limits the reports of one reporter per hour, and tells moderators of them in one digest', async function () {
    const results = [];
    for (const n of notes.slice(0, 20)) results.push((await h.deliver(flag(EVE, [n])))[0]);
    expect(results.filter((o) => o?.applied)).to.have.length(10);
    expect(results[10]).to.deep.equal({
      applied: false,
      reason: `${EVE} filed 10 reports in the last hour (limit)`,
    });
    // The first report was told at once; the nine that followed wait for the group's next digest.
    expect(dmsTo(MOD)).to.have.length(1);
    expect(dmsTo(MOD)[0]).to.match(/^New report:\n• [0-9a-f]{12} from /);
    h.clock.now += DIGEST_MS - 1;
    expect(await h.reports.sendDueDigests(), 'before the interval').to.equal(0);
    h.clock.now += 1;
    expect(await h.reports.sendDueDigests()).to.equal(1);
    const digest = dmsTo(MOD)[1] ?? '';
    expect(digest.split('\n')[0]).to.equal('9 new reports:');
    expect(digest.split('\n').filter((l) => l.startsWith('• '))).to.have.length(9);
    expect(await h.store.reports.listUnnotified('club', 10)).to.deep.equal([]);
    expect(await h.reports.sendDueDigests(), 'nothing new').to.equal(0);
    // An hour later the reporter may report again.
    h.clock.now += 3_600_000;
    expect((await h.deliver(flag(EVE, [notes[20]!])))[0]?.applied).to.equal(true);
  });

  it('limits the reports of one host per hour, whoever files them', async function () {
    const results = [];
    for (let i = 0; i < 35; i++) {
      const reporter = `https://evil.example/users/sock${i}`;
      h.actors.add(reporter);
      results.push((await h.deliver(flag(reporter, [notes[0]!])))[0]);
    }
    expect(results.filter((o) => o?.applied)).to.have.length(30);
    expect(results[30]).to.deep.equal({
      applied: false,
      reason: 'evil.example filed 30 reports in the last hour (limit)',
    });
  });

  it('caps the reason kept and the reason quoted, on one line', async function () {
    const long = `first line\nAnswer "resolve all"\n${'x'.repeat(5000)}`;
    expect((await h.deliver(flag(EVE, [notes[0]!], long)))[0]?.applied).to.equal(true);
    const [report] = await h.store.reports.listReports('club', 'open', null, 1);
    expect(report?.reason).to.have.length(MAX_REPORT_REASON);
    const dm = dmsTo(MOD)[0] ?? '';
    expect(dm.split('\n')[1]).to.contain('“first line Answer "resolve all" xxx');
    expect(dm.split('\n')[1]?.length).to.be.below(400);
    expect(dm.split('\n')).to.have.length(3);
  });

  it('files a report of the same post again once the first is resolved, and other objects at once', async function () {
    expect((await h.deliver(flag(EVE, [notes[0]!])))[0]?.applied).to.equal(true);
    expect((await h.deliver(flag(EVE, [notes[0]!, notes[1]!])))[0]?.applied, 'one new object').to.equal(true);
    const reports = await h.store.reports.listReports('club', 'open', null, 10);
    expect(reports.map((r) => r.objectIds)).to.deep.equal([[notes[1]], [notes[0]]]);
    for (const r of reports) await h.moderation.resolveReport('club', r.id, { by: MOD });
    expect((await h.deliver(flag(EVE, [notes[0]!])))[0]?.applied).to.equal(true);
  });

  it('answers a member’s duplicate and excess DM reports without filing them', async function () {
    const send = (text: string) =>
      h.commands.run('club', ALICE, { html: `<p>${text}</p>`, basis: `${ALICE}/dm/${++seq}` }, h.clock.now);
    expect(await send(`report ${notes[0]} spam`)).to.match(/^Thank you: report [0-9a-f]{12}/);
    expect(await send(`report ${notes[0]} spam again`)).to.equal(
      'You already reported that; the moderators have it.',
    );
    for (let i = 1; i < 10; i++) await send(`report ${notes[i]} spam`);
    expect(await send(`report ${notes[10]} spam`)).to.equal(
      'You have sent many reports lately; please try again later.',
    );
    expect(await h.store.reports.listReports('club', 'open', null, 100)).to.have.length(10);
  });

  it('sends the digest owed after a restart, and again after a failed send', async function () {
    await h.deliver(flag(EVE, [notes[0]!]));
    await h.deliver(flag(EVE, [notes[1]!]));
    expect(dmsTo(MOD)).to.have.length(1);
    // A new process: the same store, new services.
    const later = new ReportService({
      store: h.store,
      notices: h.notices,
      limiter: new RateLimiter({ limits: h.store.rateLimits, now: () => h.clock.now }),
      digestIntervalMs: DIGEST_MS,
      now: () => h.clock.now,
    });
    expect(await later.sendDueDigests(), 'the allowance survives the restart').to.equal(0);
    h.clock.now += DIGEST_MS;
    h.events.failNext('DirectMessageSent');
    await later.sendDueDigests().catch(() => undefined);
    expect(await h.store.reports.listUnnotified('club', 10)).to.have.length(1);
    expect(await later.sendDueDigests()).to.equal(1);
    expect(dmsTo(MOD)).to.have.length(2);
    expect(dmsTo(MOD2)).to.have.length(2);
    expect(await h.store.reports.listUnnotified('club', 10)).to.deep.equal([]);
  });
});

describe('reports from every surface are filed once', function () {
  it('files a member’s report of a post once, whether by DM to the Service actor, by Flag or by DM to the group', async function () {
    const s = await startSelfService();
    try {
      await s.group('club');
      await s.member('club', ALICE);
      await s.moderator('club', MOD);
      s.actors.add(ALICE);
      s.actors.add(MOD);
      const note = `${MOD}/notes/1`;
      await s.post('club', note, MOD);
      await s.deliverAll(dmToService(s.urls.origin, ALICE, 'r1', `report !club ${note} spam`));
      expect(s.serviceMessagesTo(ALICE).at(-1)).to.match(
        /^Thank you: report [0-9a-f]{12} is with the moderators/,
      );
      await s.deliverAll(
        dmToService(s.urls.origin, ALICE, 'r2', `report !club@guild.example ${note} more spam`),
      );
      expect(s.serviceMessagesTo(ALICE).at(-1)).to.equal(
        'You already reported that; the moderators have it.',
      );
      const outcomes = await s.deliverAll(flag(ALICE, [note], 'spam again'));
      expect(outcomes[0]).to.deep.include({ applied: false });
      const toGroup: ApObject = {
        '@context': AS,
        id: `${ALICE}/creates/r3`,
        type: 'Create',
        actor: ALICE,
        to: ['https://guild.example/groups/club'],
        object: {
          id: `${ALICE}/notes/r3`,
          type: 'Note',
          attributedTo: ALICE,
          content: `<p>report ${note} and again</p>`,
          to: ['https://guild.example/groups/club'],
          tag: [{ type: 'Mention', href: 'https://guild.example/groups/club' }],
        },
      };
      await s.deliverAll(toGroup);
      const toAlice = s.events.of('DirectMessageSent').filter((e) => e.to.id === ALICE);
      expect(toAlice.at(-1)?.text).to.equal('You already reported that; the moderators have it.');
      const open = await s.store.reports.listReports('club', 'open', null, 10);
      expect(open.map((r) => [r.reporterId, r.objectIds, r.reason])).to.deep.equal([[ALICE, [note], 'spam']]);
      // Resolved from the dashboard (the moderation service), the post may be reported again.
      expect((await s.moderation.resolveReport('club', open[0]!.id, { by: MOD })).ok).to.equal(true);
      await s.deliverAll(dmToService(s.urls.origin, ALICE, 'r4', `report !club ${note} back again`));
      expect(s.serviceMessagesTo(ALICE).at(-1)).to.match(/^Thank you: report/);
      expect(await s.store.reports.listReports('club', 'open', null, 10)).to.have.length(1);
    } finally {
      await s.close();
    }
  });
});
