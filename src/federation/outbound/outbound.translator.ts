/**
 * The one place where what happened in a group becomes activities: each domain event is built into activities
 * with the `activitypub/` builders and handed to the publisher (stored, then queued durably).
 *
 * Ids are derived from the event's basis and the activity's role, so that emitting an event again (a retried
 * intake job, an action done again after a failure) stores and queues nothing new.
 *
 * What a moderator, the admin or a DM command does is announced by the group (FEP-1b12): the remote
 * moderator's own activity unchanged, or else an activity authored by the instance's Service actor, which
 * Lemmy accepts from the group's own domain (`verify_mod_action` in Lemmy 0.19's `crates/apub/src/activities/
 * mod.rs`) and which is signed by the instance's key where it is sent on its own.
 */
import type { Store } from '../../storage/store.ts';
import { idOf, type ApObject } from '../../activitypub/vocab.ts';
import type { ApOutbound } from '../../activitypub/ap-types.ts';
import {
  buildDeleteGroup,
  buildResolve,
  buildUpdateGroup,
  embedded,
  voteWithObjectId,
  withContext,
} from '../../activitypub/activity.builders.ts';
import {
  buildBlock,
  buildCollectionChange,
  buildLock,
  buildRemovePost,
  buildRestorePost,
  buildUndoBlock,
  buildUndoLock,
} from '../../activitypub/moderation.builders.ts';
import { toApGroup } from '../../activitypub/group.serializer.ts';
import { groupKeyOwner, type Urls } from '../../activitypub/urls.ts';
import type { EventSink, GroupEvent, InstanceEvent } from '../../groups/events.ts';
import { NO_IMMEDIATE_SENDER, sendServiceMessage, type ImmediateSender } from './service-message.ts';
import type { MemberActivity, Publisher } from '../publisher.ts';
import type { SoftwareLookup } from '../peer-software.service.ts';
import { MemberItems, type Basis } from './member-items.ts';
import { DirectSends } from './direct-sends.ts';
import { LinksTranslator } from './links.translator.ts';

export interface OutboundDeps {
  publisher: Publisher;
  store: Store;
  urls: Urls;
  /** host[:port] used in handles (the group's actor document names its WebFinger address). */
  domain: string;
  /**
   * The software of member servers, which decides the forms of direct messages and of what is sent to one
   * person; without it every server is `unknown` (a Note from the group, every form).
   */
  software?: SoftwareLookup;
  /** Sends the direct messages that hold a secret, which are never queued (`service-message.ts`). */
  immediate?: ImmediateSender;
  now?: () => number;
}

type Event<T extends GroupEvent['type']> = Extract<GroupEvent, { type: T }>;

export class OutboundTranslator implements EventSink {
  private readonly now: () => number;
  /** Moves, groups following groups, re-shares, and the news peers get of the directory. */
  private readonly links: LinksTranslator;
  private readonly items: MemberItems;
  private readonly direct: DirectSends;

  constructor(private readonly d: OutboundDeps) {
    this.now = d.now ?? Date.now;
    const published = () => this.published();
    this.items = new MemberItems(d, published);
    this.direct = new DirectSends({ ...d, software: d.software ?? null }, published);
    this.links = new LinksTranslator({ ...d, now: this.now });
  }

  async emit(e: GroupEvent | InstanceEvent): Promise<void> {
    switch (e.type) {
      case 'PostAccepted': {
        // A top-level post is boosted; a reply is forwarded as its author sent it, where that is taken.
        const items = [this.items.announce(e, e.create, e.objectId)];
        if (e.boostId !== null) items.push(this.items.boost(e.group, e.boostId, e.objectId));
        else items.push(...this.forwarded(e.group, e.create, e.objectId));
        await this.d.publisher.publishAllToMembers(e.group, items);
        const author = idOf(e.create['actor']);
        if (e.boostId === null && author !== null) await this.direct.authorBoost(e, author, e.objectId);
        return;
      }
      case 'ActivityReshared':
        return this.d.publisher.publishAllToMembers(e.group, [
          this.items.announce(e, e.activity, e.objectId),
          ...this.forwarded(e.group, e.activity, e.objectId),
        ]);
      case 'VoteReshared':
        // Not forwarded as sent: the vote goes out with the post reduced to its id (an embedded copy is the
        // voter's word only).
        return this.d.publisher.publishAllToMembers(e.group, [
          this.items.announce(e, voteWithObjectId(e.activity, e.objectId), e.objectId),
        ]);
      case 'PostDeleted': {
        // The deletion's announcement is about the Delete, not the post: withdrawing what carried the post
        // (storage/store.ts, markPostDeleted) leaves it.
        const about = idOf(e.source) ?? e.objectId;
        const items = [this.items.announce(e, e.source, about)];
        if (e.boostId !== null) items.push(await this.items.undoBoost(e, e.boostId, e.objectId));
        items.push(...this.forwarded(e.group, e.source, about));
        return this.d.publisher.publishAllToMembers(e.group, items);
      }
      case 'MemberJoined':
        this.d.software?.noticed(e.follow.inbox);
        return this.direct.answerFollow(e, 'Accept', e.follow);
      case 'JoinRejected':
        return this.direct.answerFollow(e, 'Reject', e.follow);
      case 'JoinRequested':
        // Nothing is sent until a moderator decides: the follower's server shows the request as pending.
        this.d.software?.noticed(e.follower);
        return;
      case 'MemberBanned':
        return this.moderation(
          e,
          e.source,
          e.user,
          () => this.block(e, 'block', e.reason, e.expiresAt, e.removeData),
          e.userInbox,
        );
      case 'MemberUnbanned':
        return this.moderation(
          e,
          e.source,
          e.user,
          () =>
            buildUndoBlock({
              ...this.byService(e, 'undo-block'),
              block: this.block(e, 'block', e.reason, null, false),
            }),
          e.userInbox,
        );
      case 'PostRemoved': {
        // About the removal's Delete, not the post (see PostDeleted).
        const inner = e.source ?? (await this.kept(e.group, this.removal(e), null));
        const items = [this.items.announce(e, inner, idOf(inner) ?? e.objectId)];
        if (e.boostId !== null) items.push(await this.items.undoBoost(e, e.boostId, e.objectId));
        return this.d.publisher.publishAllToMembers(e.group, items);
      }
      case 'PostRestored': {
        const inner =
          e.source ??
          (await this.kept(
            e.group,
            buildRestorePost({ ...this.byService(e, 'restore'), remove: this.removal(e) }),
            null,
          ));
        const items = [this.items.announce(e, inner, idOf(inner) ?? e.objectId)];
        if (e.boostId !== null) items.push(this.items.boost(e.group, e.boostId, e.objectId));
        return this.d.publisher.publishAllToMembers(e.group, items);
      }
      case 'PostPinned':
      case 'PostUnpinned':
        return this.moderation(e, e.source, e.objectId, () =>
          buildCollectionChange({
            ...this.byService(e, 'featured'),
            type: e.type === 'PostPinned' ? 'Add' : 'Remove',
            object: e.objectId,
            collection: this.d.urls.featured(e.group),
          }),
        );
      case 'ThreadLocked':
        return this.moderation(e, e.source, e.objectId, () =>
          buildLock({ ...this.byService(e, 'lock'), objectId: e.objectId }),
        );
      case 'ThreadUnlocked':
        return this.moderation(e, e.source, e.objectId, () =>
          buildUndoLock({
            ...this.byService(e, 'undo-lock'),
            lock: buildLock({ ...this.byService(e, 'lock'), objectId: e.objectId }),
          }),
        );
      case 'ModeratorAdded':
      case 'ModeratorRemoved':
        return this.moderation(e, e.source, e.moderator, () =>
          buildCollectionChange({
            ...this.byService(e, 'moderators'),
            type: e.type === 'ModeratorAdded' ? 'Add' : 'Remove',
            object: e.moderator,
            collection: this.d.urls.moderators(e.group),
          }),
        );
      case 'SettingsChanged':
        await this.settingsChanged(e);
        // Peers list the group as it now is, or not at all when it is no longer discoverable.
        return this.links.directoryNews(e, 'updated', e.snapshot);
      case 'GroupDeleted':
        await this.groupDeleted(e);
        return this.links.directoryNews(e, 'unlisted');
      case 'ReportResolved': {
        const resolve = buildResolve({
          id: this.id(e, 'resolve'),
          actor: this.d.urls.instanceActor(),
          group: this.d.urls.group(e.group),
          flag: { id: e.flagId, type: 'Flag', actor: e.reporter, object: e.objectIds },
          published: this.published(),
        });
        return this.d.publisher.sendTo(e.group, withContext(resolve), e.reporterInbox, 'instance');
      }
      case 'DirectMessageSent':
        return this.direct.directMessage(e);
      case 'GroupCreated':
      case 'GroupMoved':
      case 'PostImported':
      case 'GroupFollowRequested':
      case 'GroupUnfollowed':
      case 'ObjectReshared':
      case 'PeerFollowed':
      case 'PeerUnfollowed':
      case 'PeerAccepted':
        return this.links.emit(e);
      case 'ServiceMessageSent':
        return sendServiceMessage(
          {
            publisher: this.d.publisher,
            urls: this.d.urls,
            software: this.d.software ?? null,
            immediate: this.d.immediate ?? NO_IMMEDIATE_SENDER,
            published: this.published(),
          },
          e,
        );
      default: {
        const never: never = e;
        throw new Error(`no translation for ${JSON.stringify(never)}`);
      }
    }
  }

  private id(e: Basis, role: string): string {
    return this.d.urls.derivedActivity(e.group, e.basis, role);
  }

  private published(): string {
    return new Date(this.now()).toISOString();
  }

  /** The fields of an activity the Service actor authors in a group. */
  private byService(e: Basis, role: string) {
    return {
      id: this.id(e, role),
      actor: this.d.urls.instanceActor(),
      group: this.d.urls.group(e.group),
      published: this.published(),
    };
  }

  private removal(e: Event<'PostRemoved' | 'PostRestored'>) {
    return buildRemovePost({ ...this.byService(e, 'remove'), objectId: e.objectId, reason: e.reason });
  }

  private block(
    e: { group: string; basis: string; user: string },
    role: string,
    reason: string,
    expiresAt: number | null,
    removeData: boolean,
  ) {
    return buildBlock({
      ...this.byService(e, role),
      user: e.user,
      reason,
      endTime: expiresAt === null ? null : new Date(expiresAt).toISOString(),
      removeData,
    });
  }

  /** Stores an activity embedded in an Announce, so that its id dereferences; returns it as embedded. */
  private async kept(group: string, activity: ApOutbound, objectId: string | null): Promise<ApObject> {
    const doc = withContext(activity);
    await this.d.publisher.keep(group, doc, objectId);
    return embedded(doc);
  }

  /**
   * A moderation action announced by the group: the moderator's own activity (`source`), or one authored by
   * the Service actor, which is also sent on its own to `directInbox` (the person it concerns) as Lemmy does,
   * where their server records it.
   */
  private async moderation(
    e: Basis,
    source: ApObject | null,
    objectId: string,
    build: () => ApOutbound,
    directInbox: string | null = null,
  ): Promise<void> {
    if (source !== null) {
      await this.d.publisher.publishAllToMembers(e.group, [this.items.announce(e, source, objectId)]);
      return;
    }
    const activity = build();
    const inner = await this.kept(e.group, activity, objectId);
    await this.d.publisher.publishAllToMembers(e.group, [this.items.announce(e, inner, objectId)]);
    if (directInbox !== null) await this.direct.toBannedPerson(e, withContext(inner), directInbox);
  }

  /** A member's activity forwarded unchanged, where member servers take it (see MemberItems.forward). */
  private forwarded(group: string, activity: ApObject, objectId: string): MemberActivity[] {
    const item = this.items.forward(group, activity, objectId);
    return item ? [item] : [];
  }

  /**
   * The group's new actor document, twice: an Update by the group itself, which Mastodon-style servers take
   * (an actor's Update only from that actor), and the Service actor's Update announced by the group, which
   * Lemmy takes (`UpdateCommunity`, actor a Person or Service). The Service's Update is also sent when a
   * moderator asked for the change: it carries the group as it is here, not the fields they sent.
   */
  private async settingsChanged(e: Event<'SettingsChanged'>): Promise<void> {
    const pem = await this.d.store.keys.getPublicKey(groupKeyOwner(e.group));
    if (!pem) throw new Error(`group ${e.group} has no key`);
    const links = await this.d.store.moves.getMoveState(e.group);
    const document = toApGroup(e.snapshot, this.d.urls, pem, this.d.domain, links);
    const ids = this.items.ids(e.group);
    const own = buildUpdateGroup({
      ...ids,
      id: this.id(e, 'update'),
      actor: ids.group,
      document,
      published: this.published(),
    });
    const byService = buildUpdateGroup({ ...ids, ...this.byService(e, 'update-by-service'), document });
    const inner = await this.kept(e.group, byService, ids.group);
    await this.d.publisher.publishAllToMembers(e.group, [
      this.items.itself(own, ids.group),
      // The group's own profile is not content: it stays out of the outbox, as its Update always did.
      this.items.announce(e, inner, ids.group, false),
    ]);
  }

  /** Delete of the group, by the group itself (Mastodon-style servers) and by the Service actor (Lemmy). */
  private async groupDeleted(e: Event<'GroupDeleted'>): Promise<void> {
    const ids = this.items.ids(e.group);
    const own = buildDeleteGroup({
      ...ids,
      id: this.id(e, 'delete'),
      actor: ids.group,
      published: this.published(),
    });
    const byService = buildDeleteGroup({ ...ids, ...this.byService(e, 'delete-by-service') });
    const inner = await this.kept(e.group, byService, ids.group);
    await this.d.publisher.publishAllToMembers(e.group, [
      this.items.itself(own, ids.group),
      // The group's own profile is not content: it stays out of the outbox, as its Update always did.
      this.items.announce(e, inner, ids.group, false),
    ]);
  }
}
