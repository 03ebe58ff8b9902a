/**
 * The activities a group sends its members, each marked with the families of member servers that take it
 * (`peer-software.forms.ts`), so that the fan-out delivers it only to their inboxes: the FEP-1b12 Announce of an
 * activity, the plain boost of a top-level post and its undoing, the group's own Update and Delete of itself, and
 * a member's activity forwarded unchanged. Ids are derived from the event's basis.
 */
import type { Store } from '../../storage/store.ts';
import { asArray, idOf, isObject, str, type ApObject } from '../../activitypub/vocab.ts';
import type { ApAnnounce } from '../../activitypub/ap-types.ts';
import {
  buildAnnounce,
  buildBoost,
  buildUndoBoost,
  embedded,
  withContext,
  type GroupIds,
} from '../../activitypub/activity.builders.ts';
import type { Urls } from '../../activitypub/urls.ts';
import type { MemberActivity } from '../publisher.ts';
import { reachOf } from '../peer-software.forms.ts';

/** What an activity is about, and whence its id derives. */
export interface Basis {
  group: string;
  basis: string;
}

/** True when the activity carries an LD signature (Mastodon's `RsaSignature2017`) to be checked by its reader. */
function ldSigned(activity: ApObject): boolean {
  const signature = activity['signature'];
  return isObject(signature) && typeof signature['signatureValue'] === 'string';
}

export class MemberItems {
  constructor(
    private readonly d: { store: Store; urls: Urls },
    private readonly published: () => string,
  ) {}

  ids(group: string): GroupIds {
    return { group: this.d.urls.group(group), followers: this.d.urls.followers(group) };
  }

  /** The group's Announce of an activity, listed in its outbox unless `inOutbox` is false. */
  announce(e: Basis, activity: ApObject, objectId: string, inOutbox = true): MemberActivity {
    const announce = buildAnnounce({
      ...this.ids(e.group),
      id: this.d.urls.derivedActivity(e.group, e.basis, 'announce'),
      activity,
      published: this.published(),
    });
    return { activity: withContext(announce), inOutbox, objectId, reach: reachOf({ kind: 'announce' }) };
  }

  /** The plain boost of a top-level post. */
  boost(group: string, boostId: string, objectId: string): MemberActivity {
    const boost = buildBoost({ ...this.ids(group), id: boostId, objectId, published: this.published() });
    return { activity: withContext(boost), inOutbox: false, objectId, reach: reachOf({ kind: 'boost' }) };
  }

  /** Undo of the group's boost, embedding the boost as it was sent when it is still stored. */
  async undoBoost(e: Basis, boostId: string, objectId: string): Promise<MemberActivity> {
    const stored = await this.d.store.activities.getActivity(boostId);
    const boost = stored
      ? (embedded(JSON.parse(stored.json) as object) as unknown as ApAnnounce)
      : buildBoost({ ...this.ids(e.group), id: boostId, objectId, published: this.published() });
    const undo = buildUndoBoost({
      ...this.ids(e.group),
      id: this.d.urls.derivedActivity(e.group, e.basis, 'undo-boost'),
      boost,
      published: this.published(),
    });
    return {
      activity: withContext(undo),
      inOutbox: false,
      objectId: boostId,
      reach: reachOf({ kind: 'undo-boost' }),
    };
  }

  /** The group's own Update or Delete of its actor (not in the outbox). */
  itself(activity: object, groupId: string): MemberActivity {
    return {
      activity: withContext(activity),
      inOutbox: false,
      objectId: groupId,
      reach: reachOf({ kind: 'group-itself' }),
    };
  }

  /**
   * A member's Create, Update or Delete of a post, forwarded as it was received (every field, its LD signature
   * included; signed by the group when delivered) to the servers that take a forwarded activity; null when none
   * does.
   */
  forward(group: string, activity: ApObject, objectId: string): MemberActivity | null {
    const type = str(activity['type']);
    if (type !== 'Create' && type !== 'Update' && type !== 'Delete') return null;
    const object = activity['object'];
    const groupId = this.d.urls.group(group);
    const groupAddressed =
      isObject(object) &&
      [...asArray(object['to']), ...asArray(object['cc'])].some((v) => idOf(v) === groupId);
    const reach = reachOf({
      kind: 'forward',
      activity: type,
      ldSigned: ldSigned(activity),
      groupAddressed,
      objectType: isObject(object) ? str(object['type']) : null,
    });
    if (reach !== null && reach.length === 0) return null;
    return { activity, inOutbox: false, objectId, reach };
  }
}
