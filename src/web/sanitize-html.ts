/**
 * Remote HTML (post content from other servers) made safe to show: only p, br, a, strong, em, code, pre, ul,
 * ol, li and blockquote survive, without attributes except an http(s) `href` on links; every other tag is
 * dropped with its text kept, and script-like elements are dropped with their content. The output is always
 * balanced.
 */

const ALLOWED = new Set(['p', 'br', 'a', 'strong', 'em', 'code', 'pre', 'ul', 'ol', 'li', 'blockquote']);
const RENAMED: Record<string, string> = { b: 'strong', i: 'em' };
/** Elements removed together with everything inside them. */
const DROPPED_WITH_CONTENT = new Set([
  'script',
  'style',
  'template',
  'iframe',
  'object',
  'embed',
  'noscript',
  'noembed',
  'noframes',
  'textarea',
  'title',
  'svg',
  'math',
  'select',
  'head',
  'xmp',
  'plaintext',
]);
/** Dropped tags after which a space keeps neighbouring words apart. */
const SPACING = new Set(['div', 'span', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'tr', 'td', 'th', 'img', 'hr']);
/** Tags that separate words when turned into text. */
const BLOCKS = new Set([...SPACING, 'p', 'br', 'li', 'ul', 'ol', 'blockquote', 'pre', 'section', 'article']);
const MAX_INPUT = 50_000;
const MAX_DEPTH = 32;

/** Sanitizes an HTML fragment from the network for display. */
export function sanitizeHtml(input: string): string {
  const s = input.slice(0, MAX_INPUT);
  const lower = s.toLowerCase();
  const stack: string[] = [];
  let out = '';
  let i = 0;
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    if (lt < 0) {
      out += escapeText(s.slice(i));
      break;
    }
    out += escapeText(s.slice(i, lt));
    if (s.startsWith('<!--', lt)) {
      const end = s.indexOf('-->', lt + 4);
      i = end < 0 ? s.length : end + 3;
      continue;
    }
    if (s[lt + 1] === '!' || s[lt + 1] === '?') {
      const end = s.indexOf('>', lt);
      i = end < 0 ? s.length : end + 1;
      continue;
    }
    const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)/.exec(s.slice(lt, lt + 80));
    if (!m) {
      out += '&lt;';
      i = lt + 1;
      continue;
    }
    const end = tagEnd(s, lt + m[0].length);
    if (end < 0) break; // an unterminated tag: drop the rest
    const closing = m[1] === '/';
    const name = (m[2] ?? '').toLowerCase();
    const attrs = s.slice(lt + m[0].length, end);
    i = end + 1;
    if (!closing && DROPPED_WITH_CONTENT.has(name)) {
      const close = lower.indexOf(`</${name}`, i);
      const closeEnd = close < 0 ? -1 : s.indexOf('>', close);
      i = closeEnd < 0 ? s.length : closeEnd + 1;
      continue;
    }
    const tag = RENAMED[name] ?? name;
    if (!ALLOWED.has(tag)) {
      if (SPACING.has(name) && !out.endsWith(' ')) out += ' ';
      continue;
    }
    if (closing) {
      const at = stack.lastIndexOf(tag);
      if (at < 0) continue;
      while (stack.length > at) out += `</${stack.pop() ?? ''}>`;
      continue;
    }
    if (tag === 'br') {
      out += '<br>';
      continue;
    }
    if (stack.length >= MAX_DEPTH) continue;
    if (tag === 'a') {
      if (stack.includes('a')) continue;
      const href = safeHref(attributeValue(attrs, 'href'));
      if (href === null) continue;
      out += `<a href="${escapeAttribute(href)}" rel="nofollow noopener noreferrer ugc">`;
    } else {
      out += `<${tag}>`;
    }
    stack.push(tag);
  }
  while (stack.length > 0) out += `</${stack.pop() ?? ''}>`;
  return out;
}

/** The text of an HTML fragment, tags removed and character references decoded (escape it before use). */
export function htmlToText(input: string): string {
  const s = input.slice(0, MAX_INPUT);
  let text = '';
  let i = 0;
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    if (lt < 0) {
      text += s.slice(i);
      break;
    }
    text += s.slice(i, lt);
    const end = tagEnd(s, lt + 1);
    if (end < 0) break;
    const name = /^<\/?([a-zA-Z][a-zA-Z0-9]*)/.exec(s.slice(lt, lt + 40))?.[1]?.toLowerCase() ?? '';
    if (BLOCKS.has(name)) text += ' ';
    i = end + 1;
  }
  return decodeEntities(text).replace(/\s+/g, ' ').trim();
}

/** Index of the `>` closing a tag whose attributes start at `from` (quotes respected), or -1. */
function tagEnd(s: string, from: number): number {
  let quote: string | null = null;
  for (let j = from; j < s.length; j++) {
    const c = s[j];
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      return j;
    }
  }
  return -1;
}

function attributeValue(attrs: string, wanted: string): string | null {
  const re = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (let m = re.exec(attrs); m !== null; m = re.exec(attrs)) {
    if ((m[1] ?? '').toLowerCase() === wanted) return decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return null;
}

/** An absolute http(s) URL without credentials, normalised; null otherwise. */
function safeHref(raw: string | null): string | null {
  if (raw === null) return null;
  try {
    const url = new URL(raw.trim());
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    if (url.username || url.password) return null;
    return url.href;
  } catch {
    return null;
  }
}

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  hellip: '\u2026',
  mdash: '\u2014',
  ndash: '\u2013',
  laquo: '\u00ab',
  raquo: '\u00bb',
  copy: '\u00a9',
};

/** Decodes numeric references and a few common named ones; others are left as they are. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z][a-z0-9]{1,31});/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return '\ufffd';
      return String.fromCodePoint(code);
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

/** Escapes text content, keeping well-formed character references (they cannot form markup). */
function escapeText(s: string): string {
  return s
    .replace(/&(?!(?:#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z][a-z0-9]{1,31});)/gi, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

function escapeAttribute(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
