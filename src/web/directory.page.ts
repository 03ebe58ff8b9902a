/** The directory at `/`: discoverable groups, searchable by name, summary and tag, paged, with member counts. */
import type { Group, Store } from '../storage/store.ts';
import type { Urls } from '../groups/urls.ts';
import { escapeHtml } from '../groups/markdown.ts';
import { page } from './layout.ts';

const PAGE_SIZE = 20;
/** Groups scanned per page request when filtering; the store pages by name. */
const SCAN_LIMIT = 2000;

export async function renderDirectory(o: { store: Store; urls: Urls; domain: string; query: string; after: string | null }): Promise<string> {
  const terms = o.query.toLowerCase().split(/\s+/).filter(Boolean);
  const found: Group[] = [];
  let cursor = o.after;
  let scanned = 0;
  let more = false;
  while (found.length <= PAGE_SIZE && scanned < SCAN_LIMIT) {
    const batch = await o.store.groups.listGroups(cursor, 100);
    if (batch.length === 0) break;
    scanned += batch.length;
    for (const g of batch) {
      cursor = g.name;
      if (!g.settings.discoverable || !matches(g, terms)) continue;
      if (found.length === PAGE_SIZE) {
        more = true;
        break;
      }
      found.push(g);
    }
    if (more) break;
  }
  const items = await Promise.all(
    found.map(async (g) => {
      const n = await o.store.members.countMembers(g.name, 'accepted');
      const tags = g.settings.tags.map((t) => `<span>#${escapeHtml(t)}</span>`).join('');
      return `<li>
  <h2><a href="${escapeHtml(o.urls.group(g.name))}">${escapeHtml(g.title)}</a></h2>
  <p class="handle"><code>@${escapeHtml(g.name)}@${escapeHtml(o.domain)}</code> · <span class="members">${n} ${n === 1 ? 'member' : 'members'}</span></p>
  <p>${escapeHtml(g.summary.slice(0, 300))}</p>
  ${tags ? `<p class="tags">${tags}</p>` : ''}
</li>`;
    }),
  );
  const last = found[found.length - 1];
  const next = more && last ? `<a rel="next" href="/?${new URLSearchParams({ q: o.query, after: last.name }).toString()}">More groups</a>` : '';
  const body = `
<h1>Groups on ${escapeHtml(o.domain)}</h1>
<form class="search" method="get" action="/" role="search">
  <label for="q">Search groups</label>
  <input id="q" name="q" type="search" value="${escapeHtml(o.query)}" placeholder="name, topic or tag">
  <button type="submit">Search</button>
</form>
${found.length === 0 ? '<p class="muted" id="no-results">No groups found.</p>' : `<ul class="groups">${items.join('\n')}</ul>`}
${next}`;
  return page(`Groups on ${o.domain}`, body);
}

function matches(g: Group, terms: string[]): boolean {
  if (terms.length === 0) return true;
  const hay = [g.name, g.title, g.summary, ...g.settings.tags.map((t) => `#${t} ${t}`)].join(' ').toLowerCase();
  return terms.every((t) => hay.includes(t.replace(/^#/, '')));
}
