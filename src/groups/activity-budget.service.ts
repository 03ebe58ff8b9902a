/**
 * The budgets of what a member has the group re-share besides posts: every vote, undone vote and edit that
 * is announced to the members costs one delivery per member server, so each member has an hourly budget of
 * them (`maxActivitiesPerHour`), and each post an hourly budget of edits (`maxEditsPerPostPerHour`).
 * Moderators are not counted, as for posts.
 */
import type { Group, Store } from '../storage/store.ts';
import { HOUR_MS, type RateLimiter } from './rate-limiter.ts';

export interface ActivityBudgetDeps {
  store: Store;
  limiter: RateLimiter;
}

export class ActivityBudget {
  constructor(private readonly d: ActivityBudgetDeps) {}

  /**
   * Counts the activity `hitId` of `actor` against their hourly budget in the group; the reason of the refusal
   * when the budget is spent, else null. Counting the same activity again counts it once.
   */
  async takeMember(group: Group, actor: string, hitId: string): Promise<string | null> {
    const limit = group.settings.maxActivitiesPerHour;
    if (limit === 0 || (await this.d.store.moderators.isModerator(group.name, actor))) return null;
    const allowed = await this.d.limiter.take(`activities:${group.name}:${actor}`, hitId, {
      limit,
      windowMs: HOUR_MS,
    });
    return allowed
      ? null
      : `${actor} had ${limit} votes and edits re-shared in ${group.name} in the last hour (limit)`;
  }

  /**
   * Counts the edit `hitId` of `objectId` by `actor` against the post's hourly budget of edits; the reason of
   * a refusal, or null.
   */
  async takeEdit(group: Group, actor: string, objectId: string, hitId: string): Promise<string | null> {
    const limit = group.settings.maxEditsPerPostPerHour;
    if (limit === 0 || (await this.d.store.moderators.isModerator(group.name, actor))) return null;
    const allowed = await this.d.limiter.take(`edits:${group.name}:${objectId}`, hitId, {
      limit,
      windowMs: HOUR_MS,
    });
    return allowed ? null : `${objectId} was edited ${limit} times in the last hour in ${group.name} (limit)`;
  }
}
