/** Addresses of one rack segment that no node may take, and the free ones a hint can suggest. */
import { formatAddress, reservedAnycastTop, size, type Prefix } from '../../core/ip.js';

/** The Subnet-Router anycast address (RFC 4291 2.6.1) or a reserved subnet anycast address (RFC 2526). */
export function isReservedInSubnet(subnetPrefix: Prefix, a: bigint): boolean {
  if (a === subnetPrefix.base) return true;
  return a - subnetPrefix.base >= size(subnetPrefix) - reservedAnycastTop(subnetPrefix);
}

/**
 * An address of a rack segment that no node slot will ever take and that is
 * none of `avoid` (e.g. the gateway): below hostOffset (highest first, never
 * the Subnet-Router anycast offset 0), else just past the last slot. Undefined
 * when neither has room. O(|avoid|): the first address not avoided wins.
 */
export function freeSegmentAddress(sn: Prefix, hostOffset: number, slotsPerRack: number, avoid: Array<bigint | undefined>): bigint | undefined {
  const taken = new Set(avoid.filter((a): a is bigint => a !== undefined));
  const top = BigInt(hostOffset) < size(sn) ? BigInt(hostOffset) : size(sn);
  for (let off = top - 1n; off >= 1n; off--) {
    const a = sn.base + off;
    if (!taken.has(a)) return a;
  }
  const usable = size(sn) - reservedAnycastTop(sn);
  for (let off = BigInt(hostOffset) + BigInt(slotsPerRack); off < usable && off < BigInt(hostOffset) + BigInt(slotsPerRack) + 4n; off++) {
    const a = sn.base + off;
    if (!taken.has(a)) return a;
  }
  return undefined;
}

/** "<lead>, e.g. <address neither a slot nor the gateway>" (with where it lies), or how to make room. */
export function freeVipHint(sn: Prefix, hostOffset: number, slotsPerRack: number, gateway: bigint | undefined, lead: string): string {
  const a = freeSegmentAddress(sn, hostOffset, slotsPerRack, [gateway]);
  if (a === undefined) return `${lead}: raise layout.hostOffset (before the cluster is built) to leave room for the VIP below the first slot`;
  const where = a - sn.base < BigInt(hostOffset) ? `below layout.hostOffset (${hostOffset})` : `past the last slot (hostOffset ${hostOffset} + slotsPerRack ${slotsPerRack})`;
  return `${lead} ${where}, e.g. ${formatAddress(a)}`;
}
