/** The human page of a group, served at the actor URL to browsers. */
import type { Group, Store } from '../storage/store.ts';
import type { Urls } from '../groups/urls.ts';
import { escapeHtml, markdownToHtml } from '../groups/markdown.ts';
import { page } from './layout.ts';

export async function renderGroupPage(o: { group: Group; store: Store; urls: Urls; domain: string }): Promise<string> {
  const { group, urls, domain } = o;
  const handle = `@${group.name}@${domain}`;
  if (group.deletedAt !== null) {
    return page(`${group.title} (deleted)`, `<h1>${escapeHtml(group.title)}</h1><p>This group was deleted.</p>`);
  }
  const members = await o.store.members.countMembers(group.name, 'accepted');
  const actor = urls.group(group.name);
  const s = group.settings;
  const rules = s.rules ? `<section aria-labelledby="rules"><h2 id="rules">Rules</h2>${markdownToHtml(s.rules)}</section>` : '';
  const body = `
<article class="group">
  <h1>${escapeHtml(group.title)}</h1>
  <p class="handle">Handle: <code id="handle">${escapeHtml(handle)}</code></p>
  <p class="stats"><span id="member-count">${members}</span> ${members === 1 ? 'member' : 'members'} ·
    ${s.membershipPolicy === 'approval' ? 'joining needs approval' : 'anyone may join'} ·
    ${s.postingPolicy === 'moderators' ? 'moderators post' : 'members post'}</p>
  <section class="summary">${markdownToHtml(group.summary)}</section>
  ${rules}
  <section aria-labelledby="join">
    <h2 id="join">Join from your server</h2>
    <p>Search for <code>${escapeHtml(handle)}</code> in your app and follow it, or enter your server:</p>
    <form method="get" action="/join" class="join">
      <input type="hidden" name="uri" value="${escapeHtml(actor)}">
      <label for="server">Your server</label>
      <input id="server" name="server" placeholder="mastodon.social" required autocomplete="url">
      <button type="submit">Join</button>
    </form>
    <p>To post, mention <code>${escapeHtml(handle)}</code> in a public post.</p>
  </section>
</article>`;
  return page(group.title, body);
}
