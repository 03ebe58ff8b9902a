/**
 * The directory and the group page in a real headless Chromium: searching finds the right group, the group
 * page shows its handle (with a copy button that only appears with JavaScript), recent posts from a real
 * peer are shown sanitized, and the join form sends people to their own server. Screenshots are saved to
 * test-output/screenshots/.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { startFedifyPeer, type FedifyPeer } from '../support/fedify-peer.ts';
import { missingPrerequisite } from '../support/prerequisites.ts';
import { gradientPng } from '../support/png.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = path.resolve('test-output', 'screenshots');
const IMAGES = 'https://images.example';

describe('directory and group page in a browser', function () {
  this.timeout(90_000);
  let g: TestGuild;
  let alice: FedifyPeer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let host: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      missingPrerequisite({
        what: 'browser tests (test/e2e/directory.browser.test.ts)',
        reason: `${CHROMIUM} is missing`,
        install: 'apt-get install chromium',
      });
      this.skip();
    }
    await mkdir(SCREENSHOTS, { recursive: true });
    g = await startTestGuild();
    host = new URL(g.origin).host;
    const settings = g.guild.services.settings;
    const groups: Array<[string, string, string, string[]]> = [
      [
        'birds',
        'Birdwatching',
        'Sightings, photos and **field notes** from birders everywhere.',
        ['nature', 'birds'],
      ],
      ['cooking', 'Home Cooking', 'Recipes, kitchen tips and questions about food.', ['food', 'recipes']],
      ['rust', 'Rustaceans', 'All about the *Rust* programming language.', ['rust', 'programming']],
      ['secret', 'Secret Kitchen', 'Hidden from the directory.', ['food']],
    ];
    for (const [name, title, summary, tags] of groups) {
      await g.createGroup(name, { title, summary });
      const r = await settings.update(name, {
        tags,
        language: 'en',
        rules: name === 'cooking' ? '1. Be kind\n2. Credit the recipe' : '',
        discoverable: name !== 'secret',
        ...(name === 'rust'
          ? { icon: { url: `${IMAGES}/crab.png` }, banner: { url: `${IMAGES}/banner.png` } }
          : {}),
      });
      expect(r.ok, name).to.equal(true);
    }
    alice = await startFedifyPeer({ username: 'alice' });
    await alice.follow(g.groupUrl('cooking'));
    await alice.waitFor((a) => a.type === 'Accept', { what: 'Accept to alice' });
    const { createId } = await alice.post({
      to: [g.groupUrl('cooking')],
      content:
        '<p>Fresh <strong>bread</strong> tonight! Recipe: <a href="https://bread.example/r">here</a></p>' +
        '<script>document.title = "pwned"</script><img src=x onerror="document.title=\'pwned\'">',
    });
    await g.processed(createId);
    await g.idle();

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: g.origin });
    // The remote images of the rust group, served by the browser itself (nothing leaves the machine).
    const images: Record<string, Buffer> = {
      '/crab.png': gradientPng(96, 96, [222, 80, 40], [250, 180, 60]),
      '/banner.png': gradientPng(800, 200, [40, 70, 160], [120, 200, 220]),
    };
    await context.route(`${IMAGES}/**`, (route) => {
      const body = images[new URL(route.request().url()).pathname];
      return body
        ? route.fulfill({ status: 200, contentType: 'image/png', body })
        : route.fulfill({ status: 404, body: '' });
    });
    page = await context.newPage();
  });
  afterEach(function () {
    printLogsOnFailure(this, [g]);
  });
  after(async function () {
    await browser?.close();
    await alice?.close();
    await g?.close();
  });

  const cardTitles = () => page.locator('ul.groups li h2').allTextContents();

  it('lists the discoverable groups with member counts', async function () {
    await page.goto(`${g.origin}/`);
    expect(await page.title()).to.equal(`Groups on ${host}`);
    expect(await cardTitles()).to.deep.equal(['Birdwatching', 'Home Cooking', 'Rustaceans']);
    const cooking = page.locator('li[data-group="cooking"]');
    expect(await cooking.locator('.members').textContent()).to.equal('1 member');
    expect(await cooking.locator('p.tags').textContent()).to.contain('#food');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'directory.png'), fullPage: true });
  });

  it('finds a group by a word of its summary, typed in the search box', async function () {
    await page.goto(`${g.origin}/`);
    await page.getByLabel('Search groups').fill('kitchen');
    await Promise.all([page.waitForURL(/\?q=kitchen/), page.getByRole('button', { name: 'Search' }).click()]);
    expect(await cardTitles()).to.deep.equal(['Home Cooking']);
    expect(await page.locator('#q').inputValue()).to.equal('kitchen');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'search.png'), fullPage: true });
  });

  it('finds groups by tag and by name, and says when nothing matches', async function () {
    await page.goto(`${g.origin}/`);
    await page.getByLabel('Search groups').fill('#nature');
    await Promise.all([page.waitForURL(/\?q=/), page.keyboard.press('Enter')]);
    expect(await cardTitles()).to.deep.equal(['Birdwatching']);
    await page.getByLabel('Search groups').fill('rust');
    await Promise.all([page.waitForURL(/\?q=rust/), page.keyboard.press('Enter')]);
    expect(await cardTitles()).to.deep.equal(['Rustaceans']);
    await page.getByLabel('Search groups').fill('secret');
    await Promise.all([page.waitForURL(/\?q=secret/), page.keyboard.press('Enter')]);
    expect(await page.locator('#no-results').isVisible()).to.equal(true);
  });

  it('opens the group page, which shows the handle, rules and sanitized recent posts', async function () {
    await page.goto(`${g.origin}/?q=kitchen`);
    await Promise.all([
      page.waitForURL(/\/groups\/cooking$/),
      page.getByRole('link', { name: 'Home Cooking' }).click(),
    ]);
    expect(await page.locator('#handle').textContent()).to.equal(`@cooking@${host}`);
    expect(await page.locator('h1').textContent()).to.equal('Home Cooking');
    expect(await page.locator('#member-count').textContent()).to.equal('1');
    expect(await page.locator('.rules li').allTextContents()).to.deep.equal(['Be kind', 'Credit the recipe']);
    const post = page.locator('ol.posts li.post').first();
    expect(await post.locator('.content').textContent()).to.contain('Fresh bread tonight!');
    expect(await post.locator('.byline').textContent()).to.contain('@alice@');
    expect(await post.locator('a[href="https://bread.example/r"]').count()).to.equal(1);
    expect(await page.locator('ol.posts script, ol.posts img, [onerror]').count()).to.equal(0);
    expect(await page.title()).to.equal('Home Cooking');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'group.png'), fullPage: true });
  });

  it('shows the icon and banner of a group', async function () {
    await page.goto(g.groupUrl('rust'));
    const sizes = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLImageElement>('.profile img')).map((i) => ({
        cls: i.className,
        width: i.naturalWidth,
      })),
    );
    expect(sizes).to.deep.equal([
      { cls: 'banner', width: 800 },
      { cls: 'icon', width: 96 },
    ]);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'group-images.png'), fullPage: true });
    await page.goto(`${g.origin}/?q=rust`);
    expect(await page.locator('li[data-group="rust"] img.icon').getAttribute('src')).to.equal(
      `${IMAGES}/crab.png`,
    );
  });

  it('copies the handle with the copy button', async function () {
    await page.goto(g.groupUrl('cooking'));
    const button = page.getByRole('button', { name: 'Copy' });
    expect(await button.isVisible()).to.equal(true);
    await button.click();
    await page.locator('.copy-status', { hasText: 'Copied' }).waitFor({ timeout: 5000 });
    expect(await page.evaluate(() => navigator.clipboard.readText())).to.equal(`@cooking@${host}`);
  });

  it('still shows the handle without JavaScript, with no dead copy button', async function () {
    if (!browser) throw new Error('no browser');
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const plain = await context.newPage();
      await plain.goto(g.groupUrl('cooking'));
      expect(await plain.locator('#handle').textContent()).to.equal(`@cooking@${host}`);
      expect(await plain.getByRole('button', { name: 'Copy' }).isVisible()).to.equal(false);
      await plain.screenshot({ path: path.join(SCREENSHOTS, 'group-no-js.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('sends people to their own server to join', async function () {
    await page.goto(g.groupUrl('cooking'));
    await page.getByLabel('Your server').fill('social.example');
    const target = `https://social.example/authorize_interaction?uri=${encodeURIComponent(g.groupUrl('cooking'))}`;
    // social.example does not resolve here: the redirect and the request it starts are what is checked.
    const [response, request] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/join'),
      page.waitForRequest((r) => r.url().startsWith('https://social.example/')),
      page.getByRole('button', { name: 'Join from your server' }).click(),
    ]);
    expect(response.status()).to.equal(303);
    expect(response.headers().location).to.equal(target);
    expect(request.url()).to.equal(target);
  });
});
