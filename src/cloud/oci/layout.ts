/**
 * Where everything sits inside the VCN, as pure functions of the /56 Oracle
 * allocates (an IPv6-enabled VCN's GUA prefix) and the stack. The program calls
 * `vcnLayout` inside `.apply` once OCI reveals the /56; tests call it with
 * documentation prefixes. The tier layout is the one AWS uses
 * (src/cloud/shared/tiers.ts) at position 0: OCI subnets are regional, so one
 * node subnet and one edge subnet serve every availability domain.
 *
 *   VCN /56
 *   ├── node subnet = /64 number 0 (every node: one IPv6 address + one /80 for pods)
 *   │     control plane k: address ::10+k, pod prefix = /80 number 1+k (pinned)
 *   │     workers: address and /80 chosen by OCI at launch / boot
 *   └── edge subnet = /64 number 128
 *         API Network Load Balancer at ::6443, NAT64/DNS64 instance at ::53,
 *         NAT64 prefix <edge subnet>:0:64::/96 (assigned to the NAT64 VNIC)
 *
 * IPv4 (OCI puts a private IPv4 address on every VNIC): node subnet = lower
 * half of the stack's IPv4 CIDR, edge subnet = its last /27.
 */
import { addressAt, formatAddress, formatPrefix, subnet, type Prefix } from '../../core/ip.js';
import {
  controlPlaneAddress,
  formatIpv4Prefix,
  ipv4Subnet,
  LayoutError,
  parseIpv4Prefix,
  requireCloudPrefix,
  tiersOf,
  tierSubnets,
  type Ipv4Prefix,
} from '../shared/tiers.js';

/** Every node's pod prefix: one /80, an `oci.core.Ipv6` with cidrPrefixLength 80 on its VNIC. */
export const POD_PREFIX_LENGTH = 80;
/** The NAT64 prefix length (RFC 6052: /96 embeds the IPv4 address in the last 32 bits). */
export const NAT64_PREFIX_LENGTH = 96;
/** The NAT64 prefix sits at <edge subnet>:0:64::/96. */
export const NAT64_PREFIX_OFFSET = 0x64n << 32n;
/** The NAT64/DNS64 instance's own address (and the nodes' resolver): <edge subnet>::53. */
export const NAT64_ADDRESS_OFFSET = 0x53n;
/** OCI allows VCN IPv4 CIDRs from /16 to /30; flat6 needs a node half and an edge /27. */
export const IPV4_MIN_LENGTH = 16;
export const IPV4_MAX_LENGTH = 24;
export const EDGE_IPV4_LENGTH = 27;
/** OCI reserves the first two and the last IPv4 address of every subnet. */
export const OCI_RESERVED_IPV4 = 3;
/** A VNIC holds at most 32 IPv6 addresses (Oracle's IPv6 documentation); a node uses 2 (its address and its /80). */
export const IPV6_PER_VNIC = 32;

export interface ControlPlaneLayout {
  /** 0 runs kubeadm init */
  index: number;
  availabilityDomain: string;
  faultDomain?: string;
  address: bigint;
  /** pinned: created by the program on the node's VNIC */
  podPrefix: Prefix;
}

export interface NodeCapacity {
  /** /80s in the node subnet */
  podPrefixes: number;
  /** nodes the node subnet's IPv6 space holds: each takes one address (in some /80 OCI picks) and one /80 */
  ipv6Nodes: number;
  /** usable IPv4 addresses of the node subnet (every VNIC needs one) */
  ipv4Nodes: number;
  /** the smaller of the two: the most nodes (control planes + workers) a stack may have */
  nodes: number;
}

export interface VcnLayout {
  vcn: Prefix;
  /** kubeadm's podSubnet and the node range: every node's address and /80 lie here */
  nodeTier: Prefix;
  nodeSubnet: Prefix;
  edgeSubnet: Prefix;
  nodeIpv4: Ipv4Prefix;
  edgeIpv4: Ipv4Prefix;
  /** the Network Load Balancer's pinned IPv6 address: the API endpoint */
  apiAddress: bigint;
  /** the NAT64/DNS64 instance's pinned IPv6 address: the nodes' DNS server */
  nat64Address: bigint;
  /** DNS64 synthesizes addresses here; the VCN delivers it to the NAT64 instance's VNIC */
  nat64Prefix: Prefix;
  controlPlanes: ControlPlaneLayout[];
  capacity: NodeCapacity;
}

export interface LayoutInput {
  availabilityDomains: readonly string[];
  faultDomains: readonly string[];
  ipv4Cidr: string;
  controlPlaneCount: number;
}

/** The IPv4 CIDR's problems, before OCI assigns anything. Never throws. */
export function ipv4Problems(ipv4Cidr: string): string[] {
  try {
    const p = parseIpv4Prefix(ipv4Cidr);
    if (p.length < IPV4_MIN_LENGTH || p.length > IPV4_MAX_LENGTH) return [`IPv4 CIDR ${ipv4Cidr}: flat6 needs a /${IPV4_MIN_LENGTH} to /${IPV4_MAX_LENGTH} (OCI allows /16 to /30; the node subnet takes half of it)`];
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/** How many nodes the layout holds (pure: depends on the IPv4 CIDR and the number of control planes). */
export function nodeCapacity(ipv4Cidr: string, controlPlaneCount: number): NodeCapacity {
  const v4 = parseIpv4Prefix(ipv4Cidr);
  const podPrefixes = 2 ** (POD_PREFIX_LENGTH - 64);
  // /80 number 0 holds the control planes' addresses, 1..n their prefixes; a
  // worker's address may block one more /80 besides its own prefix.
  const ipv6Nodes = controlPlaneCount + Math.floor((podPrefixes - 1 - controlPlaneCount) / 2);
  const ipv4Nodes = 2 ** (32 - (v4.length + 1)) - OCI_RESERVED_IPV4;
  return { podPrefixes, ipv6Nodes, ipv4Nodes, nodes: Math.min(ipv6Nodes, ipv4Nodes) };
}

/** The whole layout once the VCN's /56 is known. Pure and deterministic. */
export function vcnLayout(vcnCidr: string, input: LayoutInput): VcnLayout {
  const problems = ipv4Problems(input.ipv4Cidr);
  if (problems.length) throw new LayoutError(problems.join('; '));
  if (input.availabilityDomains.length === 0) throw new LayoutError('at least one availability domain is needed');
  const vcn = requireCloudPrefix(vcnCidr, 'VCN', 'Oracle');
  const { nodeTier } = tiersOf(vcn);
  const { nodeSubnet, edgeSubnet, apiAddress } = tierSubnets(vcn, 0);
  const v4 = parseIpv4Prefix(input.ipv4Cidr);
  const capacity = nodeCapacity(input.ipv4Cidr, input.controlPlaneCount);
  if (input.controlPlaneCount + 1 >= capacity.podPrefixes) throw new LayoutError(`${input.controlPlaneCount} control planes do not fit the node subnet`);
  const controlPlanes = Array.from({ length: input.controlPlaneCount }, (_, index): ControlPlaneLayout => ({
    index,
    availabilityDomain: input.availabilityDomains[index % input.availabilityDomains.length],
    ...(input.faultDomains.length ? { faultDomain: input.faultDomains[index % input.faultDomains.length] } : {}),
    address: controlPlaneAddress(nodeSubnet, index),
    podPrefix: subnet(nodeSubnet, POD_PREFIX_LENGTH, 1 + index),
  }));
  return {
    vcn,
    nodeTier,
    nodeSubnet,
    edgeSubnet,
    nodeIpv4: ipv4Subnet(v4, v4.length + 1, 0),
    edgeIpv4: ipv4Subnet(v4, EDGE_IPV4_LENGTH, 2 ** (EDGE_IPV4_LENGTH - v4.length) - 1),
    apiAddress,
    nat64Address: addressAt(edgeSubnet, NAT64_ADDRESS_OFFSET),
    nat64Prefix: { base: edgeSubnet.base + NAT64_PREFIX_OFFSET, length: NAT64_PREFIX_LENGTH },
    controlPlanes,
    capacity,
  };
}

/** JSON-friendly view for stack outputs: every address decision and the limits. */
export function layoutSummary(l: VcnLayout): Record<string, unknown> {
  return {
    vcn: formatPrefix(l.vcn),
    nodeTier: formatPrefix(l.nodeTier),
    nodeSubnet: { ipv6: formatPrefix(l.nodeSubnet), ipv4: formatIpv4Prefix(l.nodeIpv4) },
    edgeSubnet: { ipv6: formatPrefix(l.edgeSubnet), ipv4: formatIpv4Prefix(l.edgeIpv4) },
    apiAddress: formatAddress(l.apiAddress),
    nat64: { address: formatAddress(l.nat64Address), prefix: formatPrefix(l.nat64Prefix) },
    controlPlanes: l.controlPlanes.map((c) => ({
      index: c.index,
      availabilityDomain: c.availabilityDomain,
      ...(c.faultDomain ? { faultDomain: c.faultDomain } : {}),
      address: formatAddress(c.address),
      podPrefix: formatPrefix(c.podPrefix),
    })),
    limits: {
      podPrefixLength: POD_PREFIX_LENGTH,
      podPrefixesInNodeSubnet: l.capacity.podPrefixes,
      nodesByIpv6: l.capacity.ipv6Nodes,
      nodesByIpv4: l.capacity.ipv4Nodes,
      maxNodes: l.capacity.nodes,
      ipv6AddressesPerVnic: IPV6_PER_VNIC,
    },
  };
}
