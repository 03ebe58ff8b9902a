/** The outbound side of the domain: stores emitted activities and queues their delivery durably. */
import { createHash } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import type { MemberActivity, Publisher } from '../groups/ports.ts';
import type { ApObject } from '../activitypub/vocab.ts';
import { groupKeyOwner } from '../activitypub/urls.ts';

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
    for (const item of items)
      ids.push(await this.save(groupName, item.activity, item.inOutbox, item.objectId));
    const [id, ...more] = ids;
    if (id === undefined) return;
    const payload: FanoutPayload = {
      activityId: id,
      groupName,
      after: null,
      ...(more.length ? { more } : {}),
    };
    await this.store.jobs.enqueue(
      [{ id: `fanout:${id}`, queue: 'fanout', key: groupName, payload, runAt: this.now() }],
      this.now(),
    );
    this.signal.notify('fanout');
  }

  async sendTo(groupName: string, activity: ApObject, inbox: string): Promise<void> {
    const id = await this.save(groupName, activity, false, null);
    // Never deliver to this server itself (an actor document may name an inbox here).
    if (this.localOrigin && inbox.startsWith(`${this.localOrigin}/`)) return;
    const payload: DeliverPayload = { activityId: id, inbox, signer: groupKeyOwner(groupName) };
    await this.store.jobs.enqueue(
      [{ id: deliveryJobId(id, inbox), queue: 'deliver', key: hostOf(inbox), payload, runAt: this.now() }],
      this.now(),
    );
    this.signal.notify('deliver');
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
