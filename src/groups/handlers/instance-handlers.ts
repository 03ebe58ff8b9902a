/**
 * The activities for the instance's Service actor rather than for a group: peering (a peer's Service actor
 * follows this one, answers its Follow, undoes its own) and the directory news peers send (`Announce{Group}`,
 * `Update{Group}`, `Delete` of one of their groups). The group inbox asks these first: a handler here takes an
 * activity when `concerns` says so, and the group handler of its kind never sees it.
 */
import type { InboundKind, InboundOf } from '../../activitypub/inbound.parser.ts';
import type { Urls } from '../../activitypub/urls.ts';
import type { Store } from '../../storage/store.ts';
import type { Peer } from '../../storage/links.store.ts';
import { err, ok, type Result } from '../ports.ts';
import type { PeeringService } from '../peering.service.ts';
import { applied, notApplied, type Outcome } from './handler.ts';

export interface InstanceHandler<A, P = unknown> {
  /** True when the activity is for the Service actor (this handler takes it). Reads only. */
  concerns(a: A): Promise<boolean>;
  /** Checks only: what `apply` is to do, or why the activity is refused. */
  verify(a: A): Promise<Result<P, string>>;
  apply(a: A, plan: P): Promise<Outcome>;
}

/** At most one instance handler per kind; kinds without one are always the groups'. */
export type InstanceHandlerTable = { [K in InboundKind]?: InstanceHandler<InboundOf<K>> };

export interface InstanceHandlerDeps {
  store: Store;
  urls: Urls;
  peering: PeeringService;
}

export function instanceHandlerTable(d: InstanceHandlerDeps): InstanceHandlerTable {
  const service = d.urls.instanceActor();
  const ours = (id: string | null) => id !== null && id.startsWith(`${service}/`);
  /** The activity's actor as a known peer, or the refusal. */
  const peerOf = async (actor: string): Promise<Result<Peer, string>> => {
    const peer = await d.peering.peerOf(actor);
    return peer ? ok(peer) : err(`${actor} is not the Service actor of a peer`);
  };
  /** Accept and Reject of this instance's Follow of a peer. */
  const answer = (
    accepted: boolean,
  ): InstanceHandler<InboundOf<'accept-follow' | 'reject-follow'>, Peer> => ({
    async concerns(a) {
      return a.follow.actor === service || (a.follow.actor === null && ours(a.follow.id));
    },
    async verify(a) {
      const peer = await peerOf(a.actor);
      if (!peer.ok) return peer;
      if (a.follow.id !== null && a.follow.id !== peer.value.followId)
        return err(`${a.follow.id} is not this instance's Follow of ${peer.value.host}`);
      return peer;
    },
    async apply(a, peer) {
      await d.peering.answered(peer, accepted);
      return applied(`${peer.host} ${accepted ? 'accepted' : 'refused'} this instance's Follow`);
    },
  });
  return {
    follow: {
      async concerns(a) {
        return a.object === service;
      },
      async verify(a) {
        return d.urls.isLocal(a.actor) ? err('a Follow of the Service actor by this instance') : ok(null);
      },
      async apply(a) {
        return applied(await d.peering.followed(a.actor, a.id));
      },
    },
    'accept-follow': answer(true),
    'reject-follow': answer(false),
    'undo-follow': {
      async concerns(a) {
        if (a.follow.object === service) return true;
        const peer = a.follow.object === null ? await d.peering.peerOf(a.actor) : null;
        return peer !== null && peer.theirFollowId !== null && peer.theirFollowId === a.follow.id;
      },
      verify: (a) => peerOf(a.actor),
      async apply(_a, peer) {
        await d.peering.unfollowed(peer as Peer);
        return applied(`${(peer as Peer).host} no longer follows this instance`);
      },
    },
    'announce-group': {
      async concerns() {
        return true;
      },
      verify: (a) => peerOf(a.actor),
      async apply(a, peer) {
        return outcome(await d.peering.listed(peer as Peer, a.group));
      },
    },
    'update-group': {
      async concerns(a) {
        return !d.urls.isLocal(a.group.id) && (await d.peering.peerOf(a.actor)) !== null;
      },
      verify: (a) => peerOf(a.actor),
      async apply(a, peer) {
        const object = a.raw.object;
        if (typeof object !== 'object' || object === null) return notApplied('Update without a Group');
        return outcome(
          await d.peering.listed(peer as Peer, { ...(object as Record<string, unknown>), id: a.group.id }),
        );
      },
    },
    'delete-post': {
      async concerns(a) {
        return (
          (await d.peering.peerOf(a.actor)) !== null &&
          (await d.store.directory.getEntry(a.objectId)) !== null
        );
      },
      verify: (a) => peerOf(a.actor),
      async apply(a, peer) {
        return outcome(await d.peering.unlisted(peer as Peer, a.objectId));
      },
    },
  };
}

function outcome(r: Result<string, string>): Outcome {
  return r.ok ? applied(r.value) : notApplied(r.error);
}
