/**
 * The domain of Guild without any network: a real store (the kind under test), a fixed clock, known remote
 * actors, and a recording event sink (which can fail an emit on purpose, to show that a retry finishes the
 * job). Handlers are driven with parsed activities, as the intake job does.
 */
import { generateKeyPairSync } from 'node:crypto';
import { openTestStore } from './test-store.ts';
import type { Member, Post, RemoteActor, Store } from '../../src/storage/store.ts';
import { Urls } from '../../src/activitypub/urls.ts';
import { GroupService } from '../../src/groups/group.service.ts';
import { MembershipService } from '../../src/groups/membership.service.ts';
import { SettingsService } from '../../src/groups/settings.service.ts';
import { NoticeService } from '../../src/groups/notices.service.ts';
import { PostingService } from '../../src/groups/posting.service.ts';
import { ModerationService } from '../../src/groups/moderation.service.ts';
import { CommandService } from '../../src/groups/commands.service.ts';
import { GroupInbox } from '../../src/groups/group-inbox.ts';
import { RateLimiter } from '../../src/groups/rate-limiter.ts';
import { ActivityBudget } from '../../src/groups/activity-budget.service.ts';
import { ReportService } from '../../src/groups/report.service.ts';
import { AnswerLimiter } from '../../src/groups/answer-limiter.service.ts';
import { handlerTable } from '../../src/groups/handlers/handler-table.ts';
import type { Outcome } from '../../src/groups/handlers/handler.ts';
import type { EventSink, GroupEvent, InstanceEvent } from '../../src/groups/events.ts';
import type { ActorLookup, DomainPolicyLookup, RemoteDocuments } from '../../src/groups/ports.ts';
import { GroupFollowService } from '../../src/groups/group-follow.service.ts';
import { MoveService } from '../../src/groups/move.service.ts';
import { PeeringService } from '../../src/groups/peering.service.ts';
import { instanceHandlerTable } from '../../src/groups/handlers/instance-handlers.ts';
import { LinkCommands } from '../../src/groups/link.commands.ts';
import { parseInbound } from '../../src/activitypub/inbound.parser.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';
import type { Publisher } from '../../src/federation/publisher.ts';
import { OutboundTranslator } from '../../src/federation/outbound/outbound.translator.ts';

export const ORIGIN = 'https://guild.example';
export const AS = 'https://www.w3.org/ns/activitystreams';
export const PUBLIC = `${AS}#Public`;
/** The fixed time of the clock at the start of each test. */
export const T0 = Date.UTC(2026, 0, 1);

let keys: { publicKeyPem: string; privateKeyPem: string } | null = null;
function keyPair(): { publicKeyPem: string; privateKeyPem: string } {
  if (!keys) {
    const k = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    keys = { publicKeyPem: k.publicKey, privateKeyPem: k.privateKey };
  }
  return keys;
}

/** Records every event; `failNext(type)` makes the next emit of that type throw, as a failed store write would. */
export class RecordingEvents implements EventSink {
  readonly events: Array<GroupEvent | InstanceEvent> = [];
  private failing = new Set<string>();
  constructor(private readonly next: EventSink | null = null) {}

  failNext(type: (GroupEvent | InstanceEvent)['type']): void {
    this.failing.add(type);
  }

  async emit(event: GroupEvent | InstanceEvent): Promise<void> {
    if (this.failing.delete(event.type)) throw new Error(`emit of ${event.type} failed (injected)`);
    this.events.push(event);
    await this.next?.emit(event);
  }

  of<T extends (GroupEvent | InstanceEvent)['type']>(
    type: T,
  ): Array<Extract<GroupEvent | InstanceEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<GroupEvent | InstanceEvent, { type: T }> => e.type === type);
  }
}

/** Remote documents as the test sets them: actor documents, groups' member lists, instances' Service actors. */
export class FakeRemote implements RemoteDocuments {
  readonly actors = new Map<string, ApObject>();
  readonly members = new Map<string, string[]>();
  readonly instances = new Map<string, { id: string; inbox: string }>();
  readonly handles = new Map<string, string>();
  async resolveHandle(handle: string): Promise<string | null> {
    return this.handles.get(handle.replace(/^@/, '')) ?? null;
  }
  async fetchActor(id: string): Promise<ApObject | null> {
    return this.actors.get(id) ?? null;
  }
  async readMembers(groupId: string): Promise<string[] | null> {
    return this.members.get(groupId) ?? null;
  }
  async instanceActor(host: string): Promise<{ id: string; inbox: string } | null> {
    return this.instances.get(host) ?? null;
  }
}

/** Remote actors known to the test, as an actor cache would give them. */
export class KnownActors implements ActorLookup {
  readonly actors = new Map<string, RemoteActor>();
  add(id: string, type = 'Person'): RemoteActor {
    const origin = new URL(id).origin;
    const actor: RemoteActor = {
      id,
      type,
      inbox: `${id}/inbox`,
      sharedInbox: `${origin}/inbox`,
      preferredUsername: id.split('/').pop() ?? null,
      name: null,
      url: null,
      keyId: `${id}#main-key`,
      publicKeyPem: null,
      fetchedAt: T0,
    };
    this.actors.set(id, actor);
    return actor;
  }
  async getActor(id: string): Promise<RemoteActor | null> {
    return this.actors.get(id) ?? null;
  }
}

export interface Harness {
  store: Store;
  urls: Urls;
  clock: { now: number };
  events: RecordingEvents;
  actors: KnownActors;
  groups: GroupService;
  membership: MembershipService;
  settings: SettingsService;
  notices: NoticeService;
  posting: PostingService;
  moderation: ModerationService;
  commands: CommandService;
  limiter: RateLimiter;
  budget: ActivityBudget;
  reports: ReportService;
  answers: AnswerLimiter;
  remote: FakeRemote;
  groupFollows: GroupFollowService;
  moves: MoveService;
  peering: PeeringService;
  inbox: GroupInbox;
  /** Creates an open group and returns its actor id. */
  group(name: string): Promise<string>;
  member(group: string, actorId: string, state?: Member['state']): Promise<void>;
  moderator(group: string, actorId: string): Promise<void>;
  post(group: string, objectId: string, author: string, more?: Partial<Post>): Promise<Post>;
  /** Parses `doc` as the intake job does and hands it to the groups. */
  deliver(doc: ApObject, inboxGroup?: string | null): Promise<Outcome[]>;
  close(): Promise<void>;
}

/**
 * `sink` receives every event after the recording sink; `publisher` instead gets the activities the outbound
 * translator makes of them (a recording publisher: what would go out, with no queue).
 */
export async function startHarness(opts: { sink?: EventSink; publisher?: Publisher } = {}): Promise<Harness> {
  const store = await openTestStore();
  const urls = new Urls(ORIGIN);
  const clock = { now: T0 };
  const now = () => clock.now;
  const translator = opts.publisher
    ? new OutboundTranslator({ publisher: opts.publisher, store, urls, domain: new URL(ORIGIN).host, now })
    : null;
  const events = new RecordingEvents(opts.sink ?? translator);
  const actors = new KnownActors();
  const domains: DomainPolicyLookup = { policyOf: (host) => store.domains.getDomainPolicy(host) };
  const groups = new GroupService({ store, urls, events, keys: { generate: async () => keyPair() }, now });
  const membership = new MembershipService({ store, events, now });
  const settings = new SettingsService({ store, events, membership, now });
  const notices = new NoticeService({ store, actors, events, now });
  const posting = new PostingService({ store, urls, events, notices, domains, now });
  const limiter = new RateLimiter({ limits: store.rateLimits, now });
  const budget = new ActivityBudget({ store, limiter });
  const reports = new ReportService({ store, notices, limiter, digestIntervalMs: 600_000, now });
  const moderation = new ModerationService({
    store,
    urls,
    events,
    actors,
    notices,
    membership,
    settings,
    posting,
    reports,
    now,
  });
  const handles = {
    resolveHandle: async (h: string) => `https://${h.split('@').pop()}/users/${h.split('@')[1]}`,
  };
  const answers = new AnswerLimiter({ store, limiter });
  const remote = new FakeRemote();
  const groupFollows = new GroupFollowService({ store, urls, events, actors, remote, now });
  const moves = new MoveService({ store, urls, events, groups, remote, domain: 'guild.example', now });
  const links = new LinkCommands({ moves, groupFollows });
  const commands = new CommandService({ store, moderation, membership, reports, handles, links });
  const peering = new PeeringService({
    store,
    urls,
    events,
    actors,
    remote,
    unreachableAfterMs: 7 * 86_400_000,
    now,
  });
  const deps = { store, urls, actors, events, posting, moderation, membership, notices, commands, now };
  const inbox = new GroupInbox(
    handlerTable({ ...deps, budget, reports, answers, groupFollows }),
    null,
    instanceHandlerTable({ store, urls, peering }),
  );
  return {
    store,
    urls,
    clock,
    events,
    actors,
    groups,
    membership,
    settings,
    notices,
    posting,
    moderation,
    commands,
    limiter,
    budget,
    reports,
    answers,
    remote,
    groupFollows,
    moves,
    peering,
    inbox,
    async group(name) {
      const r = await groups.create(name, {}, { announce: false });
      if (!r.ok) throw new Error(`could not create ${name}: ${JSON.stringify(r.error)}`);
      return urls.group(name);
    },
    async member(group, actorId, state = 'accepted') {
      const actor = actors.actors.get(actorId) ?? actors.add(actorId);
      await store.members.upsertMember({
        groupName: group,
        actorId,
        inbox: actor.inbox,
        sharedInbox: actor.sharedInbox,
        deliveryInbox: actor.sharedInbox ?? actor.inbox,
        state,
        followId: `${actorId}/follows/${group}`,
        createdAt: T0,
        updatedAt: T0,
      });
    },
    async moderator(group, actorId) {
      if (!actors.actors.has(actorId)) actors.add(actorId);
      await store.moderators.addModerator({ groupName: group, actorId, addedBy: 'admin', addedAt: T0 });
    },
    async post(group, objectId, author, more = {}) {
      const p: Post = {
        objectId,
        groupName: group,
        authorId: author,
        inReplyTo: null,
        threadRoot: objectId,
        createId: `${objectId}/create`,
        boostId: urls.derivedActivity(group, `${objectId}/create`, 'boost'),
        createdAt: T0,
        deletedAt: null,
        removedBy: null,
        ...more,
      };
      await store.posts.putPost(p);
      return p;
    },
    async deliver(doc, inboxGroup = null) {
      const parsed = parseInbound(doc);
      if (!parsed.ok) throw new Error(`does not parse: ${parsed.error.detail}`);
      return inbox.handle(parsed.value, inboxGroup);
    },
    close: () => store.close(),
  };
}

/** A public Note by `author` addressed to `group` (mentioned, cc), and the Create that brings it. */
export function createNote(
  author: string,
  group: string,
  n: string,
  more: { inReplyTo?: string; to?: string[]; cc?: string[] } = {},
): ApObject {
  const object: ApObject = {
    id: `${author}/notes/${n}`,
    type: 'Note',
    attributedTo: author,
    content: `<p>note ${n}</p>`,
    to: more.to ?? [PUBLIC],
    cc: more.cc ?? [group],
    tag: [{ type: 'Mention', href: group }],
  };
  if (more.inReplyTo) object.inReplyTo = more.inReplyTo;
  return {
    '@context': AS,
    id: `${author}/creates/${n}`,
    type: 'Create',
    actor: author,
    object,
    to: object.to,
    cc: object.cc,
  };
}
