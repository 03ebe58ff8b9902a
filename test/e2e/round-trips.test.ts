/**
 * MongoDB round trips: what a fan-out and an inbox POST cost in commands sent to the server, counted with the
 * driver's command monitoring on the store Guild uses. The counts depend on how work is batched, not on how fast
 * the machine is: Guild's idle loops, which poll on a timer, are set to poll rarely here, and everything else is
 * woken by notifications.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { openStore } from '../../src/storage/open-store.ts';
import type { Store } from '../../src/storage/store.ts';
import { startTestGuild, printLogsOnFailure, type TestGuild } from '../support/guild-instance.ts';
import { waitUntil } from '../support/net.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { closeAll, startSinks, type Sink } from '../support/sinks.ts';
import { newTestStoreLocation, testStoreKind, type TestStoreLocation } from '../support/test-store.ts';

/** Bars of the MongoDB adapter: commands per delivery, and per activity accepted by the inbox. */
const MAX_COMMANDS_PER_DELIVERY = 0.2;
const MAX_COMMANDS_PER_INBOX_ACTIVITY = 2;
/** Idle loops look for work they were not told about this rarely: never within a test. */
const POLL_MS = 600_000;

/** A Guild whose store counts the MongoDB commands it sends, and a second, uncounted store for the test's reads. */
interface Counted {
  guild: TestGuild;
  observer: Store;
  commands: Map<string, number>;
  total(): number;
  location: TestStoreLocation;
}

async function startCounted(env: Record<string, string>): Promise<Counted> {
  const location = await newTestStoreLocation();
  if (location.options.kind !== 'mongodb') throw new Error('a MongoDB store is needed to count commands');
  const commands = new Map<string, number>();
  const store = await openStore({
    ...location.options,
    onCommand: (name) => commands.set(name, (commands.get(name) ?? 0) + 1),
  });
  const observer = await openStore(location.options);
  const guild = await startTestGuild(env, { store, pollMs: POLL_MS });
  return {
    guild,
    observer,
    commands,
    total: () => [...commands.values()].reduce((a, b) => a + b, 0),
    location,
  };
}

async function stopCounted(c: Counted | undefined): Promise<void> {
  if (!c) return;
  await c.guild.close();
  await c.observer.close();
  await c.location.remove();
}

const describeOnMongo = testStoreKind() === 'mongodb' ? describe : describe.skip;

describeOnMongo('MongoDB round trips', function () {
  this.timeout(120_000);
  let counted: Counted | undefined;
  let sinks: Sink[] = [];
  let member: RawActor | undefined;

  afterEach(async function () {
    printLogsOnFailure(this, [counted?.guild]);
    await stopCounted(counted);
    counted = undefined;
    await closeAll(sinks);
    sinks = [];
    await member?.close();
    member = undefined;
  });

  it(`a fan-out to N inboxes costs at most ${MAX_COMMANDS_PER_DELIVERY} x N commands`, async function () {
    const hosts = 20;
    const perHost = 20;
    sinks = await startSinks(hosts);
    counted = await startCounted({ GUILD_DELIVERY_CONCURRENCY: '32', GUILD_DELIVERY_PER_HOST: '4' });
    const { guild, observer } = counted;
    const group = 'roundtrips';
    await guild.createGroup(group);
    const inboxes = sinks.flatMap((s) =>
      Array.from({ length: perHost }, (_, i) => `${s.origin}/u${i}/inbox`),
    );
    const t = Date.now();
    for (const inbox of inboxes) {
      const actorId = inbox.replace(/\/inbox$/, '');
      await observer.members.upsertMember({
        groupName: group,
        actorId,
        inbox,
        sharedInbox: null,
        deliveryInbox: inbox,
        state: 'accepted',
        followId: `${actorId}#follow`,
        createdAt: t,
        updatedAt: t,
      });
    }
    const ids = [randomUUID(), randomUUID()].map((u) => guild.guild.services.urls.activity(group, u));
    const activity = (id: string) => ({
      '@context': 'https://www.w3.org/ns/activitystreams',
      id,
      type: 'Announce',
      actor: guild.groupUrl(group),
      object: `${sinks[0]?.origin ?? ''}/notes/1`,
    });
    const deliveries = inboxes.length * ids.length;
    const before = counted.total();
    const beforeByName = new Map(counted.commands);

    await guild.guild.services.publisher.publishAllToMembers(
      group,
      ids.map((id, i) => ({ activity: activity(id), inOutbox: i === 0, objectId: null })),
    );
    const received = (): number => sinks.reduce((n, s) => n + s.posts.length, 0);
    await waitUntil(() => received() >= deliveries || undefined, {
      what: `${deliveries} deliveries`,
      timeoutMs: 90_000,
    });
    // Until every outcome is recorded: that is part of the cost.
    await waitUntil(
      async () => {
        const s = await observer.jobs.stats('deliver', Date.now());
        return (s.queued === 0 && s.leased === 0) || undefined;
      },
      { what: 'every delivery recorded', timeoutMs: 30_000 },
    );
    const used = counted.total() - before;
    const perDelivery = used / deliveries;
    console.log(
      `      ${deliveries} deliveries to ${inboxes.length} inboxes: ${used} commands, ${perDelivery.toFixed(3)} per ` +
        `delivery (${[...counted.commands].map(([k, v]) => `${k} ${v - (beforeByName.get(k) ?? 0)}`).join(', ')})`,
    );
    expect(received(), 'each delivery sent once').to.equal(deliveries);
    expect(perDelivery).to.be.at.most(MAX_COMMANDS_PER_DELIVERY);
  });

  it(`an activity accepted by the inbox costs at most ${MAX_COMMANDS_PER_INBOX_ACTIVITY} commands`, async function () {
    counted = await startCounted({ GUILD_ROLE: 'web' });
    const { guild } = counted;
    const group = 'inboxtrips';
    const groupId = await guild.createGroup(group);
    member = await startRawActor('poster');
    const inboxUrl = `${guild.origin}/groups/${group}/inbox`;
    const create = () => {
      const noteId = `${member?.origin ?? ''}/notes/${randomUUID()}`;
      return {
        '@context': 'https://www.w3.org/ns/activitystreams',
        id: `${noteId}/activity`,
        type: 'Create',
        actor: member?.actorId,
        to: ['https://www.w3.org/ns/activitystreams#Public'],
        cc: [groupId],
        object: {
          id: noteId,
          type: 'Note',
          attributedTo: member?.actorId,
          content: 'hello',
          to: ['https://www.w3.org/ns/activitystreams#Public'],
          cc: [groupId],
        },
      };
    };
    // The first POST fetches the member's actor and key; the others find them cached.
    expect((await member.post(inboxUrl, create())).status).to.equal(202);
    const count = 20;
    const before = counted.total();
    for (let i = 0; i < count; i++) expect((await member.post(inboxUrl, create())).status).to.equal(202);
    const used = counted.total() - before;
    console.log(`      ${count} activities accepted one after another: ${used} commands`);
    expect(used / count).to.be.at.most(MAX_COMMANDS_PER_INBOX_ACTIVITY);
  });
});
