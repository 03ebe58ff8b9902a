/** The directory at `/`: discoverable groups, searchable by name, summary and tag, paged, with member counts. */
import type { Group, Store } from '../storage/store.ts';
import type { Urls } from '../activitypub/urls.ts';
import { markdownToHtml } from '../text/markdown.ts';
import { escapeHtml } from '../text/html.ts';
import { page } from './layout.ts';
import { htmlToText } from './sanitize-html.ts';

export const DIRECTORY_PAGE_SIZE = 20;
/** Groups scanned per page request when filtering; the store pages by name. */
const SCAN_LIMIT = 2000;
const EXCERPT_LENGTH = 240;

export async function renderDirectory(o: {
  store: Store;
  urls: Urls;
  domain: string;
  query: string;
  after: string | null;
}): Promise<string> {
  const terms = searchTerms(o.query);
  const found: Group[] = [];
  let cursor = o.after;
  let scanned = 0;
  let exhausted = false;
  let more = false;
  while (!more && scanned < SCAN_LIMIT) {
    const batch = await o.store.groups.listGroups(cursor, 100);
    if (batch.length === 0) {
      exhausted = true;
      break;
    }
    scanned += batch.length;
    for (const g of batch) {
      if (!g.settings.discoverable || !matches(g, terms)) {
        cursor = g.name;
        continue;
      }
      if (found.length === DIRECTORY_PAGE_SIZE) {
        more = true;
        break;
      }
      found.push(g);
      cursor = g.name;
    }
  }
  // Resume after the last group shown, or after the last group scanned when the scan stopped early.
  const nextAfter = more ? found[found.length - 1]?.name : !exhausted ? cursor : null;
  const items = await Promise.all(found.map((g) => renderCard(g, o)));
  const next = nextAfter
    ? `<nav class="pager" aria-label="More groups"><a rel="next" href="/?${new URLSearchParams({ q: o.query, after: nextAfter }).toString()}">${more ? 'More groups' : 'Keep searching'}</a></nav>`
    : '';
  const heading = o.query ? `Groups matching “${escapeHtml(o.query)}”` : `Groups on ${escapeHtml(o.domain)}`;
  const body = `
<h1>${heading}</h1>
<form class="search" method="get" action="/" role="search">
  <label for="q">Search groups</label>
  <input id="q" name="q" type="search" value="${escapeHtml(o.query)}" placeholder="name, topic or #tag">
  <button type="submit">Search</button>
</form>
${
  found.length === 0
    ? `<p class="muted" id="no-results">No groups found${o.query ? ' for this search' : ''}.</p>`
    : `<ul class="groups" id="results">${items.join('\n')}</ul>`
}
${next}`;
  return page(o.query ? `${o.query} · Groups on ${o.domain}` : `Groups on ${o.domain}`, body, {
    description: `Fediverse groups hosted on ${o.domain}`,
  });
}

async function renderCard(g: Group, o: { store: Store; urls: Urls; domain: string }): Promise<string> {
  const n = await o.store.members.countMembers(g.name, 'accepted');
  const excerpt = truncate(htmlToText(markdownToHtml(g.summary)), EXCERPT_LENGTH);
  const tags = g.settings.tags
    .map((t) => `<a href="/?${new URLSearchParams({ q: `#${t}` }).toString()}">#${escapeHtml(t)}</a>`)
    .join(' ');
  const icon = g.settings.iconUrl
    ? `<img class="icon" src="${escapeHtml(g.settings.iconUrl)}" alt="" width="48" height="48" loading="lazy" referrerpolicy="no-referrer">`
    : `<span class="icon placeholder" aria-hidden="true">${escapeHtml((Array.from(g.title)[0] ?? '#').toUpperCase())}</span>`;
  return `<li class="group-card" data-group="${escapeHtml(g.name)}">
  ${icon}
  <div>
  <h2><a href="${escapeHtml(o.urls.group(g.name))}">${escapeHtml(g.title)}</a></h2>
  <p class="handle"><code>@${escapeHtml(g.name)}@${escapeHtml(o.domain)}</code>
    <span class="members">${n} ${n === 1 ? 'member' : 'members'}</span>${g.settings.membershipPolicy === 'approval' ? ' <span class="muted">· approval needed</span>' : ''}</p>
  ${excerpt ? `<p>${escapeHtml(excerpt)}</p>` : ''}
  ${tags ? `<p class="tags">${tags}</p>` : ''}
  </div>
</li>`;
}

/** Lowercase words of a query; a word starting with `#` must match a tag exactly. */
function searchTerms(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(Boolean).slice(0, 10);
}

function matches(g: Group, terms: string[]): boolean {
  if (terms.length === 0) return true;
  const text = [g.name, g.title, g.summary, ...g.settings.tags].join(' ').toLowerCase();
  return terms.every((t) => {
    if (t.startsWith('#')) {
      const tag = t.slice(1);
      return tag === '' || g.settings.tags.some((x) => x.toLowerCase() === tag);
    }
    return text.includes(t);
  });
}

function truncate(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max
    ? s
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`;
}
