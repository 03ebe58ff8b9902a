/**
 * The events that link groups and instances, turned into activities: a group's `Move`, its `Follow` of another
 * group (and the `Undo`), what it re-shares from the groups it follows, an imported group's pinned posts, and
 * what the Service actor tells its peers (its `Follow` of theirs, the `Accept` of theirs, and the news of each
 * group of the directory). Part of the outbound translator (outbound.translator.ts), which hands these events
 * here; ids derive from each event's basis, so emitting one again stores and queues nothing new.
 */
import type { Group, Store } from '../../storage/store.ts';
import type { Peer } from '../../storage/links.store.ts';
import type { ApObject } from '../../activitypub/vocab.ts';
import {
  buildAnnounce,
  buildBoost,
  buildFollowAnswer,
  withContext,
  type GroupIds,
} from '../../activitypub/activity.builders.ts';
import {
  buildDirectoryNews,
  buildFollow,
  buildMove,
  buildUndoFollow,
  type DirectoryChange,
} from '../../activitypub/link.builders.ts';
import { toApGroup } from '../../activitypub/group.serializer.ts';
import { groupKeyOwner, type Urls } from '../../activitypub/urls.ts';
import type { GroupEvent, InstanceEvent, PeerRef } from '../../groups/events.ts';
import type { Publisher } from '../publisher.ts';

/** The activities of the Service actor itself are stored apart from every group's. */
export const INSTANCE_ACTIVITIES = '';

const PEER_PAGE = 100;
const GROUP_PAGE = 200;

export type LinkEvent =
  | Extract<
      GroupEvent,
      {
        type: 'GroupCreated' | 'GroupMoved' | 'PostImported' | 'GroupFollowRequested' | 'GroupUnfollowed';
      }
    >
  | Extract<GroupEvent, { type: 'ObjectReshared' }>
  | InstanceEvent;

export interface LinksTranslatorDeps {
  publisher: Publisher;
  store: Store;
  urls: Urls;
  /** host[:port] of this instance. */
  domain: string;
  now: () => number;
}

export class LinksTranslator {
  constructor(private readonly d: LinksTranslatorDeps) {}

  async emit(e: LinkEvent): Promise<void> {
    switch (e.type) {
      case 'GroupCreated':
        return this.directoryNews(e, 'listed');
      case 'GroupMoved': {
        const move = buildMove({
          ...this.ids(e.group),
          id: this.id(e, 'move'),
          target: e.target,
          published: this.published(),
        });
        // Not content: kept out of the outbox.
        await this.d.publisher.publishAllToMembers(e.group, [
          { activity: withContext(move), inOutbox: false, objectId: this.d.urls.group(e.group) },
        ]);
        return this.directoryNews(e, 'unlisted');
      }
      case 'PostImported': {
        const announce = buildAnnounce({
          ...this.ids(e.group),
          id: this.id(e, 'announce'),
          activity: e.create,
          published: this.published(),
        });
        return this.d.publisher.keep(e.group, withContext(announce), e.objectId, true);
      }
      case 'GroupFollowRequested':
      case 'GroupUnfollowed': {
        const follow = buildFollow({
          id: e.followId,
          actor: this.d.urls.group(e.group),
          object: e.target,
          published: this.published(),
        });
        const activity =
          e.type === 'GroupFollowRequested'
            ? follow
            : buildUndoFollow({ id: this.id(e, 'undo-follow'), follow, published: this.published() });
        return this.d.publisher.sendTo(e.group, withContext(activity), e.targetInbox);
      }
      case 'ObjectReshared':
        return this.reshare(e);
      case 'PeerFollowed':
      case 'PeerUnfollowed': {
        const follow = buildFollow({
          id: e.followId,
          actor: this.d.urls.instanceActor(),
          object: e.peer.actorId,
          published: this.published(),
        });
        const activity =
          e.type === 'PeerFollowed'
            ? follow
            : buildUndoFollow({
                id: this.d.urls.instanceActivity(e.basis, 'undo-follow'),
                follow,
                published: this.published(),
              });
        return this.d.publisher.sendTo(INSTANCE_ACTIVITIES, withContext(activity), e.peer.inbox, 'instance');
      }
      case 'PeerAccepted':
        return this.peerAccepted(e);
      default: {
        const never: never = e;
        throw new Error(`no translation for ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Tells the peers that follow this instance about a group: listed (created), updated, or unlisted (deleted,
   * moved, made not discoverable). A group that is not discoverable, or has moved, is only ever unlisted.
   */
  async directoryNews(
    e: { group: string; basis: string },
    change: DirectoryChange,
    snapshot: Group | null = null,
  ): Promise<void> {
    const peers = await this.followingPeers();
    if (peers.length === 0) return;
    // A change is told before it is stored: the event's snapshot is the group as it is becoming.
    const g = snapshot ?? (await this.d.store.groups.getGroup(e.group));
    const document = change === 'unlisted' || !g ? null : await this.listedDocument(g);
    for (const peer of peers) await this.sendNews(e, peer, document === null ? 'unlisted' : change, document);
  }

  private async peerAccepted(e: Extract<InstanceEvent, { type: 'PeerAccepted' }>): Promise<void> {
    const answer = buildFollowAnswer({
      id: this.d.urls.instanceActivity(e.basis, 'accept'),
      type: 'Accept',
      group: this.d.urls.instanceActor(),
      followId: e.theirFollowId,
      follower: e.peer.actorId,
      published: this.published(),
    });
    await this.d.publisher.sendTo(INSTANCE_ACTIVITIES, withContext(answer), e.peer.inbox, 'instance');
    // Then every group the directory lists, each once (ids derive from the accepted Follow).
    let after: string | null = null;
    for (;;) {
      const page: Group[] = await this.d.store.groups.listGroups(after, GROUP_PAGE);
      if (page.length === 0) return;
      for (const g of page) {
        const document = await this.listedDocument(g);
        if (document) await this.sendNews({ group: g.name, basis: e.basis }, e.peer, 'listed', document);
      }
      after = page[page.length - 1]?.name ?? null;
    }
  }

  /** The group's actor document when the directory lists it (live, discoverable, not moved), else null. */
  private async listedDocument(g: Group): Promise<ApObject | null> {
    if (g.deletedAt !== null || !g.settings.discoverable) return null;
    const links = await this.d.store.moves.getMoveState(g.name);
    if (links.movedTo !== null) return null;
    const pem = await this.d.store.keys.getPublicKey(groupKeyOwner(g.name));
    if (!pem) return null;
    return toApGroup(g, this.d.urls, pem, this.d.domain, links);
  }

  private async sendNews(
    e: { group: string; basis: string },
    peer: PeerRef,
    change: DirectoryChange,
    document: ApObject | null,
  ): Promise<void> {
    const news = buildDirectoryNews({
      id: this.id(e, `directory:${peer.host}`),
      service: this.d.urls.instanceActor(),
      peer: peer.actorId,
      change,
      group: this.d.urls.group(e.group),
      document,
      published: this.published(),
    });
    await this.d.publisher.sendTo(e.group, withContext(news), peer.inbox, 'instance');
  }

  /** The peers whose Follow of this instance was accepted. */
  private async followingPeers(): Promise<Peer[]> {
    const out: Peer[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Peer[] = await this.d.store.peerings.listPeers(after, PEER_PAGE);
      if (page.length === 0) return out;
      out.push(...page.filter((p) => p.followedBy));
      after = page[page.length - 1]?.host ?? null;
    }
  }

  /**
   * The re-share of what a followed group announced: its `Announce{Create}` unchanged and, for a top-level
   * post, a plain boost, with ids derived from the object (whatever group brought it, once), to the members
   * but those who get it from the followed group.
   */
  private async reshare(e: Extract<GroupEvent, { type: 'ObjectReshared' }>): Promise<void> {
    const ids = this.d.urls.reshareIds(e.group, e.objectId);
    const items = [];
    if (e.activity !== null) {
      const announce = buildAnnounce({
        ...this.ids(e.group),
        id: ids.announce,
        activity: e.activity,
        published: this.published(),
      });
      items.push({ activity: withContext(announce), inOutbox: true, objectId: e.objectId });
    }
    if (e.boost) {
      const boost = buildBoost({
        ...this.ids(e.group),
        id: ids.boost,
        objectId: e.objectId,
        published: this.published(),
      });
      items.push({ activity: withContext(boost), inOutbox: false, objectId: e.objectId });
    }
    await this.d.publisher.publishAllToMembers(e.group, items, { except: e.except });
  }

  private id(e: { group: string; basis: string }, role: string): string {
    return this.d.urls.derivedActivity(e.group, e.basis, role);
  }

  private ids(group: string): GroupIds {
    return { group: this.d.urls.group(group), followers: this.d.urls.followers(group) };
  }

  private published(): string {
    return new Date(this.d.now()).toISOString();
  }
}
