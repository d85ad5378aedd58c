/**
 * Where everything sits inside the VPC, as pure functions of the /56 Amazon
 * assigns and the zones of the stack. The program calls `vpcLayout` inside
 * `.apply` once AWS reveals the /56; tests call it with documentation prefixes.
 *
 * Position, not order: a zone's subnets follow from the zone's letter
 * (us-east-2a -> 0, us-east-2c -> 2), so adding or removing a zone never moves
 * another zone's subnets.
 *
 *   VPC /56
 *   ├── lower /57 = node tier: node subnet of zone letter i = /64 number i
 *   │                (IPv6-only; each node's /80 for pods is delegated from it)
 *   └── upper /57 = edge tier: edge subnet of zone letter i = /64 number 128 + i
 *                    (dual-stack, with IPv4 /28 number i of the VPC's IPv4 CIDR;
 *                     holds the API load balancer and the NAT gateway)
 */
import { addressAt, formatAddress, formatIpPrefix, formatPrefix, IpError, parseIpPrefix, parsePrefix, subnet, type IpPrefix, type Prefix } from '../core/ip.js';

export const VPC_IPV6_LENGTH = 56;
export const SUBNET_LENGTH = 64;
/** AWS delegates /80 prefixes to network interfaces. */
export const POD_PREFIX_LENGTH = 80;
/** Edge subnets start at /64 number 128 of the /56 (the upper /57). */
export const EDGE_TIER_INDEX = 128;
/** The smallest IPv4 subnet AWS allows; one per edge subnet. */
export const EDGE_IPV4_LENGTH = 28;
/** The API load balancer's IPv6 address in each edge subnet: <edge subnet>::6443. */
export const API_ADDRESS_OFFSET = 0x6443n;
/** Control-plane node k gets <node subnet of its zone>::10 + k. */
export const CONTROL_PLANE_OFFSET = 0x10n;
/** AWS reserves the first four and the last address of every subnet. */
export const AWS_RESERVED_LOW = 4n;

export class LayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LayoutError';
  }
}

/** Zone position from its letter: "<region>a" -> 0 ... "<region>z" -> 25. */
export function zonePosition(zone: string, region: string): number {
  if (!zone.startsWith(region) || zone.length !== region.length + 1 || !/[a-z]$/.test(zone)) {
    throw new LayoutError(`availability zone "${zone}" is not a zone of region ${region} (expected ${region}a, ${region}b, ...)`);
  }
  return zone.charCodeAt(zone.length - 1) - 'a'.charCodeAt(0);
}

// --- IPv4: only the edge subnets need it (AWS requires an IPv4 CIDR on every VPC). ---
// Parsed and printed by src/core/ip.ts; only the /28 carving is here.

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

// --- IPv6 ---

export interface ZoneLayout {
  zone: string;
  /** position from the zone letter */
  position: number;
  /** IPv6-only node subnet (/64) */
  nodeSubnet: Prefix;
  /** dual-stack edge subnet (/64) */
  edgeSubnet: Prefix;
  /** IPv4 /28 of the edge subnet */
  edgeIpv4: Ipv4Prefix;
  /** the API load balancer's address in this zone's edge subnet */
  apiAddress: bigint;
}

export interface ControlPlaneLayout {
  /** 0 runs kubeadm init */
  index: number;
  zone: string;
  address: bigint;
}

export interface VpcLayout {
  vpc: Prefix;
  /** every node subnet lies here; kubeadm's podSubnet (pods' /80s come from node subnets) */
  nodeTier: Prefix;
  edgeTier: Prefix;
  /** zones in the order of the stack */
  zones: ZoneLayout[];
  /**
   * the load balancer's address in the first zone: one of its certSANs and the
   * plan's `vip`. Not the endpoint nodes use: that is the load balancer's DNS
   * name, which answers with every zone's address (docs/aws.md).
   */
  apiAddress: bigint;
  controlPlanes: ControlPlaneLayout[];
}

export interface LayoutInput {
  region: string;
  zones: readonly string[];
  ipv4Cidr: string;
  controlPlaneCount: number;
}

/** Check what can be checked before AWS assigns the /56 (zones, IPv4 room). Returns problems, never throws. */
export function layoutProblems(input: LayoutInput): string[] {
  const out: string[] = [];
  let ipv4: Ipv4Prefix | undefined;
  try {
    ipv4 = parseIpv4Prefix(input.ipv4Cidr);
    if (ipv4.length < 16 || ipv4.length > EDGE_IPV4_LENGTH) out.push(`IPv4 CIDR ${input.ipv4Cidr}: AWS allows VPC IPv4 CIDRs from /16 to /28`);
  } catch (e) {
    out.push((e as Error).message);
  }
  for (const z of input.zones) {
    try {
      const pos = zonePosition(z, input.region);
      if (ipv4 && ipv4.length <= EDGE_IPV4_LENGTH && pos >= 2 ** (EDGE_IPV4_LENGTH - ipv4.length)) {
        out.push(`zone ${z} needs IPv4 /28 number ${pos} but ${input.ipv4Cidr} holds only ${2 ** (EDGE_IPV4_LENGTH - ipv4.length)}; use a /24 (16 zones, a to p) or larger`);
      }
    } catch (e) {
      out.push((e as Error).message);
    }
  }
  return out;
}

function requireVpcPrefix(vpcCidr: string): Prefix {
  let vpc: Prefix;
  try {
    vpc = parsePrefix(vpcCidr);
  } catch (e) {
    throw new LayoutError(`VPC IPv6 CIDR "${vpcCidr}": ${(e as IpError).message}`);
  }
  if (vpc.length !== VPC_IPV6_LENGTH) throw new LayoutError(`VPC IPv6 CIDR ${formatPrefix(vpc)} is not a /56; Amazon assigns a /56 to every VPC`);
  return vpc;
}

/** The whole layout once the VPC's /56 is known. Pure and deterministic. */
export function vpcLayout(vpcCidr: string, input: LayoutInput): VpcLayout {
  const problems = layoutProblems(input);
  if (problems.length) throw new LayoutError(problems.join('; '));
  if (input.zones.length === 0) throw new LayoutError('at least one availability zone is needed');
  const vpc = requireVpcPrefix(vpcCidr);
  const nodeTier = subnet(vpc, VPC_IPV6_LENGTH + 1, 0);
  const edgeTier = subnet(vpc, VPC_IPV6_LENGTH + 1, 1);
  const ipv4 = parseIpv4Prefix(input.ipv4Cidr);
  const zones = input.zones.map((zone): ZoneLayout => {
    const position = zonePosition(zone, input.region);
    const edgeSubnet = subnet(vpc, SUBNET_LENGTH, EDGE_TIER_INDEX + position);
    return {
      zone,
      position,
      nodeSubnet: subnet(vpc, SUBNET_LENGTH, position),
      edgeSubnet,
      edgeIpv4: ipv4Subnet(ipv4, EDGE_IPV4_LENGTH, position),
      apiAddress: addressAt(edgeSubnet, API_ADDRESS_OFFSET),
    };
  });
  const controlPlanes = Array.from({ length: input.controlPlaneCount }, (_, index): ControlPlaneLayout => {
    const z = zones[index % zones.length]!;
    return { index, zone: z.zone, address: addressAt(z.nodeSubnet, CONTROL_PLANE_OFFSET + BigInt(index)) };
  });
  return { vpc, nodeTier, edgeTier, zones, apiAddress: zones[0]!.apiAddress, controlPlanes };
}

/** A pinned address is reserved as a single address (an explicit subnet CIDR reservation). */
export const RESERVATION_LENGTH = 128;

/** An address the program pins (and so must keep AWS from handing to anything else). */
export interface PinnedAddress {
  /** stable resource key: "cp<k>" for control-plane node k, "api-<zone letter>" for the load balancer */
  key: string;
  zone: string;
  /** the subnet it lies in: the zone's node subnet or edge subnet */
  tier: 'nodes' | 'edge';
  address: bigint;
  /** the reservation: the address as a /128 */
  reservation: Prefix;
  what: string;
}

/**
 * Every pinned address of the layout: each control-plane node's and the load
 * balancer's address in each zone. The program reserves each one (explicit
 * subnet CIDR reservation), so AWS never assigns it, or a delegated /80
 * holding it, to another network interface.
 */
export function pinnedAddresses(l: VpcLayout): PinnedAddress[] {
  const pin = (key: string, zone: string, tier: 'nodes' | 'edge', address: bigint, what: string): PinnedAddress => ({
    key,
    zone,
    tier,
    address,
    reservation: { base: address, length: RESERVATION_LENGTH },
    what,
  });
  return [
    ...l.controlPlanes.map((c) => pin(`cp${c.index}`, c.zone, 'nodes', c.address, `control-plane node ${c.index}`)),
    ...l.zones.map((z) => pin(`api-${z.zone.slice(-1)}`, z.zone, 'edge', z.apiAddress, `API load balancer in ${z.zone}`)),
  ];
}

/** JSON-friendly view for stack outputs and logs. */
export function layoutSummary(l: VpcLayout): Record<string, unknown> {
  return {
    vpc: formatPrefix(l.vpc),
    nodeTier: formatPrefix(l.nodeTier),
    apiAddress: formatAddress(l.apiAddress),
    zones: l.zones.map((z) => ({
      zone: z.zone,
      nodeSubnet: formatPrefix(z.nodeSubnet),
      edgeSubnet: formatPrefix(z.edgeSubnet),
      edgeIpv4: formatIpv4Prefix(z.edgeIpv4),
      apiAddress: formatAddress(z.apiAddress),
    })),
    controlPlanes: l.controlPlanes.map((c) => ({ index: c.index, zone: c.zone, address: formatAddress(c.address) })),
    reservations: pinnedAddresses(l).map((p) => ({ key: p.key, zone: p.zone, tier: p.tier, cidr: formatPrefix(p.reservation) })),
  };
}
