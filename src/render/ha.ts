/**
 * The HA API endpoint on bare metal: per control-plane node, keepalived moves
 * the VIP (VRRPv3, unicast between the control-plane addresses) and haproxy
 * listens on :::port and spreads connections over every kube-apiserver at
 * [address]:apiServerPort. Workers get nothing; neither does a stack whose
 * controlPlane.loadBalancer is "none". See docs/ha.md.
 */
import { formatAddress, hostPort } from '../core/ip.js';
import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import type { HostRenderer } from './context.js';
import { baseContext } from './host.js';
import { MODE_PUBLIC, type FileEntry } from './files.js';

export const KEEPALIVED_CONF = 'etc/keepalived/keepalived.conf';
export const CHECK_SCRIPT = 'etc/keepalived/check_apiserver.sh';
export const HAPROXY_CFG = 'etc/haproxy/haproxy.cfg';
/** The check script is executed by keepalived: root-owned, not writable by others. */
export const MODE_EXEC = 0o755;

/** Priority of the first control-plane node; each next one gets one less. */
export const TOP_PRIORITY = 200;

/** VRRP priority of the control-plane node at position `index` (0 = the kubeadm init node). */
export function vrrpPriority(index: number): number {
  return TOP_PRIORITY - index;
}

/** 32-bit FNV-1a of a string's UTF-8 bytes. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * virtual_router_id: controlPlane.vrrpId when written, else 1..255 derived from
 * the cluster name and the canonical VIP, so it is stable across renders and
 * clusters that share a segment are unlikely to collide.
 */
export function vrrpIdOf(plan: ClusterPlan): number {
  return plan.spec.controlPlane.vrrpId ?? 1 + (fnv1a(`${plan.name}/${formatAddress(plan.vip)}`) % 255);
}

export function haEnabled(plan: ClusterPlan): boolean {
  return plan.spec.controlPlane.loadBalancer === 'keepalived-haproxy';
}

export const haRenderer: HostRenderer = {
  kind: 'ha',
  render(ctx, node: NodePlan): FileEntry[] {
    const { plan } = ctx;
    if (!haEnabled(plan) || node.role !== 'control-plane' || node.controlPlaneIndex === undefined) return [];
    const cps = plan.controlPlanes;
    const c = {
      ...baseContext(ctx, node),
      position: node.controlPlaneIndex + 1,
      count: cps.length,
      iface: node.interface,
      address: formatAddress(node.address),
      vip: formatAddress(plan.vip),
      port: plan.apiPort,
      apiServerPort: plan.apiServerPort,
      vrid: vrrpIdOf(plan),
      priority: vrrpPriority(node.controlPlaneIndex),
      preempt: plan.spec.controlPlane.preempt,
      order: cps.map((n, i) => ({ name: n.name, priority: vrrpPriority(i) })),
      peers: cps.filter((n) => n.name !== node.name).map((n) => formatAddress(n.address)),
      backends: cps.map((n) => ({ name: n.name, endpoint: hostPort(n.address, plan.apiServerPort) })),
    };
    return [
      { path: KEEPALIVED_CONF, mode: MODE_PUBLIC, content: ctx.templates.render('keepalived/keepalived.conf.hbs', c) },
      { path: CHECK_SCRIPT, mode: MODE_EXEC, content: ctx.templates.render('keepalived/check_apiserver.sh.hbs', c) },
      { path: HAPROXY_CFG, mode: MODE_PUBLIC, content: ctx.templates.render('haproxy/haproxy.cfg.hbs', c) },
    ];
  },
};
