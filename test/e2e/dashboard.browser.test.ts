/**
 * The moderation dashboard in a real headless Chromium, driven by a person on another server (a Fedify peer):
 * they create a group by DM to the Service actor, sign in from the link it sends them by DM, change the
 * group's settings (and upload an icon), approve a join request, resolve a report and appoint a moderator;
 * members' servers receive each change. Keyboard only where a form is filled. The group is created and the
 * person signed in once, before the tests; each test then starts from its own page and sets up what else it
 * needs, so that it passes alone and in any order. Then every page, dashboard and
 * public: every form control labelled, every link and control reached with Tab, enough text contrast, and no
 * Content-Security-Policy violation reported by the browser. Screenshots are saved to
 * test-output/screenshots/dashboard-*.png (ignored by git).
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer, type ReceivedActivity } from '../support/fedify-peer.ts';
import { askService, loginPathOf, messageOf } from '../support/dashboard-client.ts';
import { missingPrerequisite } from '../support/prerequisites.ts';
import { gradientPng } from '../support/png.ts';
import { lowContrastText, unlabelledControls, unreachableByKeyboard } from '../support/accessibility.ts';
import { SECTIONS } from '../../src/web/dashboard/group.pages.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = path.resolve('test-output', 'screenshots');
const AS = 'https://www.w3.org/ns/activitystreams';

const announces = (type: string) => (a: ReceivedActivity) =>
  a.type === 'Announce' && (a.json.object as { type?: string } | undefined)?.type === type;

describe('the moderation dashboard in a browser', function () {
  this.timeout(120_000);
  let g: TestGuild;
  let owner: FedifyPeer;
  let member: FedifyPeer;
  let joiner: FedifyPeer;
  let helper: FedifyPeer;
  let browser: Browser | undefined;
  let page: Page;
  let group: string;
  /** What the browser reported as blocked by the Content-Security-Policy, and script errors. */
  const violations: string[] = [];

  const shot = (name: string) =>
    page.screenshot({ path: path.join(SCREENSHOTS, `dashboard-${name}.png`), fullPage: true });

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      missingPrerequisite({
        what: 'browser tests (test/e2e/dashboard.browser.test.ts)',
        reason: `${CHROMIUM} is missing`,
        install: 'apt-get install chromium',
      });
      this.skip();
    }
    await mkdir(SCREENSHOTS, { recursive: true });
    g = await startTestGuild();
    [owner, member, joiner, helper] = await Promise.all([
      startFedifyPeer({ username: 'chef' }),
      startFedifyPeer({ username: 'member' }),
      startFedifyPeer({ username: 'joiner' }),
      startFedifyPeer({ username: 'helper' }),
    ]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-sync',
      ],
    });
    page = await (await browser.newContext({ viewport: { width: 1000, height: 900 } })).newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text()))
        violations.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => violations.push(`${page.url()}: ${e.message}`));

    // The person creates the group by DM, a member joins, and the person signs in from the link sent by DM.
    await askService(owner, g.origin, 'create kitchen Kitchen talk', /Created @kitchen@/);
    group = g.groupUrl('kitchen');
    await member.follow(group);
    await member.waitFor((a) => a.type === 'Accept', { what: 'Accept of the member' });
    await page.goto(`${g.origin}/login`);
    await page.getByLabel('Your fediverse handle').fill(owner.handle);
    await shot('login');
    const before = owner.received.length;
    await page.keyboard.press('Enter');
    await page.getByText('Check your direct messages').waitFor();
    const dm = await owner.waitFor(
      (a) => owner.received.indexOf(a) >= before && messageOf(a).includes('/login/'),
      { what: 'the sign-in link by DM' },
    );
    await page.goto(`${g.origin}${loginPathOf(messageOf(dm))}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${g.origin}/dashboard`);
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await browser?.close();
    await Promise.all([owner?.close(), member?.close(), joiner?.close(), helper?.close()]);
    await g?.close();
  });

  it('creates a group by DM and signs in from the link received by DM', async function () {
    expect(await g.store.owners.getOwner('kitchen')).to.include({ actorId: owner.actorId });
    await page.goto(`${g.origin}/dashboard`);
    expect(await page.locator('#my-groups [data-group="kitchen"] .role').textContent()).to.equal('owner');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'guild_session');
    expect(session?.httpOnly).to.equal(true);
    expect(session?.sameSite).to.equal('Lax');
    await shot('home');
  });

  it('changes the settings and uploads an icon; members’ servers get the new profile', async function () {
    await page.goto(`${g.origin}/dashboard`);
    await page.locator('#my-groups [data-group="kitchen"] a').click();
    await page.getByLabel('Title').fill('Kitchen & Table');
    await page.getByLabel('Summary (markdown)').fill('Recipes, **techniques** and questions.');
    await page.getByLabel('Who may join').selectOption('approval');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#notice').waitFor();
    expect(await page.locator('#notice').textContent()).to.include('Settings saved');
    await member.waitFor((a) => a.type === 'Update' && JSON.stringify(a.json).includes('Kitchen & Table'), {
      what: 'the Update{Group} with the new title',
    });
    const icon = path.join(SCREENSHOTS, '..', 'kitchen-icon.png');
    await writeFile(icon, gradientPng(64, 64, [200, 60, 40], [250, 200, 80]));
    await page.getByLabel('Icon image').setInputFiles(icon);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#notice').waitFor();
    const stored = await g.guild.services.groups.get('kitchen');
    expect(stored?.title).to.equal('Kitchen & Table');
    expect(stored?.settings.membershipPolicy).to.equal('approval');
    expect(stored?.settings.iconUrl).to.match(/\/media\/[0-9a-f]{64}\.png$/);
    await shot('settings');
  });

  it('approves a join request; the joiner’s server is told', async function () {
    // Join requests wait for a moderator in an approval group (the settings test may have set it already).
    await g.guild.services.settings.update('kitchen', { membershipPolicy: 'approval' });
    expect((await g.guild.services.groups.get('kitchen'))?.settings.membershipPolicy).to.equal('approval');
    await joiner.follow(group);
    await g.idle();
    await page.goto(`${g.origin}/dashboard/groups/kitchen/settings`);
    await page.getByRole('link', { name: 'Members' }).click();
    const row = page.locator('#pending li', { hasText: joiner.actorId });
    await row.waitFor();
    await shot('join-request');
    await row.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#notice').waitFor();
    await joiner.waitFor((a) => a.type === 'Accept', { what: 'the Accept of the join request' });
    expect((await g.store.members.getMember('kitchen', joiner.actorId))?.state).to.equal('accepted');
    const audit = await g.store.audit.listAudit({ group: 'kitchen' }, null, 20);
    expect(audit.some((e) => e.action === 'approve-member' && e.actorId === owner.actorId)).to.equal(true);
  });

  it('resolves a report, the reported post shown sanitised; the reporter’s server is told', async function () {
    const { createId, noteId } = await member.post({
      to: [group],
      content:
        '<p>Buy cheap pans <script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'"></p>',
    });
    await g.processed(createId);
    const flagId = `${joiner.actorId}/flags/${randomUUID()}`;
    await joiner.sendRaw(`${g.origin}/inbox`, {
      '@context': AS,
      id: flagId,
      type: 'Flag',
      actor: joiner.actorId,
      object: [member.actorId, noteId],
      content: 'spam',
      to: [group],
    });
    await g.processed(flagId);
    await page.goto(`${g.origin}/dashboard/groups/kitchen/settings`);
    await page.getByRole('link', { name: 'Reports' }).click();
    const report = page.locator('#reports li', { hasText: 'spam' });
    await report.waitFor();
    expect(await report.locator('blockquote.reported').innerHTML())
      .to.not.include('<script')
      .and.to.not.include('onerror');
    expect(await page.title()).to.not.equal('pwned');
    await shot('reports');
    await report.getByRole('button', { name: 'Mark resolved' }).click();
    await page.locator('#notice').waitFor();
    await joiner.waitFor((a) => a.type.includes('Resolve') || JSON.stringify(a.json).includes(flagId), {
      what: 'the Resolve of the report',
    });
    expect((await g.store.reports.listReports('kitchen', 'open', null, 10)).length).to.equal(0);
  });

  it('appoints a moderator by handle, with the keyboard; members’ servers get the Add', async function () {
    await page.goto(`${g.origin}/dashboard/groups/kitchen/settings`);
    await page.getByRole('link', { name: 'Moderators' }).click();
    await page.getByLabel('Account').focus();
    await page.keyboard.type(helper.handle);
    await page.keyboard.press('Enter');
    await page.locator('#notice').waitFor();
    expect(await g.store.moderators.isModerator('kitchen', helper.actorId)).to.equal(true);
    await member.waitFor(announces('Add'), { what: 'Announce{Add} of the new moderator' });
    const items = await page.locator('#moderators li').allTextContents();
    expect(items[0]).to.include(owner.actorId).and.to.include('owner');
    await shot('moderators');
    await page.getByRole('link', { name: 'Audit log' }).click();
    expect(await page.locator('#audit').textContent()).to.include('add-moderator');
    await shot('audit');
  });

  it('every page: controls labelled, reached with Tab, text contrast enough, nothing blocked by the CSP', async function () {
    const paths = [
      '/dashboard',
      ...SECTIONS.map((s) => `/dashboard/groups/kitchen/${s}`),
      '/',
      '/?q=kitchen',
      '/groups/kitchen',
    ];
    for (const p of paths) {
      const res = await page.goto(`${g.origin}${p}`);
      expect(res?.status(), p).to.equal(200);
      expect(res?.headers()['content-security-policy'], p).to.include("default-src 'none'");
      expect(await unlabelledControls(page), `unlabelled on ${p}`).to.deep.equal([]);
      expect(await lowContrastText(page), `low contrast on ${p}`).to.deep.equal([]);
      expect(await unreachableByKeyboard(page), `not reached with Tab on ${p}`).to.deep.equal([]);
    }
    // The copy button of the group page runs its script under the policy.
    await page.getByRole('button', { name: /copy/i }).first().click();
    expect(violations).to.deep.equal([]);
  });
});
