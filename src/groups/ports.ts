/** Ports the domain uses beyond storage: sending activities and learning about remote actors. */
import type { RemoteActor } from '../storage/store.ts';
import type { DomainPolicy } from '../storage/moderation.store.ts';
import type { ApObject } from '../activitypub/vocab.ts';

/** An activity for the members, with how it is stored. */
export interface MemberActivity {
  activity: ApObject;
  /** Listed in the group's outbox. */
  inOutbox: boolean;
  /** The post (or other object) it is about, for lookups. */
  objectId: string | null;
}

export interface Publisher {
  /**
   * Stores `activity` (so that its id dereferences) and delivers it to every accepted member of the group,
   * one delivery per distinct shared inbox. Returns once the work is durably queued.
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
  /** Stores `activity` and delivers it to one inbox (Accept, Reject, direct replies). */
  sendTo(groupName: string, activity: ApObject, inbox: string): Promise<void>;
}

export interface ActorLookup {
  /** The remote actor, from cache or fetched; null when it cannot be had. */
  getActor(id: string): Promise<RemoteActor | null>;
}

export interface DomainPolicyLookup {
  /** The instance's policy for a host (port ignored), cached by the implementation. */
  policyOf(host: string): Promise<DomainPolicy | null>;
}

export interface KeyPairGenerator {
  /** A fresh RSA-2048 key pair in PEM (SPKI public, PKCS#8 private). */
  generate(): Promise<{ publicKeyPem: string; privateKeyPem: string }>;
}

export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });
