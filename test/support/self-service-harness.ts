/**
 * The self-service services (creation policy, owners, sign-in, the Service actor's commands) on the domain
 * harness: a real store, the harness's fixed clock, deterministic random bytes, a recording event sink.
 */
import { createHash } from 'node:crypto';
import { startHarness, type Harness } from './domain-harness.ts';
import { ServiceMessenger } from '../../src/groups/service-messages.ts';
import { OwnershipService } from '../../src/groups/ownership.service.ts';
import { GroupCreationService, type CreationPolicy } from '../../src/groups/group-creation.service.ts';
import { SignInService, type SignInLimits } from '../../src/groups/sign-in.service.ts';
import { ServiceCommandService } from '../../src/groups/service-commands.service.ts';
import { ServiceInbox } from '../../src/groups/service-inbox.ts';
import { GroupInbox } from '../../src/groups/group-inbox.ts';
import { handlerTable } from '../../src/groups/handlers/handler-table.ts';
import { parseInbound } from '../../src/activitypub/inbound.parser.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';
import type { Outcome } from '../../src/groups/handlers/handler.ts';

export const DOMAIN = 'guild.example';

export interface SelfServiceHarness extends Harness {
  ownership: OwnershipService;
  creation: GroupCreationService;
  signIn: SignInService;
  serviceCommands: ServiceCommandService;
  /** Hands a parsed activity to the groups and the Service actor. */
  deliverAll(doc: ApObject): Promise<Outcome[]>;
  /** The texts sent by the Service actor to `to`, oldest first. */
  serviceMessagesTo(to: string): string[];
}

/** Random bytes that differ on every call and are the same in every run. */
function countingRandom(): (n: number) => Buffer {
  let i = 0;
  return (n) => {
    const out = Buffer.alloc(n);
    let filled = 0;
    while (filled < n) {
      const block = createHash('sha256').update(`random-${i++}`).digest();
      filled += block.copy(out, filled);
    }
    return out;
  };
}

export async function startSelfService(
  o: { policy?: Partial<CreationPolicy>; limits?: Partial<SignInLimits> } = {},
): Promise<SelfServiceHarness> {
  const h = await startHarness();
  const now = () => h.clock.now;
  const random = countingRandom();
  const gate = {
    policyOf: (host: string) => h.store.domains.getDomainPolicy(host),
    isBlocked: async (host: string) => (await h.store.domains.getDomainPolicy(host))?.policy === 'block',
  };
  const handles = {
    resolveHandle: async (handle: string) => {
      const [user, host] = handle.replace(/^@/, '').split('@');
      const id = `https://${host}/users/${user}`;
      return h.actors.actors.has(id) ? id : null;
    },
  };
  const messenger = new ServiceMessenger({ actors: h.actors, events: h.events });
  const ownership = new OwnershipService({
    store: h.store,
    groups: h.groups,
    moderation: h.moderation,
    now,
    random,
  });
  const creation = new GroupCreationService({
    store: h.store,
    groups: h.groups,
    policies: gate,
    messenger,
    domain: DOMAIN,
    policy: {
      mode: 'open',
      perAccount: 3,
      perDomain: 10,
      windowMs: 86_400_000,
      reservedNames: ['guild'],
      ...o.policy,
    },
    now,
  });
  const signIn = new SignInService({
    store: h.store,
    handles,
    federation: gate,
    messenger,
    linkBase: `${h.urls.origin}/login/`,
    sessionTtlMs: 3_600_000,
    limits: { perHandle: 3, perHost: 5, perClient: 4, windowMs: 900_000, ...o.limits },
    now,
    random,
  });
  const serviceCommands = new ServiceCommandService({
    creation,
    ownership,
    signIn,
    commands: h.commands,
    handles,
    urls: h.urls,
    domain: DOMAIN,
    serviceName: 'guild',
  });
  const inbox = new GroupInbox(
    handlerTable({
      store: h.store,
      urls: h.urls,
      actors: h.actors,
      events: h.events,
      posting: h.posting,
      moderation: h.moderation,
      membership: h.membership,
      notices: h.notices,
      commands: h.commands,
      budget: h.budget,
      reports: h.reports,
      answers: h.answers,
      groupFollows: h.groupFollows,
      now,
    }),
    new ServiceInbox({ urls: h.urls, commands: serviceCommands, messenger, answers: h.answers }),
  );
  return {
    ...h,
    ownership,
    creation,
    signIn,
    serviceCommands,
    async deliverAll(doc) {
      const parsed = parseInbound(doc);
      if (!parsed.ok) throw new Error(`does not parse: ${parsed.error.detail}`);
      return inbox.handle(parsed.value, null);
    },
    serviceMessagesTo(to) {
      return h.events
        .of('ServiceMessageSent')
        .filter((e) => e.to.id === to)
        .map((e) => e.text);
    },
  };
}

/** A direct message from `author` to the Service actor with `text`, as Mastodon sends one. */
export function dmToService(origin: string, author: string, n: string, text: string): ApObject {
  const me = `${origin}/actor`;
  const object = {
    id: `${author}/dms/${n}`,
    type: 'Note',
    attributedTo: author,
    content: `<p><span class="h-card"><a href="${me}" class="u-url mention">@<span>guild</span></a></span> ${text}</p>`,
    to: [me],
    cc: [],
    tag: [{ type: 'Mention', href: me, name: `@guild@${DOMAIN}` }],
  };
  return { id: `${author}/dms/${n}/create`, type: 'Create', actor: author, object, to: [me], cc: [] };
}
