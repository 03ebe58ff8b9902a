/**
 * One directory across instances: the admin peers this instance with another (`guild peer add HOST`); the two
 * Service actors follow each other, and each tells the peers following it about its discoverable groups
 * (listed, updated, unlisted), which their directories show beside their own. A peer's Follow is accepted only
 * once this instance's admin added it too (a Follow from an instance not added waits). A peer's groups leave the
 * directory when it is removed, refuses this instance's Follow, or has not answered for
 * {@link PeeringDeps.unreachableAfterMs}.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import type { DirectoryEntry, Peer } from '../storage/links.store.ts';
import type { Urls } from '../activitypub/urls.ts';
import { asArray, idOf, isObject, str, type ApObject } from '../activitypub/vocab.ts';
import { err, ok, type ActorLookup, type RemoteDocuments, type Result } from './ports.ts';
import type { EventSink, PeerRef } from './events.ts';

export type PeerError =
  | { type: 'invalid-host'; detail: string }
  /** The host is this instance. */
  | { type: 'self' }
  /** No instance actor answers at that host. */
  | { type: 'not-found'; detail: string }
  | { type: 'no-such-peer' };

export interface PeeringDeps {
  store: Store;
  urls: Urls;
  events: EventSink;
  actors: ActorLookup;
  remote: RemoteDocuments;
  /** A peer silent this long has its groups left out of the directory (and removed). */
  unreachableAfterMs: number;
  now?: () => number;
}

/** A peer's Service actor is fetched when nothing came from it for this long. */
export const PEER_CHECK_MS = 3_600_000;
/** A peer that answered nothing for this long has its groups taken out of the directory. */
export const PEER_UNREACHABLE_MS = 7 * 86_400_000;

/** True while a peer's groups are shown: this instance follows it and it answered recently. */
export function peerIsLive(peer: Peer, now: number, unreachableAfterMs = PEER_UNREACHABLE_MS): boolean {
  return peer.following && now - peer.lastSeenAt < unreachableAfterMs;
}
const HOST_RE =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?::\d{1,5})?$/;
const PAGE = 100;
const MAX_SUMMARY = 1000;

export class PeeringService {
  private readonly now: () => number;
  constructor(private readonly d: PeeringDeps) {
    this.now = d.now ?? Date.now;
  }

  /**
   * Peers with `host`: its Service actor is looked up and followed; a Follow it sent before is accepted (and it
   * is told about this instance's groups). Adding it again sends what was not answered again.
   */
  async add(hostArg: string): Promise<Result<Peer, PeerError>> {
    const host = normalizeHost(hostArg);
    if (host === null)
      return err({ type: 'invalid-host', detail: `"${hostArg}" is not a host name (host or host:port)` });
    if (host === new URL(this.d.urls.origin).host) return err({ type: 'self' });
    const actor = await this.d.remote.instanceActor(host);
    if (!actor) return err({ type: 'not-found', detail: `no instance actor answers at ${host}` });
    const t = this.now();
    const existing = await this.d.store.peerings.getPeer(host);
    let peer: Peer = {
      host,
      actorId: actor.id,
      inbox: actor.inbox,
      added: true,
      followId: existing?.followId ?? this.d.urls.instanceActivity(`peer:${host}:${t}`, 'follow'),
      following: existing?.following === true && existing.actorId === actor.id,
      theirFollowId: existing?.actorId === actor.id ? existing.theirFollowId : null,
      followedBy: existing?.actorId === actor.id ? existing.followedBy : false,
      addedAt: existing?.addedAt ?? t,
      lastSeenAt: t,
    };
    await this.d.store.peerings.putPeer(peer);
    if (!peer.following)
      await this.d.events.emit({
        type: 'PeerFollowed',
        basis: peer.followId ?? '',
        peer: ref(peer),
        followId: peer.followId ?? '',
      });
    if (peer.theirFollowId !== null && !peer.followedBy) {
      await this.d.events.emit({
        type: 'PeerAccepted',
        basis: peer.theirFollowId,
        peer: ref(peer),
        theirFollowId: peer.theirFollowId,
      });
      peer = { ...peer, followedBy: true };
      await this.d.store.peerings.updatePeer(host, { followedBy: true });
    }
    await this.audit('peer-add', host);
    return ok(peer);
  }

  /** Ends a peering: its Follow is undone, its groups leave the directory, and it is no longer told of ours. */
  async remove(hostArg: string): Promise<Result<Peer, PeerError>> {
    const host = normalizeHost(hostArg) ?? hostArg;
    const peer = await this.d.store.peerings.getPeer(host);
    if (!peer) return err({ type: 'no-such-peer' });
    if (peer.followId !== null)
      await this.d.events.emit({
        type: 'PeerUnfollowed',
        basis: `unpeer:${peer.followId}`,
        peer: ref(peer),
        followId: peer.followId,
      });
    await this.d.store.directory.removeEntriesOfHost(host);
    await this.d.store.peerings.removePeer(host);
    await this.audit('peer-remove', host);
    return ok(peer);
  }

  list(after: string | null, limit: number): Promise<Peer[]> {
    return this.d.store.peerings.listPeers(after, Math.max(1, Math.min(PAGE, limit)));
  }

  /** The peer whose Service actor is `actorId`, or null. */
  async peerOf(actorId: string): Promise<Peer | null> {
    let host: string;
    try {
      host = new URL(actorId).host;
    } catch {
      return null;
    }
    const peer = await this.d.store.peerings.getPeer(host);
    return peer && peer.actorId === actorId ? peer : null;
  }

  /** A peer's Service actor follows this one: accepted when the admin added it, else kept until they do. */
  async followed(actorId: string, followId: string): Promise<string> {
    const host = new URL(actorId).host;
    const existing = await this.d.store.peerings.getPeer(host);
    const t = this.now();
    if (existing?.added && existing.actorId === actorId) {
      await this.d.events.emit({
        type: 'PeerAccepted',
        basis: followId,
        peer: ref(existing),
        theirFollowId: followId,
      });
      // Only these fields: this instance's own Follow may be answered at the same time.
      await this.d.store.peerings.updatePeer(host, { theirFollowId: followId, followedBy: true });
      await this.d.store.peerings.markPeerSeen(host, t);
      return `peer ${host} follows this instance: told about its groups`;
    }
    const actor = await this.d.actors.getActor(actorId);
    if (!actor) return `the Service actor ${actorId} could not be fetched; its Follow is ignored`;
    await this.d.store.peerings.putPeer({
      host,
      actorId,
      inbox: actor.sharedInbox ?? actor.inbox,
      added: false,
      followId: null,
      following: false,
      theirFollowId: followId,
      followedBy: false,
      addedAt: t,
      lastSeenAt: t,
    });
    return `${host} asks to peer; it waits until the admin adds it (guild peer add ${host})`;
  }

  /** The answer to this instance's Follow of a peer. */
  async answered(peer: Peer, accepted: boolean): Promise<void> {
    await this.d.store.peerings.updatePeer(peer.host, { following: accepted });
    await this.d.store.peerings.markPeerSeen(peer.host, this.now());
    if (!accepted) await this.d.store.directory.removeEntriesOfHost(peer.host);
  }

  /** The peer no longer follows this instance. */
  async unfollowed(peer: Peer): Promise<void> {
    await this.d.store.peerings.updatePeer(peer.host, { theirFollowId: null, followedBy: false });
  }

  /**
   * A peer lists (or updates) one of its groups. Taken only from a peer this instance's admin added (and so
   * follows), for a group on the peer's host; a group that is not discoverable, or has moved, is taken out of the directory instead.
   */
  async listed(peer: Peer, group: ApObject & { id: string }): Promise<Result<string, string>> {
    // Its news may come in before its Accept of this instance's Follow: a peer the admin added is enough.
    if (!peer.added || peer.followId === null)
      return err(`${peer.host} was not added here: its directory is not taken`);
    if (new URL(group.id).host !== peer.host) return err(`${group.id} is not on ${peer.host}`);
    await this.d.store.peerings.markPeerSeen(peer.host, this.now());
    const entry = toEntry(group, peer.host, this.now());
    if (entry === null || group.discoverable === false || idOf(group.movedTo) !== null) {
      await this.d.store.directory.removeEntry(group.id);
      return ok(`${group.id} is not listed (not discoverable, moved, or incomplete)`);
    }
    await this.d.store.directory.putEntry(entry);
    return ok(`${group.id} of ${peer.host} is in the directory`);
  }

  /** A peer no longer lists one of its groups. */
  async unlisted(peer: Peer, groupId: string): Promise<Result<string, string>> {
    const entry = await this.d.store.directory.getEntry(groupId);
    if (!entry || entry.host !== peer.host) return err(`${groupId} is not listed for ${peer.host}`);
    await this.d.store.peerings.markPeerSeen(peer.host, this.now());
    await this.d.store.directory.removeEntry(groupId);
    return ok(`${groupId} left the directory`);
  }

  /**
   * Looks at the peers that said nothing for a while (their Service actor is fetched), and takes out of the
   * directory the groups of those silent for too long. Returns how many entries were removed.
   */
  async checkPeers(): Promise<number> {
    let removed = 0;
    for (let after: string | null = null; ;) {
      const page = await this.d.store.peerings.listPeers(after, PAGE);
      if (page.length === 0) return removed;
      for (const p of page) {
        if (this.now() - p.lastSeenAt >= PEER_CHECK_MS && (await this.d.remote.instanceActor(p.host)))
          await this.d.store.peerings.markPeerSeen(p.host, this.now());
        else if (this.now() - p.lastSeenAt >= this.d.unreachableAfterMs)
          removed += await this.d.store.directory.removeEntriesOfHost(p.host);
      }
      after = page[page.length - 1]?.host ?? null;
    }
  }

  private async audit(action: string, target: string): Promise<void> {
    const at = this.now();
    const id = createHash('sha256').update(`${action}\n${target}\n${at}`).digest('base64url');
    await this.d.store.audit.appendAudit({
      id,
      groupName: null,
      actorId: 'admin',
      action,
      target,
      reason: '',
      at,
    });
  }
}

/** `host` or `host:port`, lowercase, from what an admin types (a URL or a bare host). */
export function normalizeHost(text: string): string | null {
  const host = text
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '');
  return HOST_RE.test(host) ? host : null;
}

function ref(p: Peer): PeerRef {
  return { host: p.host, actorId: p.actorId, inbox: p.inbox };
}

/** A directory entry from a peer's Group document: the fields shown, checked and bounded; null when unusable. */
export function toEntry(g: ApObject & { id: string }, host: string, at: number): DirectoryEntry | null {
  const name = str(g.preferredUsername);
  if (name === null || !/^[a-zA-Z0-9_.-]{1,64}$/.test(name)) return null;
  const title = (str(g.name) ?? name).trim().slice(0, 200) || name;
  const source = isObject(g.source) ? str(g.source.content) : null;
  const summary = (source ?? plainText(str(g.summary) ?? '')).trim().slice(0, MAX_SUMMARY);
  const tags = asArray(g.tag)
    .map((t) => (isObject(t) && t.type === 'Hashtag' ? str(t.name) : null))
    .filter((t): t is string => t !== null)
    .map((t) => t.replace(/^#/, '').toLowerCase())
    .filter((t) => /^[\p{L}\p{N}_]{1,64}$/u.test(t))
    .slice(0, 10);
  const iconUrl = isObject(g.icon) ? str(g.icon.url) : null;
  return {
    actorId: g.id,
    host,
    name,
    title,
    summary,
    tags,
    iconUrl: iconUrl !== null && /^https?:\/\/\S+$/.test(iconUrl) && iconUrl.length <= 2048 ? iconUrl : null,
    membershipPolicy: g.manuallyApprovesFollowers === true ? 'approval' : 'open',
    updatedAt: at,
  };
}

/** The text of a little HTML: tags dropped, the usual entities decoded. */
function plainText(html: string): string {
  return html
    .replace(/<br\s*\/?>|<\/p>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/** A refusal of a peering as one line (CLI, admin API). */
export function peerErrorText(e: PeerError, host: string): string {
  switch (e.type) {
    case 'invalid-host':
    case 'not-found':
      return e.detail;
    case 'self':
      return `${host} is this instance`;
    case 'no-such-peer':
      return `${host} is not a peer`;
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}
