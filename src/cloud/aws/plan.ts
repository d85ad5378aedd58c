/**
 * The cluster plan as an AWS node sees it. The core plan (checked, from
 * flat6:cluster) supplies the Kubernetes settings; AWS supplies addresses:
 * the VPC's node tier is the pod subnet (every node's /80 is delegated from its
 * node subnet), the API endpoint is the load balancer's DNS name, control-plane addresses
 * are pinned by the layout, and what only a booting node knows (host name,
 * uplink, worker address, its /80) is a stand-in from sentinels.ts.
 *
 * The core renderers take these views unchanged: the same templates serve bare
 * metal and AWS.
 */
import { formatAddress } from '../../core/ip.js';
import type { ClusterPlan, NodePlan, RackPlan } from '../../plan/plan.js';
import { cloudClusterView, cloudControlPlaneNode, cloudWorkerNode, subnetRack } from '../shared/node-view.js';
import type { VpcLayout, ZoneLayout } from './layout.js';

/** A lowercase RFC 1123 DNS subdomain (what kubeadm accepts as an endpoint host and a certSAN). */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;

export class ApiEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiEndpointError';
  }
}

/**
 * The load balancer's DNS name as nodes and kubeadm use it: lower case, no
 * trailing dot, and a DNS subdomain, or an error (it reaches kubeadm files).
 */
export function apiHostName(dnsName: string): string {
  const host = dnsName.trim().toLowerCase().replace(/\.$/, '');
  if (!DNS_SUBDOMAIN.test(host)) throw new ApiEndpointError(`the API load balancer's DNS name "${dnsName}" is not a DNS name kubeadm accepts`);
  return host;
}

/** "host:port", kubeadm's controlPlaneEndpoint and the joins' apiServerEndpoint. */
export function apiEndpointOf(host: string, port: number): string {
  return `${apiHostName(host)}:${port}`;
}

/**
 * The API server's certSANs beyond what the core renderer lists (the first
 * zone's address as the plan's VIP, and each control plane's address): the
 * load balancer's DNS name and its address in every zone, so a client that
 * uses any of them verifies the certificate.
 */
export function apiCertSans(layout: VpcLayout, host: string): string[] {
  return [apiHostName(host), ...layout.zones.map((z) => formatAddress(z.apiAddress))];
}

function zoneRack(z: ZoneLayout, nodeCount: number): RackPlan {
  // Nodes learn their default route from router advertisements; the gateway is
  // only a label (netplan, the one renderer that uses it, is not shipped).
  return subnetRack(z.position, z.zone, z.nodeSubnet, z.nodeSubnet, nodeCount);
}

/** Control-plane node k as AWS runs it: pinned address, host name and /80 from boot. */
export function awsControlPlaneNode(plan: ClusterPlan, layout: VpcLayout, k: number): NodePlan {
  const cp = layout.controlPlanes[k];
  if (!plan.controlPlanes[k] || !cp) throw new RangeError(`no control-plane node ${k}`);
  const zone = layout.zones.find((z) => z.zone === cp.zone)!;
  const inZone = layout.controlPlanes.filter((c) => c.zone === cp.zone).length;
  return cloudControlPlaneNode(plan, k, zoneRack(zone, inZone), cp.address);
}

/**
 * One worker of a pool: every value that differs between workers comes from
 * boot. Nothing here depends on the pool's size, so scaling a pool never
 * changes its user data (which would roll every worker).
 */
export function awsWorkerNode(layout: VpcLayout, pool: string): NodePlan {
  return cloudWorkerNode(subnetRack(0, pool, layout.nodeTier, layout.nodeTier, 0));
}

/**
 * The plan with AWS's addresses: pod and node ranges = the VPC's node tier,
 * API endpoint = the load balancer's DNS name (`apiHost`, from AWS once the
 * load balancer exists), control planes = pinned nodes. `vip` (a certSAN in
 * the core renderer) is the load balancer's address in the first zone; the
 * other zones' addresses and the name join the certSANs in userdata.ts.
 * Everything else (name, version, services, DNS, ports) is the core plan's.
 */
export function awsClusterPlan(plan: ClusterPlan, layout: VpcLayout, apiHost: string): ClusterPlan {
  if (layout.controlPlanes.length !== plan.controlPlanes.length) {
    throw new RangeError(`layout has ${layout.controlPlanes.length} control-plane node(s), the plan ${plan.controlPlanes.length}`);
  }
  return cloudClusterView(
    plan,
    { nodeRange: layout.nodeTier, podRange: layout.nodeTier, vip: layout.apiAddress, controlPlaneEndpoint: apiEndpointOf(apiHost, plan.apiPort) },
    (_view, k) => awsControlPlaneNode(plan, layout, k),
  );
}
