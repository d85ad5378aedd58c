/**
 * The CNI network of a node: the standard ptp plugin (one veth per pod, no
 * bridge, no masquerade, no tunnel) with host-local IPAM over exactly the
 * node's pod prefix. Pods get /128 host routes on the node; the prefix itself
 * is routed to the node by the fabric (src/render/routing.ts).
 *
 * Before ptp, `tuning` switches IPv6 duplicate address detection off in the
 * pod's new network namespace (all and default accept_dad = 0), so the eth0
 * ptp then makes starts without it and ptp's wait for DAD (the CNI library's
 * SettleAddresses) returns at once. tuning refuses to run without a previous
 * result, so `loopback` (which only sets the pod's lo up, as the runtime does
 * anyway) comes first to give it one; ptp ignores the previous result. The
 * node's side of DAD is in the sysctl file (docs/pods.md).
 */
import { formatAddress, formatPrefix, last, reservedAnycastTop } from '../core/ip.js';
import type { NodePlan } from '../plan/plan.js';
import type { HostRenderer } from './context.js';
import { MODE_PUBLIC, type FileEntry } from './files.js';
import { hostFacts, sharedContexts } from './facts.js';

/** Where containerd and CRI-O look for network configs; the lowest name wins. */
export const CNI_CONFLIST_PATH = 'etc/cni/net.d/10-flat6.conflist';
export { CNI_NETWORK_NAME } from './facts.js';

export interface PodAddressing {
  /** the node's pod prefix: the IPAM subnet */
  subnet: string;
  /** the host side of every pod's veth (ptp puts it there as a /128): the pod's default gateway */
  gateway: string;
  /** first address handed to a pod (prefix + 2; + 1 is the gateway) */
  rangeStart: string;
  /** last address handed to a pod (in a /64 the top 128 are reserved anycast, RFC 2526) */
  rangeEnd: string;
}

/** `subnet`: the pod prefix already formatted, when the caller has it. */
export function podAddressing(node: NodePlan, subnet = formatPrefix(node.podPrefix)): PodAddressing {
  const p = node.podPrefix;
  const top = last(p) - reservedAnycastTop(p);
  return {
    subnet,
    gateway: formatAddress(p.base + 1n),
    rangeStart: formatAddress(p.base + 2n),
    rangeEnd: formatAddress(top),
  };
}

export const cniRenderer: HostRenderer = {
  kind: 'cni',
  render(ctx, node, facts = hostFacts(ctx.plan, node)): FileEntry[] {
    const a = podAddressing(node, facts.podPrefix);
    const c = {
      host: node.name,
      rack: node.rack.name,
      slot: node.slot,
      podPrefix: a.subnet,
      gateway: a.gateway,
      rangeStart: a.rangeStart,
      rangeEnd: a.rangeEnd,
    };
    return [ctx.templates.file(CNI_CONFLIST_PATH, MODE_PUBLIC, 'cni/10-flat6.conflist.hbs', c, sharedContexts(ctx).cni)];
  },
};
