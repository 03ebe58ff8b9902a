/**
 * Commands sent by direct message to the instance's Service actor (`@guild@HOST`), from any server: create a
 * group and own it, list one's groups, hand a group over, delete it (confirmed with a code), get a sign-in link
 * for the dashboard, and every moderation command of a group, naming the group (`ban !rust@HOST @x@y 7d spam`),
 * which the group's own command service runs as if the message had been sent to the group.
 */
import { escapeHtml } from '../text/html.ts';
import type { Urls } from '../activitypub/urls.ts';
import {
  messageText,
  named,
  parseCommand,
  type CommandMessage,
  type CommandService,
  type HandleResolver,
} from './commands.service.ts';
import type { GroupCreationService, CreationRefusal } from './group-creation.service.ts';
import type { OwnershipService } from './ownership.service.ts';
import type { SignInService } from './sign-in.service.ts';
import type { MessageText } from './service-messages.ts';

export interface ServiceCommandDeps {
  creation: GroupCreationService;
  ownership: OwnershipService;
  signIn: SignInService;
  commands: CommandService;
  handles: HandleResolver;
  urls: Urls;
  /** host[:port] of this server, in handles. */
  domain: string;
  /** The Service actor's name (`guild` in `@guild@HOST`). */
  serviceName: string;
}

const OWN = new Set(['help', 'create', 'groups', 'transfer', 'delete', 'login']);

export class ServiceCommandService {
  constructor(private readonly d: ServiceCommandDeps) {}

  help(): string {
    const me = `@${this.d.serviceName}@${this.d.domain}`;
    return `Commands (send them to ${me} in a direct message):
help · create NAME [TITLE] (a new group, which you own) · groups (those you own or moderate) · transfer NAME @user@host (owner) · delete NAME (owner; answered with a code to confirm) · login (a sign-in link for the dashboard at ${this.d.urls.origin}/dashboard)
To moderate a group, name it: ban !NAME@${this.d.domain} @user@host [7d] [reason] · unban · remove <post url> · approve @user@host · mod @user@host · set title <value> · log · follow @group@host · move @NAME@new.host (owner; to the group imported there) · ... (send "help !NAME" for the group's commands)`;
  }

  /** Runs the command of a direct message from `sender`; returns the answer to send back. */
  async run(sender: string, message: CommandMessage): Promise<MessageText> {
    const cmd = parseCommand(messageText(message.html));
    if (!cmd) return `I did not find a command.\n${this.help()}`;
    const refAt = cmd.args.findIndex((a) => this.groupRef(a) !== null);
    if (!OWN.has(cmd.name) || (cmd.name === 'help' && refAt >= 0)) {
      if (refAt < 0)
        return `Name the group with !NAME@${this.d.domain} (for example "${cmd.name} !rust ...").\n${this.help()}`;
      const ref = this.groupRef(cmd.args[refAt] ?? '');
      if (ref === 'elsewhere') return `That group is not on ${this.d.domain}.`;
      const rest = cmd.args.filter((_, i) => i !== refAt);
      const html = `<p>${escapeHtml([cmd.name, ...rest].join(' '))}</p>`;
      return this.d.commands.run(ref ?? '', sender, { html, basis: message.basis });
    }
    const name = cmd.args[0] ? this.nameOf(cmd.args[0]) : null;
    switch (cmd.name) {
      case 'help':
        return this.help();
      case 'login':
        return this.d.signIn.linkByMessage(sender);
      case 'groups': {
        const mine = await this.d.ownership.groupsOf(sender);
        if (mine.length === 0) return 'You own or moderate no group here. Send "create NAME" to start one.';
        return mine.map((m) => `${this.handle(m.group.name)} (${m.role}) ${m.group.title}`).join('\n');
      }
      case 'create': {
        if (!name) return 'Usage: create NAME [TITLE] (NAME: lowercase letters, digits, underscores)';
        const title = cmd.rest(1) || undefined;
        const r = await this.d.creation.request(sender, name, title, message.basis);
        if (!r.ok) return this.refusal(r.error, name);
        if (r.value.kind === 'pending')
          return `Your request for ${this.handle(name)} waits for the admin's approval; I will tell you here.`;
        return `Created ${this.handle(name)}: you own it. People join by following it and post by mentioning it. Manage it at ${this.d.urls.origin}/dashboard (send "login" for a sign-in link).`;
      }
      case 'transfer': {
        const who = await this.actorOf(cmd.args[1]);
        if (!name || !who) return 'Usage: transfer NAME @user@host (I could not find that account).';
        const r = await this.d.ownership.transfer(name, who, { by: sender, basis: message.basis });
        if (r.ok)
          return r.value
            ? `${named(cmd.args[1], who)} now owns ${this.handle(name)}; you stay a moderator.`
            : `${named(cmd.args[1], who)} already owns it.`;
        return this.ownerError(r.error.type === 'invalid' ? r.error.detail : r.error.type, name);
      }
      case 'delete': {
        if (!name) return 'Usage: delete NAME';
        const code = cmd.args[1];
        if (!code) {
          const r = await this.d.ownership.issueDeleteCode(name, sender);
          if (!r.ok) return this.ownerError(r.error.type, name);
          const confirm = (code: string) =>
            `To delete ${this.handle(name)} and tell its members, send within 15 minutes: delete ${name} ${code}\nThis cannot be undone, and the name is never used again.`;
          return { text: confirm(r.value), keptText: confirm('(the code is not kept on this server)') };
        }
        const r = await this.d.ownership.deleteWithCode(name, code, { by: sender, basis: message.basis });
        if (r.ok) return `${this.handle(name)} is deleted; its members are being told.`;
        if (r.error.type === 'bad-code')
          return `That code is wrong or expired; send "delete ${name}" for a new one.`;
        return this.ownerError(r.error.type, name);
      }
      default:
        return this.help();
    }
  }

  /** A group named as `!name`, `!name@HOST` or by its actor URL: its name, `elsewhere`, or null. */
  private groupRef(word: string): string | 'elsewhere' | null {
    const byUrl = this.d.urls.groupNameOf(word);
    if (byUrl) return byUrl;
    const m = /^!([a-z0-9_]{1,64})(?:@(\S+))?$/i.exec(word);
    if (!m || !m[1]) return null;
    if (m[2] && m[2].toLowerCase() !== this.d.domain.toLowerCase()) return 'elsewhere';
    return m[1].toLowerCase();
  }

  /** A group name as typed (`rust`, `!rust`, `!rust@HOST`, its URL), lowercased; null when none. */
  private nameOf(word: string): string | null {
    const ref = this.groupRef(word.startsWith('!') || word.startsWith('http') ? word : `!${word}`);
    return ref === null || ref === 'elsewhere' ? null : ref;
  }

  private async actorOf(arg: string | undefined): Promise<string | null> {
    if (!arg) return null;
    if (/^https?:\/\//.test(arg)) return arg;
    if (!/^@?[^@\s]+@[^@\s]+$/.test(arg)) return null;
    return this.d.handles.resolveHandle(arg);
  }

  private handle(name: string): string {
    return `@${name}@${this.d.domain}`;
  }

  private refusal(e: CreationRefusal, name: string): string {
    switch (e.type) {
      case 'closed':
        return 'This server does not take new groups from its users; ask its admin.';
      case 'blocked':
        return 'This server does not federate with yours.';
      case 'invalid-name':
      case 'invalid-title':
        return `Not created: ${e.detail}.`;
      case 'name-taken':
        return `The name "${name}" is taken or reserved; choose another.`;
      case 'rate-limited':
        return e.scope === 'account'
          ? 'You asked for several groups lately; try again later.'
          : 'Many groups were asked for from your server lately; try again later.';
      default: {
        const never: never = e;
        throw new Error(`unhandled ${JSON.stringify(never)}`);
      }
    }
  }

  private ownerError(type: string, name: string): string {
    if (type === 'group-not-found') return `There is no group ${this.handle(name)}.`;
    if (type === 'not-allowed') return `Only the owner of ${this.handle(name)} may do that.`;
    return `Not done: ${type}.`;
  }
}
