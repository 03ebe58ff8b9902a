/**
 * Mutations for fuzzing the inbox, driven by a seeded PRNG so that a run can be replayed: structural ones on the
 * parsed document (fields deleted, wrong types, ids moved to other origins or to this server, odd unicode, other
 * types and contexts, other object shapes) and textual ones on the JSON (truncation, duplicate keys, not one
 * JSON object, invalid UTF-8).
 */
import { randomUUID } from 'node:crypto';
import { INBOUND_TYPES } from '../../src/activitypub/inbound.parser.ts';
import { AS_CONTEXT, isObject, type ApObject } from '../../src/activitypub/vocab.ts';

/** mulberry32: small, fast and good enough to drive mutations reproducibly. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

type Path = Array<string | number>;

/** Path prefix of the contexts mutations name on the member's server; Guild must never fetch them. */
export const REMOTE_CONTEXT_PATH = '/contexts/';

/** What mutations may put into a document: ids of this server, of the signer and of elsewhere. */
export interface FuzzContext {
  /** The actor id of the group the payload is for. */
  groupId: string;
  /** Guild's origin. */
  guild: string;
  /** The signing member's actor id. */
  actorId: string;
  /** The member's origin. */
  member: string;
  /** Number of the case (makes ids unique). */
  n: number;
}

/** Every path in a document below the root, outside `@context`. */
function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  const entries: Array<[string | number, unknown]> = Array.isArray(v)
    ? v.map((x, i): [number, unknown] => [i, x])
    : isObject(v)
      ? Object.entries(v).filter(([k]) => k !== '@context')
      : [];
  for (const [k, x] of entries) {
    out.push([...at, k]);
    paths(x, [...at, k], out);
  }
  return out;
}

function parentOf(doc: ApObject, path: Path): { parent: unknown; key: string | number } | null {
  let cur: unknown = doc;
  for (const k of path.slice(0, -1))
    cur = Array.isArray(cur) ? cur[Number(k)] : isObject(cur) ? cur[String(k)] : undefined;
  const key = path[path.length - 1];
  return key === undefined || typeof cur !== 'object' || cur === null ? null : { parent: cur, key };
}

function setAt(doc: ApObject, path: Path, value: unknown): void {
  const p = parentOf(doc, path);
  if (p) (p.parent as Record<string | number, unknown>)[p.key] = value;
}

function deleteAt(doc: ApObject, path: Path): void {
  const p = parentOf(doc, path);
  if (!p) return;
  if (Array.isArray(p.parent)) p.parent.splice(Number(p.key), 1);
  else delete (p.parent as Record<string, unknown>)[String(p.key)];
}

function nested(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

const ODD_TEXT = [
  '\u0000',
  '\u200b',
  '\u202e',
  '\ud800',
  '\udfff',
  '\ufeff',
  '\uffff',
  '👩‍👩‍👧',
  'e\u0301'.repeat(500),
  '＠',
  '\r\n',
  '<script>alert(1)</script>',
];
const COMMANDS = [
  'help',
  'rules',
  'report',
  'ban',
  'unban',
  'remove',
  'approve',
  'reject',
  'approve-post',
  'pin',
  'unpin',
  'lock',
  'unlock',
  'resolve',
  '!ban',
  '/lock',
  'BAN',
  'nonsense',
];
const TYPES = [...INBOUND_TYPES, 'Note', 'create', '', 'Question', 'Person', 'Group', 'Tombstone'];

function wrongValue(r: Rng, c: FuzzContext): unknown {
  const values: Array<() => unknown> = [
    () => r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1]),
    () => null,
    () => r.pick([true, false]),
    () => 'x'.repeat(r.pick([10_000, 100_000, 300_000])),
    () => nested(r.pick([5, 20, 31, 40, 200]), c.actorId),
    () => ({ id: { id: c.actorId }, type: ['Note', { '@id': 'x' }] }),
    () => ({}),
    () => [],
    () => [null, 1, 'two', {}],
    () => '',
    () => Array.from({ length: 2000 }, () => c.groupId),
  ];
  return r.pick(values)();
}

function otherId(r: Rng, c: FuzzContext): string {
  return r.pick([
    `http://127.0.0.1:1/objects/${c.n}`,
    `https://elsewhere-${c.n}.invalid/users/someone`,
    c.groupId,
    `${c.groupId}/followers`,
    `${c.groupId}/activities/${randomUUID()}`,
    `${c.guild}/groups/nosuchgroup`,
    `${c.guild}/actor`,
    `${c.guild}/inbox`,
    c.actorId,
    `${c.member}/users/someone-else`,
    `urn:uuid:${randomUUID()}`,
    'javascript:alert(1)',
    'data:text/plain,hello',
    '/relative/id',
    `//elsewhere-${c.n}.invalid/x`,
    `http://[::1]:1/x`,
    `${c.groupId}\u202e`,
  ]);
}

/** Mutations of the parsed document; each returns what it did. */
const STRUCTURAL: Array<(doc: ApObject, r: Rng, c: FuzzContext) => string> = [
  (doc, r) => {
    const p = r.pick([...paths(doc), ['id'], ['type'], ['actor'], ['object']]);
    deleteAt(doc, p);
    return `delete ${p.join('.')}`;
  },
  (doc, r, c) => {
    const p = r.pick([...paths(doc), ['id'], ['object']]);
    setAt(doc, p, wrongValue(r, c));
    return `wrong type at ${p.join('.')}`;
  },
  (doc, r, c) => {
    const p = r.pick([
      ['id'],
      ['actor'],
      ['object'],
      ['object', 'id'],
      ['object', 'attributedTo'],
      ['object', 'inReplyTo'],
      ['target'],
      ['audience'],
      ['to'],
      ['cc'],
      ['object', 'cc'],
    ]);
    const id = otherId(r, c);
    setAt(doc, p, id);
    return `${p.join('.')} = ${id}`;
  },
  (doc, r) => {
    const strings = paths(doc).filter((p) => {
      const parent = parentOf(doc, p);
      return (
        parent !== null && typeof (parent.parent as Record<string | number, unknown>)[parent.key] === 'string'
      );
    });
    const p = r.pick(strings.length > 0 ? strings : [['id']]);
    const parent = parentOf(doc, p);
    const old = parent ? String((parent.parent as Record<string | number, unknown>)[parent.key]) : '';
    const odd = r.pick(ODD_TEXT);
    const at = r.int(old.length + 1);
    setAt(doc, p, old.slice(0, at) + odd + old.slice(at));
    return `odd unicode in ${p.join('.')}`;
  },
  (doc, r) => {
    const t = r.chance(0.1) ? ['Create', 'Update'] : r.pick(TYPES);
    setAt(doc, r.chance(0.7) ? ['type'] : ['object', 'type'], t);
    return `type ${JSON.stringify(t)}`;
  },
  (doc, r, c) => {
    const ctx = r.pick<unknown>([
      undefined,
      'https://evil.invalid/context.jsonld',
      // A context on the member's own server: fetching it would show in its request log.
      `${c.member}${REMOTE_CONTEXT_PATH}${c.n}.jsonld`,
      [AS_CONTEXT, `${c.member}${REMOTE_CONTEXT_PATH}${c.n}.jsonld`],
      [AS_CONTEXT, { ident: '@id', kind: '@type' }],
      [AS_CONTEXT, { '@import': `${c.member}${REMOTE_CONTEXT_PATH}${c.n}.jsonld` }],
      { '@vocab': 'http://example.invalid/vocab#' },
      [AS_CONTEXT, { id: 'http://example.invalid/notid' }],
      [AS_CONTEXT, { '@version': 1.1, Note: { '@id': 'as:Note', '@context': { content: '@id' } } }],
      [AS_CONTEXT, 'https://w3id.org/security/v1', null],
      42,
    ]);
    // The root's context, or one scoped to the inline object.
    const target = isObject(doc['object']) && r.chance(0.3) ? doc['object'] : doc;
    if (ctx === undefined) delete target['@context'];
    else target['@context'] = ctx;
    return `${target === doc ? '' : 'object '}@context ${JSON.stringify(ctx)}`;
  },
  (doc, r, c) => {
    const obj = doc['object'];
    const shape = r.pick(['id-only', 'array', 'nested-activity', 'self']);
    if (shape === 'id-only') doc['object'] = isObject(obj) ? obj['id'] : obj;
    else if (shape === 'array') doc['object'] = [obj, obj];
    else if (shape === 'nested-activity') doc['object'] = { ...doc, id: `${c.actorId}/nested/${c.n}` };
    else doc['object'] = doc['id'];
    return `object as ${shape}`;
  },
  (doc, r, c) => {
    // A direct message to the group: a command, with arguments good and bad.
    const args = [
      c.actorId,
      `${c.member}/users/someone-else`,
      `@fuzzer@${new URL(c.member).host}`,
      '@nobody@127.0.0.1:1',
      `${c.groupId}/activities/${c.n}`,
      String(doc['id']),
      '7d',
      '9999w',
      '0m',
      '-1h',
      '../../etc/passwd',
      'x'.repeat(5000),
      '\u202e\u0000',
    ];
    const words = [r.pick(COMMANDS), ...Array.from({ length: r.int(4) }, () => r.pick(args))];
    const text = words.join(' ');
    doc['type'] = 'Create';
    doc['to'] = [c.groupId];
    delete doc['cc'];
    doc['object'] = {
      id: `${c.actorId}/messages/${c.n}`,
      type: 'Note',
      attributedTo: c.actorId,
      to: [c.groupId],
      content: `<p><span class="h-card"><a href="${c.groupId}">@group</a></span> ${text}</p>`,
      tag: [{ type: 'Mention', href: c.groupId }],
    };
    return `command ${text.slice(0, 80)}`;
  },
];

/** Mutations of the JSON text (or bytes). */
const TEXTUAL: Array<(text: string, r: Rng, c: FuzzContext) => { body: string | Buffer; what: string }> = [
  (t, r) => {
    const at = r.int(t.length);
    return { body: t.slice(0, at), what: `truncated at ${at}` };
  },
  (t, r, c) => {
    const dup = r.pick([`"type":"Delete"`, `"actor":"${c.groupId}"`, `"id":"${c.guild}/x"`, `"object":null`]);
    return r.chance(0.5)
      ? { body: `{${dup},${t.slice(1)}`, what: `duplicate key first: ${dup}` }
      : { body: `${t.slice(0, -1)},${dup}}`, what: `duplicate key last: ${dup}` };
  },
  (t, r) => {
    const v = r.pick([
      `${t}garbage`,
      `\ufeff${t}`,
      `[${t}]`,
      '"just a string"',
      'null',
      '42',
      '',
      `${t.slice(0, -1)},}`,
      `{"a":NaN}`,
    ]);
    return { body: v, what: 'not one JSON object' };
  },
  (t, r) => {
    const at = r.int(t.length);
    const bytes = Buffer.from(t, 'utf8');
    return {
      body: Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xc0, 0x80]), bytes.subarray(at)]),
      what: 'invalid UTF-8',
    };
  },
];

/** One mutated payload: the text before mutation (what a tampering sender signs), the body sent, what changed. */
export interface Mutated {
  base: string;
  body: string | Buffer;
  what: string[];
}

/** Applies one to three structural mutations to `doc` (in place), then a textual one one time in five. */
export function mutate(doc: ApObject, r: Rng, c: FuzzContext): Mutated {
  const base = JSON.stringify(doc);
  const what: string[] = [];
  for (let k = 1 + r.int(3); k > 0; k--) what.push(r.pick(STRUCTURAL)(doc, r, c));
  let body: string | Buffer = JSON.stringify(doc);
  if (r.chance(0.2)) {
    const m = r.pick(TEXTUAL)(body, r, c);
    body = m.body;
    what.push(m.what);
  }
  return { base, body, what };
}
