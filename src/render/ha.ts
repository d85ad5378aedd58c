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

/**
 * VRRP advertisement interval, seconds (VRRPv3 counts in centiseconds). A
 * backup takes over when it has heard no advert for the master-down interval,
 * 3 x advert_int + skew, skew = (256 - priority) / 256 x advert_int: 0.30 to
 * 0.38 s at 0.1 s. The price: the holder sends 10 adverts a second to each
 * peer, and a holder that cannot send for 0.3 s (a stalled host, a congested
 * link) loses the VIP. See docs/ha.md.
 */
export const ADVERT_INT = 0.1;

/** Priority of the first control-plane node. */
export const TOP_PRIORITY = 250;
/** Lowest priority given. */
export const BOTTOM_PRIORITY = 50;
/** Widest step between neighbouring priorities. */
const MAX_PRIORITY_STEP = 100;

/**
 * VRRP priority of the control-plane node at position `index` (0 = the kubeadm
 * init node) of `count`. The priorities are spread from TOP_PRIORITY down to
 * BOTTOM_PRIORITY (250, 150, 50 for three nodes), so the backups' skew times
 * differ by tens of milliseconds (39 ms at advert_int 0.1): when the holder
 * dies, the first backup's adverts reach the others before their own
 * master-down timers run out, and two nodes never claim the VIP at once.
 * Beyond 201 control-plane nodes the step is 1 and the last ones share 50.
 */
export function vrrpPriority(index: number, count: number): number {
  if (count <= 1) return TOP_PRIORITY;
  const step = Math.max(1, Math.min(MAX_PRIORITY_STEP, Math.floor((TOP_PRIORITY - BOTTOM_PRIORITY) / (count - 1))));
  return Math.max(BOTTOM_PRIORITY, TOP_PRIORITY - index * step);
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

/** VRRPv3 master-down interval of a backup with `priority`, ms: 3 x advert_int + skew. */
export function masterDownMs(priority: number, advertInt = ADVERT_INT): number {
  return Math.round((3 * advertInt + ((256 - priority) / 256) * advertInt) * 1000);
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
      priority: vrrpPriority(node.controlPlaneIndex, cps.length),
      advertInt: ADVERT_INT,
      masterDownMs: masterDownMs(vrrpPriority(cps.length > 1 ? 1 : 0, cps.length)),
      preempt: plan.spec.controlPlane.preempt,
      order: cps.map((n, i) => ({ name: n.name, priority: vrrpPriority(i, cps.length) })),
      peers: cps.filter((n) => n.name !== node.name).map((n) => formatAddress(n.address)),
      backends: cps.map((n) => ({ name: n.name, endpoint: hostPort(n.address, plan.apiServerPort) })),
    };
    return [
      ctx.templates.file(KEEPALIVED_CONF, MODE_PUBLIC, 'keepalived/keepalived.conf.hbs', c),
      ctx.templates.file(CHECK_SCRIPT, MODE_EXEC, 'keepalived/check_apiserver.sh.hbs', c),
      ctx.templates.file(HAPROXY_CFG, MODE_PUBLIC, 'haproxy/haproxy.cfg.hbs', c),
    ];
  },
};
