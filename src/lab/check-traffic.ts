/**
 * Checks of the lab's data plane: pod to pod (ICMPv6 and TCP), every pod
 * reachable, full-size packets with DF set over links of the stack's MTU.
 */
import { formatPrefix } from '../core/ip.js';
import { spinePort, TOR_DOWNLINK, torUplink } from '../plan/routing.js';
import { ipJson, LabError } from '../runtime/exec.js';
import { pool } from '../runtime/flow.js';
import { ping, tcp } from '../runtime/probes.js';
import { podText, type CheckContext } from './check-context.js';
import type { LabState, NodeRecord, PodRecord } from './state.js';

/** The first pod and, where the lab has them, a pod on its node, in its rack and in another rack. */
export interface Targets {
  source: PodRecord;
  sameNode?: PodRecord;
  sameRack?: PodRecord;
  otherRack?: PodRecord;
}

/** Source and targets for the pod-to-pod checks (pods in the order of their namespaces). */
export function pickTargets(state: LabState): Targets {
  const byNode = (name: string): PodRecord[] => state.pods.filter((p) => p.node === name);
  const node0 = state.nodes[0]!;
  const source = byNode(node0.name)[0];
  if (!source) throw new LabError('the lab has no pods');
  const sameNode = byNode(node0.name)[1];
  const rackMate = state.nodes.find((n) => n.rackIndex === node0.rackIndex && n.name !== node0.name);
  const other = state.nodes.find((n) => n.rackIndex !== node0.rackIndex);
  return { source, sameNode, sameRack: rackMate && byNode(rackMate.name)[0], otherRack: other && byNode(other.name)[0] };
}

/** ICMPv6 and TCP from the first pod to a pod on its node, in its rack and in another rack. */
export async function checkConnectivity(ctx: CheckContext): Promise<Targets> {
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

/** ICMPv6 echo from `source` to every other pod; the unreachable ones are named with their node and pod prefix. */
export async function checkAllReachable(ctx: CheckContext, label: string, source: PodRecord): Promise<void> {
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

function podPrefixOf(ctx: CheckContext, node: string): string {
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
async function pathLinks(ctx: CheckContext, src: PodRecord, dst: PodRecord): Promise<Array<[string, number]>> {
  const { state } = ctx;
  const nodeOf = (p: PodRecord): NodeRecord => state.nodes.find((n) => n.name === p.node)!;
  const torOf = (n: NodeRecord) => state.routers.find((r) => r.kind === 'tor' && r.rackIndex === n.rackIndex)!;
  const spines = state.routers.filter((r) => r.kind === 'spine');
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
  // With several spines ECMP picks one per flow: every spine's links count.
  const fabricSide = async (n: NodeRecord): Promise<Array<[string, number]>> => {
    const tor = torOf(n);
    const out: Array<[string, number]> = [];
    for (const s of spines) {
      const up = torUplink(s.spineIndex ?? 0);
      out.push([`${tor.name} ${up}`, await mtuOf(tor.ns, up)], [`${s.name} ${spinePort(n.rackIndex)}`, await mtuOf(s.ns, spinePort(n.rackIndex))]);
    }
    return out;
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

/** A packet of exactly the stack MTU passes with DF set, one byte more is refused at the sender, every link on the path has that MTU. */
export async function checkMtu(ctx: CheckContext, t: Targets): Promise<void> {
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
