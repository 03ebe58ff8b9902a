/** The human page of a group, served at the actor URL to browsers. */
import type { Group, Store } from '../storage/store.ts';
import type { Urls } from '../activitypub/urls.ts';
import { markdownToHtml } from '../text/markdown.ts';
import { escapeHtml } from '../text/html.ts';
import { page } from './layout.ts';
import { htmlToText } from './sanitize-html.ts';
import { loadRecentPosts, renderRecentPosts } from './recent-posts.ts';

export async function renderGroupPage(o: {
  group: Group;
  store: Store;
  urls: Urls;
  domain: string;
}): Promise<string> {
  const { group, urls, domain } = o;
  const handle = `@${group.name}@${domain}`;
  if (group.deletedAt !== null) {
    return page(
      `${group.title} (deleted)`,
      `<h1>${escapeHtml(group.title)}</h1><p>This group was deleted.</p>`,
    );
  }
  const [members, posts, links] = await Promise.all([
    o.store.members.countMembers(group.name, 'accepted'),
    loadRecentPosts(o.store, group.name, 10),
    o.store.moves.getMoveState(group.name),
  ]);
  const moved = links.movedTo
    ? `<p class="notice" id="moved" role="status">This group has moved to <a href="${escapeHtml(links.movedTo)}">${escapeHtml(links.movedTo)}</a>. Follow it there: posts sent here are no longer shared.</p>`
    : '';
  const actor = urls.group(group.name);
  const s = group.settings;
  const summaryHtml = markdownToHtml(group.summary);
  const banner = s.bannerUrl
    ? `<img class="banner" src="${escapeHtml(s.bannerUrl)}" alt="" referrerpolicy="no-referrer">`
    : '';
  const icon = s.iconUrl
    ? `<img class="icon" src="${escapeHtml(s.iconUrl)}" alt="" width="96" height="96" referrerpolicy="no-referrer">`
    : `<span class="icon placeholder" aria-hidden="true">${escapeHtml(initial(group.title))}</span>`;
  const tags =
    s.tags.length > 0
      ? `<ul class="tags" aria-label="Tags">${s.tags
          .map(
            (t) =>
              `<li><a href="/?${new URLSearchParams({ q: `#${t}` }).toString()}">#${escapeHtml(t)}</a></li>`,
          )
          .join('')}</ul>`
      : '';
  const facts = [
    `<span id="member-count">${members}</span> ${members === 1 ? 'member' : 'members'}`,
    s.membershipPolicy === 'approval' ? 'joining needs approval' : 'anyone may join',
    s.postingPolicy === 'moderators' ? 'only moderators start threads' : 'members post',
    ...(s.language
      ? [`language: <span lang="${escapeHtml(s.language)}">${escapeHtml(s.language)}</span>`]
      : []),
    ...(s.sensitive ? ['<strong>sensitive content</strong>'] : []),
  ];
  const rules = s.rules
    ? `<section aria-labelledby="rules"><h2 id="rules">Rules</h2><div class="rules">${markdownToHtml(s.rules)}</div></section>`
    : '';
  const langAttr = s.language ? ` lang="${escapeHtml(s.language)}"` : '';
  const body = `
<article class="group"${langAttr}>
  <header class="profile">
    ${banner}
    <div class="identity">
      ${icon}
      <div>
        <h1>${escapeHtml(group.title)}</h1>
        <p class="handle">
          <span class="label">Handle</span>
          <code id="handle">${escapeHtml(handle)}</code>
          <button type="button" class="copy" data-copy="handle" hidden>Copy</button>
          <span class="copy-status" role="status" aria-live="polite"></span>
        </p>
      </div>
    </div>
    <p class="stats">${facts.join(' · ')}</p>
    ${tags}
  </header>
  ${summaryHtml ? `<section class="summary" aria-label="About">${summaryHtml}</section>` : ''}
  ${moved}
  <section aria-labelledby="join" class="join-box"${moved ? ' hidden' : ''}>
    <h2 id="join">Join</h2>
    <p>Search for <code>${escapeHtml(handle)}</code> in your app and follow it, or enter your server:</p>
    <form method="get" action="/join" class="join">
      <input type="hidden" name="uri" value="${escapeHtml(actor)}">
      <label for="server">Your server</label>
      <input id="server" name="server" placeholder="mastodon.social" required autocomplete="url">
      <button type="submit">Join from your server</button>
    </form>
    <p>To post, mention <code>${escapeHtml(handle)}</code> in a public post.</p>
  </section>
  ${rules}
  <section aria-labelledby="posts">
    <h2 id="posts">Recent posts</h2>
    ${renderRecentPosts(posts)}
  </section>
</article>`;
  return page(group.title, body, { description: htmlToText(summaryHtml).slice(0, 200) });
}

function initial(title: string): string {
  return (Array.from(title.trim())[0] ?? '#').toUpperCase();
}
