/**
 * The admin CLI prints text that other servers wrote (report reasons, moderators' ban reasons, their actor ids):
 * a running Guild receives it over HTTP from a remote actor, and `npx guild` (a real process) prints it with
 * every control character escaped, so that no escape sequence reaches the admin's terminal and no line or
 * column can be forged.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  runGuildCli,
  sharedStoreEnv,
  startGuildProcess,
  type GuildProcess,
} from '../support/guild-process.ts';
import { startRawActor, type RawActor } from '../support/raw-actor.ts';
import { freePort, waitUntil } from '../support/net.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
/** Retitles the window, rings, clears the screen, moves up and over the line, a C1 CSI, a bidi override. */
const NASTY =
  'spam \u001b]0;owned\u0007\u001b[2J\u001b[1A\rfake\tcolumn\nforged line \u009b31m red \u202eevil';
/** What no printed byte may be: C0 controls but tab and newline, DEL, C1 controls, bidi controls. */
// eslint-disable-next-line no-control-regex -- control characters are what the test looks for
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** NASTY as printed. */
const SHOWN =
  'spam \\x1b]0;owned\\x07\\x1b[2J\\x1b[1A\\rfake\\tcolumn\\nforged line \\x9b31m red \\u202eevil';

describe('CLI output of remote text', function () {
  this.timeout(120_000);
  let shared: Awaited<ReturnType<typeof sharedStoreEnv>>;
  let env: Record<string, string>;
  let guild: GuildProcess | undefined;
  const actors: RawActor[] = [];
  let group: string;

  before(async function () {
    shared = await sharedStoreEnv();
    const port = await freePort();
    env = {
      ...shared.env,
      GUILD_ORIGIN: `http://127.0.0.1:${port}`,
      GUILD_PORT: String(port),
      GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
      GUILD_LOG_LEVEL: 'warn',
      GUILD_DELIVERY_RETRY_BASE_MS: '100',
      GUILD_DELIVERY_RETRY_MAX_MS: '500',
    };
    const created = await runGuildCli(['group', 'create', 'ops'], env);
    expect(created.code, created.stderr).to.equal(0);
    guild = await startGuildProcess(env);
    group = `${env.GUILD_ORIGIN}/groups/ops`;
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed' && guild)
      process.stderr.write(`---- output of guild ----\n${guild.output.slice(-100).join('\n')}\n`);
  });
  after(async function () {
    await guild?.kill('SIGKILL');
    await Promise.all(actors.map((a) => a.close()));
    await shared?.remove();
  });

  async function actor(name: string): Promise<RawActor> {
    const a = await startRawActor(name);
    actors.push(a);
    return a;
  }

  /** Runs the CLI until its output has a line matching `ready`; returns the output. */
  async function cliUntil(args: string[], ready: RegExp): Promise<string> {
    return waitUntil(
      async () => {
        const r = await runGuildCli(args, env);
        return r.code === 0 && ready.test(r.stdout) ? r.stdout : undefined;
      },
      { what: `guild ${args.join(' ')} to show ${String(ready)}`, timeoutMs: 60_000 },
    );
  }

  function expectSafe(stdout: string, lines: number): void {
    expect(stdout).not.to.match(CONTROL);
    expect(stdout.trimEnd().split('\n'), 'no forged line').to.have.length(lines);
  }

  it('escapes the reason of a report sent with a Flag', async function () {
    const mallory = await actor('mallory');
    const flag = {
      '@context': AS,
      id: `${mallory.actorId}/flags/${randomUUID()}`,
      type: 'Flag',
      actor: mallory.actorId,
      object: [`${mallory.origin}/users/someone`],
      content: NASTY,
      to: [group],
    };
    expect((await mallory.post(`${group}/inbox`, flag)).status).to.equal(202);
    const out = await cliUntil(['reports', 'ops'], /\tfrom /);
    expectSafe(out, 1);
    expect(out).to.contain(`\tfrom ${mallory.actorId}\t`).and.contain(SHOWN);
  });

  it("escapes a remote moderator's ban reason in the audit log and the ban list", async function () {
    const moderator = await actor('modbot');
    const added = await runGuildCli(['mod', 'add', 'ops', moderator.actorId], env);
    expect(added.code, added.stderr).to.equal(0);
    const victim = `${moderator.origin}/users/victim`;
    const block = {
      '@context': AS,
      id: `${moderator.actorId}/blocks/${randomUUID()}`,
      type: 'Block',
      actor: moderator.actorId,
      object: victim,
      target: group,
      summary: NASTY,
      to: [group],
    };
    expect((await moderator.post(`${group}/inbox`, block)).status).to.equal(202);
    const audit = await cliUntil(['audit', 'ops'], new RegExp(`\\t${moderator.actorId}\\tban\\t`));
    expect(audit).not.to.match(CONTROL);
    const line = audit.split('\n').find((l) => l.includes(`\t${moderator.actorId}\tban\t`)) ?? '';
    expect(line).to.contain(SHOWN);
    const bans = await runGuildCli(['bans', 'ops'], env);
    expectSafe(bans.stdout, 1);
    expect(bans.stdout).to.contain(victim).and.contain(SHOWN);
  });
});
