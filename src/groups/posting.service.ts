/**
 * Posting in a group: the rules a post must pass (membership, no ban, posting policy, public addressing,
 * threads, locks, spam brakes, pre-moderation), then its acceptance (stored and re-shared) or its hold for a
 * moderator. An edit of a post (an `Update`) passes the same rules, in the same function, as the post did:
 * a banned or former member's edit is refused, and an edit is held whenever its author's posts would be.
 * Used by the inbound `Create` and `Update` handlers and by the release of a held post or edit.
 */
import type { Group, Post, Store } from '../storage/store.ts';
import type { ModerationStore } from '../storage/moderation.store.ts';
import { isPublic, sameOrigin, type ApObject } from '../activitypub/vocab.ts';
import type { ApPostObject } from '../activitypub/inbound.parser.ts';
import type { Urls } from '../activitypub/urls.ts';
import { err, ok, type DomainPolicyLookup, type Result } from './ports.ts';
import type { EventSink } from './events.ts';
import type { NoticeService } from './notices.service.ts';

/** A post submitted to a group by a Create, or a new version of one by an Update. */
export interface Submission {
  /** Id of the Create or Update. */
  activityId: string;
  /** The activity's actor, verified by signature. */
  author: string;
  object: ApPostObject;
  /** The activity as received: the group announces it unchanged. */
  activity: ApObject;
}

/**
 * What to do with a post or an edit that passed the rules: accept it (for an edit, `post` is the post as
 * stored), hold it for a moderator, or (a new post only) refuse it and tell its author why (a non-member's
 * post; other refusals are errors, told to nobody).
 */
export type PostingPlan =
  | { kind: 'accept'; post: Post }
  | { kind: 'hold'; reason: string }
  | { kind: 'refuse-non-member'; reason: string };

/** What the rules say of a post or edit that is not refused outright. */
type RulesVerdict =
  { kind: 'share' } | { kind: 'hold'; reason: string } | { kind: 'refuse-non-member'; reason: string };

/** What the rules are asked about besides the submission. */
export interface PostingCheck {
  /** Groups the post mentions (the spam cap). */
  groupMentions: number;
  /** A moderator approved it: the holds do not apply again. */
  released: boolean;
}

export interface PostingDeps {
  store: Store & ModerationStore;
  urls: Urls;
  events: EventSink;
  notices: NoticeService;
  /** Posts from limited domains are held. */
  domains: DomainPolicyLookup;
  now?: () => number;
}

export class PostingService {
  private readonly now: () => number;
  constructor(private readonly d: PostingDeps) {
    this.now = d.now ?? Date.now;
  }

  /**
   * Checks a new post against the group's rules (reads only). A post this same Create already brought in is
   * accepted again as it is, so that an interrupted acceptance is finished.
   */
  async check(group: string, s: Submission, o: PostingCheck): Promise<Result<PostingPlan, string>> {
    const store = this.d.store;
    const g = await store.groups.getGroup(group);
    if (!g || g.deletedAt !== null) return err(`group ${group} does not exist`);
    const objectId = s.object.id;
    const existing = await store.posts.getPost(group, objectId);
    if (existing) {
      if (existing.createId === s.activityId && existing.deletedAt === null)
        return ok({ kind: 'accept', post: existing });
      return err(`post ${objectId} is already in ${group}`);
    }
    const inReplyTo = s.object.inReplyTo;
    let threadRoot = objectId;
    if (inReplyTo) {
      const parent = await store.posts.getPost(group, inReplyTo);
      if (!parent) return err(`reply to ${inReplyTo}, which is not in ${group}`);
      threadRoot = parent.threadRoot;
    }
    const rules = await this.rules(g, s, { ...o, edit: false, isReply: inReplyTo !== null, threadRoot });
    if (!rules.ok) return rules;
    if (rules.value.kind !== 'share') return ok(rules.value);
    return ok({
      kind: 'accept',
      post: {
        objectId,
        groupName: group,
        authorId: s.author,
        inReplyTo,
        threadRoot,
        createId: s.activityId,
        boostId: inReplyTo ? null : this.d.urls.derivedActivity(group, s.activityId, 'boost'),
        createdAt: this.now(),
        deletedAt: null,
        removedBy: null,
      },
    });
  }

  /**
   * Checks an edit of a post against the same rules as a post (reads only): the post is in the group, live
   * and the author's, and the new version stays in its thread. Accepted, the plan's post is the post as stored.
   */
  async checkEdit(group: string, s: Submission, o: PostingCheck): Promise<Result<PostingPlan, string>> {
    const store = this.d.store;
    const g = await store.groups.getGroup(group);
    if (!g || g.deletedAt !== null) return err(`group ${group} does not exist`);
    const objectId = s.object.id;
    const post = await store.posts.getPost(group, objectId);
    if (!post) return err(`Update of ${objectId}, which is not a post of ${group}`);
    if (post.authorId !== s.author) return err(`Update of ${objectId} by someone who is not its author`);
    if (post.deletedAt !== null) return err(`${objectId} was deleted`);
    if (s.object.inReplyTo !== post.inReplyTo)
      return err(`the Update moves ${objectId} to another thread (inReplyTo changed)`);
    const rules = await this.rules(g, s, {
      ...o,
      edit: true,
      isReply: post.inReplyTo !== null,
      threadRoot: post.threadRoot,
    });
    if (!rules.ok) return rules;
    // A former member's edit is refused like any other, told to nobody.
    if (rules.value.kind === 'refuse-non-member') return err(rules.value.reason);
    return ok(rules.value.kind === 'hold' ? rules.value : { kind: 'accept', post });
  }

  /**
   * The rules every post and every edit passes, in one place: the reason of a refusal, or the reason to hold
   * it for a moderator (null: share it). An edit is not counted against the hourly posts (edits have budgets
   * of their own, `activity-budget.service.ts`); any post of a locked thread is closed to edits, while a
   * locked thread's top-level post stays open to new replies only by moderators.
   */
  private async rules(
    g: Group,
    s: Submission,
    o: PostingCheck & { edit: boolean; isReply: boolean; threadRoot: string },
  ): Promise<Result<RulesVerdict, string>> {
    const store = this.d.store;
    const group = g.name;
    const objectId = s.object.id;
    if (!sameOrigin(objectId, s.author)) return err(`object ${objectId} is not on the actor's origin`);
    if (s.object.attributedTo !== s.author) return err('the object is not attributed to the actor');
    const rules = g.settings;
    if (o.groupMentions > rules.maxGroupMentions)
      return err(`the post mentions ${o.groupMentions} groups, more than ${rules.maxGroupMentions} (spam)`);
    if (await store.bans.getActiveBan(group, s.author, this.now()))
      return err(`${s.author} is banned from ${group}`);
    const member = await store.members.getMember(group, s.author);
    const isModerator = await store.moderators.isModerator(group, s.author);
    if (member?.state !== 'accepted' && !isModerator)
      return ok({ kind: 'refuse-non-member', reason: `${s.author} is not a member of ${group}` });
    if (rules.postingPolicy === 'moderators' && !isModerator && !o.isReply)
      return err(`only moderators post in ${group}; ${s.author} is not one`);
    if (![...s.object.to, ...s.object.cc].some(isPublic))
      return err('the post is neither public nor unlisted (a direct message or followers-only post)');
    if (!isModerator && (o.isReply || o.edit) && (await store.postFlags.isLocked(group, o.threadRoot)))
      return err(`the thread ${o.threadRoot} is locked`);
    if (isModerator || o.released) return ok({ kind: 'share' });
    if (!o.edit && rules.maxPostsPerHour > 0) {
      const recent = await store.postFlags.countPostsByAuthorSince(group, s.author, this.now() - 3_600_000);
      if (recent >= rules.maxPostsPerHour)
        return err(`${s.author} posted ${recent} times in the last hour in ${group} (limit)`);
    }
    const hold = await this.holdReason(group, s.author, rules.premoderateFirstPosts);
    return ok(hold === null ? { kind: 'share' } : { kind: 'hold', reason: hold });
  }

  /**
   * Stores the post, then re-shares it (`PostAccepted`): the Create announced, a top-level post also boosted.
   * Done again after a failure, it stores and queues nothing twice.
   */
  async accept(post: Post, s: Submission): Promise<string> {
    await this.d.store.posts.putPost(post);
    await this.d.events.emit({
      type: 'PostAccepted',
      group: post.groupName,
      basis: s.activityId,
      create: s.activity,
      objectId: post.objectId,
      boostId: post.boostId,
    });
    return `${post.inReplyTo ? 'reply' : 'post'} ${post.objectId} announced to ${post.groupName}`;
  }

  /** Re-shares an accepted edit unchanged (`ActivityReshared`); done again, it queues nothing twice. */
  async acceptEdit(post: Post, s: Submission): Promise<string> {
    await this.d.events.emit({
      type: 'ActivityReshared',
      group: post.groupName,
      basis: s.activityId,
      activity: s.activity,
      objectId: post.objectId,
    });
    return `Update of ${post.objectId} announced to ${post.groupName}`;
  }

  /**
   * Keeps the post, or the edit, for a moderator's approval and tells every moderator. A newer edit of a post
   * takes the place of the one that waits.
   */
  async hold(group: string, s: Submission, reason: string, edit = false): Promise<string> {
    const objectId = s.object.id;
    const held = {
      groupName: group,
      objectId,
      authorId: s.author,
      activityJson: JSON.stringify(s.activity),
      reason,
      createdAt: this.now(),
    };
    if (!(await this.d.store.held.holdPost(held)) && edit) {
      const waiting = await this.d.store.held.getHeldPost(group, objectId);
      if (waiting && waiting.activityJson !== held.activityJson && isUpdate(waiting.activityJson)) {
        await this.d.store.held.takeHeldPost(group, objectId);
        await this.d.store.held.holdPost(held);
      }
    }
    const what = edit ? 'An edit of a post' : 'A post';
    await this.d.notices.notifyModerators(
      group,
      `${what} waits for approval (${reason}): ${objectId}\nAnswer "approve-post ${objectId}" to share it, or "reject-post ${objectId}".`,
      `held:${s.activityId}`,
    );
    return `${edit ? 'edit of' : 'post'} ${objectId} held for approval: ${reason}`;
  }

  /** Why a post must wait for a moderator, or null: a new member's first posts, or a limited domain. */
  private async holdReason(group: string, author: string, firstPosts: number): Promise<string | null> {
    const host = new URL(author).hostname.toLowerCase();
    const policy = await this.d.domains.policyOf(host);
    if (policy?.policy === 'limit') return `posts from ${host} are moderated`;
    if (firstPosts > 0 && (await this.d.store.postFlags.countPostsByAuthor(group, author)) < firstPosts) {
      return `the first ${firstPosts} posts of a new member are moderated`;
    }
    return null;
  }
}

/** True when a held activity is an Update (a held edit) rather than a Create. */
function isUpdate(json: string): boolean {
  try {
    return (JSON.parse(json) as { type?: unknown }).type === 'Update';
  } catch {
    return false;
  }
}
