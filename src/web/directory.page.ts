/**
 * The directory at `/`: discoverable groups, searchable by name, summary and tag, paged, with member counts; then
 * the groups that peered instances list (see groups/peering.service.ts), marked with their host, with the same
 * "join from your server" form.
 */
import type { Group, Store } from '../storage/store.ts';
import type { DirectoryEntry, Peer } from '../storage/links.store.ts';
import { peerIsLive } from '../groups/peering.service.ts';
import type { Urls } from '../activitypub/urls.ts';
import { markdownToHtml } from '../text/markdown.ts';
import { escapeHtml } from '../text/html.ts';
import { page } from './layout.ts';
import { htmlToText } from './sanitize-html.ts';

export const DIRECTORY_PAGE_SIZE = 20;
/** Groups scanned per page request when filtering; the store pages by name. */
const SCAN_LIMIT = 2000;
/** The cursor of the peers' part of the directory starts with this (then the last actor id shown). */
const PEER_CURSOR = 'peer:';
/** Peers read at most to know whose groups are shown. */
const MAX_PEERS = 1000;
const EXCERPT_LENGTH = 240;

export async function renderDirectory(o: {
  store: Store;
  urls: Urls;
  domain: string;
  query: string;
  after: string | null;
  now?: number;
}): Promise<string> {
  const terms = searchTerms(o.query);
  const local = o.after?.startsWith(PEER_CURSOR) ? null : await findLocal(o.store, terms, o.after);
  const found = local?.found ?? [];
  let nextAfter = local?.nextAfter ?? null;
  let more = local?.more ?? false;
  let peers: DirectoryEntry[] = [];
  // Peers' groups come after the local ones, once those are all shown.
  if (local === null || (!more && nextAfter === null && found.length < DIRECTORY_PAGE_SIZE)) {
    const cursor = local === null ? (o.after ?? PEER_CURSOR).slice(PEER_CURSOR.length) || null : null;
    const remote = await findPeers(
      o.store,
      terms,
      cursor,
      DIRECTORY_PAGE_SIZE - found.length,
      o.now ?? Date.now(),
    );
    peers = remote.found;
    more = remote.more;
    nextAfter = remote.nextAfter === null ? null : `${PEER_CURSOR}${remote.nextAfter}`;
  }
  const items = [
    ...(await Promise.all(found.map((g) => renderCard(g, o)))),
    ...peers.map((e) => renderPeerCard(e)),
  ];
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
  items.length === 0
    ? `<p class="muted" id="no-results">No groups found${o.query ? ' for this search' : ''}.</p>`
    : `<ul class="groups" id="results">${items.join('\n')}</ul>`
}
${next}`;
  return page(o.query ? `${o.query} · Groups on ${o.domain}` : `Groups on ${o.domain}`, body, {
    description: `Fediverse groups hosted on ${o.domain} and its peers`,
  });
}

interface Found<T> {
  found: T[];
  /** Where the next page starts, or null when everything was seen. */
  nextAfter: string | null;
  /** A further match is known to exist. */
  more: boolean;
}

/** The local discoverable groups matching the search, after `after` (by name). */
async function findLocal(store: Store, terms: string[], after: string | null): Promise<Found<Group>> {
  const found: Group[] = [];
  let cursor = after;
  let scanned = 0;
  let exhausted = false;
  let more = false;
  while (!more && scanned < SCAN_LIMIT) {
    const batch = await store.groups.listGroups(cursor, 100);
    if (batch.length === 0) {
      exhausted = true;
      break;
    }
    scanned += batch.length;
    for (const g of batch) {
      if (!g.settings.discoverable || !matches(g, terms) || (await hasMoved(store, g.name))) {
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
  const nextAfter = more ? (found[found.length - 1]?.name ?? null) : !exhausted ? cursor : null;
  return { found, nextAfter, more };
}

async function hasMoved(store: Store, name: string): Promise<boolean> {
  return (await store.moves.getMoveState(name)).movedTo !== null;
}

/** Peers' groups matching the search, after `after` (by actor id), from peers that are live. */
async function findPeers(
  store: Store,
  terms: string[],
  after: string | null,
  room: number,
  now: number,
): Promise<Found<DirectoryEntry>> {
  const live = new Set<string>();
  for (let cursor: string | null = null, n = 0; n < MAX_PEERS;) {
    const page: Peer[] = await store.peerings.listPeers(cursor, 100);
    if (page.length === 0) break;
    for (const p of page) if (peerIsLive(p, now)) live.add(p.host);
    n += page.length;
    cursor = page[page.length - 1]?.host ?? null;
  }
  const found: DirectoryEntry[] = [];
  if (live.size === 0) return { found, nextAfter: null, more: false };
  let cursor = after;
  let scanned = 0;
  for (;;) {
    const batch = await store.directory.listEntries(cursor, 100);
    if (batch.length === 0) return { found, nextAfter: null, more: false };
    for (const e of batch) {
      scanned++;
      if (live.has(e.host) && matchesEntry(e, terms)) {
        if (found.length >= room) return { found, nextAfter: cursor, more: true };
        found.push(e);
      }
      cursor = e.actorId;
      if (scanned >= SCAN_LIMIT) return { found, nextAfter: cursor, more: false };
    }
  }
}

/** A group a peer lists: on its own server, marked with the host, with a form to join from one's server. */
function renderPeerCard(e: DirectoryEntry): string {
  const excerpt = truncate(e.summary, EXCERPT_LENGTH);
  const tags = e.tags
    .map((t) => `<a href="/?${new URLSearchParams({ q: `#${t}` }).toString()}">#${escapeHtml(t)}</a>`)
    .join(' ');
  const icon = e.iconUrl
    ? `<img class="icon" src="${escapeHtml(e.iconUrl)}" alt="" width="48" height="48" loading="lazy" referrerpolicy="no-referrer">`
    : `<span class="icon placeholder" aria-hidden="true">${escapeHtml((Array.from(e.title)[0] ?? '#').toUpperCase())}</span>`;
  const id = `join-${Buffer.from(e.actorId).toString('base64url').slice(-24)}`;
  return `<li class="group-card" data-group="${escapeHtml(`${e.name}@${e.host}`)}" data-peer="${escapeHtml(e.host)}">
  ${icon}
  <div>
  <h2><a href="${escapeHtml(e.actorId)}">${escapeHtml(e.title)}</a></h2>
  <p class="handle"><code>@${escapeHtml(e.name)}@${escapeHtml(e.host)}</code>
    <span class="peer">on ${escapeHtml(e.host)}</span>${e.membershipPolicy === 'approval' ? ' <span class="muted">· approval needed</span>' : ''}</p>
  ${excerpt ? `<p>${escapeHtml(excerpt)}</p>` : ''}
  ${tags ? `<p class="tags">${tags}</p>` : ''}
  <form method="get" action="/join" class="join">
    <input type="hidden" name="uri" value="${escapeHtml(e.actorId)}">
    <label for="${id}">Your server</label>
    <input id="${id}" name="server" placeholder="mastodon.social" required autocomplete="url">
    <button type="submit">Join from your server</button>
  </form>
  </div>
</li>`;
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
  return matchesText([g.name, g.title, g.summary], g.settings.tags, terms);
}

function matchesEntry(e: DirectoryEntry, terms: string[]): boolean {
  return matchesText([e.name, e.host, e.title, e.summary], e.tags, terms);
}

function matchesText(fields: string[], tags: string[], terms: string[]): boolean {
  if (terms.length === 0) return true;
  const text = [...fields, ...tags].join(' ').toLowerCase();
  return terms.every((t) => {
    if (t.startsWith('#')) {
      const tag = t.slice(1);
      return tag === '' || tags.some((x) => x.toLowerCase() === tag);
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
