/**
 * What a group does with an activity that passed signature checks and was queued: decide first whether to
 * accept it, then apply and announce it (FEP-1b12). Every refusal returns a reason that is logged.
 */
import { randomUUID } from 'node:crypto';
import type { Group, Post, Store } from '../storage/store.ts';
import type { ModerationStore } from '../storage/moderation.store.ts';
import {
  GUILD_CONTEXT,
  POST_TYPES,
  PUBLIC,
  idOf,
  isObject,
  isPublic,
  recipientsOf,
  sameOrigin,
  str,
  typeOf,
  type ApObject,
} from '../activitypub/vocab.ts';
import type { Urls } from '../activitypub/urls.ts';
import { followAnswer } from './follow-answer.ts';
import type { ActorLookup, DomainPolicyLookup, MemberActivity, Publisher } from './ports.ts';
import type { ModerationInbox } from './moderation.handlers.ts';
import type { ModerationService } from './moderation.service.ts';
import type { CommandService } from './commands.service.ts';

/** An activity whose signer was verified to be its actor. */
export interface InboundActivity {
  id: string;
  type: string;
  actorId: string;
  json: ApObject;
  /** The group whose inbox received it, or null for the shared inbox. */
  inboxGroup: string | null;
}

export type Outcome = { applied: true; what: string } | { applied: false; reason: string };

const applied = (what: string): Outcome => ({ applied: true, what });
const ignored = (reason: string): Outcome => ({ applied: false, reason });

export interface GroupInboxDeps {
  store: Store & ModerationStore;
  urls: Urls;
  publisher: Publisher;
  actors: ActorLookup;
  /** Moderation activities from moderators' servers, and reports. */
  moderationInbox?: ModerationInbox;
  moderation?: ModerationService;
  /** Commands sent to a group by direct message. */
  commands?: CommandService;
  /** Domain policies: posts from limited domains are held. */
  domains: DomainPolicyLookup;
  now?: () => number;
}

export class GroupInbox {
  private readonly now: () => number;
  constructor(private readonly deps: GroupInboxDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Applies one activity to every local group it concerns; one outcome per group (or one overall). */
  async handle(a: InboundActivity): Promise<Outcome[]> {
    const moderated = await this.deps.moderationInbox?.handle(a);
    if (moderated) return moderated;
    if (a.type === 'Delete' && idOf(a.json.object) === a.actorId) return this.onAccountDeleted(a);
    switch (a.type) {
      case 'Follow':
        return [await this.onFollow(a)];
      case 'Undo':
        return this.onUndo(a);
      case 'Create':
        return this.onCreate(a);
      case 'Update':
      case 'Delete':
      case 'Like':
      case 'Dislike':
        return this.onActivityAboutPost(a);
      default:
        return [ignored(`activity type ${a.type} is not handled`)];
    }
  }

  private async liveGroup(name: string | null): Promise<Group | null> {
    if (name === null) return null;
    const g = await this.deps.store.groups.getGroup(name);
    return g && g.deletedAt === null ? g : null;
  }

  private async onFollow(a: InboundActivity): Promise<Outcome> {
    const target = idOf(a.json.object);
    const group = await this.liveGroup(target ? this.deps.urls.groupNameOf(target) : null);
    if (!group) return ignored(`Follow of ${target ?? '(no object)'} is not a group here`);
    const actor = await this.deps.actors.getActor(a.actorId);
    if (!actor) return ignored(`follower ${a.actorId} could not be fetched`);
    if (await this.deps.store.bans.getActiveBan(group.name, a.actorId, this.now())) {
      await this.deps.publisher.sendTo(
        group.name,
        followAnswer(this.deps.urls, group.name, 'Reject', a.json, a.actorId),
        actor.inbox,
      );
      return ignored(`${a.actorId} is banned from ${group.name}; Follow rejected`);
    }
    const existing = await this.deps.store.members.getMember(group.name, a.actorId);
    const accept = group.settings.membershipPolicy === 'open' || existing?.state === 'accepted';
    const t = this.now();
    await this.deps.store.members.upsertMember({
      groupName: group.name,
      actorId: actor.id,
      inbox: actor.inbox,
      sharedInbox: actor.sharedInbox,
      deliveryInbox: actor.sharedInbox ?? actor.inbox,
      state: accept ? 'accepted' : 'pending',
      followId: a.id,
      createdAt: existing?.createdAt ?? t,
      updatedAt: t,
    });
    if (!accept) return applied(`join request of ${a.actorId} to ${group.name} is pending`);
    await this.deps.publisher.sendTo(
      group.name,
      followAnswer(this.deps.urls, group.name, 'Accept', a.json, a.actorId),
      actor.inbox,
    );
    return applied(`${a.actorId} joined ${group.name}`);
  }

  private async onUndo(a: InboundActivity): Promise<Outcome[]> {
    const inner = a.json.object;
    const innerType = typeOf(inner);
    if (innerType === 'Follow' && isObject(inner)) {
      const target = idOf(inner.object);
      const name = target ? this.deps.urls.groupNameOf(target) : null;
      if (idOf(inner.actor) !== a.actorId) return [ignored('Undo of a Follow made by another actor')];
      if (name === null) return [ignored('Undo{Follow} of something that is not a group here')];
      const removed = await this.deps.store.members.removeMember(name, a.actorId);
      return [
        removed ? applied(`${a.actorId} left ${name}`) : ignored(`${a.actorId} was not a member of ${name}`),
      ];
    }
    if (innerType === null && typeof inner === 'string' && a.inboxGroup) {
      const m = await this.deps.store.members.getMember(a.inboxGroup, a.actorId);
      if (m && m.followId === inner) {
        await this.deps.store.members.removeMember(a.inboxGroup, a.actorId);
        return [applied(`${a.actorId} left ${a.inboxGroup}`)];
      }
    }
    if (innerType === 'Like' || innerType === 'Dislike' || innerType === 'Announce') {
      return this.onActivityAboutPost(a);
    }
    return [ignored(`Undo of ${innerType ?? 'an unknown activity'} is not handled`)];
  }

  /** Local groups an activity or its object is addressed to (to, cc, audience, Mention tags). */
  private addressedGroups(a: ApObject, object: ApObject | null): string[] {
    const names = new Set<string>();
    for (const o of object ? [a, object] : [a]) {
      const r = recipientsOf(o);
      for (const id of [...r.to, ...r.cc, ...r.audience, ...r.mentions]) {
        const n = this.deps.urls.groupNameOf(id);
        if (n) names.add(n);
      }
    }
    return [...names];
  }

  private async onCreate(a: InboundActivity): Promise<Outcome[]> {
    const object = a.json.object;
    if (!isObject(object)) return [ignored('Create without an inline object')];
    const objectId = str(object.id);
    const type = typeOf(object);
    if (!objectId || !type) return [ignored('Create of an object without id or type')];
    if (!POST_TYPES.has(type)) return [ignored(`Create of a ${type} is not a post`)];
    if (!sameOrigin(objectId, a.actorId)) return [ignored(`object ${objectId} is not on the actor's origin`)];
    if (idOf(object.attributedTo) !== a.actorId)
      return [ignored('the object is not attributed to the actor')];
    const names = this.addressedGroups(a.json, object);
    if (names.length === 0) return [ignored('Create is not addressed to a group here')];
    if (isDirectMessage(object) && this.deps.commands && this.deps.moderation)
      return this.onCommand(names, a, object);
    const groupMentions = names.length + (await this.remoteGroupsMentioned(object));
    const out: Outcome[] = [];
    for (const name of names) out.push(await this.createInGroup(name, a, object, objectId, groupMentions));
    return out;
  }

  /** Remote groups among the mentions of a post, as far as the actor cache knows them (bounded). */
  private async remoteGroupsMentioned(object: ApObject): Promise<number> {
    const hrefs = [...new Set(recipientsOf(object).mentions)]
      .filter((h) => !this.deps.urls.isLocal(h))
      .slice(0, 50);
    let n = 0;
    for (const href of hrefs) {
      if ((await this.deps.store.remoteActors.getRemoteActor(href))?.type === 'Group') n++;
    }
    return n;
  }

  /** A direct message to the group: a command from a moderator or member, answered by direct message. */
  private async onCommand(names: string[], a: InboundActivity, object: ApObject): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const name of names) {
      if (!(await this.liveGroup(name))) continue;
      const answer = await this.deps.commands!.run(name, a.actorId, object, this.now());
      await this.deps.moderation!.sendDirect(name, a.actorId, answer, str(object.id) ?? undefined);
      out.push(applied(`command from ${a.actorId} to ${name} answered: ${answer.split('\n')[0]}`));
    }
    return out.length > 0 ? out : [ignored('direct message to no live group')];
  }

  /**
   * Posting rules, then the post is stored and announced. `released` is set when a moderator approved a
   * held post: the holds do not apply again.
   */
  async createInGroup(
    name: string,
    a: InboundActivity,
    object: ApObject,
    objectId: string,
    groupMentions: number,
    released = false,
  ): Promise<Outcome> {
    const group = await this.liveGroup(name);
    if (!group) return ignored(`group ${name} does not exist`);
    const s = group.settings;
    if (groupMentions > s.maxGroupMentions) {
      return ignored(`the post mentions ${groupMentions} groups, more than ${s.maxGroupMentions} (spam)`);
    }
    const store = this.deps.store;
    if (await store.bans.getActiveBan(name, a.actorId, this.now()))
      return ignored(`${a.actorId} is banned from ${name}`);
    const member = await store.members.getMember(name, a.actorId);
    const isModerator = await store.moderators.isModerator(name, a.actorId);
    if (member?.state !== 'accepted' && !isModerator)
      return ignored(`${a.actorId} is not a member of ${name}`);
    if (s.postingPolicy === 'moderators' && !isModerator && !idOf(object.inReplyTo)) {
      return ignored(`only moderators post in ${name}; ${a.actorId} is not one`);
    }
    const r = recipientsOf(object);
    if (![...r.to, ...r.cc].some(isPublic)) {
      return ignored('the post is neither public nor unlisted (a direct message or followers-only post)');
    }
    const existing = await store.posts.getPost(name, objectId);
    if (existing) return ignored(`post ${objectId} is already in ${name}`);
    const inReplyTo = idOf(object.inReplyTo);
    let threadRoot = objectId;
    if (inReplyTo) {
      const parent = await store.posts.getPost(name, inReplyTo);
      if (!parent) return ignored(`reply to ${inReplyTo}, which is not in ${name}`);
      threadRoot = parent.threadRoot;
      if (!isModerator && (await store.postFlags.isLocked(name, threadRoot)))
        return ignored(`the thread ${threadRoot} is locked`);
    }
    if (!isModerator && !released) {
      if (s.maxPostsPerHour > 0) {
        const recent = await store.postFlags.countPostsByAuthorSince(name, a.actorId, this.now() - 3_600_000);
        if (recent >= s.maxPostsPerHour)
          return ignored(`${a.actorId} posted ${recent} times in the last hour in ${name} (limit)`);
      }
      const hold = await this.holdReason(name, a.actorId, s.premoderateFirstPosts);
      if (hold) {
        const held = await store.held.holdPost({
          groupName: name,
          objectId,
          authorId: a.actorId,
          activityJson: JSON.stringify(a.json),
          reason: hold,
          createdAt: this.now(),
        });
        if (held && this.deps.moderation) {
          await this.deps.moderation.notifyModerators(
            name,
            `A post waits for approval (${hold}): ${objectId}\nAnswer "approve-post ${objectId}" to share it.`,
          );
        }
        return ignored(`post ${objectId} held for approval: ${hold}`);
      }
    }
    const groupId = this.deps.urls.group(name);
    const boostId = inReplyTo ? null : this.deps.urls.activity(name, randomUUID());
    const post: Post = {
      objectId,
      groupName: name,
      authorId: a.actorId,
      inReplyTo,
      threadRoot,
      createId: a.id,
      boostId,
      createdAt: this.now(),
      deletedAt: null,
    };
    await this.deps.store.posts.putPost(post);
    // Announce{Create} for servers that follow FEP-1b12, then (top-level posts) a plain boost of the object
    // that Mastodon shows in timelines; every inbox is queued the first before any is queued the second.
    const extra: MemberActivity[] = boostId
      ? [
          {
            activity: { ...this.envelope(name, boostId), type: 'Announce', object: objectId },
            inOutbox: false,
            objectId,
          },
        ]
      : [];
    await this.announce(name, a.json, objectId, extra);
    return applied(`${inReplyTo ? 'reply' : 'post'} ${objectId} announced to ${name} (${groupId})`);
  }

  /** Why a post must wait for a moderator, or null: a new member's first posts, or a limited domain. */
  private async holdReason(group: string, author: string, firstPosts: number): Promise<string | null> {
    const host = new URL(author).hostname.toLowerCase();
    const policy = await this.deps.domains.policyOf(host);
    if (policy?.policy === 'limit') return `posts from ${host} are moderated`;
    if (firstPosts > 0 && (await this.deps.store.postFlags.countPostsByAuthor(group, author)) < firstPosts) {
      return `the first ${firstPosts} posts of a new member are moderated`;
    }
    return null;
  }

  /** Shares a held post that a moderator approved. */
  async releaseHeld(group: string, objectId: string): Promise<boolean> {
    const held = await this.deps.store.held.takeHeldPost(group, objectId);
    if (!held) return false;
    const json = JSON.parse(held.activityJson) as ApObject;
    const object = json.object;
    if (!isObject(object)) return false;
    const a: InboundActivity = {
      id: str(json.id) ?? '',
      type: 'Create',
      actorId: held.authorId,
      json,
      inboxGroup: group,
    };
    const outcome = await this.createInGroup(group, a, object, objectId, 0, true);
    return outcome.applied;
  }

  /** An account was deleted: its memberships end everywhere. */
  private async onAccountDeleted(a: InboundActivity): Promise<Outcome[]> {
    const groups = await this.deps.store.members.listGroupsOfActor(a.actorId);
    for (const g of groups) await this.deps.store.members.removeMember(g, a.actorId);
    return [
      groups.length > 0
        ? applied(`deleted account ${a.actorId} left ${groups.join(', ')}`)
        : ignored(`deleted account ${a.actorId} was in no group here`),
    ];
  }

  /** Update, Delete, Like, Dislike and Undo of those, concerning a post of a group here. */
  private async onActivityAboutPost(a: InboundActivity): Promise<Outcome[]> {
    const inner = a.type === 'Undo' && isObject(a.json.object) ? a.json.object : null;
    if (inner && idOf(inner.actor) !== a.actorId)
      return [ignored('Undo of an activity made by another actor')];
    const about = inner ? inner.object : a.json.object;
    const objectId = idOf(about);
    if (!objectId) return [ignored(`${a.type} without an object`)];
    const names = new Set(this.addressedGroups(a.json, isObject(about) ? about : null));
    if (a.inboxGroup) names.add(a.inboxGroup);
    if (names.size === 0) {
      // Mastodon sends an author's Delete to Public only: find the groups that hold the post.
      for (const g of await this.deps.store.posts.listGroupsOfPost(objectId)) names.add(g);
    }
    if (names.size === 0) return [ignored(`${a.type} of ${objectId} is not addressed to a group here`)];
    const out: Outcome[] = [];
    for (const name of names) {
      const group = await this.liveGroup(name);
      const post = group ? await this.deps.store.posts.getPost(name, objectId) : null;
      if (!group || !post) {
        out.push(ignored(`${a.type} of ${objectId}, which is not a post of ${name}`));
        continue;
      }
      const isAuthor = post.authorId === a.actorId;
      if (a.type === 'Delete' && !isAuthor && this.deps.moderationInbox) {
        out.push(await this.deps.moderationInbox.moderatorDelete(name, a, objectId));
        continue;
      }
      if ((a.type === 'Update' || a.type === 'Delete') && !isAuthor) {
        out.push(ignored(`${a.type} of ${objectId} by someone who is not its author`));
        continue;
      }
      if (a.type === 'Update' && isObject(about) && !sameOrigin(objectId, a.actorId)) {
        out.push(ignored('Update of an object on another origin'));
        continue;
      }
      if (a.type !== 'Delete' && a.type !== 'Update') {
        const member = await this.deps.store.members.getMember(name, a.actorId);
        if (member?.state !== 'accepted') {
          out.push(ignored(`${a.actorId} is not a member of ${name}`));
          continue;
        }
      }
      if (post.deletedAt !== null) {
        out.push(ignored(`${objectId} was deleted`));
        continue;
      }
      if (a.type === 'Delete') {
        if (!(await this.deps.store.posts.markPostDeleted(name, objectId, this.now()))) {
          out.push(ignored(`${objectId} was deleted`));
          continue;
        }
      }
      await this.announce(
        name,
        a.json,
        objectId,
        a.type === 'Delete' && post.boostId ? [this.undoBoost(name, post.boostId, objectId)] : [],
      );
      out.push(applied(`${a.type} of ${objectId} announced to ${name}`));
    }
    return out;
  }

  private envelope(name: string, id: string): ApObject {
    const groupId = this.deps.urls.group(name);
    return {
      '@context': GUILD_CONTEXT,
      id,
      actor: groupId,
      to: [PUBLIC],
      cc: [this.deps.urls.followers(name)],
      audience: groupId,
      published: new Date(this.now()).toISOString(),
    };
  }

  /** Announce{activity}: the original activity, unchanged, to every member; listed in the outbox. */
  private async announce(
    name: string,
    activity: ApObject,
    objectId: string,
    followedBy: MemberActivity[] = [],
  ): Promise<void> {
    const id = this.deps.urls.activity(name, randomUUID());
    await this.deps.publisher.publishAllToMembers(name, [
      {
        activity: { ...this.envelope(name, id), type: 'Announce', object: activity },
        inOutbox: true,
        objectId,
      },
      ...followedBy,
    ]);
  }

  /** Undo of the group's plain boost of a deleted post. */
  private undoBoost(name: string, boostId: string, objectId: string): MemberActivity {
    const groupId = this.deps.urls.group(name);
    return {
      activity: {
        ...this.envelope(name, this.deps.urls.activity(name, randomUUID())),
        type: 'Undo',
        object: { id: boostId, type: 'Announce', actor: groupId, object: objectId },
      },
      inOutbox: false,
      objectId: boostId,
    };
  }
}

/** Addressed to actors only: no public addressing and no followers collection. */
function isDirectMessage(object: ApObject): boolean {
  const r = recipientsOf(object);
  const all = [...r.to, ...r.cc];
  return !all.some(isPublic) && !all.some((id) => /\/followers$/.test(id));
}
