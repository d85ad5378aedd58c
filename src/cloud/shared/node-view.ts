/**
 * The cluster plan as a cloud node sees it. The core plan (checked, from
 * flat6:cluster) supplies the Kubernetes settings; the cloud supplies the
 * addresses: node and pod ranges from its /56, the API endpoint of its load
 * balancer, pinned control-plane addresses, and stand-ins (sentinels.ts) for
 * what only a booting node knows. The core renderers take these views
 * unchanged, so the same templates serve bare metal, AWS and OCI.
 */
import type { Prefix } from '../../core/ip.js';
import type { ClusterPlan, NodePlan, RackPlan } from '../../plan/plan.js';
import { SENTINEL_ADDRESS, SENTINEL_HOSTNAME, SENTINEL_INTERFACE, SENTINEL_POD_PREFIX } from './sentinels.js';

/** A rack standing for a cloud subnet (its gateway is a label: the cloud's router advertises the default route). */
export function subnetRack(index: number, name: string, subnet: Prefix, podBlock: Prefix, nodeCount: number): RackPlan {
  return { index, name, subnet, gateway: subnet.base + 1n, podBlock, nodeCount };
}

/**
 * Control-plane node k as the cloud runs it: its pinned address, and the host
 * name, uplink and (unless the cloud pins it) pod prefix from boot.
 */
export function cloudControlPlaneNode(plan: ClusterPlan, k: number, rack: RackPlan, address: bigint, podPrefix: Prefix = SENTINEL_POD_PREFIX): NodePlan {
  const base = plan.controlPlanes[k];
  if (!base) throw new RangeError(`no control-plane node ${k}`);
  return {
    ...base,
    name: SENTINEL_HOSTNAME,
    rack,
    role: 'control-plane',
    controlPlaneIndex: k,
    address,
    podPrefix,
    interface: SENTINEL_INTERFACE,
    mac: undefined,
    path: undefined,
  };
}

/**
 * One worker of a pool: every value that differs between workers comes from
 * boot. Nothing here depends on the pool's size, so scaling a pool never
 * changes its user data (which would roll every worker).
 */
export function cloudWorkerNode(rack: RackPlan): NodePlan {
  return { name: SENTINEL_HOSTNAME, rack, slot: 0, role: 'worker', address: SENTINEL_ADDRESS, podPrefix: SENTINEL_POD_PREFIX, interface: SENTINEL_INTERFACE };
}

export interface CloudAddresses {
  /** node and pod range (kubeadm's podSubnet): the node tier of the /56 */
  nodeRange: Prefix;
  podRange: Prefix;
  /** a certSAN the core renderer lists: the load balancer's (first) address */
  vip: bigint;
  /** "host:port" or "[v6]:port" */
  controlPlaneEndpoint: string;
  /** upstream DNS servers, when the cloud decides them (OCI's DNS64 resolver) */
  dns?: bigint[];
}

/**
 * The plan with the cloud's addresses; control planes are built against the
 * view (so each node's plan is the cloud's). Everything else (name, version,
 * services, ports) is the core plan's.
 */
export function cloudClusterView(plan: ClusterPlan, a: CloudAddresses, controlPlane: (view: ClusterPlan, k: number) => NodePlan): ClusterPlan {
  const view = Object.create(plan) as ClusterPlan;
  const own = (value: unknown): PropertyDescriptor => ({ value, enumerable: true });
  Object.defineProperties(view, {
    nodeRange: own(a.nodeRange),
    podRange: own(a.podRange),
    vip: own(a.vip),
    controlPlaneEndpoint: own(a.controlPlaneEndpoint),
    ...(a.dns ? { dns: own(a.dns) } : {}),
  });
  Object.defineProperty(view, 'controlPlanes', own(plan.controlPlanes.map((_, k) => controlPlane(view, k))));
  return view;
}
