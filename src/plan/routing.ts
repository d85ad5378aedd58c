/**
 * The routing plan: every number of the fabric (AS numbers, router IDs, fabric
 * link addresses, router and port names) and the routes each tier holds once
 * converged, all functions of (rack index, slot) alone, so adding a node or a
 * rack never changes another router's identity. The renderers
 * (src/render/routing.ts), the lab and `flat6 plan` read it; docs/routing.md
 * explains the scheme.
 *
 *   node   announces its pod prefix to its ToR (bgp) / holds a discard route for it
 *   ToR    one route per node + a default toward the spine + the rack pod block (discard)
 *   spine  two routes per rack (pod block + rack subnet)
 */
import { formatAddress, formatPrefix, parsePrefix, subnet, type Prefix } from '../core/ip.js';
import type { ClusterPlan, NodePlan, RackPlan } from './plan.js';

/** Name (and directory under fabric/) of the spine router. */
export const SPINE = 'spine';
/** ToR interface facing the rack segment (holds the rack gateway address). */
export const TOR_DOWNLINK = 'rack';
/** ToR interface facing the spine. */
export const TOR_UPLINK = 'spine';

/** Name (and directory under fabric/) of the top-of-rack router of a rack. */
export function torName(rack: RackPlan): string {
  return `tor-${rack.name}`;
}

/** Spine port toward the ToR of rack `index`. */
export function spinePort(rackIndex: number): string {
  return `tor${rackIndex}`;
}

export function fabricPrefix(plan: ClusterPlan): Prefix {
  return parsePrefix(plan.spec.routing.fabric);
}

export interface FabricLink {
  prefix: Prefix;
  /** even address */
  spine: bigint;
  /** odd address */
  tor: bigint;
}

/** The ToR-spine link of a rack: the rack-index-th /127 of routing.fabric (RFC 6164). */
export function fabricLink(plan: ClusterPlan, rackIndex: number): FabricLink {
  const p = subnet(fabricPrefix(plan), 127, rackIndex);
  return { prefix: p, spine: p.base, tor: p.base + 1n };
}

export function spineAsn(plan: ClusterPlan): number {
  return plan.spec.routing.asn.spine;
}

export function torAsn(plan: ClusterPlan, rackIndex: number): number {
  return plan.spec.routing.asn.tor + rackIndex;
}

/** Position of a node among all slots of the cluster: rack index x slotsPerRack + slot. */
export function nodePosition(plan: ClusterPlan, node: NodePlan): number {
  return node.rack.index * plan.spec.layout.slotsPerRack + node.slot;
}

export function nodeAsn(plan: ClusterPlan, node: NodePlan): number {
  return plan.spec.routing.asn.node + nodePosition(plan, node);
}

/**
 * BGP router IDs are 32-bit numbers, written like IPv4 addresses even in an
 * IPv6-only network. The top four bits name the tier (1 node, 2 ToR, 3 spine),
 * the other 28 hold position + 1: never 0, never in 224.0.0.0/4, unique in the
 * fabric. The AS plan already limits positions to the 94,967,295 private AS
 * numbers, far below 2^28 - 1.
 */
export const ROUTER_ID_TIER = { node: 1, tor: 2, spine: 3 } as const;
const POSITION_LIMIT = 2 ** 28 - 1;

export function routerId(tier: keyof typeof ROUTER_ID_TIER, position: number): number {
  if (!Number.isInteger(position) || position < 0 || position >= POSITION_LIMIT) {
    throw new RangeError(`router ID position ${position} is outside 0..${POSITION_LIMIT - 1}`);
  }
  return ROUTER_ID_TIER[tier] * 2 ** 28 + position + 1;
}

export function formatRouterId(id: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(id / 2 ** s) % 256).join('.');
}

export function nodeRouterId(plan: ClusterPlan, node: NodePlan): string {
  return formatRouterId(routerId('node', nodePosition(plan, node)));
}

export function torRouterId(rack: RackPlan): string {
  return formatRouterId(routerId('tor', rack.index));
}

export function spineRouterId(): string {
  return formatRouterId(routerId('spine', 0));
}

/** BIRD protocol name of a node's session on its ToR. */
export function nodeProtocol(node: NodePlan): string {
  return `node_s${node.slot}`;
}

/** BIRD protocol name of a ToR's session on the spine. */
export function torProtocol(rack: RackPlan): string {
  return `tor${rack.index}`;
}

/** One route as a router's kernel should hold it. */
export interface ExpectedRoute {
  /** destination prefix, canonical ("::/0" for the default) */
  to: string;
  /** next hop, canonical; absent for discard routes */
  via?: string;
  type: 'unicast' | 'unreachable';
  /** what the route is for */
  why: string;
}

/**
 * The routing state each tier holds once converged, in either mode (connected
 * routes aside). src/plan/summary.ts predicts the counts; `flat6 lab check`
 * compares these sets with the kernels.
 */
export function expectedNodeRoutes(node: NodePlan): ExpectedRoute[] {
  return [
    { to: '::/0', via: formatAddress(node.rack.gateway), type: 'unicast', why: 'default via the rack gateway' },
    { to: formatPrefix(node.podPrefix), type: 'unreachable', why: `pod prefix of ${node.name} (discard)` },
  ];
}

export function expectedTorRoutes(plan: ClusterPlan, rack: RackPlan, nodes: Iterable<NodePlan> = plan.nodesOfRack(rack)): ExpectedRoute[] {
  const link = fabricLink(plan, rack.index);
  const out: ExpectedRoute[] = [
    { to: '::/0', via: formatAddress(link.spine), type: 'unicast', why: 'default toward the spine' },
    { to: formatPrefix(rack.podBlock), type: 'unreachable', why: `pod block of rack ${rack.name} (discard)` },
  ];
  for (const n of nodes) out.push({ to: formatPrefix(n.podPrefix), via: formatAddress(n.address), type: 'unicast', why: `pod prefix of ${n.name}` });
  return out;
}

export function expectedSpineRoutes(plan: ClusterPlan, racks: Iterable<RackPlan> = plan.racks()): ExpectedRoute[] {
  const out: ExpectedRoute[] = [];
  for (const r of racks) {
    const via = formatAddress(fabricLink(plan, r.index).tor);
    out.push({ to: formatPrefix(r.podBlock), via, type: 'unicast', why: `pod block of rack ${r.name}` });
    out.push({ to: formatPrefix(r.subnet), via, type: 'unicast', why: `node subnet of rack ${r.name}` });
  }
  return out;
}
