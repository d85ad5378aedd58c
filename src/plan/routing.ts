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
 *   spine  two routes per rack (pod block + rack subnet), or one (the rack block)
 *          with the rack layout (network.racks); routing.spines of them,
 *          each linked to every ToR, the ToRs spreading traffic over all (ECMP)
 */
import { formatAddress, formatPrefix, parsePrefix, subnet, type Prefix } from '../core/ip.js';
import type { ClusterPlan, NodePlan, RackPlan } from './plan.js';

/** Name (and directory under fabric/) of the first spine router. */
export const SPINE = 'spine';
/** ToR interface facing the rack segment (holds the rack gateway address). */
export const TOR_DOWNLINK = 'rack';
/** ToR interface facing the first spine. */
export const TOR_UPLINK = 'spine';
/** Log2 of the most spines: spine s takes its links from the s-th 1/16 of routing.fabric. */
export const SPINE_BITS = 4;

export function spineCount(plan: ClusterPlan): number {
  return plan.spec.routing.spines;
}

/** Indexes 0..spines-1. */
export function spineIndexes(plan: ClusterPlan): number[] {
  return Array.from({ length: spineCount(plan) }, (_, s) => s);
}

/**
 * Name of spine s (its directory under fabric/, its ToR-side port and BIRD
 * session): "spine", "spine1", "spine2", ... The first spine keeps the name
 * it had when it was the only one, so adding spines renames nothing.
 */
export function spineName(s: number): string {
  return s === 0 ? SPINE : `${SPINE}${s}`;
}

/** ToR interface facing spine s. */
export function torUplink(s: number): string {
  return s === 0 ? TOR_UPLINK : `${TOR_UPLINK}${s}`;
}

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

/**
 * The link between the ToR of a rack and spine s (RFC 6164 /127s): the
 * rack-index-th /127 of the s-th 1/16 of routing.fabric. The first 1/16
 * starts where routing.fabric does, so spine 0's links are the rack-index-th
 * /127s of routing.fabric itself, as with a single spine.
 */
export function fabricLink(plan: ClusterPlan, rackIndex: number, spine = 0): FabricLink {
  const f = fabricPrefix(plan);
  const block = spine === 0 ? f : subnet(f, f.length + SPINE_BITS, spine);
  const p = subnet(block, 127, rackIndex);
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
  // spelt out (no array, closure or join): it runs for every node, mostly before V8 optimises it
  return `${Math.floor(id / 2 ** 24) % 256}.${Math.floor(id / 2 ** 16) % 256}.${Math.floor(id / 2 ** 8) % 256}.${id % 256}`;
}

export function nodeRouterId(plan: ClusterPlan, node: NodePlan): string {
  return formatRouterId(routerId('node', nodePosition(plan, node)));
}

export function torRouterId(rack: RackPlan): string {
  return formatRouterId(routerId('tor', rack.index));
}

export function spineRouterId(s = 0): string {
  return formatRouterId(routerId('spine', s));
}

/** BIRD protocol name of a node's session on its ToR. */
export function nodeProtocol(node: NodePlan): string {
  return `node_s${node.slot}`;
}

/** BIRD protocol name of a ToR's session on a spine. */
export function torProtocol(rack: RackPlan): string {
  return `tor${rack.index}`;
}

/** BIRD protocol name of a ToR's session with spine s (its port's name). */
export function spineProtocol(s: number): string {
  return torUplink(s);
}

/** One route as a router's kernel should hold it. */
export interface ExpectedRoute {
  /** destination prefix, canonical ("::/0" for the default) */
  to: string;
  /** next hop, canonical; absent for discard routes; the first of `vias` for a multipath route */
  via?: string;
  /** every next hop of a multipath (ECMP) route, sorted */
  vias?: string[];
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

/** Next hops of a ToR's default route: every spine (or `spines`, those still up), sorted. */
export function torDefaultVias(plan: ClusterPlan, rack: RackPlan, spines: readonly number[] = spineIndexes(plan)): string[] {
  return spines.map((s) => formatAddress(fabricLink(plan, rack.index, s).spine)).sort();
}

export function expectedTorRoutes(plan: ClusterPlan, rack: RackPlan, nodes: Iterable<NodePlan> = plan.nodesOfRack(rack), spines: readonly number[] = spineIndexes(plan)): ExpectedRoute[] {
  const vias = torDefaultVias(plan, rack, spines);
  const def: ExpectedRoute =
    vias.length > 1
      ? { to: '::/0', via: vias[0], vias, type: 'unicast', why: `default toward the spines (ECMP over ${vias.length})` }
      : { to: '::/0', via: vias[0], type: 'unicast', why: 'default toward the spine' };
  const out: ExpectedRoute[] = [
    def,
    { to: formatPrefix(rack.podBlock), type: 'unreachable', why: `pod block of rack ${rack.name} (discard)` },
  ];
  if (rack.aggregate) out.push({ to: formatPrefix(rack.aggregate), type: 'unreachable', why: `rack block of rack ${rack.name} (discard: what neither the subnet nor the pod block holds goes nowhere)` });
  for (const n of nodes) out.push({ to: formatPrefix(n.podPrefix), via: formatAddress(n.address), type: 'unicast', why: `pod prefix of ${n.name}` });
  return out;
}

export function expectedSpineRoutes(plan: ClusterPlan, racks: Iterable<RackPlan> = plan.racks(), spine = 0): ExpectedRoute[] {
  const out: ExpectedRoute[] = [];
  for (const r of racks) {
    const via = formatAddress(fabricLink(plan, r.index, spine).tor);
    if (r.aggregate) {
      out.push({ to: formatPrefix(r.aggregate), via, type: 'unicast', why: `rack block of rack ${r.name} (node subnet + pod block)` });
      continue;
    }
    out.push({ to: formatPrefix(r.podBlock), via, type: 'unicast', why: `pod block of rack ${r.name}` });
    out.push({ to: formatPrefix(r.subnet), via, type: 'unicast', why: `node subnet of rack ${r.name}` });
  }
  return out;
}
