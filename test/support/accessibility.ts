/**
 * Accessibility checks of a page in a real browser (Playwright), each returning what fails so that a test can
 * name it: every form control has a label and every button a name; every link and control is reached with
 * the Tab key; the text has enough contrast with what is behind it (WCAG 2: 4.5:1, 3:1 for large text).
 * The code run in the page is plain JavaScript text (not a compiled function, which may carry helpers).
 */
import type { Page } from 'playwright-core';

const UNLABELLED = `(() => {
  const named = (e) => (e.getAttribute('aria-label') || '').trim() !== '' || e.hasAttribute('aria-labelledby');
  const controls = [...document.querySelectorAll('input, select, textarea')]
    .filter((e) => !['hidden', 'submit', 'button', 'reset'].includes(e.type))
    .filter((e) => !(e.labels && [...e.labels].some((l) => l.textContent.trim() !== '')) && !named(e));
  const buttons = [...document.querySelectorAll('button, input[type=submit]')]
    .filter((e) => (e.textContent || e.value || '').trim() === '' && !named(e));
  return [...controls, ...buttons].map((e) => e.outerHTML.slice(0, 200));
})()`;

const MARK_FOCUSABLE = `(() => {
  const all = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')]
    .filter((e) => !e.disabled);
  all.forEach((e, i) => e.setAttribute('data-kb', String(i)));
  return all.length;
})()`;

const CONTRAST = `(() => {
  const rgba = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (e) => {
    const layers = [];
    for (let n = e; n; n = n.parentElement) {
      const b = rgba(getComputedStyle(n).backgroundColor);
      if (b && b[3] > 0) layers.push(b);
    }
    let bg = [255, 255, 255, 1];
    for (const l of layers.reverse()) bg = over(l, bg);
    return bg;
  };
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const text = [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
    if (!text || e.getClientRects().length === 0) continue;
    const r = e.getBoundingClientRect();
    if (r.right < 0 || r.bottom < 0) continue;
    const s = getComputedStyle(e);
    if (s.visibility === 'hidden') continue;
    const bg = background(e);
    const fg = over(rgba(s.color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(s.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5))
      out.push(e.tagName.toLowerCase() + ' "' + text.slice(0, 40) + '": ' + ratio.toFixed(2) + ':1');
  }
  return out;
})()`;

/** Form controls without a label, and buttons without a name (their markup). */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(UNLABELLED);
}

/**
 * Links and controls that pressing Tab from the top of the page never reaches (their markup). Call it on a
 * page just loaded, before anything has the focus.
 */
export async function unreachableByKeyboard(page: Page): Promise<string[]> {
  const count = await page.evaluate<number>(MARK_FOCUSABLE);
  const reached = new Set<string>();
  for (let i = 0; i < count + 3; i++) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate<string | null>(`document.activeElement?.getAttribute('data-kb') ?? null`);
    if (at !== null) reached.add(at);
  }
  const missed: string[] = [];
  for (let i = 0; i < count; i++)
    if (!reached.has(String(i)))
      missed.push(
        await page.evaluate<string>(`document.querySelector('[data-kb="${i}"]').outerHTML.slice(0, 200)`),
      );
  return missed;
}

/** Text whose contrast with its background is too low, with the ratio found. */
export function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(CONTRAST);
}
