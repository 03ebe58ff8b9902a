/** Creating, listing and deleting the groups hosted here. */
import { DEFAULT_GROUP_SETTINGS, type Group, type Store } from '../storage/store.ts';
import { GROUP_NAME_RE, groupKeyOwner, type Urls } from '../activitypub/urls.ts';
import { err, ok, type KeyPairGenerator, type Result } from './ports.ts';
import type { EventSink } from './events.ts';

export type CreateGroupError =
  | { type: 'invalid-name'; detail: string }
  | { type: 'name-taken' }
  | { type: 'invalid-field'; detail: string };
export type DeleteGroupError = { type: 'not-found' } | { type: 'already-deleted' };

export interface GroupServiceDeps {
  store: Store;
  urls: Urls;
  events: EventSink;
  keys: KeyPairGenerator;
  /** Names no group may take (the instance's Service actor answers WebFinger under its name). */
  reservedNames?: readonly string[];
  now?: () => number;
}

export class GroupService {
  private readonly now: () => number;
  constructor(private readonly deps: GroupServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Creates a group and tells the peers that list this instance's groups, unless `announce` is false (an import
   * tells them once the group is complete).
   */
  async create(
    name: string,
    fields: { title?: string; summary?: string } = {},
    opts: { announce?: boolean } = {},
  ): Promise<Result<Group, CreateGroupError>> {
    if (!GROUP_NAME_RE.test(name)) {
      return err({
        type: 'invalid-name',
        detail: 'a group name is 1 to 64 lowercase letters, digits or underscores',
      });
    }
    const title = (fields.title ?? name).trim();
    if (title.length === 0 || title.length > 200)
      return err({ type: 'invalid-field', detail: 'title must be 1 to 200 characters' });
    const summary = fields.summary ?? '';
    if (summary.length > 5000)
      return err({ type: 'invalid-field', detail: 'summary must be at most 5000 characters' });
    if (this.deps.reservedNames?.includes(name)) return err({ type: 'name-taken' });
    if ((await this.deps.store.groups.getGroup(name)) !== null) return err({ type: 'name-taken' });
    const pair = await this.deps.keys.generate();
    const t = this.now();
    const group: Group = {
      name,
      title,
      summary,
      createdAt: t,
      updatedAt: t,
      deletedAt: null,
      settings: { ...DEFAULT_GROUP_SETTINGS },
    };
    // Key first: a group row never exists without its key, and a lost race leaves only an unused key.
    await this.deps.store.keys.putKeyPairIfAbsent({ owner: groupKeyOwner(name), ...pair });
    if (!(await this.deps.store.groups.createGroup(group))) return err({ type: 'name-taken' });
    if (opts.announce !== false) await this.announceCreated(name);
    return ok(group);
  }

  /** Tells the peers that list this instance's groups about a new group (once: the ids derive from its name). */
  announceCreated(name: string): Promise<void> {
    return this.deps.events.emit({ type: 'GroupCreated', group: name, basis: `create-group:${name}` });
  }

  async get(name: string): Promise<Group | null> {
    const g = await this.deps.store.groups.getGroup(name);
    return g && g.deletedAt === null ? g : null;
  }

  list(after: string | null, limit: number): Promise<Group[]> {
    return this.deps.store.groups.listGroups(after, limit);
  }

  /** Deletes a group: members are told with Delete{Group}; the name stays reserved. */
  async delete(name: string): Promise<Result<void, DeleteGroupError>> {
    const g = await this.deps.store.groups.getGroup(name);
    if (!g) return err({ type: 'not-found' });
    if (g.deletedAt !== null) return err({ type: 'already-deleted' });
    // Told before the group is marked deleted, so a crash in between never leaves members untold; a group is
    // deleted once, so its name is the basis of the activities' ids and doing it again queues nothing new.
    await this.deps.events.emit({ type: 'GroupDeleted', group: name, basis: `delete-group:${name}` });
    await this.deps.store.groups.markGroupDeleted(name, this.now());
    return ok(undefined);
  }
}
