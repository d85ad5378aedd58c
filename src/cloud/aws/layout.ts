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
import { formatAddress, formatPrefix, type Prefix } from '../../core/ip.js';
import {
  API_ADDRESS_OFFSET,
  CLOUD_IPV6_LENGTH,
  CONTROL_PLANE_OFFSET,
  controlPlaneAddress,
  EDGE_TIER_INDEX,
  formatIpv4Prefix,
  ipv4Subnet,
  LayoutError,
  parseIpv4Prefix,
  requireCloudPrefix,
  SUBNET_LENGTH,
  tiersOf,
  tierSubnets,
  type Ipv4Prefix,
} from '../shared/tiers.js';

// The tier layout is shared with OCI (src/cloud/shared/tiers.ts); re-exported for AWS callers.
export { API_ADDRESS_OFFSET, CONTROL_PLANE_OFFSET, EDGE_TIER_INDEX, formatIpv4Prefix, ipv4Subnet, LayoutError, parseIpv4Prefix, SUBNET_LENGTH, type Ipv4Prefix };

export const VPC_IPV6_LENGTH = CLOUD_IPV6_LENGTH;
/** AWS delegates /80 prefixes to network interfaces. */
export const POD_PREFIX_LENGTH = 80;
/** The smallest IPv4 subnet AWS allows; one per edge subnet. */
export const EDGE_IPV4_LENGTH = 28;
/** AWS reserves the first four and the last address of every subnet. */
export const AWS_RESERVED_LOW = 4n;

/** Zone position from its letter: "<region>a" -> 0 ... "<region>z" -> 25. */
export function zonePosition(zone: string, region: string): number {
  if (!zone.startsWith(region) || zone.length !== region.length + 1 || !/[a-z]$/.test(zone)) {
    throw new LayoutError(`availability zone "${zone}" is not a zone of region ${region} (expected ${region}a, ${region}b, ...)`);
  }
  return zone.charCodeAt(zone.length - 1) - 'a'.charCodeAt(0);
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
  return requireCloudPrefix(vpcCidr, 'VPC', 'Amazon');
}

/** The whole layout once the VPC's /56 is known. Pure and deterministic. */
export function vpcLayout(vpcCidr: string, input: LayoutInput): VpcLayout {
  const problems = layoutProblems(input);
  if (problems.length) throw new LayoutError(problems.join('; '));
  if (input.zones.length === 0) throw new LayoutError('at least one availability zone is needed');
  const vpc = requireVpcPrefix(vpcCidr);
  const { nodeTier, edgeTier } = tiersOf(vpc);
  const ipv4 = parseIpv4Prefix(input.ipv4Cidr);
  const zones = input.zones.map((zone): ZoneLayout => {
    const position = zonePosition(zone, input.region);
    return { zone, position, ...tierSubnets(vpc, position), edgeIpv4: ipv4Subnet(ipv4, EDGE_IPV4_LENGTH, position) };
  });
  const controlPlanes = Array.from({ length: input.controlPlaneCount }, (_, index): ControlPlaneLayout => {
    const z = zones[index % zones.length];
    return { index, zone: z.zone, address: controlPlaneAddress(z.nodeSubnet, index) };
  });
  return { vpc, nodeTier, edgeTier, zones, apiAddress: zones[0].apiAddress, controlPlanes };
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
