/**
 * One SQLite file, a WebFinger server that knows one account, and the admin command line run on them: the shared
 * setup of the CLI's moderation tests. Groups `rust` and `go` exist from the start.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { openStore } from '../../src/storage/open-store.ts';
import type { Member, Store } from '../../src/storage/store.ts';
import type { AuditEntry } from '../../src/storage/moderation.store.ts';
import { sendJson, startLoopbackServer, type LoopbackServer } from './loopback-server.ts';

export const ORIGIN = 'https://guild.example';
export const ALICE = 'https://a.example/users/alice';
export const BOB = 'https://b.example/users/bob';
export const SPAMMER = 'https://spam.example/users/spammer';

export interface Run {
  code: number;
  out: string;
  err: string;
}

export function member(groupName: string, actorId: string, state: Member['state'] = 'accepted'): Member {
  return {
    groupName,
    actorId,
    inbox: `${actorId}/inbox`,
    sharedInbox: null,
    deliveryInbox: `${actorId}/inbox`,
    state,
    followId: `${actorId}/follows/${groupName}`,
    createdAt: 1,
    updatedAt: 1,
  };
}

export interface CliWorld {
  /** Runs `guild ARGV...` on the world's store. */
  cli(...argv: string[]): Promise<Run>;
  /** Opens the same SQLite file the CLI uses, for checks between commands. */
  withStore<T>(f: (store: Store) => Promise<T>): Promise<T>;
  /** The whole audit log. */
  audit(): Promise<AuditEntry[]>;
  auditOf(action: string, target: string): Promise<AuditEntry[]>;
  /** The WebFinger server, which knows `@carol@127.0.0.1:PORT` as `ORIGIN/users/carol`. */
  readonly webfinger: LoopbackServer;
}

/** Sets the world up before the tests of the calling `describe` and removes it after them. */
export function useCliWorld(): CliWorld {
  let dir: string;
  let sqlitePath: string;
  let env: Record<string, string>;
  let webfinger: LoopbackServer | undefined;

  async function cli(...argv: string[]): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  async function withStore<T>(f: (store: Store) => Promise<T>): Promise<T> {
    const store = await openStore({ kind: 'sqlite', path: sqlitePath });
    try {
      return await f(store);
    } finally {
      await store.close();
    }
  }

  const audit = (): Promise<AuditEntry[]> => withStore((s) => s.audit.listAudit({ all: true }, null, 1000));

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), 'guild-cli-mod-'));
    sqlitePath = path.join(dir, 'data', 'guild.sqlite');
    env = {
      GUILD_SQLITE_PATH: sqlitePath,
      GUILD_ORIGIN: ORIGIN,
      GUILD_LOG_LEVEL: 'error',
      GUILD_ALLOW_PRIVATE_ADDRESSES: 'true',
    };
    // A WebFinger server on loopback that knows one account, carol.
    const server = await startLoopbackServer((req, res) => {
      const url = new URL(req.url, 'http://127.0.0.1');
      const subject = `acct:carol@127.0.0.1:${server.port}`;
      if (url.pathname === '/.well-known/webfinger' && url.searchParams.get('resource') === subject) {
        sendJson(
          res,
          {
            subject,
            links: [{ rel: 'self', type: 'application/activity+json', href: `${server.origin}/users/carol` }],
          },
          'application/jrd+json',
        );
        return;
      }
      res.writeHead(404).end();
    });
    webfinger = server;
    for (const name of ['rust', 'go']) expect((await cli('group', 'create', name)).code).to.equal(0);
  });

  after(async function () {
    await webfinger?.close();
    await rm(dir, { recursive: true, force: true });
  });

  return {
    cli,
    withStore,
    audit,
    auditOf: async (action, target) =>
      (await audit()).filter((e) => e.action === action && e.target === target),
    get webfinger() {
      if (!webfinger) throw new Error('the CLI world is not set up yet');
      return webfinger;
    },
  };
}
