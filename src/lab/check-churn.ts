/** Pod churn: deleting and re-adding every pod changes no route on any router or node. */
import { join } from 'node:path';
import { CNI_CONFLIST_PATH } from '../render/cni.js';
import { must } from '../runtime/exec.js';
import { pool } from '../runtime/flow.js';
import { podDevices, type CheckContext } from './check-context.js';
import { pickTargets } from './check-traffic.js';
import { cniDel, readConflist } from './cni.js';
import { readRoutes, routeTable, routingState } from './routes.js';
import { saveState, type LabState, type PodRecord } from './state.js';
import { hostRoot } from './topology.js';
import { addPod, attachment, settleDad } from './up.js';

async function snapshot(state: LabState): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const r of state.routers) m.set(r.name, await routeTable(r.ns));
  for (const n of state.nodes) {
    const rs = routingState(await readRoutes(n.ns), podDevices(state, n.name));
    m.set(n.name, rs.map((r) => `${r.type} ${r.dst} ${r.gateways?.join(',') ?? r.gateway ?? ''}`).sort().join('\n'));
  }
  return m;
}

function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...a.keys()].filter((k) => a.get(k) !== b.get(k));
}

/** CNI DEL of a pod with its node's conflist (from `render`), then its namespace goes. */
export async function deletePod(ctx: CheckContext, pod: PodRecord, render = ctx.render): Promise<void> {
  const node = ctx.state.nodes.find((n) => n.name === pod.node)!;
  const list = readConflist(join(hostRoot(render, node.name), CNI_CONFLIST_PATH));
  await cniDel(list, attachment(ctx.state, node, pod.ns, pod.containerId));
  await must('ip', ['netns', 'delete', pod.ns]);
  ctx.state.pods = ctx.state.pods.filter((p) => p !== pod);
  saveState(ctx.state);
}

/** Delete and re-add every pod; routing tables must be identical before, between and after. Returns the new source pod. */
export async function checkPodChurn(ctx: CheckContext): Promise<PodRecord | undefined> {
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
