/**
 * Moderation by direct message: Mastodon has no screen for group moderation, so a moderator (or, for
 * `report`, any member) sends the group a DM with a command and the group answers by DM. The sender is the
 * signed actor of the message; anyone not allowed gets a short refusal and nothing changes. An answer about an
 * account given by its handle names the actor id the handle was found to be, so that a handle that resolves
 * to someone unexpected shows.
 */
import type { Store } from '../storage/store.ts';
import type { ModerationStore } from '../storage/moderation.store.ts';
import type { ModerationService } from './moderation.service.ts';
import type { MembershipService } from './membership.service.ts';
import type { SettingsPatch } from './settings.service.ts';
import type { ReportService } from './report.service.ts';
import { LINK_COMMANDS_HELP, type LinkCommands } from './link.commands.ts';

export const COMMAND_HELP = `Commands (send them to the group in a direct message):
help · rules · report <post url> <reason>
Moderators: mod @user@host · unmod @user@host · log · ban @user@host [duration like 7d, 12h] [reason] · unban @user@host · remove <post url> [reason] · restore <post url> · approve @user@host · reject @user@host · kick @user@host · approve-post <post url> · reject-post <post url> · pin <post url> · unpin <post url> · lock <post url> · unlock <post url> · resolve <report id> · set title|summary|rules|language|membership|posting <value> · ${LINK_COMMANDS_HELP}`;

/** Turns an account handle into an actor id (WebFinger), or null. */
export interface HandleResolver {
  resolveHandle(handle: string): Promise<string | null>;
}

export interface CommandDeps {
  store: Store & ModerationStore;
  moderation: ModerationService;
  membership: MembershipService;
  reports: ReportService;
  handles: HandleResolver;
  /** Moves and groups following groups (`move`, `follow`, `unfollow`, `following`). */
  links?: LinkCommands;
}

/** A command as received: the direct message's text and the id of the Create that brought it. */
export interface CommandMessage {
  /** The message's HTML content. */
  html: string;
  /** Id of the Create: the basis of what the command does, so that running it again does nothing new. */
  basis: string;
}

/** Plain text of a message as Mastodon sends it: links become their URL, tags are dropped. */
export function messageText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*<p>/gi, '\n')
    .replace(
      /<a\s[^>]*?href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi,
      (_m, href: string, inner: string, ..._rest: unknown[]) => {
        const text = inner.replace(/<[^>]*>/g, '');
        // `!group@host` is Lemmy's way to name a group: kept as typed.
        return /^[@#!]/.test(text) ? text : decode(href);
      },
    )
    .replace(/<[^>]*>/g, '')
    .split('\n')
    .map((l) => decode(l).trim())
    .filter(Boolean)
    .join('\n');
}

/** An account as given in a command, with the actor id a handle was found to be: `@a@b (https://b/users/a)`. */
export function named(given: string | undefined, actorId: string): string {
  return given === undefined || given === actorId ? actorId : `${given} (${actorId})`;
}

function decode(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&');
}

/** `7d`, `12h`, `30m`, `2w` in milliseconds; null when not a duration. */
export function parseDuration(s: string): number | null {
  const m = /^(\d{1,4})([mhdw])$/.exec(s.toLowerCase());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  return n * unit;
}

export interface ParsedCommand {
  name: string;
  args: string[];
  /** The rest of the text after the arguments the command takes (a reason). */
  rest: (from: number) => string;
}

/** Parses the first line that starts with a command word, after any leading mentions. */
export function parseCommand(text: string): ParsedCommand | null {
  for (const line of text.split('\n')) {
    const words = line.split(/\s+/).filter(Boolean);
    while (words.length > 0 && words[0]!.startsWith('@')) words.shift();
    if (words.length === 0) continue;
    const name = words[0]!.toLowerCase().replace(/^[!/]/, '');
    const args = words.slice(1);
    return { name, args, rest: (from) => args.slice(from).join(' ') };
  }
  return null;
}

export class CommandService {
  constructor(private readonly d: CommandDeps) {}

  /** Runs the command in a DM to `group` from `sender`; returns the answer to send back. */
  async run(
    group: string,
    sender: string,
    message: CommandMessage,
    now: number = Date.now(),
  ): Promise<string> {
    const cmd = parseCommand(messageText(message.html));
    if (!cmd) return `I did not find a command.\n${COMMAND_HELP}`;
    const isMod = await this.d.moderation.canModerate(group, sender);
    const refuse = 'Only moderators of this group may do that.';
    const o = { by: sender, basis: message.basis };
    switch (cmd.name) {
      case 'help':
        return COMMAND_HELP;
      case 'rules': {
        const g = await this.d.store.groups.getGroup(group);
        return g?.settings.rules ? `Rules:\n${g.settings.rules}` : 'This group has no written rules.';
      }
      case 'report': {
        const url = cmd.args[0];
        const member = await this.d.store.members.getMember(group, sender);
        if (!isMod && member?.state !== 'accepted') return 'Only members may report posts.';
        if (!url) return 'Usage: report <post url> <reason>';
        const post = await this.d.store.posts.getPost(group, url);
        const r = await this.d.reports.file({
          groupName: group,
          reporterId: sender,
          targetActorId: post?.authorId ?? null,
          objectIds: [url],
          reason: cmd.rest(1),
          flagId: null,
        });
        if (r.ok) return `Thank you: report ${r.value.id} is with the moderators.`;
        switch (r.error.type) {
          case 'duplicate':
            return 'You already reported that; the moderators have it.';
          case 'rate-limited':
            return 'You have sent many reports lately; please try again later.';
          case 'group-not-found':
            return 'That report could not be filed.';
          default: {
            const never: never = r.error;
            throw new Error(`unhandled ${JSON.stringify(never)}`);
          }
        }
      }
    }
    if (!isMod) return refuse;
    switch (cmd.name) {
      case 'ban': {
        const who = await this.actorOf(cmd.args[0]);
        if (!who) return 'Usage: ban @user@host [duration] [reason] (I could not find that account).';
        const duration = cmd.args[1] ? parseDuration(cmd.args[1]) : null;
        const reason = cmd.rest(duration === null ? 1 : 2);
        const r = await this.d.moderation.ban(group, who, {
          ...o,
          reason,
          expiresAt: duration === null ? null : now + duration,
        });
        if (!r.ok) return r.error.type === 'invalid' ? r.error.detail : `Not done: ${r.error.type}.`;
        return r.value
          ? `Banned ${named(cmd.args[0], who)}${duration === null ? '' : ` for ${cmd.args[1]}`}.`
          : `${named(cmd.args[0], who)} was already banned.`;
      }
      case 'unban': {
        const who = await this.actorOf(cmd.args[0]);
        if (!who) return 'Usage: unban @user@host';
        const r = await this.d.moderation.unban(group, who, o);
        return r.ok && r.value
          ? `Unbanned ${named(cmd.args[0], who)}.`
          : `${named(cmd.args[0], who)} was not banned.`;
      }
      case 'remove': {
        const url = cmd.args[0];
        if (!url) return 'Usage: remove <post url> [reason]';
        const r = await this.d.moderation.removePost(group, url, { ...o, reason: cmd.rest(1) });
        return r.ok
          ? r.value
            ? 'Removed.'
            : 'That post was already removed.'
          : 'That post is not in this group.';
      }
      case 'restore': {
        const url = cmd.args[0];
        if (!url) return 'Usage: restore <post url>';
        const r = await this.d.moderation.restorePost(group, url, o);
        if (!r.ok) return r.error.type === 'invalid' ? r.error.detail : 'That post is not in this group.';
        return r.value ? 'Restored.' : 'That post is not removed.';
      }
      case 'approve':
      case 'reject': {
        const who = await this.pendingActor(group, cmd.args[0]);
        if (!who) return `Usage: ${cmd.name} @user@host (someone with a pending request)`;
        const r =
          cmd.name === 'approve'
            ? await this.d.moderation.approveMember(group, who, o)
            : await this.d.moderation.rejectMember(group, who, o);
        return r.ok
          ? `${cmd.name === 'approve' ? 'Approved' : 'Rejected'} ${named(cmd.args[0], who)}.`
          : `There is no pending request of ${named(cmd.args[0], who)}.`;
      }
      case 'kick': {
        const who = await this.memberActor(group, cmd.args[0]);
        if (!who) return 'Usage: kick @user@host (a member)';
        const r = await this.d.moderation.removeMember(group, who, o);
        return r.ok
          ? `Removed ${named(cmd.args[0], who)} from the group.`
          : `${named(cmd.args[0], who)} is not a member.`;
      }
      case 'approve-post':
      case 'reject-post': {
        const url = cmd.args[0];
        if (!url) return `Usage: ${cmd.name} <post url>`;
        const r =
          cmd.name === 'approve-post'
            ? await this.d.moderation.approvePost(group, url, o)
            : await this.d.moderation.rejectPost(group, url, o);
        if (!r.ok)
          return r.error.type === 'invalid'
            ? `Not shared: ${r.error.detail}.`
            : 'No post is held with that URL.';
        return cmd.name === 'approve-post'
          ? 'Approved; the post is being shared.'
          : 'Rejected; it will not be shared.';
      }
      case 'set':
        return this.set(group, cmd.args[0], cmd.rest(1), o);
      case 'pin':
      case 'unpin': {
        const url = cmd.args[0];
        if (!url) return `Usage: ${cmd.name} <post url>`;
        const r = await this.d.moderation.setPinned(group, url, cmd.name === 'pin', o);
        return r.ok
          ? r.value
            ? `${cmd.name === 'pin' ? 'Pinned' : 'Unpinned'}.`
            : 'Nothing to change.'
          : 'That post is not in this group.';
      }
      case 'lock':
      case 'unlock': {
        const url = cmd.args[0];
        if (!url) return `Usage: ${cmd.name} <post url>`;
        const r = await this.d.moderation.setLocked(group, url, cmd.name === 'lock', o);
        return r.ok
          ? r.value
            ? `${cmd.name === 'lock' ? 'Locked' : 'Unlocked'}.`
            : 'Nothing to change.'
          : 'That post is not in this group.';
      }
      case 'mod':
      case 'unmod': {
        const who = await this.actorOf(cmd.args[0]);
        if (!who) return `Usage: ${cmd.name} @user@host (I could not find that account).`;
        const r =
          cmd.name === 'mod'
            ? await this.d.moderation.addModerator(group, who, o)
            : await this.d.moderation.removeModerator(group, who, o);
        if (!r.ok) return `Not done: ${r.error.type}.`;
        const whom = named(cmd.args[0], who);
        if (cmd.name === 'mod') return r.value ? `${whom} is now a moderator.` : `${whom} already was one.`;
        return r.value ? `${whom} is no longer a moderator.` : `${whom} was not a moderator.`;
      }
      case 'log': {
        const entries = await this.d.store.audit.listAudit({ group }, null, 10);
        if (entries.length === 0) return 'Nothing recorded yet.';
        return entries
          .map(
            (e) =>
              `${new Date(e.at).toISOString().slice(0, 16)} ${e.actorId}: ${e.action} ${e.target}${e.reason ? ` (${e.reason})` : ''}`,
          )
          .join('\n');
      }
      case 'resolve': {
        const id = cmd.args[0];
        if (!id) return 'Usage: resolve <report id>';
        const r = await this.d.moderation.resolveReport(group, id, o);
        return r.ok
          ? r.value
            ? `Report ${id} resolved.`
            : `Report ${id} was already resolved.`
          : `There is no report ${id}.`;
      }
      default: {
        const linked = await this.d.links?.run(group, sender, cmd);
        return linked ?? `Unknown command "${cmd.name}".\n${COMMAND_HELP}`;
      }
    }
  }

  /** `set FIELD VALUE`: the profile fields and policies that fit in a message. */
  private async set(
    group: string,
    field: string | undefined,
    value: string,
    o: { by: string; basis: string },
  ): Promise<string> {
    const usage = 'Usage: set title|summary|rules|language|membership|posting <value>';
    const patch: SettingsPatch = {};
    switch (field?.toLowerCase()) {
      case 'title':
        patch.title = value;
        break;
      case 'summary':
        patch.summary = value;
        break;
      case 'rules':
        patch.rules = value;
        break;
      case 'language':
        patch.language = value === '' || value === 'none' ? null : value;
        break;
      case 'membership':
        if (value !== 'open' && value !== 'approval') return 'Usage: set membership open|approval';
        patch.membershipPolicy = value;
        break;
      case 'posting':
        if (value !== 'members' && value !== 'moderators') return 'Usage: set posting members|moderators';
        patch.postingPolicy = value;
        break;
      default:
        return usage;
    }
    const r = await this.d.moderation.changeSettings(group, patch, o);
    if (r.ok)
      return r.value.changed.length > 0 ? `Changed ${r.value.changed.join(', ')}.` : 'Nothing to change.';
    const e = r.error;
    if (e.type !== 'invalid') return `Not done: ${e.type}.`;
    return 'problems' in e ? e.problems.map((p) => p.detail).join('; ') : e.detail;
  }

  private async memberActor(group: string, arg: string | undefined): Promise<string | null> {
    if (!arg) return null;
    if (/^https?:\/\//.test(arg)) return arg;
    const local = await this.d.membership.resolveHandle(group, arg, 'accepted');
    if (local.ok) return local.value;
    return this.actorOf(arg);
  }

  private async actorOf(arg: string | undefined): Promise<string | null> {
    if (!arg) return null;
    if (/^https?:\/\//.test(arg)) return arg;
    if (!/^@?[^@\s]+@[^@\s]+$/.test(arg)) return null;
    return this.d.handles.resolveHandle(arg);
  }

  private async pendingActor(group: string, arg: string | undefined): Promise<string | null> {
    if (!arg) return null;
    if (/^https?:\/\//.test(arg)) return arg;
    const local = await this.d.membership.resolveHandle(group, arg, 'pending');
    if (local.ok) return local.value;
    return this.actorOf(arg);
  }
}
