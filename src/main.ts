/** Starts Guild (web, worker or both, from GUILD_ROLE) and stops it cleanly on SIGTERM or SIGINT. */
import { ConfigError, loadConfig } from './config/config.ts';
import { createLogger } from './log.ts';
import { startGuild } from './app/start.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logLevel, { service: `guild-${config.role}` });
  let guild;
  try {
    guild = await startGuild(config, { log });
  } catch (e) {
    log.error('could not start', { err: e });
    process.stderr.write(`guild: could not start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const stop = (signal: string): void => {
    log.info('stopping', { signal });
    const force = setTimeout(() => {
      log.error('shutdown took too long, exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    guild.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error('shutdown failed', { err: e });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

await main();
