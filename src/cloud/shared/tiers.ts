/**
 * The address layout both clouds share, as pure functions of the /56 the
 * cloud assigns (Amazon's VPC /56, Oracle's VCN /56) and a position (an AWS
 * zone letter; 0 on OCI, whose subnets are regional):
 *
 *   /56
 *   ├── lower /57 = node tier: node subnet of position i = /64 number i
 *   │                (each node's address and its pod prefix come from it)
 *   └── upper /57 = edge tier: edge subnet of position i = /64 number 128 + i
 *                    (dual-stack: the API load balancer, NAT64)
 *
 * Pinned offsets: the API load balancer at <edge subnet>::6443, control-plane
 * node k at <its node subnet>::10 + k. Position, not order: adding a zone or a
 * control plane never moves another one's addresses.
 *
 * IPv4 helpers: both clouds still put an IPv4 CIDR on the VPC/VCN; only the
 * /N carving of it is here (src/core/ip.ts parses and prints).
 */
import { addressAt, formatIpPrefix, formatPrefix, IpError, parseIpPrefix, parsePrefix, subnet, type IpPrefix, type Prefix } from '../../core/ip.js';

/** Both clouds hand out a /56 (an Amazon-provided VPC block, an Oracle-allocated VCN GUA). */
export const CLOUD_IPV6_LENGTH = 56;
export const SUBNET_LENGTH = 64;
/** Edge subnets start at /64 number 128 of the /56 (the upper /57). */
export const EDGE_TIER_INDEX = 128;
/** The API load balancer's IPv6 address in each edge subnet: <edge subnet>::6443. */
export const API_ADDRESS_OFFSET = 0x6443n;
/** Control-plane node k gets <node subnet of its zone>::10 + k. */
export const CONTROL_PLANE_OFFSET = 0x10n;

export class LayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LayoutError';
  }
}

/** The /56 a cloud assigned, or a LayoutError naming it (`what`: "VPC", "VCN"). */
export function requireCloudPrefix(cidr: string, what: string, who: string): Prefix {
  let p: Prefix;
  try {
    p = parsePrefix(cidr);
  } catch (e) {
    throw new LayoutError(`${what} IPv6 CIDR "${cidr}": ${(e as IpError).message}`);
  }
  if (p.length !== CLOUD_IPV6_LENGTH) throw new LayoutError(`${what} IPv6 CIDR ${formatPrefix(p)} is not a /56; ${who} assigns a /56 to every ${what}`);
  return p;
}

export interface Tiers {
  nodeTier: Prefix;
  edgeTier: Prefix;
}

export function tiersOf(block: Prefix): Tiers {
  return { nodeTier: subnet(block, CLOUD_IPV6_LENGTH + 1, 0), edgeTier: subnet(block, CLOUD_IPV6_LENGTH + 1, 1) };
}

/** Node and edge subnet of a position, and the load balancer's pinned address in the edge subnet. */
export function tierSubnets(block: Prefix, position: number): { nodeSubnet: Prefix; edgeSubnet: Prefix; apiAddress: bigint } {
  if (!Number.isInteger(position) || position < 0 || position >= EDGE_TIER_INDEX) throw new LayoutError(`position ${position} is outside 0..${EDGE_TIER_INDEX - 1}`);
  const edgeSubnet = subnet(block, SUBNET_LENGTH, EDGE_TIER_INDEX + position);
  return { nodeSubnet: subnet(block, SUBNET_LENGTH, position), edgeSubnet, apiAddress: addressAt(edgeSubnet, API_ADDRESS_OFFSET) };
}

/** Control-plane node k's pinned address in its node subnet. */
export function controlPlaneAddress(nodeSubnet: Prefix, k: number): bigint {
  return addressAt(nodeSubnet, CONTROL_PLANE_OFFSET + BigInt(k));
}

// --- IPv4 ---

export type Ipv4Prefix = IpPrefix & { readonly family: 4 };

export function parseIpv4Prefix(text: string): Ipv4Prefix {
  let p: IpPrefix;
  try {
    p = parseIpPrefix(text.trim());
  } catch (e) {
    if (e instanceof IpError) throw new LayoutError(`IPv4 CIDR ${e.message}`);
    throw e;
  }
  if (p.family !== 4) throw new LayoutError(`"${text}" is not an IPv4 prefix (a.b.c.d/len)`);
  return { ...p, family: 4 };
}

export function formatIpv4Prefix(p: Ipv4Prefix): string {
  return formatIpPrefix(p);
}

export function ipv4Subnet(parent: Ipv4Prefix, length: number, index: number): Ipv4Prefix {
  if (length < parent.length || length > 32) throw new LayoutError(`cannot carve a /${length} from ${formatIpv4Prefix(parent)}`);
  const count = 1n << BigInt(length - parent.length);
  if (!Number.isInteger(index) || index < 0 || BigInt(index) >= count) throw new LayoutError(`${formatIpv4Prefix(parent)} holds ${count} /${length} subnets; number ${index} does not exist`);
  return { family: 4, base: parent.base + (BigInt(index) << BigInt(32 - length)), length };
}
