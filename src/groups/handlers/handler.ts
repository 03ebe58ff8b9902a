/**
 * One handler per kind of inbound activity (the kinds of `activitypub/inbound.parser.ts`), in the manner of
 * Lemmy's `verify`/`receive`: `verify` only checks and reads, and returns either what to do or the reason of a
 * refusal; `apply` does it. The table in `handler-table.ts` has exactly one handler per kind, and TypeScript
 * refuses a table that misses one.
 *
 * Effects are resumable: when a step of `apply` fails, the intake job is run again, `verify` recognises what
 * was already done (ids derived from the inbound activity, the state that `verify` reads changed last) and
 * `apply` redoes each step, which changes nothing the second time.
 */
import type { Group, Store } from '../../storage/store.ts';
import type { ModerationStore } from '../../storage/moderation.store.ts';
import type { InboundActivity, InboundKind, InboundOf } from '../../activitypub/inbound.parser.ts';
import type { Urls } from '../../activitypub/urls.ts';
import type { ActorLookup, Result } from '../ports.ts';
import type { EventSink } from '../events.ts';
import type { PostingService } from '../posting.service.ts';
import type { ModerationService } from '../moderation.service.ts';
import type { MembershipService } from '../membership.service.ts';
import type { NoticeService } from '../notices.service.ts';
import type { CommandService } from '../commands.service.ts';
import type { ActivityBudget } from '../activity-budget.service.ts';
import type { ReportService } from '../report.service.ts';
import type { AnswerLimiter } from '../answer-limiter.service.ts';
import type { GroupFollowService } from '../group-follow.service.ts';

/** What became of an activity in one group: applied (what was done), or refused (why). */
export type Outcome = { applied: true; what: string } | { applied: false; reason: string };

export interface Handler<A extends InboundActivity, P = unknown> {
  /**
   * The groups hosted here that the activity concerns (by its addressing, its target, the inbox it came to,
   * or the posts it names). Reads only.
   */
  groups(a: A, inboxGroup: string | null): Promise<string[]>;
  /** Checks only: what `apply` is to do in `group`, or why the activity is refused there. */
  verify(a: A, group: string): Promise<Result<P, string>>;
  /**
   * Applies the activity in `group` as verified: what was done, or why nothing was (a moderation action that
   * the service finds already done, or refuses on grounds only it knows).
   */
  apply(a: A, group: string, plan: P): Promise<Outcome>;
}

/** Exactly one handler per kind of inbound activity. */
export type HandlerTable = { [K in InboundKind]: Handler<InboundOf<K>> };

export interface HandlerDeps {
  store: Store & ModerationStore;
  urls: Urls;
  actors: ActorLookup;
  events: EventSink;
  posting: PostingService;
  moderation: ModerationService;
  membership: MembershipService;
  notices: NoticeService;
  commands: CommandService;
  /** Members' hourly budgets of votes and edits. */
  budget: ActivityBudget;
  /** Files reports within their limits and tells moderators in digests. */
  reports: ReportService;
  /** Bounds the answers and refusals sent to actors who are not members. */
  answers: AnswerLimiter;
  groupFollows: GroupFollowService;
  now: () => number;
}

/** The live group of that name, or null. */
export async function liveGroup(d: HandlerDeps, name: string | null): Promise<Group | null> {
  if (name === null) return null;
  const g = await d.store.groups.getGroup(name);
  return g && g.deletedAt === null ? g : null;
}

/** Names of the groups hosted here among `ids` (actor ids, or their moderators/featured/followers URLs). */
export function localGroups(urls: Urls, ids: Iterable<string>): string[] {
  const names = new Set<string>();
  for (const id of ids) {
    const n = urls.groupNameOf(id.replace(/\/(moderators|featured|followers)$/, ''));
    if (n) names.add(n);
  }
  return [...names];
}

/** The groups named by an activity's addressing (to, cc, audience) and target, and the inbox it came to. */
export function addressedGroups(
  urls: Urls,
  a: { to: string[]; cc: string[]; audience: string[] },
  inboxGroup: string | null,
  extra: Array<string | null> = [],
): string[] {
  const ids = [...a.to, ...a.cc, ...a.audience, ...extra.filter((x): x is string => x !== null)];
  if (inboxGroup) ids.push(urls.group(inboxGroup));
  return localGroups(urls, ids);
}

export const applied = (what: string): Outcome => ({ applied: true, what });
export const notApplied = (reason: string): Outcome => ({ applied: false, reason });

/**
 * The groups concerned by an activity about a post: those it is addressed to and the inbox it came to, else
 * (Mastodon sends an author's Delete to the public only) the groups that hold the post.
 */
export async function groupsOfPost(
  d: HandlerDeps,
  a: { to: string[]; cc: string[]; audience: string[] },
  objectId: string,
  inboxGroup: string | null,
  more: string[] = [],
): Promise<string[]> {
  const names = localGroups(d.urls, [...a.to, ...a.cc, ...a.audience, ...more]);
  if (inboxGroup && !names.includes(inboxGroup)) names.push(inboxGroup);
  return names.length > 0 ? names : d.store.posts.listGroupsOfPost(objectId);
}

/** The refusal when `actor` may not moderate `group`, else null. */
export async function notModerator(
  d: HandlerDeps,
  group: string,
  actor: string,
  what: string,
): Promise<string | null> {
  return (await d.moderation.canModerate(group, actor))
    ? null
    : `${actor} is not a moderator of ${group}; ${what} refused`;
}
