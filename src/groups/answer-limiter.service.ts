/**
 * Answers and refusals the groups send to actors who are not their members (answers to their direct messages,
 * a banned actor's refused Follow, notices of refused posts): one outsider could otherwise make the server send
 * one message for each of theirs (5,000 DMs, 5,000 refusals). They are limited per recipient and per host, in
 * every group together, and counted durably (rate-limit hits in the store), so that a restart does not give a
 * flood its allowance back. Members and moderators of the group are always answered.
 */
import type { Store } from '../storage/store.ts';
import { HOUR_MS, type RateLimit, type RateLimiter } from './rate-limiter.ts';

export interface AnswerLimits {
  /** Answers to one actor who is not a member. */
  perActor: RateLimit;
  /** Answers to the actors of one host who are not members. */
  perHost: RateLimit;
}

export const DEFAULT_ANSWER_LIMITS: AnswerLimits = {
  perActor: { limit: 10, windowMs: HOUR_MS },
  perHost: { limit: 60, windowMs: HOUR_MS },
};

export interface AnswerLimiterDeps {
  store: Store;
  limiter: RateLimiter;
  limits?: AnswerLimits;
}

/** Why an answer is not sent, or that it may be. */
export type AnswerDecision = { send: true } | { send: false; reason: string };

export class AnswerLimiter {
  private readonly limits: AnswerLimits;
  constructor(private readonly d: AnswerLimiterDeps) {
    this.limits = d.limits ?? DEFAULT_ANSWER_LIMITS;
  }

  /**
   * Whether `group` may send an answer to `recipient` now; `basis` names the answer (the activity it answers),
   * so that deciding again about the same answer counts it once. The recipient's limit is taken first: one
   * actor's flood spends only their own allowance, never their host's.
   */
  async mayAnswer(group: string, recipient: string, basis: string): Promise<AnswerDecision> {
    const member = await this.d.store.members.getMember(group, recipient);
    if (member?.state === 'accepted' || (await this.d.store.moderators.isModerator(group, recipient)))
      return { send: true };
    return this.limited(recipient, basis);
  }

  /**
   * Whether the instance's Service actor may answer `recipient` now. Those who moderate (or own) a group here,
   * or are an accepted member of one, are always answered; anyone else within the same limits as a group's
   * answers, counted together with them.
   */
  async mayAnswerForInstance(recipient: string, basis: string): Promise<AnswerDecision> {
    const store = this.d.store;
    if ((await store.moderators.listGroupsOfModerator(recipient, null, 1)).length > 0) return { send: true };
    for (const group of await store.members.listGroupsOfActor(recipient))
      if ((await store.members.getMember(group, recipient))?.state === 'accepted') return { send: true };
    return this.limited(recipient, basis);
  }

  private async limited(recipient: string, basis: string): Promise<AnswerDecision> {
    const host = hostOf(recipient);
    const refused = await this.d.limiter.takeAll(`answer:${basis}`, [
      { bucket: `answers:actor:${recipient}`, limit: this.limits.perActor },
      { bucket: `answers:host:${host}`, limit: this.limits.perHost },
    ]);
    if (refused < 0) return { send: true };
    return {
      send: false,
      reason:
        refused === 0
          ? `${this.limits.perActor.limit} answers went to ${recipient} in the last hour (limit)`
          : `${this.limits.perHost.limit} answers went to non-members on ${host} in the last hour (limit)`,
    };
  }
}

function hostOf(actorId: string): string {
  try {
    return new URL(actorId).host.toLowerCase();
  } catch {
    return actorId;
  }
}
