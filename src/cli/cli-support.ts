/** Helpers shared by the moderation commands: options, actor arguments, pages and messages. */
import type { ModerationError } from '../groups/moderation.service.ts';
import type { ParsedArgs } from './args.ts';
import type { CliCore, CliIo } from './main.ts';
import { httpIdText as httpUrl } from '../activitypub/vocab.ts';

/** Options that never take a value. */
export const SWITCHES: ReadonlySet<string> = new Set(['remove-posts', 'resolved', 'help']);

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** Prints `usage: TEXT` and returns the usage exit code. */
export function usage(io: CliIo, text: string): number {
  io.err(`usage: ${text}`);
  return 2;
}

/** Prints an error and returns the failure exit code. */
export function fail(io: CliIo, message: string): number {
  io.err(`guild: ${message}`);
  return 1;
}

/**
 * Checks the options and the number of positional words of a command. Returns the exit code of the problem
 * (after printing it), or null when the arguments fit.
 */
export function checkArgs(
  args: ParsedArgs,
  io: CliIo,
  spec: { words: number; optional?: number; options: readonly string[]; switches?: readonly string[] },
  usageText: string,
): number | null {
  const switches = spec.switches ?? [];
  for (const flag of Object.keys(args.flags)) {
    if (!spec.options.includes(flag) && !switches.includes(flag)) {
      io.err(`guild: unknown option --${flag}`);
      return usage(io, usageText);
    }
    if (spec.options.includes(flag) && args.bare.has(flag)) {
      io.err(`guild: --${flag} needs a value`);
      return usage(io, usageText);
    }
    if (switches.includes(flag) && !['true', 'false'].includes(args.flags[flag] ?? '')) {
      io.err(`guild: --${flag} takes no value`);
      return usage(io, usageText);
    }
  }
  const n = args.positional.length;
  if (n < spec.words || n > spec.words + (spec.optional ?? 0)) {
    const extra = args.positional[spec.words + (spec.optional ?? 0)];
    if (extra !== undefined)
      io.err(`guild: unexpected argument "${extra}" (quote values that contain spaces)`);
    return usage(io, usageText);
  }
  return null;
}

/** True when a switch was given (`--flag` or `--flag=true`). */
export function switchOn(args: ParsedArgs, flag: string): boolean {
  return args.flags[flag] === 'true';
}

/** The `--limit` option, or an error message. */
export function parseLimit(args: ParsedArgs): number | string {
  const text = args.flags.limit ?? String(DEFAULT_LIMIT);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_LIMIT)
    return `--limit must be a whole number from 1 to ${MAX_LIMIT} (got "${text}")`;
  return n;
}

export { httpUrl };

/**
 * An actor id given as is (`https://...`), or the actor a handle (`@user@host`) names, found by WebFinger.
 * Prints the problem and returns null when neither works.
 */
export async function actorArg(given: string, core: CliCore, io: CliIo): Promise<string | null> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(given)) {
    const url = httpUrl(given);
    if (url === null) io.err(`guild: "${given}" is not an http(s) actor id`);
    return url;
  }
  if (!/^@?[^@\s/]+@[^@\s/]+$/.test(given)) {
    io.err(`guild: "${given}" is neither an actor id (https://...) nor a handle (@user@host)`);
    return null;
  }
  const id = await core.handles.resolveHandle(given);
  if (id === null) {
    io.err(
      `guild: could not find ${given} (WebFinger gave no actor); give the actor id (https://...) instead`,
    );
    return null;
  }
  return id;
}

/** `@user@host` of an actor known to the cache, or ''. */
export async function handleOf(actorId: string, core: CliCore): Promise<string> {
  const actor = await core.store.remoteActors.getRemoteActor(actorId);
  if (!actor?.preferredUsername) return '';
  try {
    return `@${actor.preferredUsername}@${new URL(actorId).host}`;
  } catch {
    return '';
  }
}

/** `YYYY-MM-DD HH:MM UTC`. */
export function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A page cursor the CLI prints and reads back: `NUMBER~TEXT`. */
export function encodeCursor(n: number, text: string): string {
  return `${n}~${text}`;
}

/** Reads a cursor printed by {@link encodeCursor}; null when malformed. */
export function decodeCursor(cursor: string): { n: number; text: string } | null {
  const m = /^(\d{1,16})~(.+)$/s.exec(cursor);
  if (!m || !m[1] || !m[2]) return null;
  return { n: Number(m[1]), text: m[2] };
}

/** The message for a refused moderation action. */
export function describeModerationError(e: ModerationError, group: string, target: string): string {
  switch (e.type) {
    case 'group-not-found':
      return `no group named "${group}"`;
    case 'not-allowed':
      return `not allowed to moderate ${group}`;
    case 'post-not-found':
      return `${group} has no post ${target}`;
    case 'not-found':
      return `${group} has no report ${target} (see: guild reports ${group})`;
    case 'invalid':
      return e.detail;
    default: {
      const never: never = e;
      throw new Error(`unhandled ${JSON.stringify(never)}`);
    }
  }
}
