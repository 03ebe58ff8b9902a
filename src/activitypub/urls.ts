/** Every URL this server mints, derived from the configured origin. Changing the origin breaks every peer. */
import { createHash } from 'node:crypto';

export const GROUP_NAME_RE = /^[a-z0-9_]{1,64}$/;
export const INSTANCE_KEY_OWNER = 'instance';
/** The group name under which the documents of the Service actor itself are stored (no group has it). */
export const SERVICE_DOCUMENTS = '';

export function groupKeyOwner(name: string): string {
  return `group:${name}`;
}

export class Urls {
  constructor(readonly origin: string) {}

  /** The instance's Service actor: signs fetches, and authors what the admin and DM commands do. */
  instanceActor(): string {
    return `${this.origin}/actor`;
  }
  instanceKeyId(): string {
    return `${this.origin}/actor#main-key`;
  }
  /**
   * The id of a document of the Service actor itself (a direct message it sends), derived from what caused
   * it like {@link derivedActivity}.
   */
  serviceActivity(basis: string, role: string): string {
    const digest = createHash('sha256').update(`\n${basis}\n${role}`).digest('base64url');
    return `${this.origin}/actor/activities/${digest.slice(0, 32)}`;
  }
  sharedInbox(): string {
    return `${this.origin}/inbox`;
  }
  group(name: string): string {
    return `${this.origin}/groups/${name}`;
  }
  groupKeyId(name: string): string {
    return `${this.group(name)}#main-key`;
  }
  inbox(name: string): string {
    return `${this.group(name)}/inbox`;
  }
  outbox(name: string): string {
    return `${this.group(name)}/outbox`;
  }
  followers(name: string): string {
    return `${this.group(name)}/followers`;
  }
  moderators(name: string): string {
    return `${this.group(name)}/moderators`;
  }
  featured(name: string): string {
    return `${this.group(name)}/featured`;
  }
  /** The collection of one thread of a group, named by the object id of its top-level post. */
  thread(name: string, rootObjectId: string): string {
    return `${this.group(name)}/threads/${Buffer.from(rootObjectId).toString('base64url')}`;
  }
  activity(name: string, localId: string): string {
    return `${this.group(name)}/activities/${localId}`;
  }
  /**
   * The id of an activity derived from what caused it (`basis`: an inbound activity's id or an action's id) and
   * its `role` among the activities of that cause. The same cause gives the same ids, so that redoing a step
   * stores and queues nothing twice.
   */
  derivedActivity(name: string, basis: string, role: string): string {
    const digest = createHash('sha256').update(`${name}\n${basis}\n${role}`).digest('base64url');
    return this.activity(name, digest.slice(0, 32));
  }
  /**
   * The ids of a group's re-share of a post announced by a group it follows: derived from the post alone, so
   * that the group re-shares it once whichever group (or how many) brought it.
   */
  reshareIds(name: string, objectId: string): { announce: string; boost: string } {
    const basis = `reshare:${objectId}`;
    return {
      announce: this.derivedActivity(name, basis, 'announce'),
      boost: this.derivedActivity(name, basis, 'boost'),
    };
  }
  /**
   * The id of an activity of the Service actor itself (to a peer), derived like {@link derivedActivity} from
   * its cause and role.
   */
  instanceActivity(basis: string, role: string): string {
    const digest = createHash('sha256').update(`\n${basis}\n${role}`).digest('base64url');
    return `${this.instanceActor()}/activities/${digest.slice(0, 32)}`;
  }
  /** The group name when `id` is the actor id of a group hosted here, else null. */
  groupNameOf(id: string): string | null {
    const prefix = `${this.origin}/groups/`;
    if (!id.startsWith(prefix)) return null;
    const name = id.slice(prefix.length);
    return GROUP_NAME_RE.test(name) ? name : null;
  }
  /** True when `id` is on this server's origin. */
  isLocal(id: string): boolean {
    try {
      return new URL(id).origin === this.origin;
    } catch {
      return false;
    }
  }
}
