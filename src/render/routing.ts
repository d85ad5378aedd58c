/**
 * Renderers of the routing plan (src/plan/routing.ts): per node, the pod
 * prefix discard route and, in bgp mode, BIRD; per fabric router, its netplan,
 * sysctl and BIRD files.
 *
 *   node   announces its pod prefix to its ToR (bgp) / holds a discard route for it
 *   ToR    one route per node + a default toward the spine + the rack pod block (discard)
 *   spine  two routes per rack (pod block + rack subnet), one (the rack block)
 *          with network.racks; one directory per spine
 */
import { formatAddress, formatPrefix } from '../core/ip.js';
import type { ClusterPlan, RackPlan } from '../plan/plan.js';
import {
  fabricLink,
  nodeAsn,
  nodeProtocol,
  nodeRouterId,
  spineAsn,
  spineCount,
  spineIndexes,
  spineName,
  spinePort,
  spineProtocol,
  spineRouterId,
  TOR_DOWNLINK,
  TOR_UPLINK,
  torAsn,
  torUplink,
  torName,
  torProtocol,
  torRouterId,
} from '../plan/routing.js';
import type { ClusterRenderer, HostRenderer, RenderContext } from './context.js';
import { MODE_PRIVATE, MODE_PUBLIC, type FileEntry } from './files.js';
import { clusterFacts, hostFacts, sharedContexts, type ClusterFacts } from './facts.js';

export const NODE_PODS_NETPLAN = 'etc/netplan/61-flat6-pods.yaml';
export const BIRD_CONF = 'etc/bird/bird.conf';
export const FABRIC_NETPLAN = 'etc/netplan/60-flat6-fabric.yaml';
export const ROUTER_SYSCTL = 'etc/sysctl.d/99-flat6-router.conf';

function timers(plan: ClusterPlan): Record<string, number> {
  return clusterFacts(plan).timers;
}

/** BFD settings as the BIRD templates write them (detectMs: how long until a silent peer is down). */
function bfd(plan: ClusterPlan): ClusterFacts['bfd'] {
  return clusterFacts(plan).bfd;
}

/** Per node: the pod prefix discard route (netplan) and, in bgp mode, BIRD. */
export const routingRenderer: HostRenderer = {
  kind: 'routing',
  render(ctx, node, facts = hostFacts(ctx.plan, node)): FileEntry[] {
    const { plan } = ctx;
    const shared = sharedContexts(ctx);
    const files: FileEntry[] = [
      ctx.templates.file(
        NODE_PODS_NETPLAN,
        MODE_PRIVATE,
        'routing/node-pods.yaml.hbs',
        {
          host: node.name,
          rack: node.rack.name,
          slot: node.slot,
          iface: node.interface,
          podPrefix: facts.podPrefix,
        },
        shared.pods,
      ),
    ];
    if (plan.spec.routing.mode === 'bgp') {
      const c = {
        host: node.name,
        rack: node.rack.name,
        slot: node.slot,
        routerId: nodeRouterId(plan, node),
        podPrefix: facts.podPrefix,
        address: facts.address,
        asn: nodeAsn(plan, node),
        gateway: facts.gateway,
        torName: torName(node.rack),
        torAsn: torAsn(plan, node.rack.index),
        iface: node.interface,
      };
      files.push(ctx.templates.file(BIRD_CONF, MODE_PUBLIC, 'routing/node-bird.conf.hbs', c, shared.bird));
    }
    return files;
  },
};

function torFiles(ctx: RenderContext, rack: RackPlan): FileEntry[] {
  const { plan } = ctx;
  const mode = plan.spec.routing.mode;
  const router = torName(rack);
  const link = fabricLink(plan, rack.index);
  const nodes = [...plan.nodesOfRack(rack)];
  const common = { router, stack: plan.stackName, rack: rack.name, rackIndex: rack.index, mode, fabricLink: formatPrefix(link.prefix) };
  const uplinks = spineIndexes(plan).map((s) => {
    const l = fabricLink(plan, rack.index, s);
    return { name: spineName(s), port: torUplink(s), proto: spineProtocol(s), fabricLink: formatPrefix(l.prefix), fabricTor: formatAddress(l.tor), fabricTorCidr: `${formatAddress(l.tor)}/127`, fabricSpine: formatAddress(l.spine) };
  });
  // Static mode has one spine (the checks allow no more): netplan cannot write a multipath route.
  const multiSpine = uplinks.length > 1;
  const dir = `fabric/${router}/`;
  const files: FileEntry[] = [
    ctx.templates.file(dir + FABRIC_NETPLAN, MODE_PRIVATE, 'routing/tor-netplan.yaml.hbs', {
      ...common,
      static: mode === 'static',
      downlink: TOR_DOWNLINK,
      uplinks,
      mtu: plan.spec.network.mtu,
      gatewayCidr: `${formatAddress(rack.gateway)}/${rack.subnet.length}`,
      podBlock: formatPrefix(rack.podBlock),
      aggregate: rack.aggregate ? formatPrefix(rack.aggregate) : undefined,
      staticNodeRoutes: mode === 'static' ? nodes.map((n) => ({ name: n.name, slot: n.slot, to: formatPrefix(n.podPrefix), via: formatAddress(n.address) })) : [],
    }),
    ctx.templates.file(dir + ROUTER_SYSCTL, MODE_PUBLIC, 'routing/router-sysctl.conf.hbs', common),
  ];
  if (mode === 'bgp') {
    files.push(ctx.templates.file(dir + BIRD_CONF, MODE_PUBLIC, 'routing/tor-bird.conf.hbs', {
      ...common,
      routerId: torRouterId(rack),
      asn: torAsn(plan, rack.index),
      spineAsn: spineAsn(plan),
      podBlock: formatPrefix(rack.podBlock),
      subnet: formatPrefix(rack.subnet),
      aggregate: rack.aggregate ? formatPrefix(rack.aggregate) : undefined,
      gateway: formatAddress(rack.gateway),
      spines: uplinks,
      spineCount: uplinks.length,
      multiSpine,
      downlink: TOR_DOWNLINK,
      uplink: TOR_UPLINK,
      timers: timers(plan),
      bfd: bfd(plan),
      nodes: nodes.map((n) => ({ proto: nodeProtocol(n), name: n.name, slot: n.slot, address: formatAddress(n.address), asn: nodeAsn(plan, n), podPrefix: formatPrefix(n.podPrefix) })),
    }));
  }
  return files;
}

function spineFiles(ctx: RenderContext, spine: number): FileEntry[] {
  const { plan } = ctx;
  const mode = plan.spec.routing.mode;
  const racks = [...plan.racks()].map((r) => {
    const link = fabricLink(plan, r.index, spine);
    return {
      name: r.name,
      router: torName(r),
      proto: torProtocol(r),
      port: spinePort(r.index),
      asn: torAsn(plan, r.index),
      fabricLink: formatPrefix(link.prefix),
      fabricSpine: formatAddress(link.spine),
      fabricSpineCidr: `${formatAddress(link.spine)}/127`,
      fabricTor: formatAddress(link.tor),
      podBlock: formatPrefix(r.podBlock),
      subnet: formatPrefix(r.subnet),
      aggregate: r.aggregate ? formatPrefix(r.aggregate) : undefined,
    };
  });
  const router = spineName(spine);
  const count = spineCount(plan);
  const common = { router, stack: plan.stackName, mode, rackCount: racks.length, spinePosition: spine + 1, spineCount: count, multiSpine: count > 1, rackLayout: plan.rackRange !== undefined };
  const dir = `fabric/${router}/`;
  const files: FileEntry[] = [
    ctx.templates.file(dir + FABRIC_NETPLAN, MODE_PRIVATE, 'routing/spine-netplan.yaml.hbs', { ...common, static: mode === 'static', mtu: plan.spec.network.mtu, racks }),
    ctx.templates.file(dir + ROUTER_SYSCTL, MODE_PUBLIC, 'routing/router-sysctl.conf.hbs', common),
  ];
  if (mode === 'bgp') {
    files.push(ctx.templates.file(dir + BIRD_CONF, MODE_PUBLIC, 'routing/spine-bird.conf.hbs', { ...common, routerId: spineRouterId(spine), asn: spineAsn(plan), timers: timers(plan), bfd: bfd(plan), racks }));
  }
  return files;
}

/**
 * Fabric routers: fabric/spine/... (fabric/spine1/... for a second spine, and
 * so on) and fabric/tor-<rack>/... With `only`, just
 * the ToR of that node's rack (O(nodes of one rack), whatever the cluster size).
 */
export const fabricRenderer: ClusterRenderer = {
  kind: 'fabric',
  *render(ctx, only): Generator<FileEntry> {
    if (only) {
      yield* torFiles(ctx, only.rack);
      return;
    }
    for (const s of spineIndexes(ctx.plan)) yield* spineFiles(ctx, s);
    for (const rack of ctx.plan.racks()) yield* torFiles(ctx, rack);
  },
};
