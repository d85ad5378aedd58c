/**
 * `flat6 lab check`: measurements on the running lab, each reported as one
 * PASS/FAIL line with the figure measured.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createPlan, type ClusterPlan, type NodePlan } from '../plan/plan.js';
import { NODE_ROUTES, spineRoutes, torRoutes } from '../plan/summary.js';
import { CNI_CONFLIST_PATH } from '../render/cni.js';
import { BIRD_CONF, expectedNodeRoutes, expectedSpineRoutes, expectedTorRoutes, nodeProtocol, SPINE, spinePort, TOR_DOWNLINK, TOR_UPLINK, torProtocol } from '../render/routing.js';
import { formatAddress, formatPrefix } from '../core/ip.js';
import { parseStack } from '../spec/load.js';
import { birdPid, configure, protocols, startBird, type BirdProtocol } from './bird.js';
import { cniDel, readConflist } from './cni.js';
import { stopProcesses } from './down.js';
import { ipJson, isAlive, LabError, must, pool, run, sleep, toolPath, waitFor } from './exec.js';
import { applyUnits, netplanUnits, removeRoutes, unitRoutes } from './networkd.js';
import { compareRoutes, describeDiff, readRoutes, routeTable, routingState, type KernelRoute } from './routes.js';
import { saveState, type LabState, type NodeRecord, type PodRecord } from './state.js';
import { hostRoot, LAB_BGP_TIMERS, renderPlan, routerRoot, tryPlan, withAddedNode } from './topology.js';
import { addPod, attachment, birdRecord, buildNode, settleDad, type Log } from './up.js';

export type Status = 'PASS' | 'FAIL' | 'SKIP';

export interface CheckResult {
  status: Status;
  name: string;
  detail: string;
  /** ms since the previous result */
  ms: number;
}

export function loadLabPlan(state: LabState): ClusterPlan {
  return createPlan(parseStack(state.labStackFile, readFileSync(state.labStackFile, 'utf8')));
}

// ---------------------------------------------------------------------------
// Probes run inside pod namespaces
// ---------------------------------------------------------------------------

export interface PingResult {
  ok: boolean;
  rtt?: string;
  /** why it failed, from ping's own output */
  error?: string;
}

export async function ping(fromNs: string, to: string, opts: { size?: number; dontFragment?: boolean; wait?: string } = {}): Promise<PingResult> {
  const args = ['-n', '-c', '1', '-W', opts.wait ?? '3'];
  if (opts.dontFragment) args.push('-M', 'do');
  if (opts.size !== undefined) args.push('-s', String(opts.size));
  const r = await run('ip', ['netns', 'exec', fromNs, 'ping', ...args, to], { timeoutMs: 15_000 });
  const rtt = /time=([\d.]+ ms)/.exec(r.stdout)?.[1];
  if (r.code === 0) return { ok: true, rtt };
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim());
  const why = lines.find((l) => /unreachable|local error|too long|Network is|No route|not permitted|Cannot/i.test(l)) ?? 'no reply';
  return { ok: false, error: why.replace(/^From /, 'ICMPv6 from ').replace(/icmp_seq=\d+ /, '') };
}

const LISTENER = `const net=require('net');const [port,token]=process.argv.slice(1);const s=net.createServer((c)=>{c.end(token+'\\n');s.close();});s.on('error',(e)=>{process.stderr.write(e.message);process.exit(1);});s.listen(Number(port),'::',()=>process.stdout.write('ready\\n'));setTimeout(()=>process.exit(2),15000).unref();`;
const CLIENT = `const net=require('net');const [host,port,token]=process.argv.slice(1);let got='';const c=net.connect({host,port:Number(port)});c.setEncoding('utf8');c.on('data',(d)=>{got+=d;});c.on('end',()=>process.exit(got.trim()===token?0:3));c.on('error',(e)=>{process.stderr.write(e.message);process.exit(1);});setTimeout(()=>{process.stderr.write('timed out');process.exit(4);},5000);`;

/** A TCP listener in `toNs` answering one connection with a token; a client in `fromNs` must read it back. */
export async function tcp(fromNs: string, toNs: string, to: string, port: number): Promise<{ ok: boolean; error?: string }> {
  const token = randomBytes(6).toString('hex');
  const env = { ...process.env, PATH: toolPath() };
  const listener = spawn('ip', ['netns', 'exec', toNs, process.execPath, '-e', LISTENER, String(port), token], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let lerr = '';
  listener.stderr.setEncoding('utf8').on('data', (d: string) => void (lerr += d));
  const exited = new Promise<number>((res) => listener.on('close', (code) => res(code ?? 1)));
  const ready = await new Promise<boolean>((res) => {
    let out = '';
    const t = setTimeout(() => res(false), 10_000);
    listener.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(t);
        res(true);
      }
    });
    listener.on('close', () => {
      clearTimeout(t);
      res(false);
    });
  });
  if (!ready) {
    listener.kill('SIGKILL');
    return { ok: false, error: `listener did not start: ${lerr.trim()}` };
  }
  const c = await run('ip', ['netns', 'exec', fromNs, process.execPath, '-e', CLIENT, to, String(port), token], { timeoutMs: 10_000 });
  if (c.code !== 0) listener.kill('SIGKILL');
  await exited;
  return c.code === 0 ? { ok: true } : { ok: false, error: c.stderr.trim() || `client exit ${c.code}` };
}

// ---------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------

interface Ctx {
  state: LabState;
  plan: ClusterPlan;
  render: string;
  report: (status: Status, name: string, detail: string) => void;
  log: Log;
}

/** Pod devices (node-side veths) of a node's own pods. */
function podDevices(state: LabState, node: string): Set<string> {
  return new Set(state.pods.filter((p) => p.node === node).map((p) => p.hostVeth));
}

function nodePlanOf(ctx: Ctx, n: NodeRecord): NodePlan {
  const p = ctx.plan.nodeAt(n.rackIndex, n.slot);
  if (!p) throw new LabError(`node ${n.name} is not in the lab stack`);
  return p;
}

async function checkRoutes(ctx: Ctx): Promise<void> {
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
      want = spineRoutes(plan.rackCount);
      expected = expectedSpineRoutes(plan);
      what = `pod block + subnet of each of ${plan.rackCount} rack(s)`;
    } else {
      const rack = plan.rackAt(r.rackIndex!);
      want = torRoutes(rack.nodeCount);
      expected = expectedTorRoutes(plan, rack);
      what = `${rack.nodeCount} node pod prefix(es), default toward the spine, rack pod block`;
    }
    const d = compareRoutes(expected, rs);
    const ok = rs.length === want && !d.missing.length && !d.extra.length && !d.wrong.length;
    ctx.report(ok ? 'PASS' : 'FAIL', `route count, ${r.name}`, `${rs.length} route(s) ${ok ? '=' : 'but'} plan ${want} (${what})${ok ? '' : `: ${describeDiff(d)}`}`);
  }
}

async function checkSessions(ctx: Ctx): Promise<void> {
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
  const expected: Array<{ router: string; proto: string; peer: string; kind: 'node' | 'tor' }> = [];
  for (const n of state.nodes) {
    const tor = state.routers.find((r) => r.kind === 'tor' && r.rackIndex === n.rackIndex);
    const np = plan.nodeAt(n.rackIndex, n.slot);
    if (!tor || !np) down.push(`${n.name}: ${np ? `no ToR of rack ${n.rackIndex} in the lab` : 'not in the lab stack'}`);
    else expected.push({ router: tor.name, proto: nodeProtocol(np), peer: n.name, kind: 'node' });
  }
  const spine = state.routers.find((r) => r.kind === 'spine')?.name ?? SPINE;
  for (const r of state.routers.filter((x) => x.kind === 'tor')) {
    expected.push({ router: spine, proto: torProtocol(plan.rackAt(r.rackIndex!)), peer: r.name, kind: 'tor' });
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
    else spineSessions++;
  }
  for (const n of state.nodes) if (!running.has(n.name)) down.push(`${n.name}: BIRD not running`);
  const nodeTotal = state.nodes.length;
  const torTotal = state.routers.filter((r) => r.kind === 'tor').length;
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

async function checkNoTunnel(ctx: Ctx): Promise<void> {
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

interface Targets {
  source: PodRecord;
  sameNode?: PodRecord;
  sameRack?: PodRecord;
  otherRack?: PodRecord;
}

function pickTargets(state: LabState): Targets {
  const byNode = (name: string): PodRecord[] => state.pods.filter((p) => p.node === name);
  const node0 = state.nodes[0]!;
  const source = byNode(node0.name)[0];
  if (!source) throw new LabError('the lab has no pods');
  const sameNode = byNode(node0.name)[1];
  const rackMate = state.nodes.find((n) => n.rackIndex === node0.rackIndex && n.name !== node0.name);
  const other = state.nodes.find((n) => n.rackIndex !== node0.rackIndex);
  return { source, sameNode, sameRack: rackMate && byNode(rackMate.name)[0], otherRack: other && byNode(other.name)[0] };
}

const podText = (p: PodRecord): string => `${p.name} ${p.address}`;

async function checkConnectivity(ctx: Ctx): Promise<Targets> {
  const t = pickTargets(ctx.state);
  const cases: Array<[string, PodRecord | undefined, string]> = [
    ['same node', t.sameNode, 'needs 2 pods per node'],
    ['other node, same rack', t.sameRack, 'needs 2 nodes in a rack'],
    ['other rack', t.otherRack, 'needs 2 racks'],
  ];
  let port = 7100;
  for (const [what, dst, need] of cases) {
    if (!dst) {
      ctx.report('SKIP', `pod to pod, ${what}`, `the lab topology has no such pair (${need})`);
      continue;
    }
    const p = await ping(t.source.ns, dst.address);
    ctx.report(p.ok ? 'PASS' : 'FAIL', `pod to pod, ${what} (ICMPv6)`, `${podText(t.source)} -> ${podText(dst)}: ${p.ok ? `echo reply, rtt ${p.rtt}` : `unreachable: ${p.error}`}`);
    const c = await tcp(t.source.ns, dst.ns, dst.address, port++);
    ctx.report(c.ok ? 'PASS' : 'FAIL', `pod to pod, ${what} (TCP)`, `${t.source.name} -> [${dst.address}]:${port - 1}: ${c.ok ? 'connected, token echoed back' : `failed: ${c.error}`}`);
  }
  return t;
}

async function checkAllReachable(ctx: Ctx, label: string, source: PodRecord): Promise<void> {
  const others = ctx.state.pods.filter((p) => p !== source);
  const results = await pool(others, 16, async (p) => ({ p, r: await ping(source.ns, p.address) }));
  const failed = results.filter((x) => !x.r.ok);
  const byNode = new Map<string, string[]>();
  for (const f of failed) byNode.set(f.p.node, [...(byNode.get(f.p.node) ?? []), `${podText(f.p)} (${f.r.error})`]);
  const detail = failed.length
    ? `; unreachable: ${[...byNode.entries()].map(([node, ps]) => `${ps.join(', ')} on node ${node} (pod prefix ${podPrefixOf(ctx, node)})`).join('; ')}`
    : '';
  ctx.report(failed.length ? 'FAIL' : 'PASS', label, `${others.length - failed.length} of ${others.length} pods answer ICMPv6 echo from ${podText(source)}${detail}`);
}

function podPrefixOf(ctx: Ctx, node: string): string {
  const n = ctx.plan.findNode(node);
  return n ? formatPrefix(n.podPrefix) : 'not in the plan';
}

interface IpLinkMtu {
  ifname: string;
  mtu: number;
}

async function mtuOf(ns: string, dev: string): Promise<number> {
  const l = await ipJson<IpLinkMtu[]>(ns, ['link', 'show', 'dev', dev]);
  return l[0]!.mtu;
}

/** The links a packet from pod `src` to pod `dst` crosses, each with its MTU, in path order. */
async function pathLinks(ctx: Ctx, src: PodRecord, dst: PodRecord): Promise<Array<[string, number]>> {
  const { state } = ctx;
  const nodeOf = (p: PodRecord): NodeRecord => state.nodes.find((n) => n.name === p.node)!;
  const torOf = (n: NodeRecord) => state.routers.find((r) => r.kind === 'tor' && r.rackIndex === n.rackIndex)!;
  const spine = state.routers.find((r) => r.kind === 'spine')!;
  const podSide = async (p: PodRecord): Promise<Array<[string, number]>> => {
    const n = nodeOf(p);
    return [
      [`pod ${p.name} eth0`, await mtuOf(p.ns, 'eth0')],
      [`node ${n.name} ${p.hostVeth}`, await mtuOf(n.ns, p.hostVeth)],
    ];
  };
  const rackSide = async (n: NodeRecord): Promise<Array<[string, number]>> => {
    const tor = torOf(n);
    return [
      [`node ${n.name} ${n.uplink}`, await mtuOf(n.ns, n.uplink)],
      [`${tor.name} ${n.port}`, await mtuOf(tor.ns, n.port)],
      [`${tor.name} ${TOR_DOWNLINK}`, await mtuOf(tor.ns, TOR_DOWNLINK)],
    ];
  };
  const fabricSide = async (n: NodeRecord): Promise<Array<[string, number]>> => {
    const tor = torOf(n);
    return [
      [`${tor.name} ${TOR_UPLINK}`, await mtuOf(tor.ns, TOR_UPLINK)],
      [`${SPINE} ${spinePort(n.rackIndex)}`, await mtuOf(spine.ns, spinePort(n.rackIndex))],
    ];
  };
  const a = nodeOf(src);
  const b = nodeOf(dst);
  const hops = await podSide(src);
  if (a !== b) {
    hops.push(...(await rackSide(a)));
    if (a.rackIndex !== b.rackIndex) hops.push(...(await fabricSide(a)), ...(await fabricSide(b)).reverse());
    hops.push(...(await rackSide(b)).reverse());
  }
  hops.push(...(await podSide(dst)).reverse());
  return hops;
}

async function checkMtu(ctx: Ctx, t: Targets): Promise<void> {
  const mtu = ctx.plan.spec.network.mtu;
  const dst = t.otherRack ?? t.sameRack ?? t.sameNode;
  const src = t.source;
  if (!dst) {
    ctx.report('SKIP', 'full-size packet, DF set', 'the lab has a single pod');
    return;
  }
  const hops = await pathLinks(ctx, src, dst);
  const off = hops.filter(([, m]) => m !== mtu);
  const payload = mtu - 48;
  const full = await ping(src.ns, dst.address, { size: payload, dontFragment: true });
  // Refused at the sender itself ("local error: message too long"), so a short wait is enough.
  const over = await ping(src.ns, dst.address, { size: payload + 1, dontFragment: true, wait: '0.3' });
  const refusedLocally = !over.ok && /local error|message too long/i.test(over.error ?? '');
  const ok = full.ok && off.length === 0 && refusedLocally;
  const overText = over.ok ? 'also passed (MTU larger than the stack says)' : refusedLocally ? `refused at the sender (${over.error})` : `lost, but not refused at the sender (${over.error})`;
  ctx.report(
    ok ? 'PASS' : 'FAIL',
    'full-size packet, DF set',
    `${mtu}-byte IPv6 packet (${payload}-byte ICMPv6 payload, ping -M do) ${src.name} -> ${dst.name} ${full.ok ? `answered, rtt ${full.rtt}` : `lost: ${full.error}`}; ${mtu + 1}-byte packet ${overText}; MTU ${off.length ? `differs from ${mtu} at ${off.map(([h, m]) => `${h} ${m}`).join(', ')}` : `${mtu} on all ${hops.length} links of the path (${hops.map(([h]) => h).join(', ')}): no encapsulation overhead`}`,
  );
}

async function snapshot(state: LabState): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const r of state.routers) m.set(r.name, await routeTable(r.ns));
  for (const n of state.nodes) {
    const rs = routingState(await readRoutes(n.ns), podDevices(state, n.name));
    m.set(n.name, rs.map((r) => `${r.type} ${r.dst} ${r.gateway ?? ''}`).sort().join('\n'));
  }
  return m;
}

function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...a.keys()].filter((k) => a.get(k) !== b.get(k));
}

async function deletePod(ctx: Ctx, pod: PodRecord, render = ctx.render): Promise<void> {
  const node = ctx.state.nodes.find((n) => n.name === pod.node)!;
  const list = readConflist(join(hostRoot(render, node.name), CNI_CONFLIST_PATH));
  await cniDel(list, attachment(ctx.state, node, pod.ns, pod.containerId));
  await must('ip', ['netns', 'delete', pod.ns]);
  ctx.state.pods = ctx.state.pods.filter((p) => p !== pod);
  saveState(ctx.state);
}

async function checkPodChurn(ctx: Ctx): Promise<PodRecord | undefined> {
  const { state } = ctx;
  const before = await snapshot(state);
  const old = [...state.pods];
  const oldAddr = new Map(old.map((p) => [p.name, p.address]));
  await pool(old, 16, (p) => deletePod(ctx, p));
  const between = await snapshot(state);
  const jobs = old.map((p) => ({ node: state.nodes.find((n) => n.name === p.node)!, k: Number(/-p(\d+)$/.exec(p.name)![1]) }));
  await pool(jobs, 32, ({ node, k }) => addPod(state, ctx.render, node, k));
  state.pods.sort((a, b) => state.namespaces.indexOf(a.ns) - state.namespaces.indexOf(b.ns));
  saveState(state);
  await settleDad([...state.nodes.map((n) => n.ns), ...state.pods.map((p) => p.ns)]);
  const after = await snapshot(state);
  const moved = state.pods.filter((p) => oldAddr.get(p.name) !== p.address).length;
  const diff = [...new Set([...changed(before, between), ...changed(before, after)])];
  const routers = state.routers.map((r) => `${r.name} ${routingLines(before.get(r.name)!)}`).join(', ');
  ctx.report(
    diff.length ? 'FAIL' : 'PASS',
    'pod churn changes no route',
    `${old.length} pods deleted (CNI DEL) and re-added (CNI ADD), ${moved} at a new address; ${diff.length ? `routes CHANGED on ${diff.join(', ')}` : `routing tables identical before, between and after on ${state.routers.length} router(s) (${routers}) and on ${state.nodes.length} node(s)`}`,
  );
  return pickTargets(state).source;
}

function routingLines(table: string): number {
  return table.split('\n').filter((l) => l.trim() && !/proto kernel/.test(l)).length;
}

function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function sameFiles(a: string, b: string): boolean {
  const x = filesUnder(a);
  const y = filesUnder(b);
  return x.size === y.size && [...x].every(([k, v]) => y.get(k) === v);
}

/** How long the spine is watched after the ToR learned a new node's route: the lab's BGP hold time. */
const SPINE_SETTLE_MS = LAB_BGP_TIMERS.holdTime * 1000;

async function checkNodeAdd(ctx: Ctx, source: PodRecord): Promise<void> {
  const { state, plan } = ctx;
  const cluster = (parseStack(state.labStackFile, readFileSync(state.labStackFile, 'utf8')).raw);
  let picked: { plan: ClusterPlan; rackIndex: number; slot: number; name: string } | undefined;
  for (const c of withAddedNode(cluster, plan.spec.layout.slotsPerRack)) {
    const p = tryPlan(c.cluster, state.labStackFile);
    if (p) {
      picked = { plan: p, rackIndex: c.rackIndex, slot: c.slot, name: c.name };
      break;
    }
  }
  if (!picked) {
    ctx.report('SKIP', 'node add', 'no rack of the lab has a free slot a node could take');
    return;
  }
  const added = picked.plan.nodeAt(picked.rackIndex, picked.slot)!;
  const rack = added.rack;
  const render2 = join(state.dir, 'render-add');
  renderPlan(picked.plan, render2);
  const torRec = state.routers.find((r) => r.kind === 'tor' && r.rackIndex === rack.index)!;
  const spineRec = state.routers.find((r) => r.kind === 'spine')!;
  const spineSame = sameFiles(routerRoot(ctx.render, SPINE), routerRoot(render2, SPINE));
  const torSame = sameFiles(routerRoot(ctx.render, torRec.name), routerRoot(render2, torRec.name));
  const count = async (ns: string): Promise<KernelRoute[]> => routingState(await readRoutes(ns));
  const torBefore = await count(torRec.ns);
  const spineBefore = await count(spineRec.ns);
  const spineTableBefore = await routeTable(spineRec.ns);

  const torBird = state.birds.find((b) => b.name === torRec.name);
  // Static mode: the ToR's new netplan, and which of its routes are new.
  const newTorUnits = state.mode === 'static' ? await netplanUnits(routerRoot(render2, torRec.name), join(state.dir, 'roots', `${torRec.name}-add`)) : { links: [], networks: [] };
  const oldDst = state.mode === 'static' ? unitRoutes(await netplanUnits(routerRoot(ctx.render, torRec.name), join(state.dir, 'roots', `${torRec.name}-again`))) : new Map();
  const addedDst = new Set([...unitRoutes(newTorUnits).keys()].filter((d) => !oldDst.has(d)));
  let nodeRec: NodeRecord | undefined;
  const nsBefore = state.namespaces.length;
  let result: { status: Status; detail: string };
  try {
    // The ToR takes its new rendered configuration, as an operator would apply it.
    if (state.mode === 'bgp') await configure(torBird!.ctl, join(routerRoot(render2, torRec.name), BIRD_CONF));
    else await applyUnits(torRec.ns, newTorUnits);
    const built = await buildNode(state, picked.plan, added, render2);
    nodeRec = built.record;
    state.nodes.push(nodeRec);
    saveState(state);
    const rec = nodeRec;
    // Its routing daemon once its address is usable; its first pod meanwhile.
    const daemon = (async (): Promise<void> => {
      await settleDad([rec.ns]);
      if (state.mode !== 'bgp') return;
      const b = birdRecord(state, added.name, rec.ns, join(hostRoot(render2, added.name), BIRD_CONF));
      state.birds.push(b);
      saveState(state);
      await startBird(b);
    })();
    const [pod] = await Promise.all([addPod(state, render2, rec, 0), daemon]);
    await settleDad([pod.ns, rec.ns]);
    // Wait for the one change the plan predicts (the rest of the lab may be broken on purpose).
    const want = formatPrefix(added.podPrefix);
    const via = formatAddress(added.address);
    await waitFor(`${torRec.name} to learn ${want} via ${via}`, async () => (await count(torRec.ns)).some((r) => r.dst === want && r.gateway === via), 30_000);
    const torAfter = await count(torRec.ns);
    // A leak toward the spine would come one BGP update later: watch the spine for a settle window.
    const settleMs = state.mode === 'bgp' ? SPINE_SETTLE_MS : 0;
    const watchUntil = Date.now() + settleMs;
    let spineTableAfter = await routeTable(spineRec.ns);
    while (spineTableAfter === spineTableBefore && Date.now() < watchUntil) {
      await sleep(100);
      spineTableAfter = await routeTable(spineRec.ns);
    }
    const spineAfter = await count(spineRec.ns);
    const newRoutes = torAfter.filter((r) => !torBefore.some((x) => x.dst === r.dst));
    const reach = await ping(source.ns, pod.address);
    const torPlan = torRoutes(picked.plan.rackAt(rack.index).nodeCount) - torRoutes(plan.rackAt(rack.index).nodeCount);
    const spinePlan = spineRoutes(picked.plan.rackCount) - spineRoutes(plan.rackCount);
    const torDelta = torAfter.length - torBefore.length;
    const spineDelta = spineAfter.length - spineBefore.length;
    const ok = torDelta === 1 && torDelta === torPlan && spineDelta === 0 && spinePlan === 0 && spineTableAfter === spineTableBefore && spineSame && !torSame && reach.ok;
    result = {
      status: ok ? 'PASS' : 'FAIL',
      detail:
        `${added.name} (rack ${rack.name}, slot ${added.slot}) added from its rendered files: ${torRec.name} ${torBefore.length} -> ${torAfter.length} routes (${newRoutes.map((r) => `+${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}`).join(', ') || 'none new'}), plan ${torPlan >= 0 ? '+' : ''}${torPlan}; ` +
        `${SPINE} ${spineBefore.length} -> ${spineAfter.length} routes (table ${spineTableAfter === spineTableBefore ? 'unchanged' : 'CHANGED'}${settleMs ? `, watched ${settleMs / 1000} s after ${torRec.name} learned the route` : ''}), plan +${spinePlan}; ` +
        `re-rendered files: ${SPINE} ${spineSame ? 'unchanged' : 'CHANGED'}, ${torRec.name} ${torSame ? 'unchanged (expected a change)' : state.mode === 'bgp' ? 'one more BGP neighbor' : `${addedDst.size} more static route(s)`}; ` +
        `pod ${pod.name} ${pod.address} ${reach.ok ? 'reachable' : `unreachable (${reach.error})`} from ${source.name}`,
    };
  } catch (e) {
    result = { status: 'FAIL', detail: `adding ${added.name} failed: ${(e as Error).message}` };
  }
  // Take the node out again and give the ToR back its configuration.
  let restored = '';
  try {
    if (state.mode === 'bgp') await configure(torBird!.ctl, torBird!.config);
    else await removeRoutes(torRec.ns, newTorUnits, addedDst);
    for (const p of state.pods.filter((x) => x.node === added.name)) await deletePod(ctx, p, render2);
    const extra = state.namespaces.slice(nsBefore);
    for (const ns of extra) {
      const pids = await run('ip', ['netns', 'pids', ns]);
      await stopProcesses(pids.stdout.split(/\s+/).filter(Boolean).map(Number));
    }
    for (const ns of extra.reverse()) await run('ip', ['netns', 'delete', ns]);
    state.namespaces = state.namespaces.slice(0, nsBefore);
    state.nodes = state.nodes.filter((n) => n !== nodeRec);
    state.birds = state.birds.filter((b) => b.name !== added.name);
    state.pods = state.pods.filter((p) => p.node !== added.name);
    saveState(state);
    const gone = formatPrefix(added.podPrefix);
    await waitFor(`${torRec.name} to drop ${gone}`, async () => !(await count(torRec.ns)).some((r) => r.dst === gone), 30_000);
    restored = `; removed again, ${torRec.name} back to ${(await count(torRec.ns)).length} routes`;
  } catch (e) {
    result = { status: 'FAIL', detail: `${result.detail}; restoring the lab failed: ${(e as Error).message}` };
  }
  ctx.report(result.status, 'node add', result.detail + restored);
}

/** Run every check; each result is logged as one line as soon as it is known. */
export async function labCheck(state: LabState, log: Log): Promise<CheckResult[]> {
  const plan = loadLabPlan(state);
  const results: CheckResult[] = [];
  let last = performance.now();
  const report = (status: Status, name: string, detail: string): void => {
    const now = performance.now();
    results.push({ status, name, detail, ms: Math.round(now - last) });
    last = now;
    log(`${status} ${name}: ${detail}`);
  };
  const ctx: Ctx = { state, plan, render: join(state.dir, 'render'), report, log };
  log(`lab ${state.stack} (${state.mode} mode), run ${state.runId}: ${state.routers.length} router(s), ${state.nodes.length} node(s), ${state.pods.length} pod(s)`);
  // A check that cannot run at all is a FAIL line too; the others still run.
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      report('FAIL', name, `could not run: ${(e as Error).message}`);
      return undefined;
    }
  };
  await step('route count', () => checkRoutes(ctx));
  await step('BGP sessions', () => checkSessions(ctx));
  await step('no tunnel or overlay', () => checkNoTunnel(ctx));
  const t = await step('pod to pod', () => checkConnectivity(ctx));
  if (t) {
    await step('every pod reachable', () => checkAllReachable(ctx, 'every pod reachable', t.source));
    await step('full-size packet, DF set', () => checkMtu(ctx, t));
  }
  const source = await step('pod churn changes no route', () => checkPodChurn(ctx));
  if (source) await step('every re-added pod reachable', () => checkAllReachable(ctx, 'every re-added pod reachable', source));
  const from = source ?? t?.source;
  if (from) await step('node add', () => checkNodeAdd(ctx, from));
  return results;
}
