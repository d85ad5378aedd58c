/**
 * Values the host renderers share, formatted once: per cluster (kept per
 * plan) and per host (made once per host by renderHostFiles and handed to
 * every renderer), so rendering a host formats each address once and builds
 * no cluster-wide list again.
 */
import { formatAddress, formatPrefix } from '../core/ip.js';
import type { ClusterPlan, NodePlan, RackPlan } from '../plan/plan.js';
import type { RenderContext } from './context.js';

export interface ClusterFacts {
  /** kubeadm apiServer.certSANs: the VIP, every control-plane address, controlPlane.extraCertSANs */
  certSANs: string[];
  /** DNS servers of every node's uplink */
  dns: string[];
  podSubnet: string;
  serviceSubnet: string;
  clusterDNS: string;
  /** routing.bgp timers, as the BIRD templates take them */
  timers: Record<string, number>;
  /** routing.bfd, plus detectMs (how long until a silent peer is down) */
  bfd: { enabled: boolean; intervalMs: number; multiplier: number; detectMs: number };
}

const clusterCache = new WeakMap<ClusterPlan, ClusterFacts>();

export function clusterFacts(plan: ClusterPlan): ClusterFacts {
  let f = clusterCache.get(plan);
  if (!f) {
    const b = plan.spec.routing.bfd;
    f = {
      certSANs: [formatAddress(plan.vip), ...plan.controlPlanes.map((n) => formatAddress(n.address)), ...plan.spec.controlPlane.extraCertSANs],
      dns: plan.dns.map(formatAddress),
      podSubnet: formatPrefix(plan.podRange),
      serviceSubnet: formatPrefix(plan.serviceRange),
      clusterDNS: formatAddress(plan.dnsServiceIP),
      timers: { ...plan.spec.routing.bgp },
      bfd: { ...b, detectMs: b.intervalMs * b.multiplier },
    };
    clusterCache.set(plan, f);
  }
  return f;
}

export interface HostFacts {
  cluster: ClusterFacts;
  /** the node's address */
  address: string;
  /** its rack's gateway */
  gateway: string;
  /** its pod prefix */
  podPrefix: string;
}

let lastRack: RackPlan | undefined;
let lastGateway = '';

export function hostFacts(plan: ClusterPlan, node: NodePlan): HostFacts {
  // hosts come rack by rack, and the plan hands out one rack object for a run of them
  if (node.rack !== lastRack) {
    lastRack = node.rack;
    lastGateway = formatAddress(node.rack.gateway);
  }
  return { cluster: clusterFacts(plan), address: formatAddress(node.address), gateway: lastGateway, podPrefix: formatPrefix(node.podPrefix) };
}

/**
 * The cluster-wide part of each host template's context, one frozen object
 * per template family for a whole render (TemplateSet.file's `shared`): the
 * same keys and values each context held before, so every template, an
 * operator's overlay included, sees exactly what it saw. A host's own
 * context holds the rest, and none of these keys.
 */
export interface SharedContexts {
  /** sysctl and modules-load */
  sysctl: object;
  netplan: object;
  kubeadm: object;
  /** routing/node-pods.yaml */
  pods: object;
  /** routing/node-bird.conf */
  bird: object;
  cni: object;
}

const sharedCache = new WeakMap<RenderContext, SharedContexts>();

/** The name of flat6's CNI network (src/render/cni.ts). */
export const CNI_NETWORK_NAME = 'flat6';

export function sharedContexts(ctx: RenderContext): SharedContexts {
  let s = sharedCache.get(ctx);
  if (s === undefined) {
    const { plan, secrets } = ctx;
    const cf = clusterFacts(plan);
    const label = { stack: plan.stackName, cluster: plan.name };
    s = {
      sysctl: Object.freeze({ ...label, acceptRA: false }),
      netplan: Object.freeze({ ...label, acceptRA: false, mtu: plan.spec.network.mtu, dns: cf.dns }),
      kubeadm: Object.freeze({
        ...label,
        apiServerPort: plan.apiServerPort,
        criSocket: plan.spec.defaults.criSocket,
        token: secrets.bootstrapToken,
        certificateKey: secrets.certificateKey,
        caCertHashes: secrets.caCertHashes,
        kubernetesVersion: plan.kubernetesVersion,
        controlPlaneEndpoint: plan.controlPlaneEndpoint,
        podSubnet: cf.podSubnet,
        serviceSubnet: cf.serviceSubnet,
        dnsDomain: plan.spec.network.dnsDomain,
        clusterDNS: cf.clusterDNS,
        certSANs: cf.certSANs,
      }),
      pods: Object.freeze({ ...label }),
      bird: Object.freeze({ ...label, timers: cf.timers, bfd: cf.bfd }),
      cni: Object.freeze({ ...label, network: CNI_NETWORK_NAME, mtu: plan.spec.network.mtu }),
    };
    sharedCache.set(ctx, s);
  }
  return s;
}
