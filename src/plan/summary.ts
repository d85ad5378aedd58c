/**
 * What the plan means for each routing tier, computed from the layout alone
 * (O(racks listed), never O(nodes)).
 */
import { formatAddress, formatPrefix } from '../core/ip.js';
import type { RoutingMode } from '../spec/load.js';
import type { ClusterPlan, RackPlan } from './plan.js';
import { rackNodeCount } from './racks.js';
import { fabricPrefix } from './routing.js';

/**
 * Routes per tier. A "route" here is routing state: every IPv6 route of the
 * main table except connected ones (the kernel's own routes for the prefixes
 * of a host's interfaces and link-local) and, on a node, the /128 host route
 * the CNI plugin adds for each local pod, which never leaves the node.
 * `flat6 lab check` measures exactly these on real routers.
 */
export interface TierSummary {
  mode: RoutingMode;
  /** true with network.racks: one rack block per rack holds its subnet and pod block (absent otherwise) */
  rackLayout?: true;
  /** routes a node holds: default via its rack gateway + its own pod prefix (discard, so unused pod addresses do not loop) */
  node: number;
  /** per node of its rack, a ToR holds that node's pod prefix */
  torPerNode: number;
  /** besides, a ToR holds a default route toward the spine and its rack pod block (discard) */
  torFixed: number;
  /** routes of the ToR of the fullest rack */
  torMax: number;
  /** routes each spine holds: per rack, the pod block and the node subnet */
  spinePerRack: number;
  /** routes of each spine */
  spine: number;
  /** number of spines; each holds `spine` routes, each ToR's default route goes over all of them (ECMP) */
  spines: number;
}

export const NODE_ROUTES = 2;
export const TOR_ROUTES_PER_NODE = 1;
export const TOR_FIXED_ROUTES = 2;
export const SPINE_ROUTES_PER_RACK = 2;
/** With the rack layout (network.racks): the ToR also discards its rack block; the spine holds only that block. */
export const TOR_FIXED_ROUTES_RACK_LAYOUT = 3;
export const SPINE_ROUTES_PER_RACK_LAYOUT = 1;

/** Routes on the ToR of a rack holding `nodes` nodes. */
export function torRoutes(nodes: number, rackLayout = false): number {
  return nodes * TOR_ROUTES_PER_NODE + (rackLayout ? TOR_FIXED_ROUTES_RACK_LAYOUT : TOR_FIXED_ROUTES);
}

/** Routes on the spine of a fabric of `racks` racks. */
export function spineRoutes(racks: number, rackLayout = false): number {
  return racks * (rackLayout ? SPINE_ROUTES_PER_RACK_LAYOUT : SPINE_ROUTES_PER_RACK);
}

/** True when the plan uses the rack layout (one rack block per rack). */
export function hasRackLayout(plan: ClusterPlan): boolean {
  return plan.rackRange !== undefined;
}

export function tierSummary(plan: ClusterPlan): TierSummary {
  let maxNodes = 0;
  if (plan.spec.racks.kind === 'generated') maxNodes = plan.spec.racks.nodes;
  else for (const r of plan.spec.racks.items) maxNodes = Math.max(maxNodes, rackNodeCount(r));
  const rl = hasRackLayout(plan);
  return {
    mode: plan.spec.routing.mode,
    ...(rl ? { rackLayout: true as const } : {}),
    node: NODE_ROUTES,
    torPerNode: TOR_ROUTES_PER_NODE,
    torFixed: rl ? TOR_FIXED_ROUTES_RACK_LAYOUT : TOR_FIXED_ROUTES,
    torMax: torRoutes(maxNodes, rl),
    spinePerRack: rl ? SPINE_ROUTES_PER_RACK_LAYOUT : SPINE_ROUTES_PER_RACK,
    spine: spineRoutes(plan.rackCount, rl),
    spines: plan.spec.routing.spines,
  };
}

export interface Churn {
  podMove: string;
  nodeAdd: string;
  rackAdd: string;
}

/** What changes where when a pod moves, a node is added, a rack is added. */
export function churnOf(mode: RoutingMode, spines = 1, rackLayout = false): Churn {
  const what = rackLayout ? 'one route (the rack block)' : 'two routes (rack pod block + rack subnet)';
  const podMove = "no route changes anywhere: the pod takes an address from its new node's prefix";
  return mode === 'bgp'
    ? {
        podMove: `${podMove}; no BGP update is sent`,
        nodeAdd: "its ToR gains one BGP neighbor and learns one route (the node's pod prefix); none at the spine (the rack pod block already covers it)",
        rackAdd: `${spines > 1 ? `each of the ${spines} spines gains` : 'the spine gains'} one BGP neighbor (the new ToR) and learns ${what}; no change in other racks (they reach it by their default route)`,
      }
    : {
        podMove,
        nodeAdd: "one static route at its ToR (the node's pod prefix via the node's address); none at the spine (the rack pod block already covers it)",
        rackAdd: `${rackLayout ? 'one static route at the spine (the rack block' : 'two static routes at the spine (rack pod block + rack subnet'} via the new ToR); no change in other racks (they reach it by their default route)`,
      };
}

/** Human lines of `flat6 plan`: routing state per tier and what churn changes. */
export function routingStatements(plan: ClusterPlan): string[] {
  const t = tierSummary(plan);
  const c = churnOf(t.mode, t.spines, t.rackLayout === true);
  const how = t.mode === 'bgp' ? 'learned by BGP' : 'static';
  return [
    `routing state per tier (${t.mode} mode; connected routes aside; pod prefixes are routed, pods are not):`,
    `  node   ${t.node} routes: default via its rack gateway + its own pod prefix (discard; each local pod adds a /128 host route that stays on the node)`,
    `  ToR    ${t.torPerNode} route per node (its pod prefix, ${how}) + default toward the spine${t.spines > 1 ? `s (one multipath route over all ${t.spines}: ECMP)` : ''} + the rack pod block${t.rackLayout ? ' and the rack block' : ''} (discard): at most ${t.torMax}`,
    t.rackLayout
      ? `  spine  ${t.spinePerRack} route per rack (its rack block, holding node subnet and pod block, ${how}): ${t.spine} in all${t.spines > 1 ? ` at each of ${t.spines} spines` : ' (one spine)'}`
      : `  spine  ${t.spinePerRack} routes per rack (pod block + rack subnet, ${how}): ${t.spine} in all${t.spines > 1 ? ` at each of ${t.spines} spines` : ' (one spine)'}`,
    `  pod move: ${c.podMove}`,
    `  node add: ${c.nodeAdd}`,
    `  rack add: ${c.rackAdd}`,
    `  fabric links: one /127 per rack${t.spines > 1 ? ' and spine' : ''} from ${formatPrefix(fabricPrefix(plan))}${t.spines > 1 ? ' (spine s: its s-th 1/16)' : ''} (spine even address, ToR odd)`,
    ...(t.mode === 'bgp'
      ? [`  recovery: BFD ${plan.spec.routing.bfd.enabled ? `${plan.spec.routing.bfd.intervalMs} ms x ${plan.spec.routing.bfd.multiplier} on every session` : 'off'}; a failed session retries after ${plan.spec.routing.bgp.errorWaitTime} s (doubling up to ${plan.spec.routing.bgp.errorWaitMaxTime} s); graceful restart ${plan.spec.routing.bgp.gracefulRestartTime} s`]
      : []),
    ...(t.mode === 'bgp' ? [`  AS numbers: spine ${plan.spec.routing.asn.spine}, ToR ${plan.spec.routing.asn.tor} + rack index, node ${plan.spec.routing.asn.node} + rack index x ${plan.spec.layout.slotsPerRack} + slot`] : []),
  ];
}

export function clusterSummary(plan: ClusterPlan): Record<string, unknown> {
  return {
    stack: plan.stackName,
    cluster: plan.name,
    kubernetesVersion: plan.kubernetesVersion,
    nodeRange: formatPrefix(plan.nodeRange),
    podRange: formatPrefix(plan.podRange),
    ...(plan.rackRange ? { rackRange: formatPrefix(plan.rackRange), rackBlockLength: plan.rackBlockLength } : {}),
    serviceRange: formatPrefix(plan.serviceRange),
    rackSubnetLength: plan.rackSubnetLength,
    rackPodBlockLength: plan.rackPodLength,
    podPrefixLength: plan.podPrefixLength,
    slotsPerRack: plan.spec.layout.slotsPerRack,
    apiServiceIP: formatAddress(plan.apiServiceIP),
    dnsServiceIP: formatAddress(plan.dnsServiceIP),
    dns: plan.dns.map(formatAddress),
    vip: formatAddress(plan.vip),
    controlPlaneEndpoint: plan.controlPlaneEndpoint,
    controlPlaneRack: plan.controlPlaneRack.name,
    controlPlanes: plan.controlPlanes.map((n) => ({ name: n.name, address: formatAddress(n.address) })),
    rackCount: plan.rackCount,
    nodeCount: plan.nodeCount,
    routes: tierSummary(plan),
    churn: churnOf(plan.spec.routing.mode, plan.spec.routing.spines, hasRackLayout(plan)),
    routing: {
      mode: plan.spec.routing.mode,
      fabric: formatPrefix(fabricPrefix(plan)),
      spines: plan.spec.routing.spines,
      ...(plan.spec.routing.mode === 'bgp' ? { asn: plan.spec.routing.asn } : {}),
    },
  };
}

export function rackSummary(r: RackPlan): Record<string, unknown> {
  return { name: r.name, index: r.index, subnet: formatPrefix(r.subnet), gateway: formatAddress(r.gateway), podBlock: formatPrefix(r.podBlock), ...(r.aggregate ? { rackBlock: formatPrefix(r.aggregate) } : {}), nodes: r.nodeCount };
}
