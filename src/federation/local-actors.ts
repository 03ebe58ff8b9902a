/**
 * Actor lookups that know this instance's own groups: a group here that follows another group here (FEP-d36d) is
 * an actor like any other to the handlers, described from the store instead of fetched.
 */
import type { RemoteActor, Store } from '../storage/store.ts';
import { groupKeyOwner, type Urls } from '../activitypub/urls.ts';
import type { ActorLookup } from '../groups/ports.ts';

export class LocalAwareActors implements ActorLookup {
  constructor(
    private readonly remote: ActorLookup,
    private readonly store: Store,
    private readonly urls: Urls,
    private readonly now: () => number = Date.now,
  ) {}

  async getActor(id: string): Promise<RemoteActor | null> {
    const name = this.urls.groupNameOf(id);
    if (name === null) return this.remote.getActor(id);
    const g = await this.store.groups.getGroup(name);
    if (!g || g.deletedAt !== null) return null;
    return {
      id,
      type: 'Group',
      inbox: this.urls.inbox(name),
      sharedInbox: this.urls.sharedInbox(),
      preferredUsername: name,
      name: g.title,
      url: id,
      keyId: this.urls.groupKeyId(name),
      publicKeyPem: await this.store.keys.getPublicKey(groupKeyOwner(name)),
      fetchedAt: this.now(),
    };
  }
}
