/**
 * Facts about the racks as the stack file lists them, shared by the checks,
 * the planner and the lab: names, counts, the control-plane rack and its
 * slots. Each costs O(racks listed + nodes listed) at most, never O(a number
 * written in the stack file), so a million-node generated stack stays cheap.
 */
import type { ClusterSpec, ListedNodeSpec, LoadedStack } from '../spec/load.js';

/** `<rack>-n<slot>`: count-sized racks name their nodes by slot, unpadded so growth never renames. */
export function generatedNodeName(rackName: string, slot: number): string {
  return `${rackName}-n${slot}`;
}

/** Inverse of generatedNodeName: the rack name and slot a name of that form stands for. */
export function parseGeneratedNodeName(name: string): { rackName: string; slot: number } | undefined {
  const m = /^(.+)-n(0|[1-9]\d*)$/.exec(name);
  return m ? { rackName: m[1], slot: Number(m[2]) } : undefined;
}

/** Index of the generated rack named `<namePrefix><index>` (no zero padding), or undefined. */
export function generatedRackIndex(namePrefix: string, rackName: string): number | undefined {
  if (!rackName.startsWith(namePrefix)) return undefined;
  const m = /^(0|[1-9]\d*)$/.exec(rackName.slice(namePrefix.length));
  return m ? Number(m[1]) : undefined;
}

/**
 * Nodes of one rack: a count-sized rack (`nodes: n`) holds slots 0..n-1, a
 * listed one its nodes. Takes anything with a `nodes` field, so raw stack data
 * fits as well as a RackSpec.
 */
export function rackNodeCount(rack: { readonly nodes: number | readonly unknown[] }): number {
  return typeof rack.nodes === 'number' ? rack.nodes : rack.nodes.length;
}

/** The listed nodes of a rack, or undefined for a count-sized rack (its nodes are slots 0..n-1). */
export function listedNodesOf<N>(rack: { readonly nodes: number | N[] }): N[] | undefined {
  return typeof rack.nodes === 'number' ? undefined : rack.nodes;
}

/** Racks of the cluster: the generated count or the racks listed. */
export function rackCountOf(stack: LoadedStack): number {
  const r = stack.spec.racks;
  return r.kind === 'generated' ? r.count : r.items.length;
}

/** Nodes of the cluster: count x nodes of generated racks, else the sum over the racks listed. */
export function nodeCountOf(stack: LoadedStack): number {
  const r = stack.spec.racks;
  if (r.kind === 'generated') return r.count * r.nodes;
  let n = 0;
  for (const rack of r.items) n += rackNodeCount(rack);
  return n;
}

/**
 * Highest rack index in use (generated: count - 1). A loop rather than
 * Math.max(...indexes), which overflows the call stack at ~130,000 racks.
 * -1 for an empty list (the schema requires one rack).
 */
export function maxRackIndexOf(stack: LoadedStack): number {
  const r = stack.spec.racks;
  if (r.kind === 'generated') return r.count - 1;
  let max = -1;
  for (const rack of r.items) if (rack.index > max) max = rack.index;
  return max;
}

/** The rack that holds the control plane, as the checks and the planner see it. */
export interface ControlPlaneRack {
  name: string;
  index: number;
  /** a count (slots 0..n-1) or nodes at fixed slots */
  nodes: number | ListedNodeSpec[];
  /** dotted path of the rack in the stack file (list form only) */
  path?: string;
}

/**
 * The control-plane rack: the rack named by controlPlane.rack, else the first
 * rack listed (generated racks: rack 0). Undefined when controlPlane.rack
 * names no rack (the checks report it as CONTROL_PLANE). O(racks listed).
 */
export function controlPlaneRack(spec: ClusterSpec): ControlPlaneRack | undefined {
  const want = spec.controlPlane.rack;
  const racks = spec.racks;
  if (racks.kind === 'generated') {
    const index = want === undefined ? 0 : generatedRackIndex(racks.namePrefix, want);
    if (index === undefined || index >= racks.count) return undefined;
    return { name: `${racks.namePrefix}${index}`, index, nodes: racks.nodes };
  }
  const r = want === undefined ? racks.items[0] : racks.items.find((x) => x.name === want);
  return r && { name: r.name, index: r.index, nodes: r.nodes, path: r.path };
}

/**
 * The most control-plane nodes flat6 plans, whatever serves the VIP (the
 * checks report more as CONTROL_PLANE). The plan holds every control-plane
 * node, so this bounds what planning costs.
 */
export const MAX_CONTROL_PLANE_NODES = 200;

/**
 * Slots of the control plane in its rack, ascending: the nodes marked
 * role: control-plane, else the `count` lowest occupied slots. `declared`
 * tells which rule chose them. O(nodes listed) for a listed rack; for a
 * count-sized rack one entry per control-plane node, so call it only once
 * the checks passed (a RangeError past MAX_CONTROL_PLANE_NODES).
 */
export function controlPlaneSlots(nodes: number | ListedNodeSpec[], count: number): { slots: number[]; declared: boolean } {
  if (typeof nodes === 'number') {
    const n = Math.min(nodes, count);
    if (n > MAX_CONTROL_PLANE_NODES) throw new RangeError(`${n} control-plane nodes exceed the ${MAX_CONTROL_PLANE_NODES} flat6 plans; run the checks first`);
    return { slots: Array.from({ length: n }, (_, i) => i), declared: false };
  }
  const marked = nodes.filter((n) => n.role === 'control-plane');
  const chosen = marked.length > 0 ? marked : [...nodes].sort((a, b) => a.slot - b.slot).slice(0, count);
  return { slots: chosen.map((n) => n.slot).sort((a, b) => a - b), declared: marked.length > 0 };
}
