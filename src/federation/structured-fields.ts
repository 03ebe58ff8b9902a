/**
 * The part of Structured Field Values for HTTP (RFC 8941) that HTTP message signatures need: parsing
 * Dictionaries whose members are Items or Inner Lists, and serializing Inner Lists. Parsing is strict and
 * also refuses repeated keys, which the RFC would let the last one win.
 */

export type BareItem =
  | { type: 'integer'; value: number }
  | { type: 'decimal'; value: number }
  | { type: 'string'; value: string }
  | { type: 'token'; value: string }
  | { type: 'bytes'; value: Buffer }
  | { type: 'boolean'; value: boolean };

export type Params = Map<string, BareItem>;

export interface Item {
  kind: 'item';
  value: BareItem;
  params: Params;
}

export interface InnerList {
  kind: 'list';
  items: Item[];
  params: Params;
}

export type Dictionary = Map<string, Item | InnerList>;

/** Longest field value parsed. */
const MAX_LENGTH = 16_384;

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  peek(): string {
    return this.s[this.i] ?? '';
  }

  eof(): boolean {
    return this.i >= this.s.length;
  }

  skip(chars: string): void {
    while (!this.eof() && chars.includes(this.peek())) this.i++;
  }

  key(): string | null {
    const m = /^[a-z*][a-z0-9_\-.*]*/.exec(this.s.slice(this.i));
    if (m === null) return null;
    this.i += m[0].length;
    return m[0];
  }

  bareItem(): BareItem | null {
    const c = this.peek();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    if (c === '"') return this.string();
    if (c === ':') return this.bytes();
    if (c === '?') return this.boolean();
    if (/[A-Za-z*]/.test(c)) return this.token();
    return null;
  }

  number(): BareItem | null {
    const m = /^-?(\d{1,15})(\.\d{1,3})?/.exec(this.s.slice(this.i));
    if (m === null || (m[2] !== undefined && (m[1] ?? '').length > 12)) return null;
    this.i += m[0].length;
    return m[2] === undefined
      ? { type: 'integer', value: Number(m[0]) }
      : { type: 'decimal', value: Number(m[0]) };
  }

  string(): BareItem | null {
    this.i++;
    let out = '';
    while (!this.eof()) {
      const c = this.peek();
      this.i++;
      if (c === '\\') {
        const next = this.peek();
        if (next !== '"' && next !== '\\') return null;
        out += next;
        this.i++;
      } else if (c === '"') {
        return { type: 'string', value: out };
      } else {
        const code = c.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) return null;
        out += c;
      }
    }
    return null;
  }

  token(): BareItem {
    const m = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(this.s.slice(this.i));
    const value = m?.[0] ?? '';
    this.i += value.length;
    return { type: 'token', value };
  }

  bytes(): BareItem | null {
    const end = this.s.indexOf(':', this.i + 1);
    if (end === -1) return null;
    const text = this.s.slice(this.i + 1, end);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
    this.i = end + 1;
    return { type: 'bytes', value: Buffer.from(text, 'base64') };
  }

  boolean(): BareItem | null {
    const c = this.s[this.i + 1];
    if (c !== '0' && c !== '1') return null;
    this.i += 2;
    return { type: 'boolean', value: c === '1' };
  }

  params(): Params | null {
    const params: Params = new Map();
    while (this.peek() === ';') {
      this.i++;
      this.skip(' ');
      const key = this.key();
      if (key === null || params.has(key)) return null;
      let value: BareItem | null = { type: 'boolean', value: true };
      if (this.peek() === '=') {
        this.i++;
        value = this.bareItem();
        if (value === null) return null;
      }
      params.set(key, value);
    }
    return params;
  }

  item(): Item | null {
    const value = this.bareItem();
    if (value === null) return null;
    const params = this.params();
    return params === null ? null : { kind: 'item', value, params };
  }

  innerList(): InnerList | null {
    this.i++;
    const items: Item[] = [];
    for (;;) {
      this.skip(' ');
      if (this.peek() === ')') {
        this.i++;
        const params = this.params();
        return params === null ? null : { kind: 'list', items, params };
      }
      const item = this.item();
      if (item === null) return null;
      items.push(item);
      const c = this.peek();
      if (c !== ' ' && c !== ')') return null;
    }
  }
}

/** Parses a Dictionary field value; null when it is not one (or repeats a key). */
export function parseDictionary(text: string): Dictionary | null {
  if (text.length > MAX_LENGTH) return null;
  const p = new Parser(text);
  const dict: Dictionary = new Map();
  p.skip(' \t');
  if (p.eof()) return null;
  for (;;) {
    const key = p.key();
    if (key === null || dict.has(key)) return null;
    let member: Item | InnerList | null;
    if (p.peek() === '=') {
      p.i++;
      member = p.peek() === '(' ? p.innerList() : p.item();
    } else {
      const params = p.params();
      member = params === null ? null : { kind: 'item', value: { type: 'boolean', value: true }, params };
    }
    if (member === null) return null;
    dict.set(key, member);
    p.skip(' \t');
    if (p.eof()) return dict;
    if (p.peek() !== ',') return null;
    p.i++;
    p.skip(' \t');
    if (p.eof()) return null;
  }
}

/** Serializes a bare item canonically. */
export function serializeBareItem(item: BareItem): string {
  switch (item.type) {
    case 'integer':
      return String(item.value);
    case 'decimal':
      return Number.isInteger(item.value)
        ? item.value.toFixed(1)
        : String(Math.round(item.value * 1000) / 1000);
    case 'string':
      return `"${item.value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    case 'token':
      return item.value;
    case 'bytes':
      return `:${item.value.toString('base64')}:`;
    case 'boolean':
      return item.value ? '?1' : '?0';
  }
}

function serializeParams(params: Params): string {
  let out = '';
  for (const [key, value] of params) {
    out += value.type === 'boolean' && value.value ? `;${key}` : `;${key}=${serializeBareItem(value)}`;
  }
  return out;
}

/** Serializes an Inner List canonically (the `@signature-params` line of a signature base). */
export function serializeInnerList(list: InnerList): string {
  const items = list.items.map((item) => serializeBareItem(item.value) + serializeParams(item.params));
  return `(${items.join(' ')})${serializeParams(list.params)}`;
}
