/** What a group that moved answers people who still post to it or try to join it, and why a move is refused. */
import type { MoveError } from './move.service.ts';

/** The pointer to the new group, sent by direct message. */
export function movedText(target: string): string {
  return `This group has moved to ${target} and takes no new posts or members here. Follow the new group and post there.`;
}

/** A move refusal as one line, for the CLI, the admin API and DM answers. */
export function moveErrorText(e: MoveError, name: string): string {
  switch (e.type) {
    case 'group-not-found':
      return `no group named "${name}"`;
    case 'not-allowed':
      return 'only the admin and the group’s owner may move it';
    case 'already-moved':
      return `${name} has already moved to ${e.to}`;
    case 'target-not-found':
    case 'target-refused':
      return e.detail;
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}
