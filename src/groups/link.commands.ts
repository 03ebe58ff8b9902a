/**
 * The DM commands that link a group to others: `move @name@host` (to its imported copy), `follow @group@host`,
 * `unfollow @group@host` and `following` (FEP-d36d). The command service asks these for the commands it does
 * not know itself, once the sender is known to be a moderator; the services check who may act again.
 */
import type { ParsedCommand } from './commands.service.ts';
import { followErrorText, type GroupFollowService } from './group-follow.service.ts';
import type { MoveService } from './move.service.ts';
import { moveErrorText } from './moved.ts';

export const LINK_COMMANDS_HELP =
  'move @group@host (to its imported copy) · follow @group@host · unfollow @group@host · following';

export class LinkCommands {
  constructor(private readonly d: { moves: MoveService; groupFollows: GroupFollowService }) {}

  /** The answer to one of these commands from `sender`, or null when the command is not one of them. */
  async run(group: string, sender: string, cmd: ParsedCommand): Promise<string | null> {
    const target = cmd.args[0];
    switch (cmd.name) {
      case 'move': {
        if (!target) return 'Usage: move @group@host (the imported copy of this group)';
        const r = await this.d.moves.move(group, target, sender);
        return r.ok
          ? `Moving to ${r.value.target}: members are being sent Move.`
          : `Not moved: ${moveErrorText(r.error, group)}.`;
      }
      case 'follow':
      case 'unfollow': {
        if (!target) return `Usage: ${cmd.name} @group@host`;
        const r =
          cmd.name === 'follow'
            ? await this.d.groupFollows.follow(group, target, sender)
            : await this.d.groupFollows.unfollow(group, target, sender);
        if (!r.ok) return `Not done: ${followErrorText(r.error, group, target)}.`;
        return cmd.name === 'follow'
          ? `Asked to follow ${r.value.targetId}: once it accepts, its posts are shared here.`
          : `No longer following ${r.value.targetId}.`;
      }
      case 'following': {
        const list = await this.d.groupFollows.list(group, null, 50);
        return list.length === 0
          ? 'This group follows no group.'
          : list.map((f) => `${f.targetId} (${f.state})`).join('\n');
      }
      default:
        return null;
    }
  }
}
