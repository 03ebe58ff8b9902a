/**
 * The Guild a fuzz test talks to: a real process on a fresh store of the kind under test, with two groups and a
 * member (a raw actor named `fuzzer`) of both who moderates one, and direct reads of its intake jobs (the queue
 * port has no listing).
 */
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { runGuildCli, sharedStoreEnv, startGuildProcess, type GuildProcess } from './guild-process.ts';
import { startRawActor, type RawActor } from './raw-actor.ts';
import { freePort, waitUntil } from './net.ts';
import { testStoreKind } from './test-store.ts';
import { AS_CONTEXT, isObject } from '../../src/activitypub/vocab.ts';

/** The group the member belongs to. */
export const GROUP = 'fuzz';
/** A group the member moderates, so that moderation handlers get mutated input too. */
export const MOD_GROUP = 'fuzzmod';

export interface IntakeRow {
  id: string;
  state: string;
  lastError: string | null;
  /** From the payload, when read with it: the activity's id and the verified actor. */
  activityId?: string | null;
  actorId?: string | null;
  payload?: string;
}

export interface FuzzTarget {
  guild: GuildProcess;
  /** Environment of the process (for the command line). */
  env: Record<string, string>;
  member: RawActor;
  /** Every intake job in the store (read directly: the queue port has no listing). */
  intakeJobs(withPayload?: boolean): Promise<IntakeRow[]>;
  /** Jobs of any queue still queued or leased. */
  unfinishedJobs(): Promise<number>;
  close(): Promise<void>;
}

export async function startFuzzTarget(): Promise<FuzzTarget> {
  const shared = await sharedStoreEnv();
  const port = await freePort();
  const env = {
    ...shared.env,
    GUILD_ORIGIN: `http://127.0.0.1:${port}`,
    GUILD_PORT: String(port),
    GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
    GUILD_LOG_LEVEL: 'info',
    GUILD_DELIVERY_TIMEOUT_MS: '2000',
    // One member sends thousands of activities as fast as it can: the per-sender rates would refuse most.
    GUILD_INBOX_RATE_PER_KEY: '0',
    GUILD_INBOX_RATE_PER_HOST: '0',
  };
  for (const name of [GROUP, MOD_GROUP]) {
    const created = await runGuildCli(['group', 'create', name], env);
    expect(created.code, created.stderr).to.equal(0);
  }
  const guild = await startGuildProcess(env);
  const member = await startRawActor('fuzzer');
  const mod = await runGuildCli(['mod', 'add', MOD_GROUP, member.actorId], env);
  expect(mod.code, mod.stderr).to.equal(0);
  for (const name of [GROUP, MOD_GROUP]) {
    const group = `${guild.origin}/groups/${name}`;
    const follow = {
      '@context': AS_CONTEXT,
      id: `${member.actorId}/follows/${name}`,
      type: 'Follow',
      actor: member.actorId,
      object: group,
    };
    expect((await member.post(`${group}/inbox`, follow)).status).to.equal(202);
    const accepted = (): boolean =>
      member.inbox.some((p) => isObject(p.body) && p.body['type'] === 'Accept' && p.body['actor'] === group);
    await waitUntil(() => accepted() || undefined, {
      what: `the member to be accepted in ${name}`,
      timeoutMs: 20_000,
    });
  }
  const mongo = testStoreKind() === 'mongodb' ? new MongoClient(shared.env.GUILD_MONGODB_URL ?? '') : null;
  const sqlite =
    testStoreKind() === 'mongodb'
      ? null
      : new Database(shared.env.GUILD_SQLITE_PATH ?? '', { readonly: true });
  const jobs = () =>
    (mongo as MongoClient)
      .db()
      .collection<{ _id: string; queue: string; state: string; lastError?: string | null; payload: string }>(
        'jobs',
      );
  const withIds = (row: IntakeRow): IntakeRow => {
    if (row.payload === undefined) return row;
    const payload: unknown = JSON.parse(row.payload);
    const activity = isObject(payload) ? payload['activity'] : null;
    const activityId = isObject(activity) && typeof activity['id'] === 'string' ? activity['id'] : null;
    const actorId = isObject(payload) && typeof payload['actorId'] === 'string' ? payload['actorId'] : null;
    return { ...row, activityId, actorId };
  };
  return {
    guild,
    env,
    member,
    async intakeJobs(withPayload = false) {
      if (sqlite) {
        const cols = `id, state, last_error AS lastError${withPayload ? ', payload' : ''}`;
        const rows = sqlite.prepare(`SELECT ${cols} FROM jobs WHERE queue = 'intake'`).all() as IntakeRow[];
        return rows.map(withIds);
      }
      const docs = await jobs()
        .find({ queue: 'intake' }, { projection: withPayload ? {} : { payload: 0 } })
        .toArray();
      return docs.map((d) =>
        withIds({
          id: d._id,
          state: d.state,
          lastError: d.lastError ?? null,
          ...(withPayload ? { payload: d.payload } : {}),
        }),
      );
    },
    async unfinishedJobs() {
      if (sqlite)
        return (
          sqlite.prepare("SELECT count(*) AS n FROM jobs WHERE state = 'queued'").get() as { n: number }
        ).n;
      return jobs().countDocuments({ state: 'queued' });
    },
    async close() {
      await guild.kill('SIGKILL');
      await member.close();
      sqlite?.close();
      await mongo?.close();
      await shared.remove();
    },
  };
}
