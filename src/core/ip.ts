/**
 * IPv6 prefix arithmetic on bigint. Parsing goes through `ip-address`; every
 * address leaves this module in RFC 5952 canonical form.
 */
import { Address6 } from 'ip-address';

export const ADDR_BITS = 128;
const MAX = (1n << 128n) - 1n;

export interface Prefix {
  /** network address as a 128-bit integer (host bits are zero) */
  readonly base: bigint;
  readonly length: number;
}

export class IpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpError';
  }
}

/** true if `text` looks like a dotted-quad IPv4 literal (optionally with a mask) */
export function isIPv4Literal(text: string): boolean {
  return /^\s*(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/\d{1,2})?\s*$/.test(text);
}

/** Parse an IPv6 address literal (no prefix length, no brackets, no zone). */
export function parseAddress(text: string): bigint {
  const t = text.trim();
  if (t.includes('/')) throw new IpError(`"${text}" is a prefix, expected a single IPv6 address`);
  if (t.startsWith('[') || t.includes('%')) throw new IpError(`"${text}" must be a bare IPv6 address (no brackets, no zone)`);
  if (isIPv4Literal(t)) throw new IpError(`"${text}" is an IPv4 address; this stack is IPv6-only`);
  if (!Address6.isValid(t)) throw new IpError(`"${text}" is not a valid IPv6 address`);
  return BigInt(new Address6(t).bigInt().toString());
}

/** Parse "addr/len"; host bits must be zero unless `allowHostBits`. */
export function parsePrefix(text: string, allowHostBits = false): Prefix {
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash < 0) throw new IpError(`"${text}" has no prefix length; write it as address/length, e.g. 2001:db8::/64`);
  const addrText = t.slice(0, slash);
  const lenText = t.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) throw new IpError(`"${text}" has an invalid prefix length "${lenText}"`);
  const length = Number(lenText);
  if (length > 128) throw new IpError(`"${text}": prefix length ${length} exceeds 128`);
  if (isIPv4Literal(t)) throw new IpError(`"${text}" is an IPv4 prefix; this stack is IPv6-only`);
  const base = parseAddress(addrText);
  const masked = base & netmask(length);
  if (masked !== base && !allowHostBits) {
    throw new IpError(`"${text}" has host bits set; the network is ${formatPrefix({ base: masked, length })}`);
  }
  return { base: masked, length };
}

export function netmask(length: number): bigint {
  if (length === 0) return 0n;
  return (MAX << BigInt(128 - length)) & MAX;
}

export function size(p: Prefix): bigint {
  return 1n << BigInt(128 - p.length);
}

export function last(p: Prefix): bigint {
  return p.base + size(p) - 1n;
}

/**
 * How many addresses at the top of `p` are reserved subnet anycast (RFC 2526):
 * the top 128 interface identifiers of a /64 (EUI-64 format), none otherwise.
 */
export function reservedAnycastTop(p: Prefix): bigint {
  return p.length === 64 ? 128n : 0n;
}

export function containsAddress(p: Prefix, a: bigint): boolean {
  return a >= p.base && a <= last(p);
}

/** true if `inner` lies entirely inside `outer` */
export function containsPrefix(outer: Prefix, inner: Prefix): boolean {
  return inner.length >= outer.length && containsAddress(outer, inner.base);
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  return a.base <= last(b) && b.base <= last(a);
}

/** The `index`-th subnet of length `length` inside `parent`. */
export function subnet(parent: Prefix, length: number, index: bigint | number): Prefix {
  const i = BigInt(index);
  if (length < parent.length || length > 128) {
    throw new IpError(`cannot carve a /${length} from ${formatPrefix(parent)}`);
  }
  const count = 1n << BigInt(length - parent.length);
  if (i < 0n || i >= count) {
    throw new IpError(`subnet index ${i} out of range: ${formatPrefix(parent)} holds ${count} /${length} subnets`);
  }
  return { base: parent.base + (i << BigInt(128 - length)), length };
}

/** Number of /length subnets in parent (0n if length is shorter than the parent). */
export function subnetCount(parent: Prefix, length: number): bigint {
  if (length < parent.length) return 0n;
  return 1n << BigInt(length - parent.length);
}

/** The address at `offset` inside `p`. */
export function addressAt(p: Prefix, offset: bigint | number): bigint {
  const o = BigInt(offset);
  if (o < 0n || o >= size(p)) throw new IpError(`offset ${o} is outside ${formatPrefix(p)}`);
  return p.base + o;
}

/** RFC 5952 canonical text: lower case, no leading zeros, longest run (>1) of zero groups as "::" (first on ties). */
export function formatAddress(a: bigint): string {
  if (a < 0n || a > MAX) throw new IpError(`address value out of range`);
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((a >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p.base)}/${p.length}`;
}

/** host:port with brackets around the IPv6 literal, as URLs and kubeadm endpoints need. */
export function hostPort(a: bigint | string, port: number): string {
  const text = typeof a === 'string' ? a : formatAddress(a);
  return `[${text}]:${port}`;
}

export interface SpecialRange {
  readonly prefix: Prefix;
  readonly name: string;
}

const special = (text: string, name: string): SpecialRange => ({ prefix: parsePrefix(text), name });

/** Ranges that must never appear as node, pod, service, VIP or DNS addresses. */
export const FORBIDDEN_RANGES: readonly SpecialRange[] = [
  special('::/128', 'the unspecified address (RFC 4291)'),
  special('::1/128', 'the loopback address (RFC 4291)'),
  special('::ffff:0:0/96', 'IPv4-mapped addresses (RFC 4291)'),
  special('fe80::/10', 'link-local unicast (RFC 4291)'),
  special('fec0::/10', 'deprecated site-local (RFC 3879)'),
  special('ff00::/8', 'multicast (RFC 4291)'),
];

export function forbiddenRangeOfPrefix(p: Prefix): SpecialRange | undefined {
  return FORBIDDEN_RANGES.find((r) => overlaps(r.prefix, p));
}

export function forbiddenRangeOfAddress(a: bigint): SpecialRange | undefined {
  return FORBIDDEN_RANGES.find((r) => containsAddress(r.prefix, a));
}

export function log2Exact(n: number): number | undefined {
  if (!Number.isInteger(n) || n < 1) return undefined;
  const l = Math.log2(n);
  return Number.isInteger(l) ? l : undefined;
}
