/**
 * Who is asking: the request's source address, mapped in O(1) to the node the
 * plan puts there (rack index from the high bits, slot from the offset), so a
 * host is known by its address whatever the cluster size.
 */
import { containsAddress, parseAddress, type Prefix } from '../core/ip.js';
import type { ClusterPlan, NodePlan } from '../plan/plan.js';

/** An IPv6 source address as bigint; undefined for IPv4 (mapped or not), zoned or malformed text. */
export function sourceAddress(text: string | undefined): bigint | undefined {
  if (!text) return undefined;
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  if (/^::ffff:/i.test(t) || !t.includes(':') || t.length > 45) return undefined;
  const fast = hexGroups(t);
  if (fast !== undefined) return fast;
  try {
    return parseAddress(t);
  } catch {
    return undefined;
  }
}

const GROUP = /^[0-9A-Fa-f]{1,4}$/;

/**
 * The common form of a peer address (hex groups, at most one "::", no dotted
 * IPv4 tail) without the general parser: the per-request path. Anything else
 * is undefined, and sourceAddress falls back to parseAddress.
 */
export function hexGroups(t: string): bigint | undefined {
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  let hi = 0;
  let v = 0n;
  const push = (g: string): boolean => {
    if (!GROUP.test(g)) return false;
    v = (v << 16n) | BigInt(parseInt(g, 16));
    hi++;
    return true;
  };
  for (const g of head) if (!push(g)) return undefined;
  for (let i = head.length + tail.length; i < 8; i++) push('0');
  for (const g of tail) if (!push(g)) return undefined;
  return hi === 8 ? v : undefined;
}

/** The node whose planned address is `addr`, or undefined (outside the node range, an empty slot, a gateway, ...). */
export function nodeByAddress(plan: ClusterPlan, addr: bigint): NodePlan | undefined {
  // Rack layout: the rack block gives the rack (its node subnet is the block's first /rackSubnetLength); else the rack subnet does.
  const [range, rackLength]: [Prefix, number] = plan.rackRange && plan.rackBlockLength !== undefined ? [plan.rackRange, plan.rackBlockLength] : [plan.nodeRange, plan.rackSubnetLength];
  if (!containsAddress(range, addr)) return undefined;
  const rackBits = BigInt(128 - rackLength);
  const rackIndex = (addr - range.base) >> rackBits;
  if (rackIndex > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const offset = addr - (range.base + (rackIndex << rackBits)) - BigInt(plan.spec.layout.hostOffset);
  if (offset < 0n || offset >= BigInt(plan.spec.layout.slotsPerRack)) return undefined;
  const node = plan.nodeAt(Number(rackIndex), Number(offset));
  return node && node.address === addr ? node : undefined;
}

/**
 * The client's address: the socket peer, unless the peer is a trusted reverse
 * proxy, in which case the last X-Forwarded-For entry (the address that proxy
 * saw). One proxy hop only: entries further left were written by the client
 * and prove nothing.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: ReadonlySet<bigint>): bigint | undefined {
  const p = sourceAddress(peer);
  if (p === undefined || trusted.size === 0 || !trusted.has(p)) return p;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  if (!header) return undefined;
  const parts = header.split(',');
  return sourceAddress(parts[parts.length - 1]);
}
