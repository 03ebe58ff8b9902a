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
import { handlerTable } from '../../src/groups/handlers/handler-table.ts';
import type { Outcome } from '../../src/groups/handlers/handler.ts';
import type { EventSink, GroupEvent } from '../../src/groups/events.ts';
import type { ActorLookup, DomainPolicyLookup } from '../../src/groups/ports.ts';
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
  readonly events: GroupEvent[] = [];
  private failing = new Set<string>();
  constructor(private readonly next: EventSink | null = null) {}

  failNext(type: GroupEvent['type']): void {
    this.failing.add(type);
  }

  async emit(event: GroupEvent): Promise<void> {
    if (this.failing.delete(event.type)) throw new Error(`emit of ${event.type} failed (injected)`);
    this.events.push(event);
    await this.next?.emit(event);
  }

  of<T extends GroupEvent['type']>(type: T): Array<Extract<GroupEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<GroupEvent, { type: T }> => e.type === type);
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
  const moderation = new ModerationService({
    store,
    urls,
    events,
    actors,
    notices,
    membership,
    settings,
    posting,
    now,
  });
  const handles = {
    resolveHandle: async (h: string) => `https://${h.split('@').pop()}/users/${h.split('@')[1]}`,
  };
  const commands = new CommandService({ store, moderation, membership, handles });
  const inbox = new GroupInbox(
    handlerTable({ store, urls, actors, events, posting, moderation, membership, notices, commands, now }),
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
    inbox,
    async group(name) {
      const r = await groups.create(name);
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
