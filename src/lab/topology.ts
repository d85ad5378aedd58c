/**
 * The stack the lab builds: the user's flat6:cluster cut down to a subset
 * (first racks, first nodes of each), written out as a stack file of its own
 * and rendered by the real renderer. Racks keep their index and nodes their
 * slot, so every address, AS number and file is the one the full stack
 * renders for that node.
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Flat6Error, formatDiagnostics, UsageError } from '../core/diagnostics.js';
import { createPlan, generatedNodeName, type ClusterPlan } from '../plan/plan.js';
import type { RenderContext } from '../render/context.js';
import { renderTree } from '../render/render.js';
import { generateSecrets } from '../render/secrets.js';
import { TemplateSet } from '../render/templates.js';
import { writeTreeAtomic } from '../sinks/dir.js';
import { CLUSTER_KEY, parseStack, type LoadedStack, type RoutingMode } from '../spec/load.js';

/** Largest lab: namespaces, veths and BIRD processes grow with it. */
export const MAX_LAB_NODES = 256;

export interface SubsetOptions {
  racks?: number;
  nodesPerRack?: number;
  mode?: RoutingMode;
  /** replaces routing.bgp (the lab's short timers) */
  bgpTimers?: { holdTime: number; keepaliveTime: number; connectRetryTime: number };
}

/**
 * BGP timers of the lab stack. BIRD 2.0's main loop may sit on a freshly
 * established session's first UPDATE until its next timer fires (up to a
 * keepalive interval); a 1 s keepalive bounds that wait, a 1 s connect retry
 * bounds the wait after a peer that was not listening yet.
 */
export const LAB_BGP_TIMERS = { holdTime: 3, keepaliveTime: 1, connectRetryTime: 1 } as const;

type Raw = Record<string, unknown>;

interface RackPick {
  raw: Raw;
  name: string;
  index: number;
}

function cpRackIndex(stack: LoadedStack): number {
  const { spec } = stack;
  if (spec.racks.kind === 'generated') return spec.controlPlane.rack === undefined ? 0 : Number(spec.controlPlane.rack.slice(spec.racks.namePrefix.length));
  const items = spec.racks.items;
  return (spec.controlPlane.rack === undefined ? items[0] : items.find((r) => r.name === spec.controlPlane.rack))!.index;
}

/** The control-plane rack first, then the other racks by index, `count` in all. */
function pickRacks(stack: LoadedStack, count: number): RackPick[] {
  const { spec, raw } = stack;
  const cp = cpRackIndex(stack);
  if (spec.racks.kind === 'generated') {
    const g = spec.racks;
    const idx = [cp, ...Array.from({ length: Math.min(count, g.count) }, (_, i) => i).filter((i) => i !== cp)].slice(0, count);
    return idx.sort((a, b) => a - b).map((i) => ({ raw: { name: `${g.namePrefix}${i}`, nodes: g.nodes }, name: `${g.namePrefix}${i}`, index: i }));
  }
  const rawItems = raw['racks'] as Raw[];
  const all = spec.racks.items.map((r, i) => ({ raw: rawItems[i]!, name: r.name, index: r.index }));
  const cpItem = all.find((r) => r.index === cp)!;
  const rest = all.filter((r) => r !== cpItem).sort((a, b) => a.index - b.index);
  return [cpItem, ...rest].slice(0, count).sort((a, b) => a.index - b.index);
}

function tooBig(stack: LoadedStack, n: number): UsageError {
  return new UsageError(`the lab would build ${n} nodes of stack ${stack.stackName}; it builds at most ${MAX_LAB_NODES}: choose a subset, e.g. --racks 4 --nodes-per-rack 8`);
}

function nodesIn(rack: Raw): number {
  const n = rack['nodes'];
  return typeof n === 'number' ? n : (n as unknown[]).length;
}

/** flat6:cluster of the lab: a subset of `stack`, optionally in another routing mode. */
export function labCluster(stack: LoadedStack, opts: SubsetOptions): Raw {
  const { spec } = stack;
  const total = spec.racks.kind === 'generated' ? spec.racks.count : spec.racks.items.length;
  const count = Math.min(opts.racks ?? total, total);
  const perRack = opts.nodesPerRack ?? Infinity;
  if (spec.racks.kind === 'generated') {
    // Checked before any rack is listed: a generated stack may hold a million nodes.
    const estimate = count * Math.min(perRack, spec.racks.nodes);
    if (estimate > MAX_LAB_NODES) throw tooBig(stack, estimate);
  }
  const racks = pickRacks(stack, count).map((p) => {
    const r: Raw = { ...p.raw, index: p.index };
    const nodes = p.raw['nodes'];
    if (typeof nodes === 'number') r['nodes'] = Math.min(nodes, perRack);
    else r['nodes'] = [...(nodes as Raw[])].sort((a, b) => (a['slot'] as number) - (b['slot'] as number)).slice(0, Number.isFinite(perRack) ? perRack : undefined);
    return r;
  });
  const nodeTotal = racks.reduce((s, r) => s + nodesIn(r), 0);
  if (nodeTotal > MAX_LAB_NODES) throw tooBig(stack, nodeTotal);
  const cp = racks.find((r) => r['index'] === cpRackIndex(stack))!;
  const cpNodes = cp['nodes'];
  const declared = Array.isArray(cpNodes) ? (cpNodes as Raw[]).filter((n) => n['role'] === 'control-plane').length : 0;
  const cpCount = declared > 0 ? declared : Math.max(1, Math.min(spec.controlPlane.count, nodesIn(cp)));
  const raw = stack.raw;
  const out: Raw = {
    ...raw,
    controlPlane: { ...(raw['controlPlane'] as Raw), rack: cp['name'], count: cpCount },
    racks,
  };
  if (opts.mode || opts.bgpTimers) {
    const routing: Raw = { ...((raw['routing'] as Raw | undefined) ?? {}) };
    if (opts.mode) routing['mode'] = opts.mode;
    // The lab's hold, keepalive and connect retry; the stack's error wait and graceful restart stay.
    if (opts.bgpTimers) routing['bgp'] = { ...((routing['bgp'] as Raw | undefined) ?? {}), ...opts.bgpTimers };
    out['routing'] = routing;
  }
  return out;
}

export interface AddedNode {
  cluster: Raw;
  rackIndex: number;
  slot: number;
  name: string;
}

/**
 * Candidate clusters with one more node: for each rack, the next slot of a
 * counted rack or the free slots of a listed one (first few), in order.
 */
export function* withAddedNode(cluster: Raw, slotsPerRack: number, tries = 8): Generator<AddedNode> {
  const racks = cluster['racks'] as Raw[];
  for (let i = 0; i < racks.length; i++) {
    const rack = racks[i]!;
    const rackName = rack['name'] as string;
    const rackIndex = rack['index'] as number;
    const nodes = rack['nodes'];
    const put = (r: Raw): Raw => ({ ...cluster, racks: racks.map((x, j) => (j === i ? r : x)) });
    if (typeof nodes === 'number') {
      if (nodes < slotsPerRack) yield { cluster: put({ ...rack, nodes: nodes + 1 }), rackIndex, slot: nodes, name: generatedNodeName(rackName, nodes) };
      continue;
    }
    const listed = nodes as Raw[];
    const used = new Set(listed.map((n) => n['slot'] as number));
    const names = new Set(listed.map((n) => n['name'] as string));
    let n = 0;
    for (let slot = 0; slot < slotsPerRack && n < tries; slot++) {
      if (used.has(slot)) continue;
      n++;
      let name = generatedNodeName(rackName, slot);
      if (names.has(name) || name.length > 63) name = `lab-${rackIndex}-${slot}`;
      yield { cluster: put({ ...rack, nodes: [...listed, { name, slot }] }), rackIndex, slot, name };
    }
  }
}

export function stackYaml(cluster: Raw, comment: string): string {
  return `# ${comment}\n${stringify({ config: { [CLUSTER_KEY]: cluster } }, { lineWidth: 0 })}`;
}

/** Parse, check and plan a derived cluster (nothing is written); UsageError with the diagnostics if a check fails. */
export function planCluster(name: string, cluster: Raw, comment: string): { plan: ClusterPlan; text: string } {
  const text = stackYaml(cluster, comment);
  try {
    return { plan: createPlan(parseStack(name, text)), text };
  } catch (e) {
    if (e instanceof Flat6Error) throw new UsageError(`the lab stack derived from this stack does not pass the checks:\n${formatDiagnostics(e.diagnostics)}`);
    throw e;
  }
}

/** Try a plan; undefined when the checks fail. */
export function tryPlan(cluster: Raw, name: string): ClusterPlan | undefined {
  try {
    return createPlan(parseStack(name, stackYaml(cluster, 'candidate')));
  } catch (e) {
    if (e instanceof Flat6Error) return undefined;
    throw e;
  }
}

/** Render the whole plan with the real renderers into `out` (atomic). */
export function renderPlan(plan: ClusterPlan, out: string, templates?: string): void {
  const ctx: RenderContext = { plan, templates: new TemplateSet(templates), secrets: generateSecrets() };
  writeTreeAtomic(out, renderTree(ctx));
}

export const hostRoot = (render: string, host: string): string => join(render, 'hosts', host);
export const routerRoot = (render: string, router: string): string => join(render, 'fabric', router);
