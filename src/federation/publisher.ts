/** The outbound side of the domain: stores emitted activities and queues their delivery durably. */
import { createHash } from 'node:crypto';
import type { NewJob, Store } from '../storage/store.ts';
import type { MemberExclusion } from '../storage/links.store.ts';
import type { ApObject } from '../activitypub/vocab.ts';
import { groupKeyOwner, INSTANCE_KEY_OWNER } from '../activitypub/urls.ts';
import { intakeJobId } from './inbox.receiver.ts';
import type { IntakePayload } from './job-handlers.ts';
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
   * With `except`, inboxes behind which every member also belongs to that group are left out (they get the
   * activities from it).
   */
  publishAllToMembers(
    groupName: string,
    items: MemberActivity[],
    opts?: { except?: MemberExclusion },
  ): Promise<void>;
  /** Stores `activity` and delivers it to one inbox, signed by the group (default) or the instance. */
  sendTo(groupName: string, activity: ApObject, inbox: string, signer?: Signer): Promise<void>;
  /**
   * Stores a document without delivering it (an embedded activity or object whose id must dereference), in the
   * outbox when `inOutbox` (an imported group's pinned posts).
   */
  keep(groupName: string, document: ApObject, objectId: string | null, inOutbox?: boolean): Promise<void>;
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
  /** Leave out the inboxes whose members all get the activities from this group. */
  except?: MemberExclusion;
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

/**
 * What a group here sends to an inbox here (a group following another group of this instance, and its answer)
 * is not delivered over HTTP: it is queued for intake as if it had come in, under the same job id an inbox
 * would give it, so that it is taken in once.
 */
export function localIntake(activity: ApObject, now: number): NewJob | null {
  const id = activity.id;
  const actor = activity.actor;
  if (typeof id !== 'string' || typeof actor !== 'string') return null;
  const payload: IntakePayload = { activity, actorId: actor, inboxGroup: null };
  return { id: intakeJobId(id), queue: 'intake', key: hostOf(actor), payload, runAt: now };
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

  async publishAllToMembers(
    groupName: string,
    items: MemberActivity[],
    opts: { except?: MemberExclusion } = {},
  ): Promise<void> {
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
      ...(opts.except ? { except: opts.except } : {}),
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
    // Never deliver to this server itself over HTTP: what is for a group here is taken in directly.
    if (this.localOrigin && inbox.startsWith(`${this.localOrigin}/`)) {
      const job = localIntake(activity, this.now());
      if (job && (await this.store.jobs.enqueue([job], this.now())) > 0) this.signal.notify('intake');
      return;
    }
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

  async keep(
    groupName: string,
    document: ApObject,
    objectId: string | null,
    inOutbox = false,
  ): Promise<void> {
    await this.save(groupName, document, inOutbox, objectId);
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
