/**
 * The sections of a group's dashboard page, rendered from the store: settings, members and join requests,
 * reports (with the reported post sanitised), held posts, bans, moderators, moves and follows (links.section.ts)
 * and the audit log. Text from other
 * servers is escaped, or sanitised when it is HTML.
 */
import type { Group, Store } from '../../storage/store.ts';
import type { GroupRole } from '../../groups/ownership.service.ts';
import { MAX_RULES_LENGTH, MAX_SUMMARY_LENGTH } from '../../groups/settings.service.ts';
import { isObject, str } from '../../activitypub/vocab.ts';
import { escapeHtml } from '../../text/html.ts';
import { sanitizeHtml } from '../sanitize-html.ts';
import { linksSection } from './links.section.ts';
import { buttonForm, checkField, postForm, selectField, textArea, textField } from './forms.ts';

export const SECTIONS = [
  'settings',
  'members',
  'reports',
  'held',
  'bans',
  'moderators',
  'links',
  'audit',
] as const;
export type Section = (typeof SECTIONS)[number];
const TITLES: Record<Section, string> = {
  settings: 'Settings',
  members: 'Members',
  reports: 'Reports',
  held: 'Held posts',
  bans: 'Bans',
  moderators: 'Moderators',
  links: 'Moves and follows',
  audit: 'Audit log',
};

export interface SectionView {
  store: Store;
  group: Group;
  role: GroupRole;
  csrf: string;
  /** host[:port], in handles. */
  domain: string;
  /** Query of the page (cursors). */
  query: Record<string, unknown>;
}

/** The navigation between sections, the current one marked. */
export function sectionNav(name: string, current: Section): string {
  const items = SECTIONS.map((s) => {
    const cur = s === current ? ' aria-current="page"' : '';
    return `<li><a href="/dashboard/groups/${escapeHtml(name)}/${s}"${cur}>${TITLES[s]}</a></li>`;
  }).join('');
  return `<nav class="sections" aria-label="Group sections"><ul>${items}</ul></nav>`;
}

export function sectionTitle(s: Section): string {
  return TITLES[s];
}

const base = (v: SectionView): string => `/dashboard/groups/${v.group.name}`;
const who = (id: string): string =>
  `<a href="${escapeHtml(id)}" rel="nofollow noopener">${escapeHtml(id)}</a>`;
const when = (t: number): string =>
  `<time datetime="${new Date(t).toISOString()}">${new Date(t).toISOString().slice(0, 16).replace('T', ' ')}</time>`;

export async function renderSection(s: Section, v: SectionView): Promise<string> {
  switch (s) {
    case 'settings':
      return settings(v);
    case 'members':
      return members(v);
    case 'reports':
      return reports(v);
    case 'held':
      return held(v);
    case 'bans':
      return bans(v);
    case 'moderators':
      return moderators(v);
    case 'links':
      return linksSection(v);
    case 'audit':
      return audit(v);
    default: {
      const never: never = s;
      throw new Error(`no section ${String(never)}`);
    }
  }
}

function settings(v: SectionView): string {
  const g = v.group;
  const s = g.settings;
  const fields = [
    textField('title', 'Title', g.title, { required: true, max: 200 }),
    textArea('summary', 'Summary (markdown)', g.summary, MAX_SUMMARY_LENGTH),
    textArea('rules', 'Rules (markdown)', s.rules, MAX_RULES_LENGTH),
    textField('language', 'Language', s.language ?? '', {
      hint: 'A tag such as en, de or pt-BR; empty for none',
      max: 35,
    }),
    textField('tags', 'Tags', s.tags.join(', '), { hint: 'Comma-separated, at most 10', max: 800 }),
    selectField('membershipPolicy', 'Who may join', s.membershipPolicy, [
      ['open', 'Anyone (open)'],
      ['approval', 'After approval'],
    ]),
    selectField('postingPolicy', 'Who may post', s.postingPolicy, [
      ['members', 'Members'],
      ['moderators', 'Moderators only'],
    ]),
    textField('maxGroupMentions', 'Most groups one post may mention', String(s.maxGroupMentions), {
      type: 'number',
    }),
    textField('maxPostsPerHour', 'Posts per member per hour (0: no limit)', String(s.maxPostsPerHour), {
      type: 'number',
    }),
    textField(
      'maxActivitiesPerHour',
      'Votes and edits per member per hour (0: no limit)',
      String(s.maxActivitiesPerHour),
      { type: 'number' },
    ),
    textField(
      'maxEditsPerPostPerHour',
      'Edits of one post per hour (0: no limit)',
      String(s.maxEditsPerPostPerHour),
      { type: 'number' },
    ),
    textField(
      'premoderateFirstPosts',
      "New members' posts held for approval (0: off)",
      String(s.premoderateFirstPosts),
      { type: 'number' },
    ),
    checkField('sensitive', 'Posts are sensitive', s.sensitive),
    checkField('discoverable', 'Listed in the directory', s.discoverable),
    checkField('listFollowers', 'List the members publicly', s.listFollowers),
    checkField('acceptGroupFollowers', 'Let other groups follow this one', s.acceptGroupFollowers),
    textField('iconUrl', 'Icon URL', s.iconUrl ?? '', {
      hint: 'Or upload a file below; empty for none',
      max: 2048,
    }),
    textField('bannerUrl', 'Banner URL', s.bannerUrl ?? '', { max: 2048 }),
  ].join('\n');
  const images = `${fileField('icon', 'Icon image')}\n${fileField('banner', 'Banner image')}
<p class="hint" id="images-hint">PNG, JPEG, GIF or WebP, at most 2 MiB each.</p>
<button type="submit">Upload</button>`;
  return `${postForm(`${base(v)}/settings`, v.csrf, `${fields}\n<button type="submit">Save settings</button>`, { cls: 'stack', label: 'Settings' })}
<h3>Icon and banner</h3>
${postForm(`${base(v)}/images`, v.csrf, images, { cls: 'stack', multipart: true, label: 'Images' })}`;
}

function fileField(name: string, label: string): string {
  return `<p class="field"><label for="f-${name}">${escapeHtml(label)}</label>
<input id="f-${name}" name="${name}" type="file" accept="image/png,image/jpeg,image/gif,image/webp" aria-describedby="images-hint"></p>`;
}

async function members(v: SectionView): Promise<string> {
  const name = v.group.name;
  const after = typeof v.query.after === 'string' ? v.query.after.slice(0, 2048) : null;
  const pending = await v.store.members.listMembers(name, 'pending', null, 100);
  const accepted = await v.store.members.listMembers(name, 'accepted', after, 50);
  const pendingRows = pending.length
    ? `<ul class="rows" id="pending">${pending
        .map(
          (m) => `<li>${who(m.actorId)} <span class="muted">asked ${when(m.createdAt)}</span>
${buttonForm(`${base(v)}/approve`, v.csrf, 'Approve', { actor: m.actorId })}
${buttonForm(`${base(v)}/reject`, v.csrf, 'Reject', { actor: m.actorId }, true)}</li>`,
        )
        .join('\n')}</ul>`
    : '<p class="muted" id="pending">No join requests.</p>';
  const memberRows = accepted.length
    ? `<ul class="rows" id="members">${accepted
        .map(
          (m) =>
            `<li>${who(m.actorId)} ${buttonForm(`${base(v)}/remove-member`, v.csrf, 'Remove', { actor: m.actorId }, true)}</li>`,
        )
        .join('\n')}</ul>`
    : '<p class="muted" id="members">No members yet.</p>';
  const last = accepted[accepted.length - 1];
  const more =
    accepted.length === 50 && last
      ? `<nav class="pager"><a rel="next" href="${base(v)}/members?after=${encodeURIComponent(last.actorId)}">More members</a></nav>`
      : '';
  return `<h3>Join requests</h3>\n${pendingRows}\n<h3>Members</h3>\n${memberRows}\n${more}`;
}

/** The content of a post as this group received it (sanitised), or null. */
async function postHtml(v: SectionView, objectId: string): Promise<string | null> {
  const about = await v.store.activities.listActivitiesAbout(v.group.name, objectId, null, 10);
  for (const a of about) {
    const doc: unknown = JSON.parse(a.json);
    const create = isObject(doc) ? doc.object : null;
    const post = isObject(create) ? create.object : null;
    const content = isObject(post) ? str(post.content) : null;
    if (content !== null) return sanitizeHtml(content);
  }
  return null;
}

async function reports(v: SectionView): Promise<string> {
  const open = await v.store.reports.listReports(v.group.name, 'open', null, 50);
  if (open.length === 0) return '<p class="muted" id="reports">No open reports.</p>';
  const items: string[] = [];
  for (const r of open) {
    const objectId = r.objectIds[0];
    const html = objectId ? await postHtml(v, objectId) : null;
    items.push(`<li data-report="${escapeHtml(r.id)}"><p>Report <code>${escapeHtml(r.id)}</code> by ${who(r.reporterId)}, ${when(r.createdAt)}${r.targetActorId ? `, about ${who(r.targetActorId)}` : ''}</p>
<p>Reason: ${escapeHtml(r.reason || '(none given)')}</p>
${r.objectIds.map((o) => `<p>Post: ${who(o)}</p>`).join('')}
${html !== null ? `<blockquote class="reported">${html}</blockquote>` : ''}
${buttonForm(`${base(v)}/resolve`, v.csrf, 'Mark resolved', { report: r.id })}</li>`);
  }
  return `<ul class="rows" id="reports">${items.join('\n')}</ul>`;
}

async function held(v: SectionView): Promise<string> {
  const list = await v.store.held.listHeldPosts(v.group.name, null, 50);
  if (list.length === 0) return '<p class="muted" id="held">No posts wait for approval.</p>';
  return `<ul class="rows" id="held">${list
    .map((p) => {
      const doc: unknown = JSON.parse(p.activityJson);
      const post = isObject(doc) ? doc.object : null;
      const content = isObject(post) ? (str(post.content) ?? '') : '';
      return `<li><p>${who(p.objectId)} by ${who(p.authorId)}, ${when(p.createdAt)} (${escapeHtml(p.reason)})</p>
<blockquote>${sanitizeHtml(content)}</blockquote>
${buttonForm(`${base(v)}/approve-post`, v.csrf, 'Approve', { post: p.objectId })}
${buttonForm(`${base(v)}/reject-post`, v.csrf, 'Reject', { post: p.objectId }, true)}</li>`;
    })
    .join('\n')}</ul>`;
}

async function bans(v: SectionView): Promise<string> {
  const list = await v.store.bans.listBans(v.group.name, null, 100);
  const now = Date.now();
  const rows = list.length
    ? `<ul class="rows" id="bans">${list
        .map(
          (
            b,
          ) => `<li>${who(b.actorId)} ${b.expiresAt === null ? 'permanently' : b.expiresAt < now ? `(ended ${when(b.expiresAt)})` : `until ${when(b.expiresAt)}`}${b.reason ? `: ${escapeHtml(b.reason)}` : ''}
${buttonForm(`${base(v)}/unban`, v.csrf, 'Unban', { actor: b.actorId })}</li>`,
        )
        .join('\n')}</ul>`
    : '<p class="muted" id="bans">Nobody is banned.</p>';
  const form = postForm(
    `${base(v)}/ban`,
    v.csrf,
    `${textField('actor', 'Account', '', { hint: '@user@host or the actor URL', required: true, max: 2048 })}
${textField('duration', 'Duration', '', { hint: 'Such as 12h, 7d or 2w; empty for permanent', max: 8 })}
${textField('reason', 'Reason', '', { max: 1000 })}
<button type="submit" class="danger">Ban</button>`,
    { cls: 'stack', label: 'Ban an account' },
  );
  return `${rows}\n<h3>Ban an account</h3>\n${form}`;
}

async function moderators(v: SectionView): Promise<string> {
  const owner = await v.store.owners.getOwner(v.group.name);
  const mods = await v.store.moderators.listModerators(v.group.name, null, 1000);
  const ordered = [
    ...mods.filter((m) => m.actorId === owner?.actorId),
    ...mods.filter((m) => m.actorId !== owner?.actorId),
  ];
  const isOwner = v.role === 'owner';
  const rows = `<ul class="rows" id="moderators">${ordered
    .map((m) => {
      const own = m.actorId === owner?.actorId;
      const action =
        isOwner && !own
          ? buttonForm(`${base(v)}/remove-moderator`, v.csrf, 'Remove', { actor: m.actorId }, true)
          : '';
      return `<li>${who(m.actorId)}${own ? ' <strong class="role">owner</strong>' : ''} ${action}</li>`;
    })
    .join('\n')}</ul>`;
  if (!isOwner) return `${rows}\n<p class="muted">Only the owner appoints and removes moderators.</p>`;
  const add = postForm(
    `${base(v)}/add-moderator`,
    v.csrf,
    `${textField('actor', 'Account', '', { hint: '@user@host or the actor URL', required: true, max: 2048 })}\n<button type="submit">Appoint</button>`,
    { cls: 'stack', label: 'Appoint a moderator' },
  );
  const transfer = postForm(
    `${base(v)}/transfer`,
    v.csrf,
    `${textField('to', 'New owner', '', { hint: '@user@host; you stay a moderator', required: true, max: 2048 })}\n<button type="submit" class="danger">Transfer ownership</button>`,
    { cls: 'stack', label: 'Transfer ownership' },
  );
  const del = postForm(
    `${base(v)}/delete`,
    v.csrf,
    `${textField('confirm', `Type ${v.group.name} to confirm`, '', { required: true, max: 64 })}\n<button type="submit" class="danger">Delete the group</button>`,
    { cls: 'stack', label: 'Delete the group' },
  );
  return `${rows}\n<h3>Appoint a moderator</h3>\n${add}\n<h3>Transfer ownership</h3>\n${transfer}\n<h3>Delete the group</h3>\n<p>Members are told; the name is never used again.</p>\n${del}`;
}

async function audit(v: SectionView): Promise<string> {
  const cursor = typeof v.query.before === 'string' ? /^(\d{1,16}):(.{1,200})$/.exec(v.query.before) : null;
  const before = cursor ? { at: Number(cursor[1]), id: cursor[2] ?? '' } : null;
  const entries = await v.store.audit.listAudit({ group: v.group.name }, before, 25);
  if (entries.length === 0) return '<p class="muted" id="audit">Nothing recorded.</p>';
  const rows = entries
    .map(
      (e) =>
        `<tr><td>${when(e.at)}</td><td>${e.actorId === 'admin' ? 'admin' : who(e.actorId)}</td><td>${escapeHtml(e.action)}</td><td>${escapeHtml(e.target)}</td><td>${escapeHtml(e.reason)}</td></tr>`,
    )
    .join('\n');
  const last = entries[entries.length - 1];
  const more =
    entries.length === 25 && last
      ? `<nav class="pager"><a rel="next" href="${base(v)}/audit?before=${encodeURIComponent(`${last.at}:${last.id}`)}">Older entries</a></nav>`
      : '';
  return `<table id="audit"><caption>Newest first</caption><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Reason</th></tr></thead>
<tbody>${rows}</tbody></table>\n${more}`;
}
