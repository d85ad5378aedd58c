/**
 * Node add: the lab stack with one more node is rendered again; the ToR takes
 * its new rendered file and the node is built from its own. The ToR must gain
 * exactly the node's route, the spine nothing; then the node is taken out and
 * the ToR restored.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatAddress, formatPrefix } from '../core/ip.js';
import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import { spineRoutes, torRoutes } from '../plan/summary.js';
import { BIRD_CONF } from '../render/routing.js';
import { sleep, waitFor } from '../runtime/flow.js';
import { removeNamespaces } from '../runtime/netns.js';
import { ping } from '../runtime/probes.js';
import { parseStack } from '../spec/load.js';
import { configure, startBird } from './bird.js';
import { deletePod } from './check-churn.js';
import type { CheckContext, LabCheckStatus } from './check-context.js';
import { applyUnits, netplanUnits, removeRoutes, unitRoutes, type Units } from './networkd.js';
import { readRoutes, routeTable, routingState, type KernelRoute } from './routes.js';
import { saveState, type LabState, type PodRecord, type RouterRecord } from './state.js';
import { hostRoot, LAB_BGP_TIMERS, renderPlan, routerRoot, tryPlan, withAddedNode } from './topology.js';
import { addPod, birdRecord, buildNode, settleDad } from './up.js';

/** How long the spine is watched after the ToR learned a new node's route: the lab's BGP hold time. */
const SPINE_SETTLE_MS = LAB_BGP_TIMERS.holdTime * 1000;

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

const count = async (ns: string): Promise<KernelRoute[]> => routingState(await readRoutes(ns));

/** The first candidate lab stack with one more node that passes the checks. */
function pickAddition(state: LabState, plan: ClusterPlan): { plan: ClusterPlan; node: NodePlan } | undefined {
  const cluster = parseStack(state.labStackFile, readFileSync(state.labStackFile, 'utf8')).raw;
  for (const c of withAddedNode(cluster, plan.spec.layout.slotsPerRack)) {
    const p = tryPlan(c.cluster, state.labStackFile);
    if (p) return { plan: p, node: p.nodeAt(c.rackIndex, c.slot)! };
  }
  return undefined;
}

/** The ToR's configuration before and after the addition, and (static mode) the routes it adds. */
interface TorChange {
  tor: RouterRecord;
  /** static mode: the ToR's new networkd units and the destinations they add */
  units: Units;
  addedDst: Set<string>;
}

async function torChange(ctx: CheckContext, tor: RouterRecord, render2: string): Promise<TorChange> {
  const { state } = ctx;
  if (state.mode !== 'static') return { tor, units: { links: [], networks: [] }, addedDst: new Set() };
  const units = await netplanUnits(routerRoot(render2, tor.name), join(state.dir, 'roots', `${tor.name}-add`));
  const oldDst = unitRoutes(await netplanUnits(routerRoot(ctx.render, tor.name), join(state.dir, 'roots', `${tor.name}-again`)));
  return { tor, units, addedDst: new Set([...unitRoutes(units).keys()].filter((d) => !oldDst.has(d))) };
}

/** Build the node from its rendered files with one pod and its routing daemon; resolves with the pod. */
async function addNode(ctx: CheckContext, plan2: ClusterPlan, added: NodePlan, render2: string): Promise<PodRecord> {
  const { state } = ctx;
  const { record } = await buildNode(state, plan2, added, render2);
  state.nodes.push(record);
  saveState(state);
  // Its routing daemon once its address is usable; its first pod meanwhile.
  const daemon = (async (): Promise<void> => {
    await settleDad([record.ns]);
    if (state.mode !== 'bgp') return;
    const b = birdRecord(state, added.name, record.ns, join(hostRoot(render2, added.name), BIRD_CONF));
    state.birds.push(b);
    saveState(state);
    await startBird(b);
  })();
  const [pod] = await Promise.all([addPod(state, render2, record, 0), daemon]);
  await settleDad([pod.ns, record.ns]);
  return pod;
}

/** Take the node out again (its pods, namespaces, records) and give the ToR back its configuration. */
async function removeNode(ctx: CheckContext, added: NodePlan, change: TorChange, render2: string, nsBefore: number): Promise<string> {
  const { state } = ctx;
  const { tor } = change;
  const torBird = state.birds.find((b) => b.name === tor.name);
  if (state.mode === 'bgp') await configure(torBird!.ctl, torBird!.config);
  else await removeRoutes(tor.ns, change.units, change.addedDst);
  for (const p of state.pods.filter((x) => x.node === added.name)) await deletePod(ctx, p, render2);
  removeNamespaces(state.namespaces.slice(nsBefore));
  state.namespaces = state.namespaces.slice(0, nsBefore);
  state.nodes = state.nodes.filter((n) => n.name !== added.name);
  state.birds = state.birds.filter((b) => b.name !== added.name);
  state.pods = state.pods.filter((p) => p.node !== added.name);
  saveState(state);
  const gone = formatPrefix(added.podPrefix);
  await waitFor(`${tor.name} to drop ${gone}`, async () => !(await count(tor.ns)).some((r) => r.dst === gone), 30_000);
  return `; removed again, ${tor.name} back to ${(await count(tor.ns)).length} routes`;
}

export async function checkNodeAdd(ctx: CheckContext, source: PodRecord): Promise<void> {
  const { state, plan } = ctx;
  const picked = pickAddition(state, plan);
  if (!picked) {
    ctx.report('SKIP', 'node add', 'no rack of the lab has a free slot a node could take');
    return;
  }
  const { node: added, plan: plan2 } = picked;
  const rack = added.rack;
  const render2 = join(state.dir, 'render-add');
  renderPlan(plan2, render2);
  const torRec = state.routers.find((r) => r.kind === 'tor' && r.rackIndex === rack.index)!;
  const spineRecs = state.routers.filter((r) => r.kind === 'spine');
  const spineNames = spineRecs.map((r) => r.name).join(', ');
  const spineSame = spineRecs.every((r) => sameFiles(routerRoot(ctx.render, r.name), routerRoot(render2, r.name)));
  // Every spine's table, as one text: a change at any spine is a change.
  const spineTables = async (): Promise<string> => (await Promise.all(spineRecs.map(async (r) => `${r.name}\n${await routeTable(r.ns)}`))).join('\n');
  const spineCounts = async (): Promise<number[]> => Promise.all(spineRecs.map(async (r) => (await count(r.ns)).length));
  const torSame = sameFiles(routerRoot(ctx.render, torRec.name), routerRoot(render2, torRec.name));
  const torBefore = await count(torRec.ns);
  const spineBefore = await spineCounts();
  const spineTableBefore = await spineTables();
  const change = await torChange(ctx, torRec, render2);
  const nsBefore = state.namespaces.length;
  let result: { status: LabCheckStatus; detail: string };
  try {
    // The ToR takes its new rendered configuration, as an operator would apply it.
    if (state.mode === 'bgp') await configure(state.birds.find((b) => b.name === torRec.name)!.ctl, join(routerRoot(render2, torRec.name), BIRD_CONF));
    else await applyUnits(torRec.ns, change.units);
    const pod = await addNode(ctx, plan2, added, render2);
    // Wait for the one change the plan predicts (the rest of the lab may be broken on purpose).
    const want = formatPrefix(added.podPrefix);
    const via = formatAddress(added.address);
    await waitFor(`${torRec.name} to learn ${want} via ${via}`, async () => (await count(torRec.ns)).some((r) => r.dst === want && r.gateway === via), 30_000);
    const torAfter = await count(torRec.ns);
    // A leak toward the spine would come one BGP update later: watch the spine for a settle window.
    const settleMs = state.mode === 'bgp' ? SPINE_SETTLE_MS : 0;
    const watchUntil = Date.now() + settleMs;
    let spineTableAfter = await spineTables();
    while (spineTableAfter === spineTableBefore && Date.now() < watchUntil) {
      await sleep(100);
      spineTableAfter = await spineTables();
    }
    const spineAfter = await spineCounts();
    const newRoutes = torAfter.filter((r) => !torBefore.some((x) => x.dst === r.dst));
    const reach = await ping(source.ns, pod.address);
    const torPlan = torRoutes(plan2.rackAt(rack.index).nodeCount) - torRoutes(plan.rackAt(rack.index).nodeCount);
    const spinePlan = spineRoutes(plan2.rackCount) - spineRoutes(plan.rackCount);
    const torDelta = torAfter.length - torBefore.length;
    const spineDelta = spineAfter.reduce((a, n, i) => a + Math.abs(n - spineBefore[i]!), 0);
    const ok = torDelta === 1 && torDelta === torPlan && spineDelta === 0 && spinePlan === 0 && spineTableAfter === spineTableBefore && spineSame && !torSame && reach.ok;
    result = {
      status: ok ? 'PASS' : 'FAIL',
      detail:
        `${added.name} (rack ${rack.name}, slot ${added.slot}) added from its rendered files: ${torRec.name} ${torBefore.length} -> ${torAfter.length} routes (${newRoutes.map((r) => `+${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}`).join(', ') || 'none new'}), plan ${torPlan >= 0 ? '+' : ''}${torPlan}; ` +
        `${spineNames} ${spineBefore.join('/')} -> ${spineAfter.join('/')} routes (table${spineRecs.length > 1 ? 's' : ''} ${spineTableAfter === spineTableBefore ? 'unchanged' : 'CHANGED'}${settleMs ? `, watched ${settleMs / 1000} s after ${torRec.name} learned the route` : ''}), plan +${spinePlan}; ` +
        `re-rendered files: ${spineNames} ${spineSame ? 'unchanged' : 'CHANGED'}, ${torRec.name} ${torSame ? 'unchanged (expected a change)' : state.mode === 'bgp' ? 'one more BGP neighbor' : `${change.addedDst.size} more static route(s)`}; ` +
        `pod ${pod.name} ${pod.address} ${reach.ok ? 'reachable' : `unreachable (${reach.error})`} from ${source.name}`,
    };
  } catch (e) {
    result = { status: 'FAIL', detail: `adding ${added.name} failed: ${(e as Error).message}` };
  }
  let restored = '';
  try {
    restored = await removeNode(ctx, added, change, render2, nsBefore);
  } catch (e) {
    result = { status: 'FAIL', detail: `${result.detail}; restoring the lab failed: ${(e as Error).message}` };
  }
  ctx.report(result.status, 'node add', result.detail + restored);
}
