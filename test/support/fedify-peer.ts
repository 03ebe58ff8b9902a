/**
 * An independent ActivityPub peer for end-to-end tests, built on fedify (not on Guild's code), so Guild is
 * checked against a strict implementation it does not share code with.
 *
 * Usage:
 *
 * ```ts
 * const alice = await startFedifyPeer({ username: 'alice' });
 * try {
 *   await alice.follow(groupActorId);                          // Follow -> group inbox
 *   await alice.waitFor((a) => a.type === 'Accept', { what: 'Accept of the Follow' });
 *   const { noteId } = await alice.post({ to: [groupActorId], content: '<p>hello</p>' });
 *   const announce = await alice.waitFor(
 *     (a) => a.type === 'Announce' && JSON.stringify(a.json).includes(noteId),
 *     { what: 'Announce of the post' },
 *   );
 * } finally {
 *   await alice.close();
 * }
 * ```
 *
 * - Each peer is one fedify `Federation` served over plain http on `http://127.0.0.1:PORT` (port 0), with a
 *   `Person` at `/users/{username}` and a 2048-bit RSASSA-PKCS1-v1_5 key (`#main-key`). fedify 1.5.9 signs
 *   every POST with draft-cavage (`rsa-sha256`, headers `(request-target) content-type date digest host`) and
 *   also attaches an `RsaSignature2017` LD signature to activities it sends (so their `@context` starts with
 *   `https://w3id.org/identity/v1`); it never sends RFC 9421 and does not retry another scheme on 4xx.
 *   Actor lookups and key fetches are signed GETs (`(request-target) accept date host user-agent`).
 * - Sent JSON is fedify's compaction: single values are not arrays and the public collection is `as:Public`.
 * - Only activities whose HTTP signature (or LD signature) fedify verified, and whose signer owns the
 *   activity's actor, reach `received`. Refused POSTs are listed in `rejected` with status and body.
 *   An activity id already processed is answered 202 and not recorded again.
 * - JSON-LD contexts come only from fedify's preloaded set; an unknown context fails the parse at once
 *   (the inbox answers 400). The peer's own lookups fetch only from loopback hosts, with a timeout; the
 *   inbox's key fetches use fedify's signed loader (private addresses allowed, no timeout of its own).
 * - Address everything by actor URL: fedify looks WebFinger handles up over https only. The peer's own
 *   WebFinger works (`acct:user@127.0.0.1:PORT`) for servers that look it up.
 * - `post`, `follow`, ... reject when the receiving inbox answers non-2xx (fedify's error names the status).
 *   Use `sendRaw` to see the status of a delivery, to send unsigned requests or to tamper with the body.
 */
import { Temporal } from '@js-temporal/polyfill';
import {
  Create,
  Delete,
  Follow,
  Like,
  Mention,
  Note,
  Page,
  PUBLIC_COLLECTION,
  Tombstone,
  Undo,
  Update,
  signRequest,
} from '@fedify/fedify';
import type { Activity, Actor, Context, Federation } from '@fedify/fedify';
import { buildPeerFederation, isDeliverableActor } from './fedify-peer.federation.ts';
import type { PeerState, ReceivedActivity, RejectedRequest } from './fedify-peer.federation.ts';
import { guardDocumentLoader, loadPreloadedContexts } from './fedify-peer.loaders.ts';
import { serveOnLoopback } from './fedify-peer.node-http.ts';
import type { LoopbackServer } from './fedify-peer.node-http.ts';

export type { ReceivedActivity, RejectedRequest } from './fedify-peer.federation.ts';
export type {
  FedifyPeer,
  FedifyPeerOptions,
  PostOptions,
  SendRawOptions,
  Visibility,
  WaitForOptions,
} from './fedify-peer.types.ts';
import type {
  FedifyPeer,
  FedifyPeerOptions,
  PostOptions,
  SendRawOptions,
  Visibility,
  WaitForOptions,
} from './fedify-peer.types.ts';

interface SentPost {
  targets: Actor[];
  to: URL[];
  cc: URL[];
  audience: URL | null;
}

class RunningPeer implements FedifyPeer {
  readonly actorId: string;
  readonly inboxUrl: string;
  readonly sharedInboxUrl: string;
  readonly keyId: string;
  readonly handle: string;
  private readonly posts = new Map<string, SentPost>();

  constructor(
    private readonly state: PeerState,
    private readonly federation: Federation<void>,
    private readonly server: LoopbackServer,
    private readonly pending: Set<Promise<unknown>>,
    private readonly fetchTimeoutMs: number,
  ) {
    const ctx = this.context();
    this.actorId = ctx.getActorUri(state.username).href;
    this.inboxUrl = ctx.getInboxUri(state.username).href;
    this.sharedInboxUrl = ctx.getInboxUri().href;
    this.keyId = `${this.actorId}#main-key`;
    this.handle = `@${state.username}@${new URL(server.origin).host}`;
  }

  get origin(): string {
    return this.server.origin;
  }
  get received(): ReceivedActivity[] {
    return this.state.received;
  }
  get rejected(): RejectedRequest[] {
    return this.state.rejected;
  }
  get errors(): string[] {
    return this.state.errors;
  }

  followerIds(): string[] {
    return [...this.state.followers.keys()];
  }

  async follow(targetActorId: string): Promise<string> {
    const target = await this.lookupActor(targetActorId);
    const id = this.newActivityId();
    await this.deliver([target], new Follow({ id, actor: this.me(), object: target.id }));
    return id.href;
  }

  async unfollow(targetActorId: string, followId: string): Promise<void> {
    const target = await this.lookupActor(targetActorId);
    const follow = new Follow({ id: new URL(followId), actor: this.me(), object: target.id });
    await this.deliver([target], new Undo({ id: this.newActivityId(), actor: this.me(), object: follow }));
  }

  async post(opts: PostOptions): Promise<{ createId: string; noteId: string }> {
    const targets = await Promise.all(opts.to.map((id) => this.lookupActor(id)));
    const { to, cc } = this.address(opts.visibility ?? 'public', targets);
    const isPage = opts.type === 'Page';
    const ctx = this.context();
    const uriValues = { identifier: this.state.username, id: crypto.randomUUID() };
    const objectId = isPage ? ctx.getObjectUri(Page, uriValues) : ctx.getObjectUri(Note, uriValues);
    const published = Temporal.Now.instant();
    const audience = opts.audience === undefined ? null : new URL(opts.audience);
    const values = {
      id: objectId,
      attribution: this.me(),
      content: opts.content,
      name: opts.name ?? null,
      published,
      tos: to,
      ccs: cc,
      audience,
      replyTarget: opts.inReplyTo === undefined ? null : new URL(opts.inReplyTo),
      tags:
        opts.mention === false ? [] : targets.map((t) => new Mention({ href: t.id, name: mentionName(t) })),
    };
    const object = isPage ? new Page(values) : new Note(values);
    this.state.objects.set(objectId.href, object);
    this.posts.set(objectId.href, { targets, to, cc, audience });
    const createId = this.newActivityId();
    const create = new Create({
      id: createId,
      actor: this.me(),
      object,
      tos: to,
      ccs: cc,
      published,
      audience,
    });
    await this.deliver(targets, create);
    return { createId: createId.href, noteId: objectId.href };
  }

  async update(noteId: string, content: string): Promise<void> {
    const { sent, object } = this.ownPost(noteId);
    const updated = object.clone({ content, updated: Temporal.Now.instant() });
    this.state.objects.set(noteId, updated);
    const update = new Update({
      id: this.newActivityId(),
      actor: this.me(),
      object: updated,
      tos: sent.to,
      ccs: sent.cc,
      audience: sent.audience,
    });
    await this.deliver(sent.targets, update);
  }

  async delete(noteId: string): Promise<void> {
    const { sent } = this.ownPost(noteId);
    this.state.objects.delete(noteId);
    const del = new Delete({
      id: this.newActivityId(),
      actor: this.me(),
      object: new Tombstone({ id: new URL(noteId) }),
      tos: sent.to,
      ccs: sent.cc,
      audience: sent.audience,
    });
    await this.deliver(sent.targets, del);
  }

  async like(objectId: string, groupActorId: string): Promise<void> {
    const group = await this.lookupActor(groupActorId);
    await this.deliver(
      [group],
      new Like({ id: this.newActivityId(), actor: this.me(), object: new URL(objectId) }),
    );
  }

  async sendRaw(
    inboxUrl: string,
    activityJson: Record<string, unknown>,
    opts: SendRawOptions = {},
  ): Promise<{ status: number; body: string }> {
    const body = JSON.stringify(activityJson);
    let request = new Request(inboxUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/activity+json', accept: 'application/activity+json' },
      body,
    });
    if (opts.sign !== false)
      request = await signRequest(request, this.state.keyPair.privateKey, new URL(this.keyId));
    if (opts.tamperBody !== undefined) request = new Request(request, { body: opts.tamperBody(body) });
    const response = await fetch(request, { signal: AbortSignal.timeout(this.fetchTimeoutMs) });
    return { status: response.status, body: await response.text() };
  }

  async waitFor(
    predicate: (a: ReceivedActivity) => boolean,
    opts: WaitForOptions = {},
  ): Promise<ReceivedActivity> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    for (;;) {
      const found = this.state.received.find(predicate);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
      delay = Math.min(delay * 2, 250);
    }
    const types = this.state.received.map((a) => a.type);
    const errors = this.state.errors.length === 0 ? '' : `; errors: ${this.state.errors.join(' | ')}`;
    const rejected =
      this.state.rejected.length === 0
        ? ''
        : `; rejected: ${this.state.rejected.map((r) => `${r.status} ${r.body}`).join(' | ')}`;
    throw new Error(
      `${this.handle} timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a matching activity'}; ` +
        `received so far: [${types.join(', ')}]${rejected}${errors}`,
    );
  }

  async close(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await this.server.close();
  }

  private context(): Context<void> {
    return this.federation.createContext(new URL(this.server.origin), undefined);
  }

  private me(): URL {
    return new URL(this.actorId);
  }

  private newActivityId(): URL {
    return new URL(`${this.actorId}/activities/${crypto.randomUUID()}`);
  }

  private ownPost(noteId: string): { sent: SentPost; object: Note | Page } {
    const sent = this.posts.get(noteId);
    const object = this.state.objects.get(noteId);
    if (sent === undefined || object === undefined)
      throw new Error(`${noteId} is not a live post of ${this.handle}`);
    return { sent, object };
  }

  private address(visibility: Visibility, targets: Actor[]): { to: URL[]; cc: URL[] } {
    const followers = this.context().getFollowersUri(this.state.username);
    const groups = targets.flatMap((t) => (t.id === null ? [] : [t.id]));
    switch (visibility) {
      case 'public':
        return { to: [PUBLIC_COLLECTION], cc: [followers, ...groups] };
      case 'unlisted':
        return { to: [followers], cc: [PUBLIC_COLLECTION, ...groups] };
      case 'followers':
        return { to: [followers], cc: groups };
      case 'direct':
        return { to: groups, cc: [] };
    }
  }

  /** Fetches an actor with a signed GET (as Mastodon does), contexts from the preloaded set only. */
  private async lookupActor(actorId: string): Promise<Actor & { id: URL; inboxId: URL }> {
    const ctx = this.context();
    const contexts = await loadPreloadedContexts();
    const signed = await ctx.getDocumentLoader({ identifier: this.state.username });
    const documentLoader = guardDocumentLoader(signed, contexts, this.fetchTimeoutMs);
    const found = await ctx.lookupObject(actorId, { documentLoader });
    if (!isDeliverableActor(found)) {
      throw new Error(
        `${actorId} did not resolve to an actor with an inbox (fetch failed, unknown JSON-LD context, or not an actor)`,
      );
    }
    return found;
  }

  private async deliver(targets: Actor[], activity: Activity): Promise<void> {
    await this.context().sendActivity({ identifier: this.state.username }, targets, activity);
  }
}

function mentionName(actor: Actor): string | null {
  const username = actor.preferredUsername;
  if (actor.id === null || typeof username !== 'string') return null;
  return `@${username}@${actor.id.host}`;
}

async function generateRsaKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  );
}

/** Starts a peer on 127.0.0.1 (port 0). Close it with `close()`. */
export async function startFedifyPeer(opts: FedifyPeerOptions): Promise<FedifyPeer> {
  const fetchTimeoutMs = opts.fetchTimeoutMs ?? 5000;
  const contexts = await loadPreloadedContexts();
  const pending = new Set<Promise<unknown>>();
  const state: PeerState = {
    username: opts.username,
    keyPair: await generateRsaKeyPair(),
    autoAcceptFollows: opts.autoAcceptFollows ?? false,
    received: [],
    rejected: [],
    errors: [],
    followers: new Map(),
    objects: new Map(),
    background(what, task) {
      const run = task().catch((error: unknown) => {
        state.errors.push(`${what}: ${String(error)}`);
      });
      pending.add(run);
      void run.finally(() => pending.delete(run));
    },
  };
  let federation: Federation<void> | undefined;
  const server = await serveOnLoopback((origin) => {
    const built = buildPeerFederation(state, origin, contexts, fetchTimeoutMs);
    federation = built;
    return async (request) => {
      const path = new URL(request.url).pathname;
      const response = await built.fetch(request, { contextData: undefined });
      if (request.method === 'POST' && response.status >= 400) {
        state.rejected.push({ path, status: response.status, body: await response.clone().text() });
      }
      return response;
    };
  });
  if (federation === undefined) throw new Error('the peer federation was not built');
  return new RunningPeer(state, federation, server, pending, fetchTimeoutMs);
}
