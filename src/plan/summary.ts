/**
 * What the plan means for each routing tier, computed from the layout alone
 * (O(racks listed), never O(nodes)).
 */
import { formatAddress, formatPrefix } from '../core/ip.js';
import type { ClusterPlan, RackPlan } from './plan.js';

export interface TierSummary {
  /** routes a node holds: default route + its own pod prefix */
  node: number;
  /** routes a ToR holds for its rack: one per node (pod prefix) + the connected rack subnet */
  torPerNode: number;
  torMax: number;
  /** routes the spine holds: per rack, the pod block and the node subnet */
  spinePerRack: number;
  spine: number;
}

export function tierSummary(plan: ClusterPlan): TierSummary {
  let maxNodes = 0;
  if (plan.spec.racks.kind === 'generated') maxNodes = plan.spec.racks.nodes;
  else for (const r of plan.spec.racks.items) maxNodes = Math.max(maxNodes, typeof r.nodes === 'number' ? r.nodes : r.nodes.length);
  return {
    node: 2,
    torPerNode: 1,
    torMax: maxNodes + 1,
    spinePerRack: 2,
    spine: plan.rackCount * 2,
  };
}

export const CHURN = {
  podMove: 'no route changes anywhere: the pod takes an address from its new node\'s prefix',
  nodeAdd: 'one route (the node\'s pod prefix) at its ToR; none at the spine (the rack block already covers it)',
  rackAdd: 'two routes at the spine (rack pod block + rack subnet); no change in other racks',
};

export function clusterSummary(plan: ClusterPlan): Record<string, unknown> {
  return {
    stack: plan.stackName,
    cluster: plan.name,
    kubernetesVersion: plan.kubernetesVersion,
    nodeRange: formatPrefix(plan.nodeRange),
    podRange: formatPrefix(plan.podRange),
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
    churn: CHURN,
  };
}

export function rackSummary(r: RackPlan): Record<string, unknown> {
  return { name: r.name, index: r.index, subnet: formatPrefix(r.subnet), gateway: formatAddress(r.gateway), podBlock: formatPrefix(r.podBlock), nodes: r.nodeCount };
}
