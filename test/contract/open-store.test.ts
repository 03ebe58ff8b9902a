/**
 * How openStore fails: clear messages for a bad configuration, quickly for an unreachable server. None of these
 * needs a database server.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openStore, type StoreOptions } from '../../src/storage/open-store.ts';

async function openError(options: StoreOptions): Promise<Error> {
  try {
    const store = await openStore(options);
    await store.close();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('openStore did not fail');
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('openStore failures', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'guild-open-store-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the SQLite file it cannot open', async () => {
    await writeFile(join(dir, 'a-file'), 'not a directory');
    const path = join(dir, 'a-file', 'guild.sqlite');
    const error = await openError({ kind: 'sqlite', path });
    expect(error.message).to.include(path);
  });

  it('rejects an SQLite file that is not a database', async () => {
    const path = join(dir, 'junk.sqlite');
    await writeFile(path, 'x'.repeat(4096));
    const error = await openError({ kind: 'sqlite', path });
    expect(error.message).to.match(/^cannot open SQLite database .*junk\.sqlite/);
  });

  it('rejects a MongoDB URL it cannot parse, naming GUILD_MONGODB_URL', async () => {
    for (const url of ['not a url', 'http://127.0.0.1:27017/', 'mongodb://']) {
      const error = await openError({ kind: 'mongodb', url });
      expect(error.message, url).to.match(/^GUILD_MONGODB_URL /);
    }
  });

  it('gives up on an unreachable MongoDB within seconds, without printing the password', async function () {
    this.timeout(20_000);
    const url = `mongodb://guild:s3cret-pw@127.0.0.1:${await closedPort()}/guild`;
    const started = Date.now();
    const error = await openError({ kind: 'mongodb', url });
    expect(Date.now() - started).to.be.below(10_000);
    expect(error.message).to.match(
      /^GUILD_MONGODB_URL: cannot use MongoDB at mongodb:\/\/guild:\*\*\*@127\.0\.0\.1/,
    );
    expect(error.message).not.to.include('s3cret-pw');
  });
});
