/**
 * Moderation by direct message: Mastodon has no screen for group moderation, so a moderator (or, for
 * `report`, any member) sends the group a DM with a command and the group answers by DM. The sender is the
 * signed actor of the message; anyone not allowed gets a short refusal and nothing changes.
 */
import type { Store } from '../storage/store.ts';
import type { ModerationStore } from '../storage/moderation.store.ts';
import type { ApObject } from '../activitypub/vocab.ts';
import { idOf, str } from '../activitypub/vocab.ts';
import type { ModerationService } from './moderation.service.ts';
import type { MembershipService } from './membership.service.ts';

export const COMMAND_HELP = `Commands (send them to the group in a direct message):
help · rules · report <post url> <reason>
Moderators: mod @user@host · unmod @user@host · log · ban @user@host [duration like 7d, 12h] [reason] · unban @user@host · remove <post url> [reason] · approve @user@host · reject @user@host · approve-post <post url> · pin <post url> · unpin <post url> · lock <post url> · unlock <post url> · resolve <report id>`;

/** Turns an account handle into an actor id (WebFinger), or null. */
export interface HandleResolver {
  resolveHandle(handle: string): Promise<string | null>;
}

/** Releases a post held for approval (it is then processed as if just received). */
export type HeldPostReleaser = (group: string, objectId: string, by: string) => Promise<boolean>;

export interface CommandDeps {
  store: Store & ModerationStore;
  moderation: ModerationService;
  membership: MembershipService;
  handles: HandleResolver;
  releaseHeld: HeldPostReleaser;
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
        return text.startsWith('@') || text.startsWith('#') ? text : decode(href);
      },
    )
    .replace(/<[^>]*>/g, '')
    .split('\n')
    .map((l) => decode(l).trim())
    .filter(Boolean)
    .join('\n');
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
  async run(group: string, sender: string, note: ApObject, now: number = Date.now()): Promise<string> {
    const cmd = parseCommand(messageText(str(note.content) ?? ''));
    if (!cmd) return `I did not find a command.\n${COMMAND_HELP}`;
    const isMod = await this.d.moderation.canModerate(group, sender);
    const refuse = 'Only moderators of this group may do that.';
    const o = { by: sender };
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
        const r = await this.d.moderation.report({
          groupName: group,
          reporterId: sender,
          targetActorId: post?.authorId ?? null,
          objectIds: [url],
          reason: cmd.rest(1),
          flagId: null,
        });
        return r.ok
          ? `Thank you: report ${r.value.id} is with the moderators.`
          : 'That report could not be filed.';
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
          ? `Banned ${cmd.args[0]}${duration === null ? '' : ` for ${cmd.args[1]}`}.`
          : `${cmd.args[0]} was already banned.`;
      }
      case 'unban': {
        const who = await this.actorOf(cmd.args[0]);
        if (!who) return 'Usage: unban @user@host';
        const r = await this.d.moderation.unban(group, who, o);
        return r.ok && r.value ? `Unbanned ${cmd.args[0]}.` : `${cmd.args[0]} was not banned.`;
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
      case 'approve':
      case 'reject': {
        const who = await this.pendingActor(group, cmd.args[0]);
        if (!who) return `Usage: ${cmd.name} @user@host (someone with a pending request)`;
        const r =
          cmd.name === 'approve'
            ? await this.d.membership.approve(group, who)
            : await this.d.membership.reject(group, who);
        return r.ok
          ? `${cmd.name === 'approve' ? 'Approved' : 'Rejected'} ${cmd.args[0]}.`
          : 'There is no such pending request.';
      }
      case 'approve-post': {
        const url = cmd.args[0];
        if (!url) return 'Usage: approve-post <post url>';
        return (await this.d.releaseHeld(group, url, sender))
          ? 'Approved; the post is being shared.'
          : 'No post is held with that URL.';
      }
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
        if (cmd.name === 'mod')
          return r.value ? `${cmd.args[0]} is now a moderator.` : `${cmd.args[0]} already was one.`;
        return r.value ? `${cmd.args[0]} is no longer a moderator.` : `${cmd.args[0]} was not a moderator.`;
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
      default:
        return `Unknown command "${cmd.name}".\n${COMMAND_HELP}`;
    }
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

/** The id of a note's author as the note states it. */
export function authorOf(note: ApObject): string | null {
  return idOf(note.attributedTo);
}
