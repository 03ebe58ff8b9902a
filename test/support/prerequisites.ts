/**
 * Prerequisites of some tests that `npm ci` cannot install (Chromium for the browser tests, Go to build FerretDB).
 * A spec whose prerequisite is missing calls {@link missingPrerequisite}: under `CI=true` that is a failure;
 * elsewhere the spec is skipped and `npm test` (test/run.ts) names it, with the reason and the install command,
 * in its closing summary.
 */
import { appendFileSync } from 'node:fs';

export interface MissingPrerequisite {
  /** What cannot run, e.g. "browser tests". */
  what: string;
  /** Why, e.g. "/usr/bin/chromium is missing". */
  reason: string;
  /** The command that installs it. */
  install: string;
}

/** The environment variable naming the file where test/run.ts collects missing prerequisites (JSON lines). */
export const PREREQUISITES_FILE_ENV = 'GUILD_TEST_PREREQUISITES_FILE';

/** Records a missing prerequisite for the summary of `npm test`; throws under CI, where nothing may be skipped. */
export function missingPrerequisite(m: MissingPrerequisite): void {
  const file = process.env[PREREQUISITES_FILE_ENV];
  if (file) appendFileSync(file, JSON.stringify(m) + '\n');
  const message = `${m.what} cannot run: ${m.reason} (install: ${m.install})`;
  if (isCi()) {
    throw new Error(`${message}; CI is set, so this is a failure`);
  }
  process.stderr.write(`\n!!!!! SKIPPED: ${message} !!!!!\n\n`);
}

/** True under CI (`CI` set to anything but empty, `0` or `false`), where a missing prerequisite fails the run. */
export function isCi(): boolean {
  const ci = process.env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** Parses the JSON lines written by {@link missingPrerequisite}, ignoring duplicates. */
export function parsePrerequisites(text: string): MissingPrerequisite[] {
  const seen = new Map<string, MissingPrerequisite>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null) continue;
    const { what, reason, install } = value as Record<string, unknown>;
    if (typeof what !== 'string' || typeof reason !== 'string' || typeof install !== 'string') continue;
    seen.set(`${what}\n${reason}`, { what, reason, install });
  }
  return [...seen.values()];
}
