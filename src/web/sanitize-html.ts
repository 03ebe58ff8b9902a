/**
 * Remote HTML (post content from other servers) made safe to show, with `sanitize-html` (htmlparser2 under it).
 * The allow-list follows what Mastodon applies to remote HTML (`app/lib/sanitize_config.rb`, MASTODON_STRICT):
 * only p, br, a, strong, em, code, pre, ul, ol, li and blockquote survive (b and i become strong and em,
 * headings become paragraphs), without attributes except an absolute http(s) `href` on links, which get
 * `rel="nofollow noopener noreferrer ugc"`; a link with any other target is replaced by its text. Every other
 * tag is dropped with its text kept, script-like elements with their content. The output is always balanced.
 */
import sanitize from 'sanitize-html';
import { Parser } from 'htmlparser2';

/** Elements removed together with everything inside them. */
const DROPPED_WITH_CONTENT = [
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
  'option',
  'head',
  'xmp',
  'plaintext',
];
/** Tags that separate words when turned into text. */
const BLOCKS = new Set([
  ...['p', 'br', 'li', 'ul', 'ol', 'blockquote', 'pre', 'section', 'article', 'div', 'span'],
  ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'tr', 'td', 'th', 'img', 'hr'],
]);
const MAX_INPUT = 50_000;
const MAX_DEPTH = 32;
const REL = 'nofollow noopener noreferrer ugc';
const PARAGRAPH: sanitize.Transformer = sanitize.simpleTransform('p', {}, false);

const OPTIONS: sanitize.IOptions = {
  allowedTags: ['p', 'br', 'a', 'strong', 'em', 'code', 'pre', 'ul', 'ol', 'li', 'blockquote'],
  allowedAttributes: { a: ['href', 'rel'] },
  allowedSchemes: ['http', 'https'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: DROPPED_WITH_CONTENT,
  nestingLimit: MAX_DEPTH,
  selfClosing: ['br'],
  transformTags: {
    b: sanitize.simpleTransform('strong', {}, false),
    i: sanitize.simpleTransform('em', {}, false),
    h1: PARAGRAPH,
    h2: PARAGRAPH,
    h3: PARAGRAPH,
    h4: PARAGRAPH,
    h5: PARAGRAPH,
    h6: PARAGRAPH,
    // A link keeps only a safe, normalised href; without one it becomes a tag that is dropped (text kept).
    a: (_tag, attribs) => {
      const href = safeHref(attribs.href);
      return href === null
        ? { tagName: 'unsafe-link', attribs: {} }
        : { tagName: 'a', attribs: { href, rel: REL } };
    },
  },
  // Paragraphs left without text (`</p>` alone parses as `<p></p>`) are dropped, keeping what is inside.
  exclusiveFilter: (frame) => (frame.tag === 'p' && frame.text.trim() === '' ? 'excludeTag' : false),
};

/** Sanitizes an HTML fragment from the network for display. */
export function sanitizeHtml(input: string): string {
  return sanitize(input.slice(0, MAX_INPUT), OPTIONS).replace(/<br \/>/g, '<br>');
}

/** The text of an HTML fragment, tags removed and character references decoded (escape it before use). */
export function htmlToText(input: string): string {
  let text = '';
  let skipping = 0;
  const dropped = new Set(DROPPED_WITH_CONTENT);
  const parser = new Parser(
    {
      onopentagname(name) {
        if (dropped.has(name)) skipping++;
        if (BLOCKS.has(name)) text += ' ';
      },
      onclosetag(name) {
        if (dropped.has(name)) skipping = Math.max(0, skipping - 1);
        if (BLOCKS.has(name)) text += ' ';
      },
      ontext(data) {
        if (skipping === 0) text += data;
      },
    },
    { decodeEntities: true },
  );
  parser.write(input.slice(0, MAX_INPUT));
  parser.end();
  return text.replace(/\s+/g, ' ').trim();
}

/** An absolute http(s) URL without credentials, normalised; null otherwise. */
function safeHref(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  try {
    const url = new URL(raw.trim());
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    if (url.username || url.password) return null;
    return url.href;
  } catch {
    return null;
  }
}
