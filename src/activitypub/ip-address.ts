/**
 * IP addresses as text: one canonical form per address, and CIDR ranges. Pure; used wherever hosts are compared
 * (domain policies, rate limits) and by the classification of outbound addresses (`federation/ip-address.ts`).
 */
import { isIPv4, isIPv6 } from 'node:net';

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

/** An IP address range (CIDR), IPv4 or IPv6, with its network address. */
export interface IpRange {
  family: 4 | 6;
  base: bigint;
  prefix: number;
}

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
  if (isV4Mapped(v6) || (v6 >> 32n === 0n && low >= 0x1000000n)) return { family: 4, value: low };
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
    if (prefix >= 96 && isV4Mapped(v6)) [family, value, prefix] = [4, v6 & 0xffffffffn, prefix - 96];
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

/** True for an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`). */
function isV4Mapped(v6: bigint): boolean {
  return v6 >> 32n === 0xffffn;
}
