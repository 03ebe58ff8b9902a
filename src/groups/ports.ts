/**
 * Ports the domain uses beyond storage: learning about remote actors and domain policies, generating keys.
 * What the domain sends goes out as events (`events.ts`).
 */
import type { RemoteActor } from '../storage/store.ts';
import type { DomainPolicy } from '../storage/moderation.store.ts';
import type { ApObject } from '../activitypub/vocab.ts';

export interface ActorLookup {
  /** The remote actor, from cache or fetched; null when it cannot be had. */
  getActor(id: string): Promise<RemoteActor | null>;
}

/** Remote documents read as they are now (not from the actor cache): moves and groups following groups. */
export interface RemoteDocuments {
  /** The actor id behind a handle (`@name@host`), by WebFinger; null when unknown. */
  resolveHandle(handle: string): Promise<string | null>;
  /** The actor document at `id`, fetched now; null when it cannot be had or its id is not `id`. */
  fetchActor(id: string): Promise<ApObject | null>;
  /**
   * The member ids of a remote group, as its followers collection lists them to this server (at most a bounded
   * number); null when it lists none or cannot be read.
   */
  readMembers(groupId: string): Promise<string[] | null>;
  /**
   * The Service actor of the instance at `host` (`host[:port]`): the actor its `/` serves to ActivityPub
   * requests, with its inbox; null when there is none.
   */
  instanceActor(host: string): Promise<{ id: string; inbox: string } | null>;
}

export interface DomainPolicyLookup {
  /** The instance's policy for a host (port ignored), cached by the implementation. */
  policyOf(host: string): Promise<DomainPolicy | null>;
}

/** Whether this server federates with a host at all. */
export interface FederationGate {
  /** True when the host is blocked (or, in allow-list mode, not allowed); port ignored. */
  isBlocked(host: string): Promise<boolean>;
}

export interface KeyPairGenerator {
  /** A fresh RSA-2048 key pair in PEM (SPKI public, PKCS#8 private). */
  generate(): Promise<{ publicKeyPem: string; privateKeyPem: string }>;
}

export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });
