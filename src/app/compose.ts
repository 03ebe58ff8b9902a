/** The service graph, built once from the configuration: store, federation layer, domain services. */
import { BURST_SECONDS, type Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../storage/store.ts';
import { openStore } from '../storage/open-store.ts';
import { INSTANCE_KEY_OWNER, Urls } from '../activitypub/urls.ts';
import type { KeyPairGenerator } from '../groups/ports.ts';
import type { EventSink } from '../groups/events.ts';
import { GroupService } from '../groups/group.service.ts';
import { MembershipService } from '../groups/membership.service.ts';
import { SettingsService } from '../groups/settings.service.ts';
import { NoticeService } from '../groups/notices.service.ts';
import { PostingService } from '../groups/posting.service.ts';
import { ModerationService } from '../groups/moderation.service.ts';
import { CommandService } from '../groups/commands.service.ts';
import { GroupInbox } from '../groups/group-inbox.ts';
import { handlerTable } from '../groups/handlers/handler-table.ts';
import { InstanceService } from '../groups/instance.service.ts';
import { HOUR_MS, RateLimiter } from '../groups/rate-limiter.ts';
import { ActivityBudget } from '../groups/activity-budget.service.ts';
import { ReportService } from '../groups/report.service.ts';
import { AnswerLimiter } from '../groups/answer-limiter.service.ts';
import { MoveService } from '../groups/move.service.ts';
import { GroupFollowService } from '../groups/group-follow.service.ts';
import { PEER_UNREACHABLE_MS, PeeringService } from '../groups/peering.service.ts';
import { instanceHandlerTable } from '../groups/handlers/instance-handlers.ts';
import { LinkCommands } from '../groups/link.commands.ts';
import { RemoteDocumentReader } from '../federation/remote-documents.ts';
import { LocalAwareActors } from '../federation/local-actors.ts';
import { ServiceMessenger } from '../groups/service-messages.ts';
import { OwnershipService } from '../groups/ownership.service.ts';
import { GroupCreationService } from '../groups/group-creation.service.ts';
import { SignInService } from '../groups/sign-in.service.ts';
import { ServiceCommandService } from '../groups/service-commands.service.ts';
import { ServiceInbox } from '../groups/service-inbox.ts';
import { rsaKeyPairs } from '../federation/keys.ts';
import { StorePublisher, type Publisher } from '../federation/publisher.ts';
import { OutboundTranslator } from '../federation/outbound/outbound.translator.ts';
import { DeliveryClient } from '../federation/delivery.client.ts';
import { SignedImmediateSender } from '../federation/immediate-sender.ts';
import { LocalQueueSignal } from '../federation/queue-signal.ts';
import { SafeFetcher } from '../federation/safe-fetch.ts';
import { ActorResolver } from '../federation/actor-resolver.ts';
import { PeerSoftwareService } from '../federation/peer-software.service.ts';
import { DomainPolicies } from '../federation/domain-policy.ts';
import { Metrics } from '../federation/metrics.ts';
import { withMeteredJobs } from '../federation/metered-jobs.ts';
import type { InboundActivityProcessor } from '../federation/job-handlers.ts';
import { FileMediaStore, mediaDirFor } from '../web/media.store.ts';

export const SOFTWARE = { name: 'guild', version: '0.1.0' };

/** What the graph is built from besides the configuration; each has a default tests can replace. */
export interface ComposeOptions {
  log: Logger;
  /** Use this store instead of opening the configured one (it is closed by Services.close()). */
  store?: Store;
  /** Key pairs for the application actor and new groups (default: fresh RSA-2048). */
  keys?: KeyPairGenerator;
  /** Milliseconds since the epoch (default: Date.now). */
  clock?: () => number;
}

/** Every service of one process (or background thread), built once. */
export interface Services {
  config: Config;
  log: Logger;
  clock: () => number;
  /** The store, counting the jobs it takes in and the claims made on it into `metrics`. */
  store: Store;
  /** This process's (or thread's) metrics. */
  metrics: Metrics;
  urls: Urls;
  /** Wakes this process's queue runners when work is queued (bridged to background threads by start.ts). */
  signal: LocalQueueSignal;
  /** Stores and queues activities (the outbound translator hands them to it). */
  publisher: Publisher;
  /** Where the domain's events go: turned into activities and published. */
  events: EventSink;
  /** The User-Agent of every outgoing request. */
  userAgent: string;
  fetcher: SafeFetcher;
  /** Remote actors and their keys, cached in the store. */
  resolver: ActorResolver;
  /** The software of member servers (NodeInfo), which decides the forms each is sent. */
  software: PeerSoftwareService;
  domains: DomainPolicies;
  groups: GroupService;
  membership: MembershipService;
  settings: SettingsService;
  moderation: ModerationService;
  instance: InstanceService;
  /** Reports and the digests that tell moderators of them (sent by the maintenance loop when due). */
  reports: ReportService;
  /** Bounds the answers and refusals the groups send to actors who are not their members. */
  answers: AnswerLimiter;
  /** Exports, imports and moves groups. */
  moves: MoveService;
  /** Remote documents read as they are now (moves, groups following groups, peers). */
  remote: RemoteDocumentReader;
  /** Groups following groups (FEP-d36d). */
  groupFollows: GroupFollowService;
  /** Peered instances and their directories. */
  peering: PeeringService;
  /** Owners of groups: transfer, deletion by the owner. */
  ownership: OwnershipService;
  /** Groups created by anyone, under the creation policy. */
  creation: GroupCreationService;
  /** Sign-in links by direct message and sessions. */
  signIn: SignInService;
  /** Applies inbound activities taken from the intake queue. */
  inbox: InboundActivityProcessor;
  /** Closes the queue signal and the store. */
  close(): Promise<void>;
}

/** Opens the store the configuration names; on MongoDB, `metrics` counts the commands sent. */
export function openConfiguredStore(config: Config, metrics?: Metrics): Promise<Store> {
  return config.store === 'sqlite'
    ? openStore({ kind: 'sqlite', path: config.sqlitePath })
    : openStore({
        kind: 'mongodb',
        url: config.mongodbUrl,
        ...(metrics ? { onCommand: (command: string) => metrics.storeCommands.inc({ command }) } : {}),
      });
}

/** Opens the store (unless given one), gives the application actor a key if needed, builds every service. */
export async function compose(config: Config, opts: ComposeOptions): Promise<Services> {
  const { log } = opts;
  const clock = opts.clock ?? Date.now;
  const keys = opts.keys ?? rsaKeyPairs;
  const metrics = new Metrics();
  const store = withMeteredJobs(opts.store ?? (await openConfiguredStore(config, metrics)), metrics);
  try {
    if ((await store.keys.getPublicKey(INSTANCE_KEY_OWNER)) === null) {
      await store.keys.putKeyPairIfAbsent({ owner: INSTANCE_KEY_OWNER, ...(await keys.generate()) });
    }
    const instanceKey = await store.keys.getPrivateKey(INSTANCE_KEY_OWNER);
    if (!instanceKey) throw new Error('the application actor has no key');

    const urls = new Urls(config.origin);
    const signal = new LocalQueueSignal();
    const publisher = new StorePublisher(store, signal, clock, urls.origin);
    const userAgent = `${SOFTWARE.name}/${SOFTWARE.version} (+${config.origin})`;
    const domains = new DomainPolicies(store.domains, config.federationMode);
    const fetcher = new SafeFetcher({
      allowPrivateAddresses: config.allowPrivateAddresses,
      userAgent,
      signer: { keyId: urls.instanceKeyId(), privateKeyPem: instanceKey },
      isRefusedHost: (host) => domains.isBlocked(host),
    });
    const resolver = new ActorResolver({
      fetcher,
      cache: store.remoteActors,
      localOrigin: urls.origin,
      keyFetchesPerHost: {
        perSecond: config.inbox.keyFetchRate,
        burst: config.inbox.keyFetchRate * BURST_SECONDS,
      },
      now: clock,
    });

    const software = new PeerSoftwareService({
      store,
      fetcher,
      log: log.child({ component: 'peer-software' }),
      now: clock,
    });
    // Messages with a secret in them (sign-in links, deletion codes) go out at once, never through the queue.
    const directClient = new DeliveryClient({
      allowPrivateAddresses: config.allowPrivateAddresses,
      timeoutMs: config.delivery.timeoutMs,
      userAgent,
      connectionsPerOrigin: 1,
    });
    const immediate = new SignedImmediateSender({
      store,
      urls,
      client: directClient,
      isBlocked: (host) => domains.isBlocked(host),
      log: log.child({ component: 'direct-messages' }),
    });
    const events = new OutboundTranslator({
      publisher,
      store,
      urls,
      domain: config.domain,
      software,
      immediate,
      now: clock,
    });
    const groups = new GroupService({
      store,
      urls,
      events,
      keys,
      reservedNames: [config.serviceActor, 'admin', 'www', 'api', ...config.selfService.reservedNames],
      now: clock,
    });
    const membership = new MembershipService({ store, events, now: clock });
    const settings = new SettingsService({
      store,
      events,
      media: new FileMediaStore(mediaDirFor(config), config.origin),
      membership,
      now: clock,
    });
    // Groups here are actors too, to the domain (a group here may follow another group here).
    const actors = new LocalAwareActors(resolver, store, urls, clock);
    const notices = new NoticeService({ store, actors, events, now: clock });
    const posting = new PostingService({ store, urls, events, notices, domains, now: clock });
    const limiter = new RateLimiter({ limits: store.rateLimits, now: clock });
    const budget = new ActivityBudget({ store, limiter });
    const reports = new ReportService({
      store,
      notices,
      limiter,
      digestIntervalMs: config.brakes.reportDigestIntervalMs,
      limits: {
        perReporter: { limit: config.brakes.reportsPerReporter, windowMs: HOUR_MS },
        perHost: { limit: config.brakes.reportsPerHost, windowMs: HOUR_MS },
      },
      now: clock,
    });
    const moderation = new ModerationService({
      store,
      urls,
      events,
      actors: resolver,
      notices,
      membership,
      settings,
      posting,
      reports,
      now: clock,
    });
    const instance = new InstanceService({
      store,
      policies: domains,
      localDomain: config.domain,
      federationMode: config.federationMode,
      now: clock,
    });

    const answers = new AnswerLimiter({
      store,
      limiter,
      limits: {
        perActor: { limit: config.brakes.answersPerActor, windowMs: HOUR_MS },
        perHost: { limit: config.brakes.answersPerHost, windowMs: HOUR_MS },
      },
    });
    const remote = new RemoteDocumentReader(fetcher, resolver);
    const moves = new MoveService({ store, urls, events, groups, remote, domain: config.domain, now: clock });
    const groupFollows = new GroupFollowService({ store, urls, events, actors, remote, now: clock });
    const peering = new PeeringService({
      store,
      urls,
      events,
      actors,
      remote,
      unreachableAfterMs: PEER_UNREACHABLE_MS,
      now: clock,
    });
    const links = new LinkCommands({ moves, groupFollows });
    const commands = new CommandService({ store, moderation, membership, reports, handles: resolver, links });
    const messenger = new ServiceMessenger({ actors: resolver, events });
    const ownership = new OwnershipService({ store, groups, moderation, now: clock });
    const self = config.selfService;
    const creation = new GroupCreationService({
      store,
      groups,
      policies: domains,
      messenger,
      domain: config.domain,
      policy: {
        mode: self.groupCreation,
        perAccount: self.creationsPerAccount,
        perDomain: self.creationsPerDomain,
        windowMs: self.creationWindowMs,
        reservedNames: [config.serviceActor, ...self.reservedNames],
      },
      now: clock,
    });
    const signIn = new SignInService({
      store,
      handles: resolver,
      federation: domains,
      messenger,
      linkBase: `${urls.origin}/login/`,
      sessionTtlMs: self.sessionTtlMs,
      limits: {
        perHandle: self.signInPerHandle,
        perHost: self.signInPerHost,
        perClient: self.signInPerClient,
        windowMs: self.signInWindowMs,
      },
      now: clock,
    });
    const serviceCommands = new ServiceCommandService({
      creation,
      ownership,
      signIn,
      commands,
      handles: resolver,
      urls,
      domain: config.domain,
      serviceName: config.serviceActor,
    });
    const inbox = new GroupInbox(
      handlerTable({
        store,
        urls,
        actors,
        events,
        posting,
        moderation,
        membership,
        notices,
        commands,
        budget,
        reports,
        answers,
        groupFollows,
        now: clock,
      }),
      new ServiceInbox({ urls, commands: serviceCommands, messenger, answers }),
      instanceHandlerTable({ store, urls, peering }),
    );

    return {
      config,
      log,
      clock,
      store,
      metrics,
      urls,
      signal,
      publisher,
      events,
      userAgent,
      fetcher,
      resolver,
      software,
      domains,
      groups,
      membership,
      settings,
      moderation,
      instance,
      reports,
      answers,
      moves,
      remote,
      groupFollows,
      peering,
      ownership,
      creation,
      signIn,
      inbox,
      async close() {
        signal.close();
        await directClient.close();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
