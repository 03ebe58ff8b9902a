/**
 * Runs one inbound activity through the real intake job (the queue runner, `intakeHandler`, the service graph
 * of `app/compose.ts`) on an empty store of the kind under test, seen through a {@link withFaults} wrapper, and
 * returns the whole end state. With a fault armed, the failing call makes the job fail once and the queue runs
 * it again; the end state must then be that of a clean run.
 *
 * The domain's clock is fixed, so that a retry stamps the same times as the first run; the queue's clock moves
 * ten minutes at each reading, so that a retried job is due at the next claim without anybody waiting.
 */
import { generateKeyPairSync } from 'node:crypto';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { compose, type Services } from '../../src/app/compose.ts';
import { openStore } from '../../src/storage/open-store.ts';
import type { Member, RemoteActor, Store } from '../../src/storage/store.ts';
import { QueueRunner } from '../../src/federation/queue-runner.ts';
import { intakeHandler, type IntakePayload } from '../../src/federation/job-handlers.ts';
import { intakeJobId } from '../../src/federation/inbox.receiver.ts';
import { parseInbound } from '../../src/activitypub/inbound.parser.ts';
import type { ApObject } from '../../src/activitypub/vocab.ts';
import type { SettingsPatch } from '../../src/groups/settings.service.ts';
import { newTestStoreLocation, type TestStoreLocation } from './test-store.ts';
import { waitUntil } from './net.ts';
import { StoreFaults, withFaults, type Fault } from './faulty-store.ts';
import { StoreDumper, type StoreDump } from './store-dump.ts';

export const ORIGIN = 'https://guild.example';
export const AS = 'https://www.w3.org/ns/activitystreams';
export const PUBLIC = `${AS}#Public`;
/** The domain's fixed time. */
export const T0 = Date.UTC(2026, 0, 1);

let keys: { publicKeyPem: string; privateKeyPem: string } | null = null;
/** One RSA pair for every key of every run: generated once, so that runs are fast and alike. */
function fixedKeys(): { publicKeyPem: string; privateKeyPem: string } {
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

/** The service graph on a fresh store, and ways to set up the state an activity meets. */
export interface World {
  services: Services;
  /** The store itself, under the fault wrapper (setup writes are not counted). */
  raw: Store;
  /** The actor id of a group. */
  groupId(name: string): string;
  /** Creates a group, with settings. */
  group(name: string, settings?: SettingsPatch): Promise<string>;
  /** A remote actor known to the actor cache (fetched at the fixed time). */
  actor(id: string): Promise<RemoteActor>;
  /** A member (or pending requester) whose Follow was `${id}/follows/${group}`. */
  member(group: string, id: string, state?: Member['state']): Promise<void>;
  moderator(group: string, id: string): Promise<void>;
  /** Hands an activity to the groups as the intake job does (setup; not counted). */
  deliver(activity: ApObject, inboxGroup?: string | null): Promise<void>;
}

/** One inbound activity and the state it meets. */
export interface Scenario {
  name: string;
  setup(w: World): Promise<void>;
  activity(w: World): ApObject;
  /** The group whose inbox received it (null: the shared inbox). */
  inboxGroup?: string;
}

export interface RunResult {
  dump: StoreDump;
  /** The store writes (and reads) the intake job made, in order, the failed one included. */
  writes: string[];
  reads: string[];
  /** Failed attempts of the intake job before it was done. */
  attempts: number;
  /** The call that failed on purpose, if one did. */
  fired: string | null;
  logs: string[];
}

async function buildWorld(raw: Store, faulty: Store, logs: string[]): Promise<World> {
  const config = loadConfig({ GUILD_ORIGIN: ORIGIN, GUILD_LOG_LEVEL: 'info' });
  const log = createLogger('info', {}, (line) => logs.push(line));
  const services = await compose(config, {
    log,
    store: faulty,
    clock: () => T0,
    keys: { generate: async () => fixedKeys() },
  });
  const w: World = {
    services,
    raw,
    groupId: (name) => services.urls.group(name),
    async group(name, settings) {
      const r = await services.groups.create(name);
      if (!r.ok) throw new Error(`could not create ${name}: ${JSON.stringify(r.error)}`);
      if (settings) {
        const u = await services.settings.update(name, settings, `setup:${name}`);
        if (!u.ok) throw new Error(`could not set ${name}: ${JSON.stringify(u.error)}`);
      }
      return services.urls.group(name);
    },
    async actor(id) {
      const actor: RemoteActor = {
        id,
        type: 'Person',
        inbox: `${id}/inbox`,
        sharedInbox: `${new URL(id).origin}/inbox`,
        preferredUsername: id.split('/').pop() ?? null,
        name: null,
        url: null,
        keyId: `${id}#main-key`,
        publicKeyPem: null,
        fetchedAt: T0,
      };
      await raw.remoteActors.putRemoteActor(actor);
      return actor;
    },
    async member(group, id, state = 'accepted') {
      const actor = (await raw.remoteActors.getRemoteActor(id)) ?? (await w.actor(id));
      await raw.members.upsertMember({
        groupName: group,
        actorId: id,
        inbox: actor.inbox,
        sharedInbox: actor.sharedInbox,
        deliveryInbox: actor.sharedInbox ?? actor.inbox,
        state,
        followId: `${id}/follows/${group}`,
        createdAt: T0,
        updatedAt: T0,
      });
    },
    async moderator(group, id) {
      if (!(await raw.remoteActors.getRemoteActor(id))) await w.actor(id);
      await raw.moderators.addModerator({ groupName: group, actorId: id, addedBy: 'admin', addedAt: T0 });
    },
    async deliver(activity, inboxGroup = null) {
      const parsed = parseInbound(activity);
      if (!parsed.ok) throw new Error(`setup activity does not parse: ${parsed.error.detail}`);
      const outcomes = await services.inbox.handle(parsed.value, inboxGroup);
      for (const o of outcomes) if (!o.applied) throw new Error(`setup activity refused: ${o.reason}`);
    },
  };
  return w;
}

/**
 * A store of the kind under test, opened once for many runs and emptied before each (as fresh as a new one,
 * and much faster to get on a MongoDB-wire server than a new database with its indexes).
 */
export class ScenarioRunner {
  private readonly dumper = new StoreDumper();

  private constructor(
    private readonly location: TestStoreLocation,
    private readonly raw: Store,
  ) {}

  static async open(): Promise<ScenarioRunner> {
    const location = await newTestStoreLocation();
    return new ScenarioRunner(location, await openStore(location.options));
  }

  get kind(): Store['kind'] {
    return this.raw.kind;
  }

  async close(): Promise<void> {
    await this.dumper.close();
    await this.raw.close();
    await this.location.remove();
  }

  /** Sets the scenario up on the emptied store, runs its activity as an intake job with `fault` armed, dumps. */
  async run(scenario: Scenario, fault: Fault | null): Promise<RunResult> {
    const { raw, location } = this;
    await this.dumper.clear(location.options);
    const faults = new StoreFaults();
    const logs: string[] = [];
    const w = await buildWorld(raw, withFaults(raw, faults), logs);
    try {
      await scenario.setup(w);
      const activity = scenario.activity(w);
      const id = String(activity.id);
      const jobId = intakeJobId(id);
      const payload: IntakePayload = {
        activity,
        actorId: String(activity.actor),
        inboxGroup: scenario.inboxGroup ?? null,
      };
      let queueTime = T0;
      const queueClock = (): number => (queueTime += 600_000);
      await raw.jobs.enqueue([{ id: jobId, queue: 'intake', key: new URL(id).host, payload, runAt: T0 }], T0);
      faults.reset();
      if (fault) faults.arm(fault);
      const runner = new QueueRunner({
        jobs: w.services.store.jobs,
        queue: 'intake',
        owner: 'fault-test:1:1:main',
        handler: intakeHandler(w.services.inbox),
        signal: w.services.signal,
        log: w.services.log.child({ loop: 'intake' }),
        concurrency: 1,
        leaseMs: 60_000,
        pollMs: 5,
        now: queueClock,
      });
      runner.start();
      let job;
      try {
        job = await waitUntil(
          async () => {
            const j = await raw.jobs.getJob(jobId);
            return j && j.state !== 'queued' ? j : false;
          },
          { what: `the intake job of ${scenario.name}`, timeoutMs: 20_000 },
        );
      } finally {
        await runner.stop();
      }
      if (job.state !== 'done') throw new Error(`the intake job ended ${job.state}: ${job.lastError}`);
      // The software of servers noticed by the job is learned in the background: done before the dump.
      await w.services.software.settled();
      return {
        dump: await this.dumper.dump(location.options, [jobId]),
        writes: [...faults.writes],
        reads: [...faults.reads],
        attempts: job.attempts,
        fired: faults.fired,
        logs,
      };
    } finally {
      // The store stays open for the next run; only this graph's queue signal is closed.
      w.services.signal.close();
    }
  }
}
