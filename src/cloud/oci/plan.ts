/**
 * The cluster plan as an OCI node sees it (src/cloud/shared/node-view.ts does
 * the work): node and pod range = the VCN's node tier, API endpoint = the
 * Network Load Balancer's pinned IPv6 address, DNS = the DNS64 resolver on the
 * NAT64 instance, control planes = pinned address and pinned /80, workers =
 * stand-ins filled in at boot.
 */
import { formatAddress } from '../../core/ip.js';
import type { ClusterPlan, NodePlan, RackPlan } from '../../plan/plan.js';
import { cloudClusterView, cloudControlPlaneNode, cloudWorkerNode, subnetRack } from '../shared/node-view.js';
import type { VcnLayout } from './layout.js';

function nodeRack(l: VcnLayout, name: string, nodeCount: number): RackPlan {
  return subnetRack(0, name, l.nodeSubnet, l.nodeSubnet, nodeCount);
}

/** "[address]:port": kubeadm's controlPlaneEndpoint, the load balancer's pinned IPv6 address. */
export function ociApiEndpoint(l: VcnLayout, port: number): string {
  return `[${formatAddress(l.apiAddress)}]:${port}`;
}

/** Control-plane node k on OCI: pinned address and pinned /80; host name and uplink from boot. */
export function ociControlPlaneNode(plan: ClusterPlan, l: VcnLayout, k: number): NodePlan {
  const cp = l.controlPlanes[k];
  if (!cp) throw new RangeError(`no control-plane node ${k}`);
  return cloudControlPlaneNode(plan, k, nodeRack(l, 'control-plane', l.controlPlanes.length), cp.address, cp.podPrefix);
}

/** One worker of a pool: address, /80, host name and uplink all come from boot. */
export function ociWorkerNode(l: VcnLayout, pool: string): NodePlan {
  return cloudWorkerNode(nodeRack(l, pool, 0));
}

export function ociClusterPlan(plan: ClusterPlan, l: VcnLayout): ClusterPlan {
  if (l.controlPlanes.length !== plan.controlPlanes.length) {
    throw new RangeError(`layout has ${l.controlPlanes.length} control-plane node(s), the plan ${plan.controlPlanes.length}`);
  }
  return cloudClusterView(
    plan,
    { nodeRange: l.nodeTier, podRange: l.nodeTier, vip: l.apiAddress, controlPlaneEndpoint: ociApiEndpoint(l, plan.apiPort), dns: [l.nat64Address] },
    (_view, k) => ociControlPlaneNode(plan, l, k),
  );
}
