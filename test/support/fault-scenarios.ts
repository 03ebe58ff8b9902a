/**
 * What the fault-injection specs share: the actors, a group with members, moderators and posts, activity
 * builders with fixed ids, and the check itself (a clean run, then a run with each store write failed in turn,
 * before and after the store took it, and with each read failed in turn: each ends as the clean run).
 */
import { expect } from 'chai';
import type { ApObject } from '../../src/activitypub/vocab.ts';
import { AS, PUBLIC, type RunResult, type ScenarioRunner, type Scenario, type World } from './fault-world.ts';
import type { Fault } from './faulty-store.ts';

export const ALICE = 'https://a.example/users/alice';
export const BOB = 'https://b.example/users/bob';
export const CAROL = 'https://c.example/users/carol';
export const DAVE = 'https://d.example/users/dave';
export const MOD = 'https://m.example/users/mod';
export const MOD2 = 'https://n.example/users/mod2';
/** Alice's top-level post and Bob's reply to it, in the base setup. */
export const POST = `${ALICE}/notes/1`;
export const REPLY = `${BOB}/notes/2`;

/** An activity by `actor` with a fixed id named `name`. */
export function act(actor: string, type: string, name: string, fields: ApObject): ApObject {
  return { '@context': AS, id: `${actor}/activities/${name}`, type, actor, ...fields };
}

/** A public Create of a Note by `author` in `group` (mentioned, cc). */
export function createNote(
  author: string,
  groupId: string,
  n: string,
  more: { inReplyTo?: string; content?: string; to?: string[]; cc?: string[] } = {},
): ApObject {
  const object: ApObject = {
    id: `${author}/notes/${n}`,
    type: 'Note',
    attributedTo: author,
    content: more.content ?? `<p>note ${n}</p>`,
    to: more.to ?? [PUBLIC],
    cc: more.cc ?? [groupId],
    tag: [{ type: 'Mention', href: groupId }],
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

/** A direct message (to the group only) from `sender` with the command `text`. */
export function command(sender: string, groupId: string, n: string, text: string): ApObject {
  return createNote(sender, groupId, `dm-${n}`, {
    to: [groupId],
    cc: [],
    content: `<p><span class="h-card"><a href="${groupId}">@club</a></span> ${text}</p>`,
  });
}

/**
 * The group `club` (open): Alice and Bob members, two moderators on two servers, Alice's top-level post and
 * Bob's reply to it, each brought by a Create through the groups' inbox.
 */
export async function club(w: World, settings: Parameters<World['group']>[1] = {}): Promise<string> {
  const group = await w.group('club');
  for (const id of [ALICE, BOB]) await w.member('club', id);
  for (const id of [MOD, MOD2]) await w.moderator('club', id);
  await w.deliver(createNote(ALICE, group, '1'));
  await w.deliver(createNote(BOB, group, '2', { inReplyTo: POST }));
  if (Object.keys(settings).length > 0) {
    const r = await w.services.settings.update('club', settings, 'setup:club:settings');
    if (!r.ok) throw new Error(`settings refused: ${JSON.stringify(r.error)}`);
  }
  return group;
}

function describeFault(f: Fault): string {
  return f.access === 'write' ? `write ${f.n} failed ${f.timing} it was stored` : `read ${f.n} failed`;
}

/** The first table whose rows differ, shown row by row, for a readable failure. */
function difference(got: RunResult, want: RunResult): string {
  for (const table of new Set([...Object.keys(want.dump), ...Object.keys(got.dump)])) {
    const a = want.dump[table] ?? [];
    const b = got.dump[table] ?? [];
    const missing = a.filter((row) => !b.includes(row));
    const extra = b.filter((row) => !a.includes(row));
    const show = (rows: string[]): string =>
      rows
        .slice(0, 5)
        .map((row) => (row.length > 400 ? `${row.slice(0, 400)}…` : row))
        .join('\n    ');
    if (missing.length > 0 || extra.length > 0 || a.length !== b.length)
      return `table ${table}:\n  only in the clean run: ${show(missing)}\n  only after the retry: ${show(extra)}`;
  }
  return 'none';
}

/**
 * Runs the scenario clean, then with each store write failed in turn before it was stored, the last one after
 * it was stored, and (on SQLite) each read failed in turn: each time the intake job must fail once, run again
 * and end with exactly the clean run's rows, queued jobs and stored activities.
 *
 * A write failed after it was stored leaves the store as a failure before the next write does (nothing but
 * reads comes in between, and the retry starts from the store alone), so only the last write needs both. A
 * failed read leaves the store as a failed write does too; what it tests is that no code takes a failure for
 * an answer, which is the same code on both stores, so reads are failed on SQLite only, where a run is cheap.
 */
export async function expectResumable(scenario: Scenario, runner: ScenarioRunner): Promise<void> {
  const clean = await runner.run(scenario, null);
  expect(clean.attempts, `the clean run failed:\n${clean.logs.join('\n')}`).to.equal(0);
  expect(clean.writes, 'the activity changes something').to.not.deep.equal([]);
  const faults: Fault[] = clean.writes.map((_call, i) => ({ access: 'write', n: i + 1, timing: 'before' }));
  faults.push({ access: 'write', n: clean.writes.length, timing: 'after' });
  if (runner.kind === 'sqlite') clean.reads.forEach((_call, i) => faults.push({ access: 'read', n: i + 1 }));
  for (const fault of faults) {
    const run = await runner.run(scenario, fault);
    const list = fault.access === 'write' ? clean.writes : clean.reads;
    const what = `${scenario.name}: ${describeFault(fault)} (${list[fault.n - 1]})`;
    expect(run.fired, `${what}: the failure was injected at the same call`).to.equal(list[fault.n - 1]);
    expect(run.attempts, `${what}: the job failed once, then was done\n${run.logs.join('\n')}`).to.equal(1);
    expect(difference(run, clean), `${what}: the end state differs from a clean run`).to.equal('none');
    expect(run.dump, what).to.deep.equal(clean.dump);
  }
}
