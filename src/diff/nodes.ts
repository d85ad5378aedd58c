/**
 * The plan-level diff of racks and nodes, without materialising the cluster.
 * Racks are matched by name (O(racks)). A rack whose plan is the same on both
 * sides, under the same node layout, holds the same nodes at the same
 * addresses, so only the slots one side has and the other lacks are looked at
 * (a count that grew adds only its new slots). Every other rack is walked node
 * by node, and each node is matched by name on the other side in O(1)
 * (findNode), so a node that moved between racks is found wherever it went.
 */
import { formatAddress, formatPrefix, type Prefix } from '../core/ip.js';
import type { ClusterPlan, NodePlan, RackPlan } from '../plan/plan.js';
import type { ListedNodeSpec } from '../spec/load.js';
import type { CauseFinder } from './cause.js';
import { MAX_LISTED, type NodeRef, type RackChange, type Renumber } from './types.js';

export interface NodeDiff {
  added: NodeRef[];
  addedCount: number;
  removed: NodeRef[];
  removedCount: number;
  renumber: Renumber[];
  renumberCount: number;
  /** nodes on both sides whose plan differs (renumbered ones included), at most `cap` names */
  changed: string[];
  changedCount: number;
  racks: { added: string[]; removed: string[]; changed: RackChange[]; addedCount: number; removedCount: number; changedCount: number };
  /** racks on both sides whose top-of-rack router's inputs changed (its rack or its nodes) */
  torChanged: Set<string>;
  /** racks on both sides whose plan and nodes are unchanged at the plan level */
  sameRacks: Set<string>;
  /** a rack was added or removed, or a rack's index, subnet, gateway or pod block changed (what the spines read) */
  rackPlansChanged: boolean;
  notes: string[];
}

const samePrefix = (a: Prefix, b: Prefix): boolean => a.base === b.base && a.length === b.length;

function rackSame(a: RackPlan, b: RackPlan): boolean {
  return a.index === b.index && a.gateway === b.gateway && samePrefix(a.subnet, b.subnet) && samePrefix(a.podBlock, b.podBlock) && sameAggregate(a.aggregate, b.aggregate);
}

/** The nodes of each rack as the stack writes them (a count or the listed nodes), by rack name. */
function rackNodesOf(plan: ClusterPlan): (name: string) => number | ListedNodeSpec[] {
  const racks = plan.spec.racks;
  if (racks.kind === 'generated') {
    const n = racks.nodes;
    return () => n;
  }
  const m = new Map(racks.items.map((r) => [r.name, r.nodes]));
  return (name) => m.get(name) ?? 0;
}

function listedSame(a: ListedNodeSpec[], b: ListedNodeSpec[]): boolean {
  if (a.length !== b.length) return false;
  const key = (n: ListedNodeSpec): string => JSON.stringify([n.slot, n.name, n.interface ?? null, n.mac ?? null, n.role ?? null]);
  const as = a.map(key).sort();
  const bs = b.map(key).sort();
  return as.every((k, i) => k === bs[i]);
}

export function nodeRef(n: NodePlan): NodeRef {
  return { name: n.name, rack: n.rack.name, address: formatAddress(n.address), podPrefix: formatPrefix(n.podPrefix) };
}

function describeRack(b: RackPlan, h: RackPlan): string {
  const parts: string[] = [];
  if (b.index !== h.index) parts.push(`index ${b.index} -> ${h.index}`);
  if (!samePrefix(b.subnet, h.subnet)) parts.push(`subnet ${formatPrefix(b.subnet)} -> ${formatPrefix(h.subnet)}`);
  if (b.gateway !== h.gateway) parts.push(`gateway ${formatAddress(b.gateway)} -> ${formatAddress(h.gateway)}`);
  if (!samePrefix(b.podBlock, h.podBlock)) parts.push(`pod block ${formatPrefix(b.podBlock)} -> ${formatPrefix(h.podBlock)}`);
  if (b.nodeCount !== h.nodeCount) parts.push(`nodes ${b.nodeCount} -> ${h.nodeCount}`);
  return parts.join(', ') || 'its nodes changed';
}

export function diffNodes(base: ClusterPlan, head: ClusterPlan, causes: CauseFinder, cap: number): NodeDiff {
  const d: NodeDiff = {
    added: [],
    addedCount: 0,
    removed: [],
    removedCount: 0,
    renumber: [],
    renumberCount: 0,
    changed: [],
    changedCount: 0,
    racks: { added: [], removed: [], changed: [], addedCount: 0, removedCount: 0, changedCount: 0 },
    torChanged: new Set(),
    sameRacks: new Set(),
    rackPlansChanged: false,
    notes: [],
  };
  const layoutSame =
    base.spec.layout.hostOffset === head.spec.layout.hostOffset &&
    base.podPrefixLength === head.podPrefixLength &&
    base.spec.defaults.interface === head.spec.defaults.interface;

  const baseRacks = new Map<string, RackPlan>();
  for (const r of base.racks()) baseRacks.set(r.name, r);
  const headRacks = new Map<string, RackPlan>();
  for (const r of head.racks()) headRacks.set(r.name, r);
  /** racks on both sides whose nodes the head walk below did not visit one by one */
  const skipWalk = new Set<string>();
  const baseNodes = rackNodesOf(base);
  const headNodes = rackNodesOf(head);
  const onBoth = (name: string): boolean => baseRacks.has(name) && headRacks.has(name);
  const cps = new Set([...base.controlPlanes, ...head.controlPlanes].map((n) => n.name));
  const comparedCps = new Set<string>();

  const compare = (b: NodePlan, h: NodePlan): void => {
    if (cps.has(h.name)) comparedCps.add(h.name);
    const changes: Renumber['changes'] = [];
    if (b.address !== h.address) changes.push({ field: 'address', old: formatAddress(b.address), new: formatAddress(h.address) });
    if (!samePrefix(b.podPrefix, h.podPrefix)) changes.push({ field: 'podPrefix', old: formatPrefix(b.podPrefix), new: formatPrefix(h.podPrefix) });
    if (b.rack.name !== h.rack.name) changes.push({ field: 'rack', old: b.rack.name, new: h.rack.name });
    if (b.rack.gateway !== h.rack.gateway) changes.push({ field: 'gateway', old: formatAddress(b.rack.gateway), new: formatAddress(h.rack.gateway) });
    const other =
      b.slot !== h.slot ||
      b.role !== h.role ||
      b.controlPlaneIndex !== h.controlPlaneIndex ||
      b.interface !== h.interface ||
      b.mac !== h.mac ||
      b.rack.index !== h.rack.index ||
      !samePrefix(b.rack.subnet, h.rack.subnet) ||
      !samePrefix(b.rack.podBlock, h.rack.podBlock);
    if (changes.length) {
      d.renumberCount++;
      if (d.renumber.length < MAX_LISTED) d.renumber.push({ node: h.name, changes, causes: causes.causes(b, h) });
    }
    if (changes.length || other) {
      d.changedCount++;
      if (d.changed.length < cap) d.changed.push(h.name);
      if (onBoth(h.rack.name)) d.torChanged.add(h.rack.name);
      if (onBoth(b.rack.name)) d.torChanged.add(b.rack.name);
    }
  };
  /** A node only the head's rack holds at its slot: added, or moved from elsewhere. */
  const headOnly = (h: NodePlan): void => {
    const b = base.findNode(h.name);
    if (b) { compare(b, h); return; }
    d.addedCount++;
    if (d.added.length < MAX_LISTED) d.added.push(nodeRef(h));
  };
  /** A node only the base's rack holds: removed, unless the head has it elsewhere (compared from the head's side). */
  const baseOnly = (b: NodePlan): void => {
    if (head.findNode(b.name)) return;
    d.removedCount++;
    if (d.removed.length < MAX_LISTED) d.removed.push(nodeRef(b));
  };

  for (const h of headRacks.values()) {
    const b = baseRacks.get(h.name);
    if (b && layoutSame && rackSame(b, h)) {
      const bn = baseNodes(b.name);
      const hn = headNodes(h.name);
      if (typeof bn === 'number' && typeof hn === 'number') {
        const common = Math.min(bn, hn);
        for (let s = common; s < hn; s++) headOnly(head.nodeAt(h.index, s)!);
        for (let s = common; s < bn; s++) baseOnly(base.nodeAt(b.index, s)!);
        skipWalk.add(h.name);
        if (bn !== hn) {
          d.torChanged.add(h.name);
          d.racks.changedCount++;
          if (d.racks.changed.length < MAX_LISTED) d.racks.changed.push({ name: h.name, what: `nodes ${bn} -> ${hn}` });
        } else {
          d.sameRacks.add(h.name);
        }
        continue;
      }
      if (typeof bn !== 'number' && typeof hn !== 'number' && listedSame(bn, hn)) {
        d.sameRacks.add(h.name);
        skipWalk.add(h.name);
        continue;
      }
    }
    if (!b || !rackSame(b, h)) d.rackPlansChanged = true;
    if (!b) {
      d.racks.addedCount++;
      if (d.racks.added.length < MAX_LISTED) d.racks.added.push(h.name);
    } else {
      d.torChanged.add(h.name);
      d.racks.changedCount++;
      if (d.racks.changed.length < MAX_LISTED) d.racks.changed.push({ name: h.name, what: describeRack(b, h) });
    }
    for (const n of head.nodesOfRack(h)) headOnly(n);
  }
  for (const b of baseRacks.values()) {
    if (skipWalk.has(b.name)) continue;
    if (!headRacks.has(b.name)) {
      d.rackPlansChanged = true;
      d.racks.removedCount++;
      if (d.racks.removed.length < MAX_LISTED) d.racks.removed.push(b.name);
    }
    for (const n of base.nodesOfRack(b)) baseOnly(n);
  }
  // Control-plane roles inside unchanged racks (the walk above compared every other node).
  for (const name of cps) {
    const b = base.findNode(name);
    const h = head.findNode(name);
    if (b && h && !comparedCps.has(name) && (b.role !== h.role || b.controlPlaneIndex !== h.controlPlaneIndex)) compare(b, h);
  }
  // A rack renamed at the same index: its nodes are removed and added under new names.
  const addedAt = new Map<number, string>();
  for (const name of d.racks.added) addedAt.set(headRacks.get(name)!.index, name);
  for (const name of d.racks.removed) {
    const r = baseRacks.get(name)!;
    const now = addedAt.get(r.index);
    if (now) d.notes.push(`rack ${name} is now named ${now} (same index ${r.index}): its nodes appear as removed and added, because node names follow the rack name`);
  }
  return d;
}

/** Same rack block (the rack layout's one spine route), or neither side has one. */
function sameAggregate(a: Prefix | undefined, b: Prefix | undefined): boolean {
  return a === undefined || b === undefined ? a === b : samePrefix(a, b);
}
