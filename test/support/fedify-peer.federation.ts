/**
 * The fedify `Federation` behind a test peer: one `Person` actor with an RSA key, an inbox (personal and
 * shared) that records every activity fedify has verified, a followers collection, WebFinger, and object
 * dispatchers that serve the peer's own notes and pages.
 */
import {
  Accept,
  Activity,
  Endpoints,
  Follow,
  MemoryKvStore,
  Note,
  Page,
  Person,
  Undo,
  createFederation,
  getTypeId,
  isActor,
} from '@fedify/fedify';
import type { Actor, Federation, InboxContext, Recipient } from '@fedify/fedify';
import { peerDocumentLoader, preloadedOnlyContextLoader } from './fedify-peer.loaders.ts';
import type { PreloadedContexts } from './fedify-peer.loaders.ts';

const AS_NAMESPACE = 'https://www.w3.org/ns/activitystreams#';

/** One activity received by the peer after fedify verified it. */
export interface ReceivedActivity {
  /** The activity type, e.g. `Create` (short name for ActivityStreams types, the full IRI otherwise). */
  type: string;
  id: string | null;
  actorId: string | null;
  /** The activity as received (fedify's `toJsonLd()` of the parsed activity, LD signature detached). */
  json: Record<string, unknown>;
  /** Whether it came in through the shared inbox (`/inbox`) rather than the actor's own inbox. */
  sharedInbox: boolean;
}

/** An inbox POST the peer refused (status >= 400): bad signature, signer not the actor, invalid JSON-LD... */
export interface RejectedRequest {
  path: string;
  status: number;
  body: string;
}

/** Mutable state shared by the federation callbacks and the peer's API. */
export interface PeerState {
  readonly username: string;
  readonly keyPair: CryptoKeyPair;
  readonly autoAcceptFollows: boolean;
  readonly received: ReceivedActivity[];
  readonly rejected: RejectedRequest[];
  readonly errors: string[];
  /** Accepted followers by actor id. */
  readonly followers: Map<string, Recipient>;
  /** The peer's own notes and pages by id; deleted ones are removed (and then answer 404). */
  readonly objects: Map<string, Note | Page>;
  /** Runs a side effect (e.g. sending an Accept) after the inbox answered; failures land in `errors`. */
  background(what: string, task: () => Promise<unknown>): void;
}

function typeName(activity: Activity): string {
  const href = getTypeId(activity).href;
  return href.startsWith(AS_NAMESPACE) ? href.slice(AS_NAMESPACE.length) : href;
}

async function toReceived(activity: Activity, sharedInbox: boolean): Promise<ReceivedActivity> {
  const json: unknown = await activity.toJsonLd();
  return {
    type: typeName(activity),
    id: activity.id?.href ?? null,
    actorId: activity.actorId?.href ?? null,
    json: typeof json === 'object' && json !== null && !Array.isArray(json) ? { ...json } : { value: json },
    sharedInbox,
  };
}

async function onFollowed(state: PeerState, ctx: InboxContext<void>, follow: Follow): Promise<void> {
  const me = ctx.getActorUri(state.username);
  if (follow.objectId?.href !== me.href || !state.autoAcceptFollows) return;
  const follower = await follow.getActor(ctx);
  if (follower === null || follower.id === null || follower.inboxId === null) {
    state.errors.push(`Follow ${follow.id?.href ?? '(no id)'}: its actor could not be fetched`);
    return;
  }
  // A plain recipient (not the Actor object), so the followers collection lists ids, not embedded actors.
  state.followers.set(follower.id.href, {
    id: follower.id,
    inboxId: follower.inboxId,
    endpoints: { sharedInbox: follower.endpoints?.sharedInbox ?? null },
  });
  const accept = new Accept({
    id: new URL(`${me.href}/accepts/${crypto.randomUUID()}`),
    actor: me,
    // A fresh copy of the Follow, so the Accept embeds it without the sender's nested @context.
    object: new Follow({ id: follow.id, actor: follow.actorId, object: follow.objectId }),
    to: follower.id,
  });
  state.background(`Accept of ${follow.id?.href ?? 'Follow'}`, () =>
    ctx.sendActivity({ identifier: state.username }, follower, accept),
  );
}

async function onUndone(state: PeerState, ctx: InboxContext<void>, undo: Undo): Promise<void> {
  const object = await undo.getObject(ctx);
  if (object instanceof Follow && undo.actorId !== null && object.actorId?.href === undo.actorId.href) {
    state.followers.delete(undo.actorId.href);
  }
}

/** Builds the peer's federation for `origin`, with loaders that never fetch contexts or non-loopback URLs. */
export function buildPeerFederation(
  state: PeerState,
  origin: string,
  contexts: PreloadedContexts,
  fetchTimeoutMs: number,
): Federation<void> {
  const documentLoader = peerDocumentLoader(contexts, fetchTimeoutMs);
  const contextLoader = preloadedOnlyContextLoader(contexts);
  const federation = createFederation<void>({
    kv: new MemoryKvStore(),
    origin,
    allowPrivateAddress: true,
    documentLoaderFactory: () => documentLoader,
    contextLoaderFactory: () => contextLoader,
  });
  const { username } = state;

  federation
    .setActorDispatcher('/users/{identifier}', async (ctx, identifier) => {
      if (identifier !== username) return null;
      const keys = await ctx.getActorKeyPairs(identifier);
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: identifier,
        url: ctx.getActorUri(identifier),
        inbox: ctx.getInboxUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        followers: ctx.getFollowersUri(identifier),
        manuallyApprovesFollowers: !state.autoAcceptFollows,
        publicKey: keys[0]?.cryptographicKey ?? null,
        assertionMethods: keys.map((key) => key.multikey),
      });
    })
    .setKeyPairsDispatcher((_ctx, identifier) => (identifier === username ? [state.keyPair] : []));

  federation
    .setFollowersDispatcher('/users/{identifier}/followers', (_ctx, identifier) =>
      identifier === username ? { items: [...state.followers.values()] } : null,
    )
    .setCounter((_ctx, identifier) => (identifier === username ? state.followers.size : null));

  federation.setObjectDispatcher(Note, '/users/{identifier}/notes/{id}', (ctx, values) => {
    const object = state.objects.get(ctx.getObjectUri(Note, values).href);
    return object instanceof Note ? object : null;
  });
  federation.setObjectDispatcher(Page, '/users/{identifier}/pages/{id}', (ctx, values) => {
    const object = state.objects.get(ctx.getObjectUri(Page, values).href);
    return object instanceof Page ? object : null;
  });

  federation
    .setInboxListeners('/users/{identifier}/inbox', '/inbox')
    .setSharedKeyDispatcher(() => ({ identifier: username }))
    .on(Activity, async (ctx, activity) => {
      state.received.push(await toReceived(activity, ctx.recipient === null));
      if (activity instanceof Follow) await onFollowed(state, ctx, activity);
      else if (activity instanceof Undo) await onUndone(state, ctx, activity);
    })
    .onError((_ctx, error) => {
      state.errors.push(`inbox: ${String(error)}`);
    });

  return federation;
}

/** Whether a looked-up object is an actor with an id and an inbox (what sending to it needs). */
export function isDeliverableActor(object: unknown): object is Actor & { id: URL; inboxId: URL } {
  return isActor(object) && object.id !== null && object.inboxId !== null;
}
