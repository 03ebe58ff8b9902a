/** Readers of configuration values, each naming the setting and adding what is wrong to `problems`. */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** `auto` (one per core but one, left to the web side; at least 1, at most 4), or a count from 0 to 64. */
export function parseThreads(value: unknown, problems: string[]): number {
  if (value === 'auto' || value === undefined) return Math.min(4, Math.max(1, availableParallelism() - 1));
  return parseInt_(value, 'GUILD_WORKER_THREADS', 0, 64, problems);
}

/** `host:port` (an IPv6 host in brackets: `[::1]:9464`), or null when empty. */
export function parseListen(
  value: string,
  name: string,
  problems: string[],
): { host: string; port: number } | null {
  if (value.trim() === '') return null;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[3]);
  if (!m || port > 65535) {
    problems.push(`${name} must be host:port, such as 127.0.0.1:9464 or [::1]:9464 (got "${value}")`);
    return null;
  }
  return { host: m[1] ?? m[2] ?? '', port };
}

export function parseOrigin(value: string, problems: string[]): URL | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`GUILD_ORIGIN must be an absolute URL such as https://guild.example (got "${value}")`);
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.push(`GUILD_ORIGIN must use https (or http for local use), got "${url.protocol}"`);
    return null;
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    problems.push(`GUILD_ORIGIN must be an origin only, without path, query or credentials (got "${value}")`);
    return null;
  }
  return url;
}

export function readJson(file: string, problems: string[]): Record<string, unknown> {
  try {
    return obj(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    problems.push(`cannot read configuration file ${file}: ${(e as Error).message}`);
    return {};
  }
}

export function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      typeof v === 'object' && v !== null && !Array.isArray(v) && typeof prev === 'object' && prev !== null
        ? deepMerge(obj(prev), obj(v))
        : v;
  }
  return out;
}

export function parseInt_(v: unknown, name: string, min: number, max: number, problems: string[]): number {
  const s = str(v).trim();
  const n = Number(s);
  if (s === '' || !Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be an integer from ${min} to ${max} (got "${s}")`);
    return min;
  }
  return n;
}

export function oneOf<T extends string>(
  v: unknown,
  allowed: readonly T[],
  name: string,
  problems: string[],
): T | null {
  const s = str(v);
  if ((allowed as readonly string[]).includes(s)) return s as T;
  problems.push(`${name} must be one of ${allowed.join(', ')} (got "${s}")`);
  return null;
}

export function bool(v: unknown, name: string, problems: string[]): boolean {
  if (typeof v === 'boolean') return v;
  const s = str(v).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  problems.push(`${name} must be true or false (got "${s}")`);
  return false;
}
