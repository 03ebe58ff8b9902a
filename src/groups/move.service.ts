/**
 * Moving a group to another server: export it here (a versioned file, group-export.ts), import the file on the
 * other Guild (a new group that lists the old one in `alsoKnownAs` and takes the old members' Follows without a
 * new approval), then move: the old group checks that the new one lists it, tells its members with `Move`, and
 * from then on points people to the new group. Mastodon and GoToSocial follow a `Move` by following the target
 * for each local follower once the target lists the old actor in `alsoKnownAs` and has not moved itself
 * (mastodon/mastodon app/lib/activitypub/activity/move.rb, superseriousbusiness/gotosocial
 * internal/processing/workers/fromfediapi_move.go).
 */
import type { Group, Store } from '../storage/store.ts';
import type { Urls } from '../activitypub/urls.ts';
import { idOf, idsOf, isObject, typeOf } from '../activitypub/vocab.ts';
import { err, ok, type RemoteDocuments, type Result } from './ports.ts';
import type { EventSink } from './events.ts';
import type { GroupService } from './group.service.ts';
import { EXPORT_FORMAT, EXPORT_VERSION, type ExportedPost, type GroupExport } from './group-export.ts';
import { auditEntryId, type Actor } from './moderation.base.ts';

export type ImportError =
  | { type: 'invalid-name'; detail: string }
  /** The name is taken by a group that is not this import (resumed imports are allowed). */
  | { type: 'name-taken' };

export type MoveError =
  | { type: 'group-not-found' }
  | { type: 'not-allowed' }
  /** The group already moved, to another target. */
  | { type: 'already-moved'; to: string }
  /** The target could not be found or fetched. */
  | { type: 'target-not-found'; detail: string }
  /** The target does not list this group in `alsoKnownAs` (import the export there first), or has moved. */
  | { type: 'target-refused'; detail: string };

export interface Imported {
  group: Group;
  /** Old members recorded as pre-approved. */
  priorMembers: number;
  /** The import had been started before and was completed. */
  resumed: boolean;
}

export interface MoveServiceDeps {
  store: Store;
  urls: Urls;
  events: EventSink;
  groups: GroupService;
  remote: RemoteDocuments;
  /** host[:port] used in handles. */
  domain: string;
  now?: () => number;
}

const PAGE = 500;

export class MoveService {
  private readonly now: () => number;
  constructor(private readonly d: MoveServiceDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Who may move a group: the admin, and its owner (a group the admin created has none). */
  async mayMove(group: string, by: Actor): Promise<boolean> {
    return by === 'admin' || (await this.d.store.owners.getOwner(group))?.actorId === by;
  }

  /** The export of a live group: profile, settings, moderators, bans, pinned posts and accepted members. */
  async exportGroup(name: string): Promise<Result<GroupExport, { type: 'group-not-found' }>> {
    const g = await this.d.groups.get(name);
    if (!g) return err({ type: 'group-not-found' });
    const s = this.d.store;
    const iso = (t: number) => new Date(t).toISOString();
    const moderators = [];
    for (let after: { addedAt: number; actorId: string } | null = null; ;) {
      const page = await s.moderators.listModerators(name, after, PAGE);
      if (page.length === 0) break;
      moderators.push(
        ...page.map((m) => ({ actorId: m.actorId, addedBy: m.addedBy, addedAt: iso(m.addedAt) })),
      );
      const last = page[page.length - 1];
      after = last ? { addedAt: last.addedAt, actorId: last.actorId } : null;
    }
    const bans = [];
    for (let after: string | null = null; ;) {
      const page = await s.bans.listBans(name, after, PAGE);
      if (page.length === 0) break;
      for (const b of page) {
        if (b.expiresAt !== null && b.expiresAt <= this.now()) continue;
        bans.push({
          actorId: b.actorId,
          reason: b.reason,
          by: b.by,
          createdAt: iso(b.createdAt),
          expiresAt: b.expiresAt === null ? null : iso(b.expiresAt),
        });
      }
      after = page[page.length - 1]?.actorId ?? null;
    }
    const members = [];
    for (let after: string | null = null; ;) {
      const page = await s.members.listMembers(name, 'accepted', after, PAGE);
      if (page.length === 0) break;
      members.push(...page.map((m) => ({ actorId: m.actorId, inbox: m.inbox, sharedInbox: m.sharedInbox })));
      after = page[page.length - 1]?.actorId ?? null;
    }
    return ok({
      format: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      exportedAt: iso(this.now()),
      source: { actor: this.d.urls.group(name), handle: `@${name}@${this.d.domain}` },
      group: { name, title: g.title, summary: g.summary, createdAt: iso(g.createdAt), settings: g.settings },
      moderators,
      owners: await this.owners(name),
      bans,
      pinned: await this.pinnedPosts(name),
      members,
    });
  }

  /**
   * Creates the group of an export here (under `name`, else its own name), listing the old group in
   * `alsoKnownAs`. Importing the same file again completes an import that stopped part way and changes nothing
   * more; any other group of that name is left alone (`name-taken`).
   */
  async importGroup(file: GroupExport, opts: { name?: string } = {}): Promise<Result<Imported, ImportError>> {
    const name = opts.name ?? file.group.name;
    let group = await this.d.store.groups.getGroup(name);
    let resumed = false;
    if (group) {
      const links = await this.d.store.moves.getMoveState(name);
      if (group.deletedAt !== null || !links.alsoKnownAs.includes(file.source.actor))
        return err({ type: 'name-taken' });
      resumed = true;
    } else {
      const created = await this.d.groups.create(
        name,
        { title: file.group.title, summary: file.group.summary },
        { announce: false },
      );
      if (!created.ok) {
        const e = created.error;
        if (e.type === 'name-taken') return err(e);
        return err({ type: 'invalid-name', detail: e.detail });
      }
      group = created.value;
    }
    // The mark of this import comes first: a second run recognises the group by it.
    await this.d.store.moves.addAlsoKnownAs(name, file.source.actor);
    group = { ...group, title: file.group.title, summary: file.group.summary, settings: file.group.settings };
    await this.d.store.groups.updateGroup({ ...group, updatedAt: this.now() });
    const basis = `import:${file.source.actor}`;
    for (const m of file.moderators)
      await this.d.store.moderators.addModerator({
        groupName: name,
        actorId: m.actorId,
        addedBy: m.addedBy,
        addedAt: Date.parse(m.addedAt),
      });
    // The owner (the first, when a file names several) owns the new group too.
    const [owner] = file.owners;
    if (owner !== undefined && (await this.d.store.owners.getOwner(name))?.actorId !== owner)
      await this.d.store.owners.setOwner({ groupName: name, actorId: owner, since: this.now() });
    for (const b of file.bans)
      await this.d.store.bans.putBan({
        groupName: name,
        actorId: b.actorId,
        reason: b.reason,
        by: b.by,
        createdAt: Date.parse(b.createdAt),
        expiresAt: b.expiresAt === null ? null : Date.parse(b.expiresAt),
      });
    for (const p of file.pinned) await this.importPinned(name, basis, p);
    for (let i = 0; i < file.members.length; i += PAGE)
      await this.d.store.moves.addPriorMembers(
        name,
        file.members.slice(i, i + PAGE).map((m) => m.actorId),
      );
    await this.audit(name, 'admin', 'import-group', file.source.actor, basis);
    await this.d.groups.announceCreated(name);
    return ok({ group, priorMembers: await this.d.store.moves.countPriorMembers(name), resumed });
  }

  /**
   * Moves a group to `target` (an actor id, or a handle `@name@host`): the target must list this group in
   * `alsoKnownAs` and not have moved itself, as Mastodon and GoToSocial check. The members are sent `Move`, the
   * group is marked moved (served as `movedTo`), and from then on it answers posts and Follows with a pointer.
   * Moving again to the same target sends nothing new.
   */
  async move(name: string, target: string, by: Actor): Promise<Result<{ target: string }, MoveError>> {
    if (!(await this.d.groups.get(name))) return err({ type: 'group-not-found' });
    if (!(await this.mayMove(name, by))) return err({ type: 'not-allowed' });
    const targetId = /^https?:\/\//.test(target) ? target : await this.d.remote.resolveHandle(target);
    if (!targetId)
      return err({ type: 'target-not-found', detail: `${target} could not be found (WebFinger)` });
    const state = await this.d.store.moves.getMoveState(name);
    if (state.movedTo !== null && state.movedTo !== targetId)
      return err({ type: 'already-moved', to: state.movedTo });
    const me = this.d.urls.group(name);
    if (targetId === me) return err({ type: 'target-refused', detail: 'a group cannot move to itself' });
    const checked = await this.checkTarget(me, targetId);
    if (!checked.ok) return checked;
    const basis = `move:${name}:${targetId}`;
    await this.d.events.emit({ type: 'GroupMoved', group: name, basis, target: targetId });
    await this.audit(name, by, 'move-group', targetId, basis);
    await this.d.store.moves.setMovedTo(name, targetId, this.now());
    return ok({ target: targetId });
  }

  /** The target as it is now: an actor that lists `me` in `alsoKnownAs` and has not moved itself. */
  private async checkTarget(me: string, targetId: string): Promise<Result<void, MoveError>> {
    const local = this.d.urls.groupNameOf(targetId);
    if (local !== null) {
      const g = await this.d.groups.get(local);
      const links = await this.d.store.moves.getMoveState(local);
      if (!g) return err({ type: 'target-not-found', detail: `there is no group ${targetId}` });
      if (!links.alsoKnownAs.includes(me))
        return err({ type: 'target-refused', detail: `${targetId} does not list ${me} in alsoKnownAs` });
      if (links.movedTo !== null)
        return err({ type: 'target-refused', detail: `${targetId} has itself moved to ${links.movedTo}` });
      return ok(undefined);
    }
    const doc = await this.d.remote.fetchActor(targetId);
    if (!doc || !isObject(doc) || typeOf(doc) === null)
      return err({ type: 'target-not-found', detail: `${targetId} could not be fetched` });
    if (!idsOf(doc.alsoKnownAs).includes(me))
      return err({
        type: 'target-refused',
        detail: `${targetId} does not list ${me} in alsoKnownAs: import the export there first`,
      });
    const movedTo = idOf(doc.movedTo);
    if (movedTo !== null)
      return err({ type: 'target-refused', detail: `${targetId} has itself moved to ${movedTo}` });
    return ok(undefined);
  }

  private async owners(name: string): Promise<string[]> {
    const owner = await this.d.store.owners.getOwner(name);
    return owner ? [owner.actorId] : [];
  }

  /** The group's pinned top-level posts, each with the Create its announcement carried. */
  private async pinnedPosts(name: string): Promise<ExportedPost[]> {
    const out: ExportedPost[] = [];
    for (const objectId of await this.d.store.postFlags.listPinned(name, 50)) {
      const post = await this.d.store.posts.getPost(name, objectId);
      if (!post || post.deletedAt !== null) continue;
      for (const a of await this.d.store.activities.listActivitiesAbout(name, objectId, null, 20)) {
        const doc: unknown = JSON.parse(a.json);
        const create = isObject(doc) ? doc.object : null;
        if (a.withdrawnAt !== null || !isObject(create) || create.type !== 'Create') continue;
        if (isObject(create.object) && create.object.id === objectId) {
          out.push({ objectId, authorId: post.authorId, create });
          break;
        }
      }
    }
    return out;
  }

  private async importPinned(name: string, basis: string, p: ExportedPost): Promise<void> {
    const t = this.now();
    await this.d.events.emit({
      type: 'PostImported',
      group: name,
      basis: `${basis}#${p.objectId}`,
      create: p.create,
      objectId: p.objectId,
    });
    await this.d.store.posts.putPost({
      objectId: p.objectId,
      groupName: name,
      authorId: p.authorId,
      inReplyTo: null,
      threadRoot: p.objectId,
      createId: idOf(p.create.id) ?? `${p.objectId}#create`,
      boostId: null,
      createdAt: t,
      deletedAt: null,
      removedBy: null,
    });
    await this.d.store.postFlags.setPinned(name, p.objectId, t);
  }

  private async audit(
    group: string,
    by: Actor,
    action: string,
    target: string,
    basis: string,
  ): Promise<void> {
    await this.d.store.audit.appendAudit({
      id: auditEntryId(basis, action, group, target),
      groupName: group,
      actorId: by,
      action,
      target,
      reason: '',
      at: this.now(),
    });
  }
}
