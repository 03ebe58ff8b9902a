/**
 * What each family of member servers takes of what a group sends, read from their source code (repository and
 * file named on each rule; the research behind it is summed up in docs/adr/0009-forms-per-member-server.md).
 * A form a family refuses or ignores is not sent to it: no signed delivery is spent on it. Servers whose
 * software is not known get what every server got before software was told apart: the FEP-1b12 announcements,
 * the plain boosts and their undoing, and nothing forwarded. No I/O.
 */
import { majorVersion, PEER_FAMILIES, type KnownSoftware, type PeerFamily } from './peer-software.ts';

/** A kind of activity sent to a group's members, with what decides who takes it. */
export type MemberForm =
  /** FEP-1b12: the group's `Announce` embedding an activity (a post's Create, an edit, a vote, a removal...). */
  | { kind: 'announce' }
  /** The plain boost of a top-level post: `Announce{object: post id}`. */
  | { kind: 'boost' }
  /** `Undo` of the group's boost, embedding it. */
  | { kind: 'undo-boost' }
  /** The group's own `Update` or `Delete` of its actor. */
  | { kind: 'group-itself' }
  /** A member's own activity re-sent unchanged, signed by the group (inbox forwarding). */
  | {
      kind: 'forward';
      activity: 'Create' | 'Update' | 'Delete';
      /** The activity carries its author's LD signature (`signature`, RsaSignature2017). */
      ldSigned: boolean;
      /** The group is in the post's own `to` or `cc`. */
      groupAddressed: boolean;
      /** The post's type (`Note`, `Page`...), or null. */
      objectType: string | null;
    };

/** Families that take the FEP-1b12 Announce of an activity. */
const ANNOUNCE_READERS: ReadonlySet<PeerFamily> = new Set<PeerFamily>(['lemmy', 'mbin', 'nodebb', 'unknown']);

/**
 * Whether servers of `family` take `form`.
 *
 * - `announce`: Lemmy processes the embedded activity (`crates/apub/src/activities/community/announce.rs`), Mbin
 *   dispatches it (`src/MessageHandler/ActivityPub/Inbox/ActivityHandler.php`), NodeBB from a known category
 *   (`src/activitypub/inbox.js`). Mastodon (`app/lib/activitypub/activity/announce.rb`, `status_from_object`),
 *   GoToSocial (`internal/typeutils/astointernal.go` `ASAnnounceToStatus`: the object's id), snac
 *   (`activitypub.c`, the Announce branch: the object replaced by its id), Misskey (`ApInboxService.announce`:
 *   `skip: unknown object type`) and Pleroma (`object_validator.ex` `fetch_actor_and_object`) read an Announce only
 *   as the boost of `object.id`: an embedded Create becomes at best the boost they already get (and boosts of
 *   replies flood timelines, `app/lib/feed_manager.rb`), the rest nothing.
 * - `boost`: Lemmy answers 400 (the object must parse as an activity, `protocol/activities/community/announce.rs`);
 *   Mbin only marks the magazine active (`AnnounceHandler.php`); NodeBB takes the announced Create instead.
 * - `undo-boost`: snac ignores `Undo{Announce}` by design (`activitypub.c`, "Unboost"), Lemmy answers 400, Mbin
 *   ignores it (`AnnounceHandler.php`), NodeBB was never sent a boost.
 * - `group-itself`: snac takes an actor's Update only for a `Person`, `Service` or `Application` ("ignored
 *   'Update' for object type") and drops a Delete from an actor whose document no longer answers (`activitypub.c`,
 *   "dropping message due to actor error"); it reads a group's profile again when its copy is stale. Lemmy takes
 *   an Update or Delete of a community only from a person (`UpdateCommunity`,
 *   `actor: ObjectId<ApubPerson>`) and answers 400; it gets the Service actor's, announced.
 * - `forward`: GoToSocial takes a forwarded Create or Update and fetches the post from its origin
 *   (`internal/federation/federatingdb/create.go`, `update.go`: `forwarded`), and drops forwarded Deletes
 *   (`delete.go`: "TODO: handled forwarded deletes"); snac stores a forwarded Create of a Note or Article when a
 *   recipient of the post is followed (`is_msg_for_me`: "a public message for someone we follow"), fetches the
 *   post again on a forwarded Update, and ignores a Delete not signed by the author; Mastodon and Misskey take
 *   one only with its author's LD signature (`app/services/activitypub/process_activity_service.rb`,
 *   `InboxProcessorService.ts`), and Misskey applies no note edits (`ApInboxService.update`); Akkoma answers 400
 *   (`mapped_signature_to_identity_plug.ex`), Lemmy wants the signer to be the actor; unknown servers get none.
 */
export function takes(family: PeerFamily, form: MemberForm): boolean {
  switch (form.kind) {
    case 'announce':
      return ANNOUNCE_READERS.has(family);
    case 'boost':
      return family !== 'lemmy' && family !== 'mbin' && family !== 'nodebb';
    case 'undo-boost':
      return family !== 'lemmy' && family !== 'mbin' && family !== 'nodebb' && family !== 'snac';
    case 'group-itself':
      return family !== 'lemmy' && family !== 'snac';
    case 'forward':
      return takesForward(family, form);
    default: {
      const never: never = form;
      throw new Error(`unknown form ${JSON.stringify(never)}`);
    }
  }
}

function takesForward(family: PeerFamily, f: Extract<MemberForm, { kind: 'forward' }>): boolean {
  switch (family) {
    case 'gotosocial':
      return f.activity !== 'Delete';
    case 'snac':
      if (f.activity === 'Update') return true;
      return (
        f.activity === 'Create' && f.groupAddressed && (f.objectType === 'Note' || f.objectType === 'Article')
      );
    case 'mastodon':
      return f.ldSigned;
    case 'misskey':
      return f.ldSigned && f.activity !== 'Update';
    case 'lemmy':
    case 'mbin':
    case 'nodebb':
    case 'pleroma':
    case 'unknown':
      return false;
    default: {
      const never: never = family;
      throw new Error(`unknown family ${String(never)}`);
    }
  }
}

/** The families that take `form`: null when every family does (nothing to tell apart at fan-out). */
export function reachOf(form: MemberForm): PeerFamily[] | null {
  const families = PEER_FAMILIES.filter((f) => takes(f, form));
  return families.length === PEER_FAMILIES.length ? null : families;
}

/** How a direct message reaches one person: its form and the local actor it comes from. */
export interface DirectMessageForm {
  /** A mention `Note` addressed to the person only, or Lemmy's private message, a `ChatMessage`. */
  kind: 'note' | 'chat-message';
  from: 'group' | 'service';
}

/**
 * The form of a direct message to a person on a server of `family`; `answering` is the local actor the person
 * wrote to when the message answers them (null for a notice). See docs/adr/0009-forms-per-member-server.md.
 *
 * Lemmy 0.19 takes private messages only as `ChatMessage` from a Person or Service
 * (`crates/apub/src/activities/create_or_update/private_message.rs`), Mbin only `ChatMessage`
 * (`CreateHandler.php`). Elsewhere a mention Note: from the actor the person wrote to, since Mastodon does not
 * filter a private mention that answers the recipient's own (`app/services/notify_service.rb`,
 * `response_to_recipient?`); a notice from the group, which members follow, since Mastodon filters private
 * mentions from accounts the recipient does not follow (`app/models/notification_policy.rb`,
 * `for_private_mentions: filter`) and snac drops them with `drop_dm_from_unknown` (`activitypub.c`).
 */
export function directMessageForm(
  family: PeerFamily,
  answering: 'group' | 'service' | null,
): DirectMessageForm {
  if (family === 'lemmy' || family === 'mbin') return { kind: 'chat-message', from: 'service' };
  return { kind: 'note', from: answering ?? 'group' };
}

/**
 * Whether a server takes the group's `Reject{Follow}`: snac drops every Reject (`activitypub.c`,
 * `xs_match(type, "Add|View|Reject|Read|Remove")`), Lemmy 0.19 has no Reject and answers 400 (1.0 takes it,
 * `crates/activities/src/following/reject.rs`).
 */
export function takesRejectFollow(s: KnownSoftware): boolean {
  if (s.family === 'snac') return false;
  return !(s.family === 'lemmy' && (majorVersion(s.version) ?? 0) < 1);
}

/**
 * Whether the Service actor's `Block` of a banned person (and its `Undo`) is also sent to that person's own
 * server: Lemmy (`BlockUser::send`) and Mbin (`BlockHandler.php`, a magazine ban) record it; Mastodon-style
 * servers would read it as the Service actor blocking the person (`app/lib/activitypub/activity/block.rb`).
 */
export function takesDirectBlock(family: PeerFamily): boolean {
  return family === 'lemmy' || family === 'mbin' || family === 'unknown';
}

/**
 * Whether the author of a reply is also sent the group's boost of it, alone: snac records who boosted a post
 * only when it gets the boost of its own post (`activitypub.c`, `is_msg_mine` then `timeline_admire`), and
 * addresses the post's Delete to them; that is how an author's deletion of a reply on snac reaches the group.
 */
export function takesAuthorBoost(family: PeerFamily): boolean {
  return family === 'snac';
}
