/**
 * Ports the domain uses beyond storage: learning about remote actors and domain policies, generating keys.
 * What the domain sends goes out as events (`events.ts`).
 */
import type { RemoteActor } from '../storage/store.ts';
import type { DomainPolicy } from '../storage/moderation.store.ts';

export interface ActorLookup {
  /** The remote actor, from cache or fetched; null when it cannot be had. */
  getActor(id: string): Promise<RemoteActor | null>;
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
