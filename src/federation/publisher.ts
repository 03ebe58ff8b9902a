/** The outbound side of the domain: stores emitted activities and queues their delivery durably. */
import { createHash } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import type { ApObject } from '../activitypub/vocab.ts';
import { groupKeyOwner, INSTANCE_KEY_OWNER } from '../activitypub/urls.ts';
import type { PeerFamily } from './peer-software.ts';

/** An activity for the members, with how it is stored. */
export interface MemberActivity {
  activity: ApObject;
  /** Listed in the group's outbox. */
  inOutbox: boolean;
  /** The post (or other object) it is about, for lookups. */
  objectId: string | null;
  /**
   * The families of member servers it is delivered to (`peer-software.forms.ts`); absent or null: every
   * member's server.
   */
  reach?: PeerFamily[] | null;
}

/** Whose key signs a delivery: the group's, or the instance's (activities of the Service actor). */
export type Signer = 'group' | 'instance';

/**
 * Stores activities (so that their ids dereference) and queues their delivery durably. Activities are stored
 * only when their id is new, and queued under ids derived from theirs, so publishing the same activity again
 * stores and queues nothing new.
 */
export interface Publisher {
  /**
   * Stores `activity` and delivers it to every accepted member of the group, one delivery per distinct shared
   * inbox. Returns once the work is durably queued.
   */
  publishToMembers(
    groupName: string,
    activity: ApObject,
    opts: { inOutbox: boolean; objectId: string | null },
  ): Promise<void>;
  /**
   * Stores the activities and delivers them, in this order, to every accepted member inbox: the deliveries of
   * each activity are queued once those of the one before are queued for every inbox, so they go out first.
   */
  publishAllToMembers(groupName: string, items: MemberActivity[]): Promise<void>;
  /** Stores `activity` and delivers it to one inbox, signed by the group (default) or the instance. */
  sendTo(groupName: string, activity: ApObject, inbox: string, signer?: Signer): Promise<void>;
  /** Stores a document without delivering it (an embedded activity or object whose id must dereference). */
  keep(groupName: string, document: ApObject, objectId: string | null): Promise<void>;
}

/** Wakes the worker loops of this process when work is queued (other processes poll). */
export interface QueueSignal {
  notify(queue: 'intake' | 'fanout' | 'deliver'): void;
}

export interface FanoutPayload extends Record<string, unknown> {
  activityId: string;
  /** Activities fanned out after `activityId`, in order, each once every inbox has been queued the one before. */
  more?: string[];
  groupName: string;
  /** Last delivery inbox already enqueued (progress, for restarts). */
  after: string | null;
  /**
   * By activity id: the families of member servers it goes to; an activity not named goes to every member's
   * server (as every fan-out queued before software was told apart).
   */
  reach?: Record<string, PeerFamily[]>;
}

export interface DeliverPayload extends Record<string, unknown> {
  activityId: string;
  inbox: string;
  /** Key owner that signs: `group:NAME` or `instance`. */
  signer: string;
}

export function deliveryJobId(activityId: string, inbox: string): string {
  return 'deliver:' + createHash('sha256').update(activityId).update('\n').update(inbox).digest('base64url');
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

export class StorePublisher implements Publisher {
  constructor(
    private readonly store: Store,
    private readonly signal: QueueSignal,
    private readonly now: () => number = Date.now,
    private readonly localOrigin: string | null = null,
  ) {}

  async publishToMembers(
    groupName: string,
    activity: ApObject,
    opts: { inOutbox: boolean; objectId: string | null },
  ): Promise<void> {
    await this.publishAllToMembers(groupName, [{ activity, ...opts }]);
  }

  async publishAllToMembers(groupName: string, items: MemberActivity[]): Promise<void> {
    const ids: string[] = [];
    const reach: Record<string, PeerFamily[]> = {};
    for (const item of items) {
      // An activity that no member's server takes, and that the outbox does not list, is not even stored.
      if (item.reach && item.reach.length === 0 && !item.inOutbox) continue;
      const id = await this.save(groupName, item.activity, item.inOutbox, item.objectId);
      ids.push(id);
      if (item.reach) reach[id] = item.reach;
    }
    const [id, ...more] = ids;
    if (id === undefined) return;
    const payload: FanoutPayload = {
      activityId: id,
      groupName,
      after: null,
      ...(more.length ? { more } : {}),
      ...(Object.keys(reach).length > 0 ? { reach } : {}),
    };
    await this.store.jobs.enqueue(
      [{ id: `fanout:${id}`, queue: 'fanout', key: groupName, payload, runAt: this.now() }],
      this.now(),
    );
    this.signal.notify('fanout');
  }

  async sendTo(
    groupName: string,
    activity: ApObject,
    inbox: string,
    signer: Signer = 'group',
  ): Promise<void> {
    const id = await this.save(groupName, activity, false, null);
    // Never deliver to this server itself (an actor document may name an inbox here).
    if (this.localOrigin && inbox.startsWith(`${this.localOrigin}/`)) return;
    const payload: DeliverPayload = {
      activityId: id,
      inbox,
      signer: signer === 'instance' ? INSTANCE_KEY_OWNER : groupKeyOwner(groupName),
    };
    await this.store.jobs.enqueue(
      [{ id: deliveryJobId(id, inbox), queue: 'deliver', key: hostOf(inbox), payload, runAt: this.now() }],
      this.now(),
    );
    this.signal.notify('deliver');
  }

  async keep(groupName: string, document: ApObject, objectId: string | null): Promise<void> {
    await this.save(groupName, document, false, objectId);
  }

  private async save(
    groupName: string,
    activity: ApObject,
    inOutbox: boolean,
    objectId: string | null,
  ): Promise<string> {
    const id = activity.id;
    const type = activity.type;
    if (typeof id !== 'string' || typeof type !== 'string')
      throw new Error('an emitted activity needs an id and a type');
    await this.store.activities.putActivity({
      id,
      groupName,
      type,
      objectId,
      json: JSON.stringify(activity),
      published: this.now(),
      inOutbox,
    });
    return id;
  }
}
