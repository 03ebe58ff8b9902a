/**
 * Classification of IP addresses for outbound requests: which addresses a remote fetch may connect to.
 *
 * Everything that is not plainly a public unicast address is forbidden: loopback, private, shared (CGNAT),
 * link-local, unique-local, documentation, benchmarking, multicast, reserved, and IPv6 forms that embed an
 * IPv4 address (mapped, compatible, NAT64, 6to4) when the embedded address is forbidden. Unparseable input is
 * forbidden too, so that a parsing gap can never open a way in.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** An IPv4 range: network address as a 32-bit number and prefix length. */
interface V4Range {
  base: number;
  prefix: number;
}

/** An IPv6 range: network address as a 128-bit bigint and prefix length. */
interface V6Range {
  base: bigint;
  prefix: number;
}

const FORBIDDEN_V4: readonly V4Range[] = [
  v4Range('0.0.0.0', 8), // "this network"
  v4Range('10.0.0.0', 8), // private
  v4Range('100.64.0.0', 10), // shared address space (CGNAT)
  v4Range('127.0.0.0', 8), // loopback
  v4Range('169.254.0.0', 16), // link-local (cloud metadata services live here)
  v4Range('172.16.0.0', 12), // private
  v4Range('192.0.0.0', 24), // IETF protocol assignments
  v4Range('192.0.2.0', 24), // documentation (TEST-NET-1)
  v4Range('192.88.99.0', 24), // 6to4 relay anycast
  v4Range('192.168.0.0', 16), // private
  v4Range('198.18.0.0', 15), // benchmarking
  v4Range('198.51.100.0', 24), // documentation (TEST-NET-2)
  v4Range('203.0.113.0', 24), // documentation (TEST-NET-3)
  v4Range('224.0.0.0', 4), // multicast
  v4Range('240.0.0.0', 4), // reserved, includes the limited broadcast address
];

const FORBIDDEN_V6: readonly V6Range[] = [
  v6Range('::', 128), // unspecified
  v6Range('::1', 128), // loopback
  v6Range('64:ff9b:1::', 48), // local-use NAT64
  v6Range('100::', 64), // discard-only
  v6Range('2001::', 23), // IETF protocol assignments (Teredo, ORCHID, ...)
  v6Range('2001:db8::', 32), // documentation
  v6Range('3fff::', 20), // documentation
  v6Range('5f00::', 16), // segment routing SIDs
  v6Range('fc00::', 7), // unique-local
  v6Range('fe80::', 10), // link-local
  v6Range('fec0::', 10), // site-local (deprecated)
  v6Range('ff00::', 8), // multicast
];

/** IPv6 prefixes whose low 32 bits carry an IPv4 address that decides the verdict. */
const EMBEDDING_V6: readonly V6Range[] = [
  v6Range('::ffff:0:0', 96), // IPv4-mapped
  v6Range('64:ff9b::', 96), // NAT64 well-known prefix
];

const V6_COMPATIBLE = v6Range('::', 96); // deprecated IPv4-compatible addresses
const V6_6TO4 = v6Range('2002::', 16);

/**
 * True when an outbound connection to `ip` must be refused. Accepts dotted IPv4, any IPv6 text form (also in
 * brackets or with a zone id). Anything that is not an IP address returns true.
 */
export function isForbiddenAddress(ip: string): boolean {
  let text = ip.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (isIPv4(text)) {
    const value = parseV4(text);
    return value === null || isForbiddenV4(value);
  }
  const zone = text.indexOf('%');
  if (zone !== -1) {
    // A zone id only makes sense for link-local addresses, which are forbidden anyway.
    return true;
  }
  if (!isIPv6(text)) return true;
  const value = parseV6(text);
  return value === null || isForbiddenV6(value);
}

function isForbiddenV4(value: number): boolean {
  return FORBIDDEN_V4.some((range) => inV4Range(value, range));
}

function isForbiddenV6(value: bigint): boolean {
  if (FORBIDDEN_V6.some((range) => inV6Range(value, range))) return true;
  if (EMBEDDING_V6.some((range) => inV6Range(value, range))) {
    return isForbiddenV4(Number(value & 0xffffffffn));
  }
  if (inV6Range(value, V6_COMPATIBLE)) return true;
  if (inV6Range(value, V6_6TO4)) {
    return isForbiddenV4(Number((value >> 80n) & 0xffffffffn));
  }
  return false;
}

function inV4Range(value: number, range: V4Range): boolean {
  if (range.prefix === 0) return true;
  const shift = 32 - range.prefix;
  return value >>> shift === range.base >>> shift;
}

function inV6Range(value: bigint, range: V6Range): boolean {
  const shift = BigInt(128 - range.prefix);
  return value >> shift === range.base >> shift;
}

/** Parses dotted-quad IPv4 into an unsigned 32-bit number, or null. */
export function parseV4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** Parses an IPv6 address (no zone id) into a 128-bit bigint, or null. */
export function parseV6(text: string): bigint | null {
  let body = text.toLowerCase();
  const lastColon = body.lastIndexOf(':');
  if (lastColon === -1) return null;
  const last = body.slice(lastColon + 1);
  if (last.includes('.')) {
    // A dotted IPv4 tail stands for the last two 16-bit groups.
    const v4 = parseV4(last);
    if (v4 === null) return null;
    body = `${body.slice(0, lastColon + 1)}${((v4 >>> 16) & 0xffff).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? '');
  const rest = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (head === null || rest === null) return null;
  let groups: number[];
  if (halves.length === 2) {
    if (head.length + rest.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    if (head.length !== 8) return null;
    groups = head;
  }
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

function parseGroups(part: string): number[] | null {
  if (part === '') return [];
  const groups: number[] = [];
  for (const group of part.split(':')) {
    if (!/^[0-9a-f]{1,4}$/.test(group)) return null;
    groups.push(parseInt(group, 16));
  }
  return groups;
}

function v4Range(address: string, prefix: number): V4Range {
  const base = parseV4(address);
  if (base === null) throw new Error(`bad IPv4 range ${address}`);
  return { base, prefix };
}

function v6Range(address: string, prefix: number): V6Range {
  const base = parseV6(address);
  if (base === null) throw new Error(`bad IPv6 range ${address}`);
  return { base, prefix };
}

/** An IP address range (CIDR), IPv4 or IPv6, with its network address. */
export interface IpRange {
  family: 4 | 6;
  base: bigint;
  prefix: number;
}

const V4_MAPPED = v6Range('::ffff:0:0', 96);

/**
 * The one text form of an IP address: dotted IPv4; IPv6 lowercase and compressed (RFC 5952); IPv4-mapped and
 * IPv4-compatible IPv6 addresses as the IPv4 address they carry. Accepts brackets around IPv6. Null when the
 * text is not an IP address (a zone id included).
 */
export function canonicalIp(text: string): string | null {
  const parsed = parseIp(text);
  return parsed === null ? null : formatIp(parsed.family, parsed.value);
}

/** An IP address as a number of its family (IPv4 inside IPv6 taken as IPv4), or null. */
function parseIp(text: string): { family: 4 | 6; value: bigint } | null {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  if (isIPv4(t)) {
    const v4 = parseV4(t);
    return v4 === null ? null : { family: 4, value: BigInt(v4) };
  }
  if (!isIPv6(t) || t.includes('%')) return null;
  const v6 = parseV6(t);
  if (v6 === null) return null;
  const low = v6 & 0xffffffffn;
  // ::a.b.c.d (deprecated IPv4-compatible); ::1 and the like are IPv6's own.
  if (inV6Range(v6, V4_MAPPED) || (v6 >> 32n === 0n && low >= 0x1000000n)) return { family: 4, value: low };
  return { family: 6, value: v6 };
}

function formatIp(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // The longest run of two or more zero groups (the first when tied) becomes "::".
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt === -1) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/**
 * Parses `address/prefix` (IPv4 or IPv6, IPv4-mapped IPv6 ranges as IPv4), keeping the network address only.
 * Null when malformed.
 */
export function parseIpRange(text: string): IpRange | null {
  const slash = text.indexOf('/');
  if (slash === -1) return null;
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  let prefix = Number(prefixText);
  let addressText = text.slice(0, slash).trim();
  if (addressText.startsWith('[') && addressText.endsWith(']')) addressText = addressText.slice(1, -1);
  let family: 4 | 6;
  let value: bigint;
  if (isIPv4(addressText)) {
    const v4 = parseV4(addressText);
    if (v4 === null || prefix > 32) return null;
    [family, value] = [4, BigInt(v4)];
  } else {
    const v6 = isIPv6(addressText) && !addressText.includes('%') ? parseV6(addressText) : null;
    if (v6 === null || prefix > 128) return null;
    if (prefix >= 96 && inV6Range(v6, V4_MAPPED))
      [family, value, prefix] = [4, v6 & 0xffffffffn, prefix - 96];
    else [family, value] = [6, v6];
  }
  const bits = BigInt(family === 4 ? 32 : 128);
  const shift = bits - BigInt(prefix);
  return { family, base: (value >> shift) << shift, prefix };
}

/** The canonical text of a range: its network address in {@link canonicalIp} form, then the prefix. */
export function formatIpRange(range: IpRange): string {
  return `${formatIp(range.family, range.base)}/${range.prefix}`;
}

/** True when `ip` (any text form) lies in `range`. */
export function inIpRange(ip: string, range: IpRange): boolean {
  const parsed = parseIp(ip);
  if (parsed === null || parsed.family !== range.family) return false;
  const shift = BigInt((range.family === 4 ? 32 : 128) - range.prefix);
  return parsed.value >> shift === range.base >> shift;
}
