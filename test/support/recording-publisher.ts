/** A publisher that records what the outbound translator hands it, instead of storing and queuing it. */
import type { MemberActivity, Publisher, Signer } from '../../src/federation/publisher.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';

export type PublisherCall =
  | { op: 'members'; group: string; items: MemberActivity[] }
  | { op: 'send'; group: string; activity: ApObject; inbox: string; signer: Signer }
  | { op: 'keep'; group: string; document: ApObject; objectId: string | null };

/** A publisher that records what it is handed. */
export class RecordingPublisher implements Publisher {
  readonly calls: PublisherCall[] = [];
  async publishToMembers(
    group: string,
    activity: ApObject,
    o: { inOutbox: boolean; objectId: string | null },
  ) {
    this.calls.push({ op: 'members', group, items: [{ activity, ...o }] });
  }
  async publishAllToMembers(group: string, items: MemberActivity[]) {
    this.calls.push({ op: 'members', group, items });
  }
  async sendTo(group: string, activity: ApObject, inbox: string, signer: Signer = 'group') {
    this.calls.push({ op: 'send', group, activity, inbox, signer });
  }
  async keep(group: string, document: ApObject, objectId: string | null) {
    this.calls.push({ op: 'keep', group, document, objectId });
  }
  /** The activities delivered to members, in order. */
  toMembers(): ApObject[] {
    return this.calls.flatMap((c) => (c.op === 'members' ? c.items.map((i) => i.activity) : []));
  }
  sent(): Array<Extract<PublisherCall, { op: 'send' }>> {
    return this.calls.filter((c): c is Extract<PublisherCall, { op: 'send' }> => c.op === 'send');
  }
}
