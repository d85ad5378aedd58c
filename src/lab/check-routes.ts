/**
 * Checks of the lab's routing state: route counts against the plan, BGP
 * sessions, and that nothing tunnels or encapsulates.
 */
import type { ClusterPlan } from '../plan/plan.js';
import { hasRackLayout, NODE_ROUTES, spineRoutes, torRoutes } from '../plan/summary.js';
import { expectedNodeRoutes, expectedSpineRoutes, expectedTorRoutes, nodeProtocol, spineCount, spineName, spineProtocol, torProtocol } from '../plan/routing.js';
import { ipJson } from '../runtime/exec.js';
import { pool } from '../runtime/flow.js';
import { isAlive } from '../runtime/proc.js';
import { birdPid, protocols, type BirdProtocol } from './bird.js';
import { nodePlanOf, podDevices, type CheckContext } from './check-context.js';
import { compareRoutes, describeDiff, readRoutes, routingState } from './routes.js';
import type { LabState } from './state.js';

/** Route counts and next hops on every node, ToR and the spine against the plan. */
export async function checkRoutes(ctx: CheckContext): Promise<void> {
  const { state, plan } = ctx;
  const nodeFails: string[] = [];
  let hostRoutes = 0;
  await pool(state.nodes, 16, async (n) => {
    const all = await readRoutes(n.ns);
    const devs = podDevices(state, n.name);
    const rs = routingState(all, devs);
    hostRoutes += all.filter((r) => r.protocol !== 'kernel' && r.dev && devs.has(r.dev)).length;
    const d = compareRoutes(expectedNodeRoutes(nodePlanOf(ctx, n)), rs);
    if (rs.length !== NODE_ROUTES || d.missing.length || d.extra.length || d.wrong.length) nodeFails.push(`${n.name}: ${rs.length} route(s), plan ${NODE_ROUTES}${describeDiff(d) ? `: ${describeDiff(d)}` : ''}`);
  });
  const nodesOk = state.nodes.length - nodeFails.length;
  if (nodeFails.length === 0) {
    ctx.report('PASS', 'route count, nodes', `${nodesOk} of ${state.nodes.length} nodes hold ${NODE_ROUTES} routes each = plan ${NODE_ROUTES} (default via the rack gateway, own pod prefix); besides, ${hostRoutes} /128 host routes of local pods stay on their nodes`);
  } else {
    for (const f of nodeFails.sort()) ctx.report('FAIL', 'route count, node', f);
  }
  for (const r of state.routers) {
    const rs = routingState(await readRoutes(r.ns));
    let want: number;
    let expected;
    let what: string;
    if (r.kind === 'spine') {
      want = spineRoutes(plan.rackCount, hasRackLayout(plan));
      expected = expectedSpineRoutes(plan, plan.racks(), r.spineIndex ?? 0);
      what = hasRackLayout(plan) ? `rack block of each of ${plan.rackCount} rack(s)` : `pod block + subnet of each of ${plan.rackCount} rack(s)`;
    } else {
      const rack = plan.rackAt(r.rackIndex!);
      want = torRoutes(rack.nodeCount, hasRackLayout(plan));
      expected = expectedTorRoutes(plan, rack);
      const n = spineCount(plan);
      what = `${rack.nodeCount} node pod prefix(es), default toward ${n > 1 ? `the ${n} spines (one multipath route)` : 'the spine'}, rack pod block${hasRackLayout(plan) ? ', rack block' : ''}`;
    }
    const d = compareRoutes(expected, rs);
    const ok = rs.length === want && !d.missing.length && !d.extra.length && !d.wrong.length;
    ctx.report(ok ? 'PASS' : 'FAIL', `route count, ${r.name}`, `${rs.length} route(s) ${ok ? '=' : 'but'} plan ${want} (${what})${ok ? '' : `: ${describeDiff(d)}`}`);
  }
}

/** bgp mode: every BGP session the lab must have is Established (asked of each router's BIRD). */
export async function checkSessions(ctx: CheckContext): Promise<void> {
  const { state, plan } = ctx;
  if (state.mode !== 'bgp') {
    ctx.report('SKIP', 'BGP sessions', 'static mode: no routing daemon runs');
    return;
  }
  const down: string[] = [];
  const running = new Set(state.birds.filter((b) => isAlive(birdPid(b))).map((b) => b.name));
  // What each router answers, by protocol name (undefined: BIRD not running or not answering).
  const answers = new Map<string, Map<string, BirdProtocol> | undefined>();
  for (const r of state.routers) {
    const b = state.birds.find((x) => x.name === r.name);
    if (!b || !running.has(r.name)) {
      down.push(`${r.name}: BIRD not running`);
      answers.set(r.name, undefined);
      continue;
    }
    try {
      answers.set(r.name, new Map((await protocols(b.ctl)).filter((x) => x.proto === 'BGP').map((x) => [x.name, x])));
    } catch (e) {
      down.push(`${r.name}: BIRD does not answer (${(e as Error).message})`);
      answers.set(r.name, undefined);
    }
  }
  const j = judgeSessions(state, plan, answers, running);
  ctx.report(j.ok ? 'PASS' : 'FAIL', 'BGP sessions', j.detail + (down.length + j.down.length ? `; down: ${[...down, ...j.down].join('; ')}` : ''));
}

/**
 * The sessions the lab must have (each node with its ToR, each ToR with the
 * spine), judged against what each router's BIRD answered (`answers`: BGP
 * protocols by name; undefined for a router whose BIRD is down, reported by
 * the caller). PASS needs every one of them Established.
 */
export function judgeSessions(
  state: Pick<LabState, 'nodes' | 'routers'>,
  plan: ClusterPlan,
  answers: ReadonlyMap<string, ReadonlyMap<string, BirdProtocol> | undefined>,
  running: ReadonlySet<string>,
): { ok: boolean; detail: string; down: string[] } {
  const down: string[] = [];
  const expected: Array<{ router: string; proto: string; peer: string; kind: 'node' | 'tor' | 'uplink' }> = [];
  for (const n of state.nodes) {
    const tor = state.routers.find((r) => r.kind === 'tor' && r.rackIndex === n.rackIndex);
    const np = plan.nodeAt(n.rackIndex, n.slot);
    if (!tor || !np) down.push(`${n.name}: ${np ? `no ToR of rack ${n.rackIndex} in the lab` : 'not in the lab stack'}`);
    else expected.push({ router: tor.name, proto: nodeProtocol(np), peer: n.name, kind: 'node' });
  }
  const spines = state.routers.filter((r) => r.kind === 'spine');
  for (const r of state.routers.filter((x) => x.kind === 'tor')) {
    for (const s of spines.length ? spines : [{ name: spineName(0), spineIndex: 0 }]) {
      expected.push({ router: s.name, proto: torProtocol(plan.rackAt(r.rackIndex!)), peer: r.name, kind: 'tor' });
      // The ToR's side of the same session: down on one side only is still down.
      expected.push({ router: r.name, proto: spineProtocol(s.spineIndex ?? 0), peer: s.name, kind: 'uplink' });
    }
  }
  let nodeSessions = 0;
  let spineSessions = 0;
  for (const e of expected) {
    const protos = answers.get(e.router);
    if (!protos) {
      if (!answers.has(e.router)) down.push(`${e.router} ${e.proto} (${e.peer}): ${e.router} not asked`);
      continue;
    }
    const p = protos.get(e.proto);
    if (!p) down.push(`${e.router} ${e.proto} (${e.peer}): no such session`);
    else if (!p.info.startsWith('Established')) down.push(`${e.router} ${e.proto} (${e.peer}): ${p.state} ${p.info.replace(/\s+/g, ' ')}`.trim());
    else if (e.kind === 'node') nodeSessions++;
    else if (e.kind === 'tor') spineSessions++;
  }
  for (const n of state.nodes) if (!running.has(n.name)) down.push(`${n.name}: BIRD not running`);
  const nodeTotal = state.nodes.length;
  const torTotal = state.routers.filter((r) => r.kind === 'tor').length * Math.max(1, spines.length);
  const ok = down.length === 0 && nodeSessions === nodeTotal && spineSessions === torTotal && [...state.routers].every((r) => answers.get(r.name));
  return {
    ok,
    detail: `${nodeSessions + spineSessions} of ${nodeTotal + torTotal} established (${nodeSessions} of ${nodeTotal} node-ToR, ${spineSessions} of ${torTotal} ToR-spine)`,
    down,
  };
}

const TUNNEL_KINDS = new Set(['vxlan', 'geneve', 'ipip', 'ip6tnl', 'sit', 'gre', 'gretap', 'ip6gre', 'ip6gretap', 'erspan', 'ip6erspan', 'wireguard', 'vti', 'vti6', 'xfrm', 'bareudp', 'gtp', 'amt', 'l2tp']);
/** Devices the kernel creates in every namespace once a tunnel module is loaded; down and unconfigured. */
const FALLBACK_DEVICES = new Set(['tunl0', 'sit0', 'ip6tnl0', 'gre0', 'gretap0', 'erspan0', 'ip6gre0', 'ip6gretap0', 'ip6erspan0', 'ip_vti0', 'ip6_vti0']);

interface IpLinkD {
  ifname: string;
  flags?: string[];
  mtu?: number;
  linkinfo?: { info_kind?: string };
}

/** No tunnel device (beyond inactive kernel fallback devices) and no encapsulating route in any namespace of the run. */
export async function checkNoTunnel(ctx: CheckContext): Promise<void> {
  const kinds = new Map<string, number>();
  const bad: string[] = [];
  let links = 0;
  let fallback = 0;
  let encap = 0;
  await pool(ctx.state.namespaces, 16, async (ns) => {
    for (const l of await ipJson<IpLinkD[]>(ns, ['-d', 'link', 'show'])) {
      links++;
      const kind = l.linkinfo?.info_kind ?? (l.ifname === 'lo' ? 'loopback' : 'other');
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (!TUNNEL_KINDS.has(kind)) continue;
      if (FALLBACK_DEVICES.has(l.ifname) && !(l.flags ?? []).includes('UP')) fallback++;
      else bad.push(`${kind} device ${l.ifname} in ${ns}`);
    }
    const routes = await ipJson<Array<{ dst: string; encap?: string }>>(ns, ['-d', '-6', 'route', 'show', 'table', 'all']);
    for (const r of routes) {
      if (r.encap) {
        encap++;
        bad.push(`route ${r.dst} with ${r.encap} encapsulation in ${ns}`);
      }
    }
  });
  const tally = [...kinds.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  ctx.report(
    bad.length ? 'FAIL' : 'PASS',
    'no tunnel or overlay',
    `${bad.length ? `${bad.join('; ')}; ` : ''}${ctx.state.namespaces.length} namespaces, ${links} links (${tally})${fallback ? `, of which ${fallback} inactive kernel fallback tunnel devices` : ''}, ${encap} encapsulating route(s)`,
  );
}
