/**
 * The "Moves and follows" section of a group's dashboard: the groups this one follows (FEP-d36d), with forms to
 * follow and unfollow (moderators), and moving the group to its imported copy on another server, with the export
 * file to import there (owner only). Actions go through the same services as the CLI, the admin API and the
 * commands by direct message, which check who may act again.
 */
import type { Router, Request, Response } from 'express';
import { followErrorText } from '../../groups/group-follow.service.ts';
import { moveErrorText } from '../../groups/moved.ts';
import type { GroupRole } from '../../groups/ownership.service.ts';
import { escapeHtml } from '../../text/html.ts';
import { buttonForm, postForm, textField } from './forms.ts';
import type { SectionView } from './group.pages.ts';
import type { ActionSpec, Done } from './group.routes.ts';
import type { DashboardDeps, Viewer } from './dashboard.routes.ts';

const link = (id: string): string =>
  `<a href="${escapeHtml(id)}" rel="nofollow noopener">${escapeHtml(id)}</a>`;

export async function linksSection(v: SectionView): Promise<string> {
  const base = `/dashboard/groups/${v.group.name}`;
  const follows = await v.store.groupFollows.listGroupFollows(v.group.name, null, 500);
  const rows =
    follows.length === 0
      ? '<p class="muted" id="follows">This group follows no group.</p>'
      : `<ul class="rows" id="follows">${follows
          .map(
            (f) =>
              `<li>${link(f.targetId)} <span class="muted">(${f.state === 'accepted' ? 'following' : 'asked'})</span> ${buttonForm(`${base}/unfollow`, v.csrf, 'Unfollow', { target: f.targetId })}</li>`,
          )
          .join('\n')}</ul>`;
  const follow = postForm(
    `${base}/follow`,
    v.csrf,
    `${textField('target', 'Group', '', { hint: '@group@host or its URL, on any server', required: true, max: 2048, id: 'follow-target' })}\n<button type="submit">Follow</button>`,
    { cls: 'stack', label: 'Follow a group' },
  );
  const takes = v.group.settings.acceptGroupFollowers
    ? 'Other groups may follow this one.'
    : 'This group refuses other groups as followers.';
  const following = `<p>Posts that the groups below share are shared here too, once for each member. ${takes}</p>
${rows}\n<h3>Follow a group</h3>\n${follow}`;
  return `${following}\n<h3>Move the group</h3>\n${await moveBlock(v, base)}`;
}

async function moveBlock(v: SectionView, base: string): Promise<string> {
  const state = await v.store.moves.getMoveState(v.group.name);
  const former = state.alsoKnownAs.length
    ? `<p id="also-known-as">Formerly: ${state.alsoKnownAs.map(link).join(', ')}</p>`
    : '';
  if (state.movedTo !== null)
    return `${former}<p id="moved-to">This group has moved to ${link(state.movedTo)}.</p>`;
  if (v.role !== 'owner') return `${former}<p class="muted">Only the owner moves the group.</p>`;
  const move = postForm(
    `${base}/move`,
    v.csrf,
    `${textField('target', 'New group', '', { hint: '@name@new.host, imported from this group’s export', required: true, max: 2048, id: 'move-target' })}\n<button type="submit" class="danger">Move</button>`,
    { cls: 'stack', label: 'Move the group' },
  );
  return `${former}<ol>
<li><a id="export" href="${base}/export.json" download="${escapeHtml(v.group.name)}.guild.json">Download the export</a> (profile, settings, moderators, bans, rules, pinned posts, members).</li>
<li>Have it imported on the new server (<code>guild group import FILE</code>, by its admin).</li>
<li>Move: members are sent <code>Move</code>, and their servers that follow moves join the new group without a new approval; this group then points to the new one.</li>
</ol>\n${move}`;
}

const target = (b: Record<string, unknown>): string =>
  typeof b.target === 'string' ? b.target.trim().slice(0, 2048) : '';

/** The answer of a link action: its message, or why it did nothing. */
const answer = (r: { ok: true } | { ok: false; text: string; status: number }): Done =>
  r.ok ? { ok: true, message: '' } : { ok: false, message: `${r.text}.`, status: r.status };

export const LINK_ACTIONS: Record<string, ActionSpec> = {
  follow: {
    section: 'links',
    async run(c) {
      const r = await c.d.groupFollows.follow(c.name, target(c.body), c.v.actorId);
      return answer(
        r.ok ? r : { ok: false, text: followErrorText(r.error, c.name, target(c.body)), status: 400 },
      );
    },
  },
  unfollow: {
    section: 'links',
    async run(c) {
      const r = await c.d.groupFollows.unfollow(c.name, target(c.body), c.v.actorId);
      return answer(
        r.ok ? r : { ok: false, text: followErrorText(r.error, c.name, target(c.body)), status: 400 },
      );
    },
  },
  move: {
    section: 'links',
    ownerOnly: true,
    async run(c) {
      const r = await c.d.moves.move(c.name, target(c.body), c.v.actorId);
      const status = !r.ok && r.error.type === 'not-allowed' ? 403 : 400;
      return answer(r.ok ? r : { ok: false, text: moveErrorText(r.error, c.name), status });
    },
  },
};

export const LINK_DONE: Record<string, string> = {
  follow: 'Follow sent; once the other group accepts, its posts are shared here.',
  unfollow: 'No longer following that group.',
  move: 'The group is moving: members are being sent Move.',
};

/** GET the group's export file (owner only; others get 404, as for any page not theirs). */
export function exportRoute(
  r: Router,
  d: DashboardDeps,
  signedIn: (
    h: (v: Viewer, req: Request, res: Response) => Promise<void>,
  ) => (req: Request, res: Response) => Promise<void>,
  roleOf: (v: Viewer, name: string) => Promise<GroupRole | null>,
): void {
  r.get(
    '/dashboard/groups/:name/export.json',
    signedIn(async (v, req, res) => {
      const name = String(req.params.name);
      const file = (await roleOf(v, name)) === 'owner' ? await d.moves.exportGroup(name) : null;
      if (!file?.ok) {
        res.status(404).type('text/plain').send('not found');
        return;
      }
      res
        .type('application/json')
        .set('Content-Disposition', `attachment; filename="${name}.guild.json"`)
        .set('Cache-Control', 'no-store')
        .send(JSON.stringify(file.value, null, 2));
    }),
  );
}
