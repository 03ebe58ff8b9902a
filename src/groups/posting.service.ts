/**
 * Posting in a group: the rules a post must pass (membership, posting policy, public addressing, threads,
 * locks, spam brakes, pre-moderation), then its acceptance (stored and re-shared) or its hold for a moderator.
 * Used by the inbound `Create` handler and by the release of a held post.
 */
import type { Post, Store } from '../storage/store.ts';
import type { ModerationStore } from '../storage/moderation.store.ts';
import { isPublic, sameOrigin, type ApObject } from '../activitypub/vocab.ts';
import type { ApPostObject } from '../activitypub/inbound.parser.ts';
import type { Urls } from '../activitypub/urls.ts';
import { err, ok, type DomainPolicyLookup, type Result } from './ports.ts';
import type { EventSink } from './events.ts';
import type { NoticeService } from './notices.service.ts';

/** A post submitted to a group by a Create. */
export interface Submission {
  /** Id of the Create. */
  createId: string;
  /** The Create's actor, verified by signature. */
  author: string;
  object: ApPostObject;
  /** The Create as received: the group announces it unchanged. */
  create: ApObject;
}

/**
 * What to do with a post: accept it, hold it for a moderator, or refuse it and tell its author why (a
 * non-member's post; other refusals are errors, told to nobody).
 */
export type PostingPlan =
  | { kind: 'accept'; post: Post }
  | { kind: 'hold'; reason: string }
  | { kind: 'refuse-non-member'; reason: string };

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
   * Checks a post against the group's rules (reads only). `groupMentions` counts the groups it mentions (spam
   * cap); `released` is set when a moderator approved it, so that the holds do not apply again. A post this
   * same Create already brought in is accepted again as it is, so that an interrupted acceptance is finished.
   */
  async check(
    group: string,
    s: Submission,
    o: { groupMentions: number; released: boolean },
  ): Promise<Result<PostingPlan, string>> {
    const store = this.d.store;
    const g = await store.groups.getGroup(group);
    if (!g || g.deletedAt !== null) return err(`group ${group} does not exist`);
    const objectId = s.object.id;
    if (!sameOrigin(objectId, s.author)) return err(`object ${objectId} is not on the actor's origin`);
    if (s.object.attributedTo !== s.author) return err('the object is not attributed to the actor');
    const existing = await store.posts.getPost(group, objectId);
    if (existing) {
      if (existing.createId === s.createId && existing.deletedAt === null)
        return ok({ kind: 'accept', post: existing });
      return err(`post ${objectId} is already in ${group}`);
    }
    const rules = g.settings;
    if (o.groupMentions > rules.maxGroupMentions)
      return err(`the post mentions ${o.groupMentions} groups, more than ${rules.maxGroupMentions} (spam)`);
    if (await store.bans.getActiveBan(group, s.author, this.now()))
      return err(`${s.author} is banned from ${group}`);
    const member = await store.members.getMember(group, s.author);
    const isModerator = await store.moderators.isModerator(group, s.author);
    if (member?.state !== 'accepted' && !isModerator)
      return ok({ kind: 'refuse-non-member', reason: `${s.author} is not a member of ${group}` });
    const inReplyTo = s.object.inReplyTo;
    if (rules.postingPolicy === 'moderators' && !isModerator && !inReplyTo)
      return err(`only moderators post in ${group}; ${s.author} is not one`);
    if (![...s.object.to, ...s.object.cc].some(isPublic))
      return err('the post is neither public nor unlisted (a direct message or followers-only post)');
    let threadRoot = objectId;
    if (inReplyTo) {
      const parent = await store.posts.getPost(group, inReplyTo);
      if (!parent) return err(`reply to ${inReplyTo}, which is not in ${group}`);
      threadRoot = parent.threadRoot;
      if (!isModerator && (await store.postFlags.isLocked(group, threadRoot)))
        return err(`the thread ${threadRoot} is locked`);
    }
    if (!isModerator && !o.released) {
      if (rules.maxPostsPerHour > 0) {
        const recent = await store.postFlags.countPostsByAuthorSince(group, s.author, this.now() - 3_600_000);
        if (recent >= rules.maxPostsPerHour)
          return err(`${s.author} posted ${recent} times in the last hour in ${group} (limit)`);
      }
      const hold = await this.holdReason(group, s.author, rules.premoderateFirstPosts);
      if (hold) return ok({ kind: 'hold', reason: hold });
    }
    return ok({
      kind: 'accept',
      post: {
        objectId,
        groupName: group,
        authorId: s.author,
        inReplyTo,
        threadRoot,
        createId: s.createId,
        boostId: inReplyTo ? null : this.d.urls.derivedActivity(group, s.createId, 'boost'),
        createdAt: this.now(),
        deletedAt: null,
        removedBy: null,
      },
    });
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
      basis: s.createId,
      create: s.create,
      objectId: post.objectId,
      boostId: post.boostId,
    });
    return `${post.inReplyTo ? 'reply' : 'post'} ${post.objectId} announced to ${post.groupName}`;
  }

  /** Keeps the post for a moderator's approval and tells every moderator. */
  async hold(group: string, s: Submission, reason: string): Promise<string> {
    const objectId = s.object.id;
    await this.d.store.held.holdPost({
      groupName: group,
      objectId,
      authorId: s.author,
      activityJson: JSON.stringify(s.create),
      reason,
      createdAt: this.now(),
    });
    await this.d.notices.notifyModerators(
      group,
      `A post waits for approval (${reason}): ${objectId}\nAnswer "approve-post ${objectId}" to share it, or "reject-post ${objectId}".`,
      `held:${s.createId}`,
    );
    return `post ${objectId} held for approval: ${reason}`;
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
