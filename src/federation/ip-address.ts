/**
 * Classification of IP addresses for outbound requests: which addresses a remote fetch may connect to.
 *
 * Everything that is not plainly a public unicast address is forbidden: loopback, private, shared (CGNAT),
 * link-local, unique-local, documentation, benchmarking, multicast, reserved, and IPv6 forms that embed an
 * IPv4 address (mapped, compatible, NAT64, 6to4) when the embedded address is forbidden. Unparseable input is
 * forbidden too, so that a parsing gap can never open a way in.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { parseV4, parseV6 } from '../activitypub/ip-address.ts';

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
