/**
 * What every moderation action shares: who may act, the basis of the activities' ids, and the audit log.
 *
 * Every action is checked, then takes its steps in one order: the members are told (an event), the action is
 * recorded, and the state the check reads is changed last. After a failure at any step, the same action done
 * again (same basis: the inbound activity, or the DM command) passes the check again and redoes each step,
 * each of which changes nothing the second time (ids derived from the basis). When the failure came after the
 * last step (the answer to a DM command could not be stored), the check finds nothing left to do: an action
 * that this same basis already recorded then reports itself done, as the first run did, so that what is said
 * about it is said the same way.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Store } from '../storage/store.ts';
import type { ModerationStore } from '../storage/moderation.store.ts';
import type { ApObject } from '../activitypub/vocab.ts';
import type { Urls } from '../activitypub/urls.ts';
import { err, ok, type ActorLookup, type Result } from './ports.ts';
import type { EventSink } from './events.ts';
import type { NoticeService } from './notices.service.ts';
import type { MembershipService } from './membership.service.ts';
import type { SettingsService } from './settings.service.ts';
import type { PostingService } from './posting.service.ts';

/** Who acts: the instance admin (CLI, admin API) or a moderator's actor id. */
export type Actor = 'admin' | string;

export type ModerationError =
  | { type: 'group-not-found' }
  | { type: 'not-allowed' }
  | { type: 'post-not-found' }
  | { type: 'not-found' }
  | { type: 'invalid'; detail: string };

export interface ActionOptions {
  by: Actor;
  reason?: string;
  /** The remote activity that asked for this (a moderator's Delete, Block...): announced unchanged. */
  source?: ApObject;
  /**
   * The id of what caused the action (an inbound activity, a DM command); the ids of the activities sent
   * derive from it. Defaults to the source's id, else a new id.
   */
  basis?: string;
}

export interface ModerationDeps {
  store: Store & ModerationStore;
  urls: Urls;
  events: EventSink;
  actors: ActorLookup;
  notices: NoticeService;
  membership: MembershipService;
  settings: SettingsService;
  posting: PostingService;
  now?: () => number;
}

export class ModerationBase {
  protected readonly now: () => number;
  constructor(protected readonly d: ModerationDeps) {
    this.now = d.now ?? Date.now;
  }

  /** True for the admin and for the group's moderators. */
  async canModerate(group: string, by: Actor): Promise<boolean> {
    return by === 'admin' || (await this.d.store.moderators.isModerator(group, by));
  }

  /**
   * True when `by` may appoint and remove moderators: the admin, the group's owner, or, in a group without an
   * owner (one the admin created), any of its moderators.
   */
  async canManageModerators(group: string, by: Actor): Promise<boolean> {
    if (by === 'admin') return true;
    const owner = await this.d.store.owners.getOwner(group);
    return owner ? owner.actorId === by : this.d.store.moderators.isModerator(group, by);
  }

  /** The group exists and `by` may moderate it. */
  protected async check(group: string, by: Actor): Promise<Result<void, ModerationError>> {
    const g = await this.d.store.groups.getGroup(group);
    if (!g || g.deletedAt !== null) return err({ type: 'group-not-found' });
    if (!(await this.canModerate(group, by))) return err({ type: 'not-allowed' });
    return ok(undefined);
  }

  /** The basis of an action: given, or the source activity's id, or a new id for an action taken here. */
  protected basisOf(o: ActionOptions): string {
    if (o.basis !== undefined) return o.basis;
    const id = o.source?.id;
    return typeof id === 'string' ? id : `action:${randomUUID()}`;
  }

  /**
   * Whether `basis` already did `action` on `target` (its audit entry is recorded). Actions taken here without a
   * basis get a new one each time, so only a retry of the same inbound activity or DM command finds one.
   */
  async recorded(group: string | null, action: string, target: string, basis: string): Promise<boolean> {
    return (await this.d.store.audit.getAudit(auditId(group, action, target, basis))) !== null;
  }

  /** The result of an action with nothing left to do: done when this same basis did it, else nothing done. */
  protected async nothingLeft(
    group: string,
    action: string,
    target: string,
    o: ActionOptions,
  ): Promise<Result<boolean, ModerationError>> {
    return ok(await this.recorded(group, action, target, this.basisOf(o)));
  }

  /** Records an action; recording the same action (same basis) again records nothing. */
  protected async audit(
    group: string | null,
    by: Actor,
    action: string,
    target: string,
    o: { reason?: string; basis: string },
  ): Promise<void> {
    await this.d.store.audit.appendAudit({
      id: auditId(group, action, target, o.basis),
      groupName: group,
      actorId: by,
      action,
      target,
      reason: o.reason ?? '',
      at: this.now(),
    });
  }
}

/** The id of the audit entry of an action: the same action with the same basis is recorded once. */
function auditId(group: string | null, action: string, target: string, basis: string): string {
  return createHash('sha256')
    .update(`${basis}\n${action}\n${group ?? ''}\n${target}`)
    .digest('base64url');
}
