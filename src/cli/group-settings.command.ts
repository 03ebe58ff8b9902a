/** `guild group set NAME --flag value ...`: profile and settings; every value is checked before anything changes. */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { MembershipPolicy, PostingPolicy } from '../storage/store.ts';
import {
  MAX_IMAGE_BYTES,
  validateSettingsPatch,
  type FieldProblem,
  type ImageSource,
  type SettingsField,
  type SettingsPatch,
} from '../groups/settings.service.ts';
import type { ParsedArgs } from './args.ts';
import type { CliCore, CliIo } from './main.ts';

export const SET_USAGE = `  group set NAME [--title T] [--summary S] [--rules TEXT] [--icon URL|FILE|none]
                 [--banner URL|FILE|none] [--language en|none] [--tags rust,systems]
                 [--sensitive true|false] [--discoverable true|false] [--membership open|approval]
                 [--posting members|moderators] [--max-group-mentions N] [--list-followers true|false]
                 [--max-posts-per-hour N] [--premoderate-first-posts N] [--group-followers accept|refuse]
                                                change the profile and settings (members are told);
                                                summary and rules are markdown, \\n in --rules is a new line`;

type Parser = (value: string, flag: string, patch: SettingsPatch) => Promise<string | null> | string | null;

/** The flags of `set`, each turning its text into a patch field or returning a problem. */
const FLAGS: Record<string, { field: SettingsField; parse: Parser; boolean?: true }> = {
  title: { field: 'title', parse: (v, _f, p) => ((p.title = v), null) },
  summary: { field: 'summary', parse: (v, _f, p) => ((p.summary = v), null) },
  rules: { field: 'rules', parse: (v, _f, p) => ((p.rules = v.replace(/\\n/g, '\n')), null) },
  language: {
    field: 'language',
    parse: (v, _f, p) => ((p.language = isNone(v) ? null : v), null),
  },
  tags: {
    field: 'tags',
    parse: (v, _f, p) => ((p.tags = isNone(v) ? [] : v.split(/[,\s]+/).filter((t) => t !== '')), null),
  },
  sensitive: { field: 'sensitive', parse: bool('sensitive'), boolean: true },
  discoverable: { field: 'discoverable', parse: bool('discoverable'), boolean: true },
  'list-followers': { field: 'listFollowers', parse: bool('listFollowers'), boolean: true },
  'group-followers': {
    field: 'acceptGroupFollowers',
    parse: (v, f, p) => {
      if (v !== 'accept' && v !== 'refuse') return `--${f} must be accept or refuse (got "${v}")`;
      p.acceptGroupFollowers = v === 'accept';
      return null;
    },
  },
  membership: {
    field: 'membershipPolicy',
    parse: (v, f, p) => {
      if (v !== 'open' && v !== 'approval') return `--${f} must be open or approval (got "${v}")`;
      p.membershipPolicy = v satisfies MembershipPolicy;
      return null;
    },
  },
  posting: {
    field: 'postingPolicy',
    parse: (v, f, p) => {
      if (v !== 'members' && v !== 'moderators') return `--${f} must be members or moderators (got "${v}")`;
      p.postingPolicy = v satisfies PostingPolicy;
      return null;
    },
  },
  'max-group-mentions': {
    field: 'maxGroupMentions',
    parse: (v, f, p) => {
      if (!/^\d{1,9}$/.test(v)) return `--${f} must be a whole number (got "${v}")`;
      p.maxGroupMentions = Number(v);
      return null;
    },
  },
  'max-posts-per-hour': {
    field: 'maxPostsPerHour',
    parse: (v, f, p) => {
      if (!/^\d{1,9}$/.test(v)) return `--${f} must be a whole number (got "${v}")`;
      p.maxPostsPerHour = Number(v);
      return null;
    },
  },
  'max-activities-per-hour': {
    field: 'maxActivitiesPerHour',
    parse: (v, f, p) => {
      if (!/^\d{1,9}$/.test(v)) return `--${f} must be a whole number (got "${v}")`;
      p.maxActivitiesPerHour = Number(v);
      return null;
    },
  },
  'max-edits-per-post-per-hour': {
    field: 'maxEditsPerPostPerHour',
    parse: (v, f, p) => {
      if (!/^\d{1,9}$/.test(v)) return `--${f} must be a whole number (got "${v}")`;
      p.maxEditsPerPostPerHour = Number(v);
      return null;
    },
  },
  'premoderate-first-posts': {
    field: 'premoderateFirstPosts',
    parse: (v, f, p) => {
      if (!/^\d{1,9}$/.test(v)) return `--${f} must be a whole number (got "${v}")`;
      p.premoderateFirstPosts = Number(v);
      return null;
    },
  },
  icon: { field: 'icon', parse: image('icon') },
  banner: { field: 'banner', parse: image('banner') },
};

const FLAG_OF: Partial<Record<SettingsField, string>> = Object.fromEntries(
  Object.entries(FLAGS).map(([flag, def]) => [def.field, flag]),
);

export async function setCommand(name: string, args: ParsedArgs, core: CliCore, io: CliIo): Promise<number> {
  const problems: string[] = [];
  const extra = args.positional.slice(3);
  if (extra.length > 0) problems.push(`unexpected argument "${extra[0]}" (quote values that contain spaces)`);
  const patch: SettingsPatch = {};
  const given = Object.keys(args.flags);
  for (const flag of given) {
    const def = FLAGS[flag];
    if (!def) {
      problems.push(`unknown option --${flag}`);
      continue;
    }
    if (args.bare.has(flag) && !def.boolean) {
      problems.push(`--${flag} needs a value`);
      continue;
    }
    const problem = await def.parse(args.flags[flag] ?? '', flag, patch);
    if (problem) problems.push(problem);
  }
  if (given.length === 0) problems.push('nothing to change: give at least one option');
  if (problems.length > 0) {
    // Report the problems of the values that could be read too, so that one run names them all.
    const checked = validateSettingsPatch(patch, { uploads: true });
    if (!checked.ok) problems.push(...checked.error.map(describeProblem));
    return refuse(io, name, problems);
  }

  const r = await core.moderation.changeSettings(name, patch, { by: 'admin' });
  if (!r.ok) {
    const e = r.error;
    switch (e.type) {
      case 'not-found':
      case 'group-not-found':
      case 'post-not-found':
        io.err(`guild: no group named "${name}"`);
        return 1;
      case 'not-allowed':
        io.err(`guild: not allowed to change ${name}`);
        return 1;
      case 'invalid':
        return refuse(io, name, 'problems' in e ? e.problems.map(describeProblem) : [e.detail]);
      default: {
        const never: never = e;
        throw new Error(`unhandled ${JSON.stringify(never)}`);
      }
    }
  }
  if (r.value.changed.length === 0) {
    io.out(`${name}: nothing changed (the values given are the current ones)`);
    return 0;
  }
  const flags = r.value.changed.map((f) => FLAG_OF[f] ?? f);
  io.out(`updated ${name}: ${flags.join(', ')}; members are being told`);
  if (r.value.approvedPending > 0)
    io.out(`membership is open now: ${r.value.approvedPending} pending join requests were accepted`);
  const s = r.value.group.settings;
  if (r.value.changed.includes('icon') && s.iconUrl) io.out(`icon: ${s.iconUrl}`);
  if (r.value.changed.includes('banner') && s.bannerUrl) io.out(`banner: ${s.bannerUrl}`);
  return 0;
}

function describeProblem(p: FieldProblem): string {
  return `--${FLAG_OF[p.field] ?? p.field}: ${p.detail}`;
}

function refuse(io: CliIo, name: string, problems: string[]): number {
  io.err(`guild: ${name} was not changed:`);
  for (const p of problems) io.err(`  - ${p}`);
  return 1;
}

function isNone(v: string): boolean {
  return v === '' || v === 'none';
}

function bool(field: 'sensitive' | 'discoverable' | 'listFollowers'): Parser {
  return (v, flag, p) => {
    if (v !== 'true' && v !== 'false') return `--${flag} must be true or false (got "${v}")`;
    p[field] = v === 'true';
    return null;
  };
}

/** `none` clears; an http(s) URL is kept; anything with another scheme is refused; the rest is a file path. */
function image(field: 'icon' | 'banner'): Parser {
  return async (v, flag, p) => {
    if (isNone(v)) {
      p[field] = null;
      return null;
    }
    if (/^[a-z][a-z0-9+.-]+:/i.test(v)) {
      if (!/^https?:\/\//i.test(v))
        return `--${flag} must be an http(s) URL or the path of a local image file`;
      p[field] = { url: v };
      return null;
    }
    const r = await readImageFile(v);
    if (typeof r === 'string') return `--${flag}: ${r}`;
    p[field] = r;
    return null;
  };
}

async function readImageFile(file: string): Promise<ImageSource | string> {
  const full = path.resolve(file);
  try {
    const info = await stat(full);
    if (!info.isFile()) return `${file} is not a file`;
    if (info.size > MAX_IMAGE_BYTES)
      return `${file} is ${info.size} bytes; the limit is ${MAX_IMAGE_BYTES} (2 MiB)`;
    return { bytes: new Uint8Array(await readFile(full)) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `no such file: ${file}`;
    if (code === 'EACCES') return `cannot read ${file}: permission denied`;
    throw e;
  }
}
