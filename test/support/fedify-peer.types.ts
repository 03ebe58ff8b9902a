/** The interface of the fedify test peer (fedify-peer.ts) and the options of its calls. */
import type { ReceivedActivity, RejectedRequest } from './fedify-peer.federation.ts';

/** Options for {@link startFedifyPeer}. */
export interface FedifyPeerOptions {
  username: string;
  host?: '127.0.0.1';
  /** Accept every Follow of this peer's actor (sends `Accept{Follow}` to the follower). Default false. */
  autoAcceptFollows?: boolean;
  /** Timeout for each remote document fetch and each `sendRaw`. Default 5000 ms. */
  fetchTimeoutMs?: number;
}

/** What {@link FedifyPeer.post} sends. */
export interface PostOptions {
  /** Actor ids of the groups (or any actors) to deliver to. */
  to: string[];
  content: string;
  /** Add a `Mention` tag for each target. Default true. */
  mention?: boolean;
  inReplyTo?: string;
  /** Mastodon-style addressing. Default `public`. */
  visibility?: Visibility;
  /** Default `Note`. */
  type?: 'Note' | 'Page';
  /** Title (`name`), as Lemmy sends for a `Page`. */
  name?: string;
  /** FEP-1b12 `audience`, set on both the object and the `Create`. */
  audience?: string;
}

/** Options for {@link FedifyPeer.sendRaw}. */
export interface SendRawOptions {
  /** Sign with the peer's key (draft-cavage). Default true. */
  sign?: boolean;
  /** Replaces the body after signing (headers, including `Digest`, stay as signed). */
  tamperBody?: (signedBody: string) => string;
}

/** Options for {@link FedifyPeer.waitFor}. */
export interface WaitForOptions {
  /** Default 10000 ms. */
  timeoutMs?: number;
  /** Named in the timeout error. */
  what?: string;
}

/** A running peer. */
export interface FedifyPeer {
  readonly actorId: string;
  readonly inboxUrl: string;
  readonly sharedInboxUrl: string;
  readonly keyId: string;
  readonly origin: string;
  /** `@user@127.0.0.1:PORT` */
  readonly handle: string;
  /** Verified incoming activities, in arrival order. */
  readonly received: ReceivedActivity[];
  /** Inbox POSTs the peer refused. */
  readonly rejected: RejectedRequest[];
  /** Failures of inbox listeners and background sends (e.g. an Accept the follower refused). */
  readonly errors: string[];
  /** Ids of the actors whose Follow this peer accepted (and that have not undone it). */
  followerIds(): string[];
  /** Fetches the target actor and sends it a `Follow`; resolves to the Follow's id. */
  follow(targetActorId: string): Promise<string>;
  /** Sends `Undo{Follow}` for a Follow sent earlier. */
  unfollow(targetActorId: string, followId: string): Promise<void>;
  /** Sends `Create{Note|Page}` to each target's inbox; the object stays dereferenceable at its id. */
  post(opts: PostOptions): Promise<{ createId: string; noteId: string }>;
  /** Sends `Update{Note|Page}` with new content to the targets of the original post. */
  update(noteId: string, content: string): Promise<void>;
  /** Sends `Delete{Tombstone}` to the targets of the original post; the object then answers 404. */
  delete(noteId: string): Promise<void>;
  /** Sends `Like{objectId}` to the group's inbox. */
  like(objectId: string, groupActorId: string): Promise<void>;
  /** POSTs arbitrary JSON to an inbox, signed with the peer's key unless told otherwise. */
  sendRaw(
    inboxUrl: string,
    activityJson: Record<string, unknown>,
    opts?: SendRawOptions,
  ): Promise<{ status: number; body: string }>;
  /** Resolves with the first received activity matching `predicate`, polling with back-off. */
  waitFor(predicate: (a: ReceivedActivity) => boolean, opts?: WaitForOptions): Promise<ReceivedActivity>;
  /** Waits for background sends, then stops the server. */
  close(): Promise<void>;
}

/** Mastodon's four visibilities. */
export type Visibility = 'public' | 'unlisted' | 'followers' | 'direct';
