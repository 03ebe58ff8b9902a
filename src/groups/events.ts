/**
 * What happened in a group, as the domain tells it. Events are emitted through the {@link EventSink} port once
 * the decision is taken; `federation/outbound/` turns each one into activities and queues their delivery.
 *
 * Every event names its `basis`: the id of the inbound activity or of the action that caused it. Activity ids
 * are derived from it, so that when a step fails and the job or the action is run again, the same activities
 * get the same ids and are stored and queued once.
 *
 * `source` is the remote activity that expressed the action (a moderator's own Block, Delete...), which the
 * group announces unchanged; null when the action was taken here (admin, DM command), in which case the
 * instance's Service actor authors the activity.
 */
import type { ApObject } from '../activitypub/vocab.ts';
import type { Group } from '../storage/store.ts';
import type { MemberExclusion } from '../storage/links.store.ts';

/** The Follow that a join answer refers to. */
export interface FollowRef {
  /** Id of the Follow, when known. */
  id: string | null;
  follower: string;
  /** The follower's inbox, where the answer goes. */
  inbox: string;
}

/** A remote actor a message or an activity is sent to. */
export interface RecipientRef {
  id: string;
  inbox: string;
  /** `@user@host`, or null. */
  handle: string | null;
  url: string | null;
}

interface About {
  /** The group's name. */
  group: string;
  /** Id of the inbound activity or action that caused the event. */
  basis: string;
}

export type GroupEvent =
  /** A post was accepted: it is announced, and a top-level post also boosted with `boostId`. */
  | (About & { type: 'PostAccepted'; create: ApObject; objectId: string; boostId: string | null })
  /** A member's activity about a post (its author's edit) is re-shared unchanged. */
  | (About & { type: 'ActivityReshared'; activity: ApObject; objectId: string })
  /**
   * A member's vote on a post changed (a Like or Dislike, or the Undo of their current vote): it is re-shared
   * with the post reduced to its id (`objectId`).
   */
  | (About & { type: 'VoteReshared'; activity: ApObject; objectId: string })
  /** An author deleted their post: their Delete is re-shared unchanged, and the group's boost undone. */
  | (About & { type: 'PostDeleted'; source: ApObject; objectId: string; boostId: string | null })
  | (About & { type: 'MemberJoined'; follow: FollowRef })
  | (About & { type: 'JoinRequested'; follower: string })
  /** A join request was refused, a banned actor's Follow refused, or a member removed. */
  | (About & { type: 'JoinRejected'; follow: FollowRef })
  | (About & {
      type: 'MemberBanned';
      source: ApObject | null;
      user: string;
      /** The banned user's inbox (their server lifts its copy of the ban), when known. */
      userInbox: string | null;
      reason: string;
      expiresAt: number | null;
      removeData: boolean;
    })
  | (About & {
      type: 'MemberUnbanned';
      source: ApObject | null;
      user: string;
      userInbox: string | null;
      reason: string;
    })
  | (About & {
      type: 'PostRemoved';
      source: ApObject | null;
      objectId: string;
      reason: string;
      /** The group's boost of the post, undone with it. */
      boostId: string | null;
    })
  /**
   * A post is live again: restored by a moderator, or undeleted by its author (`source` is then the author's
   * Undo). A top-level post is boosted again with `boostId`.
   */
  | (About & {
      type: 'PostRestored';
      source: ApObject | null;
      objectId: string;
      reason: string;
      boostId: string | null;
    })
  | (About & { type: 'PostPinned' | 'PostUnpinned'; source: ApObject | null; objectId: string })
  | (About & { type: 'ThreadLocked' | 'ThreadUnlocked'; source: ApObject | null; objectId: string })
  | (About & {
      type: 'ModeratorAdded' | 'ModeratorRemoved';
      source: ApObject | null;
      moderator: string;
    })
  /** The group's profile or settings changed; `snapshot` is the group as it now is. */
  | (About & { type: 'SettingsChanged'; source: ApObject | null; snapshot: Group })
  | (About & { type: 'GroupDeleted' })
  | (About & {
      type: 'ReportResolved';
      flagId: string;
      reporter: string;
      reporterInbox: string;
      objectIds: string[];
    })
  /**
   * A direct message (a notice to a moderator, an answer to a command). `answering` is the local actor the
   * recipient wrote to, when the message answers them: the answer comes from it wherever their server takes
   * that; a notice has none.
   */
  | (About & {
      type: 'DirectMessageSent';
      to: RecipientRef;
      text: string;
      inReplyTo: string | null;
      answering?: 'group' | 'service';
    })
  /** A group was created here (by import too): the peers that follow this instance list it. */
  | (About & { type: 'GroupCreated' })
  /** The group moved to `target`, which lists it in `alsoKnownAs`: members are told with `Move`. */
  | (About & { type: 'GroupMoved'; target: string })
  /** A pinned post that came with an imported group: kept for the featured collection, sent to nobody. */
  | (About & { type: 'PostImported'; create: ApObject; objectId: string })
  /** The group asked to follow another group (FEP-d36d), or stopped following it. */
  | (About & {
      type: 'GroupFollowRequested' | 'GroupUnfollowed';
      target: string;
      targetInbox: string;
      followId: string;
    })
  /**
   * The group re-shares what a group it follows announced: the announced activity (an `Announce{Create}`, when
   * `activity` is set) and a plain boost of the post (when `boost`), to its members but those who get it from
   * the followed group (`except`). Ids derive from the object, so a post is re-shared once whatever brings it.
   */
  | (About & {
      type: 'ObjectReshared';
      objectId: string;
      activity: ApObject | null;
      boost: boolean;
      except: MemberExclusion;
    })
  /**
   * A direct message from the instance's Service actor, about no group in particular (an answer to a command
   * sent to it, a sign-in link, the fate of a request to create a group).
   *
   * `keptText` is set when `text` holds a secret (a sign-in link, a deletion code): the message is then sent
   * at once and never stored or queued with its secret; the copy kept (so that its id dereferences, for its
   * addressee only) says `keptText` instead.
   */
  | {
      type: 'ServiceMessageSent';
      group?: undefined;
      basis: string;
      to: RecipientRef;
      text: string;
      keptText: string | null;
      inReplyTo: string | null;
    };

export type GroupEventType = GroupEvent['type'];

/** Another instance, as the instance's own events name it. */
export interface PeerRef {
  host: string;
  /** Its Service actor. */
  actorId: string;
  inbox: string;
}

/** What happened between this instance and its peers (their directories). */
export type InstanceEvent =
  /** This instance's Service actor follows a peer's, to be told about the peer's groups. */
  | { type: 'PeerFollowed' | 'PeerUnfollowed'; basis: string; peer: PeerRef; followId: string }
  /** A peer's Follow was accepted: it is answered, then told about every group this instance lists. */
  | { type: 'PeerAccepted'; basis: string; peer: PeerRef; theirFollowId: string };

/** The port the domain emits events through. */
export interface EventSink {
  /**
   * Turns the event into activities, stores them and queues their delivery. Returns once that is durable;
   * emitting the same event again (same basis) stores and queues nothing new.
   */
  emit(event: GroupEvent | InstanceEvent): Promise<void>;
}
