/**
 * Which hosts and fabric routers to render, and rendering them on both sides.
 * A target is rendered only when its inputs changed: its own plan (from the
 * plan-level diff), a cluster setting every host reads, or a template it
 * renders. Which templates a kind of host or router renders is learnt by
 * rendering one of each kind (the first control-plane node, a joining one, a
 * worker, one top-of-rack router, the spine over one rack), so the answer
 * follows the renderers as they are. When more than a limit of targets
 * changed, a sample is rendered and the count reported.
 */
import type { ClusterPlan, NodePlan, RackPlan } from '../plan/plan.js';
import { torName } from '../plan/routing.js';
import type { RenderContext } from '../render/context.js';
import type { FileEntry } from '../render/files.js';
import { renderHost } from '../render/render.js';
import { fabricRenderer } from '../render/routing.js';
import { compareFiles, under } from './files.js';
import type { NodeDiff } from './nodes.js';
import type { RecordingTemplateSet } from './templates.js';
import { emptyCoverage, type Coverage, type TargetDiff } from './types.js';

/** Hosts whose inputs changed that are rendered one by one; above it, a sample. */
export const HOST_LIMIT = 1000;
/** Top-of-rack routers likewise (each costs a rack's nodes). */
export const ROUTER_LIMIT = 200;
export const HOST_SAMPLE = 16;
export const ROUTER_SAMPLE = 8;

export type HostClass = 'init' | 'control-plane' | 'worker';

export function hostClass(n: NodePlan): HostClass {
  if (n.role !== 'control-plane') return 'worker';
  return n.controlPlaneIndex === 0 ? 'init' : 'control-plane';
}

/**
 * The plan seen through a window of some racks: what the spine and ToR
 * renderers iterate. `keepCount` leaves rackCount the cluster's own.
 */
function rackView(plan: ClusterPlan, racks: RackPlan[], keepCount = false): ClusterPlan {
  const view = Object.create(plan) as ClusterPlan;
  Object.defineProperty(view, 'racks', {
    value: function* (): Generator<RackPlan> {
      yield* racks;
    },
  });
  if (!keepCount) Object.defineProperty(view, 'rackCount', { value: racks.length });
  return view;
}

/** Spines of fabrics up to this many racks are rendered whole; above, over a window of racks. */
export const SPINE_FULL_RACKS = 2048;

/** The names given, with each one's neighbours in index order on this side. */
function withNeighbours(plan: ClusterPlan, names: ReadonlySet<string>): Set<string> {
  const out = new Set<string>(names);
  let prev: RackPlan | undefined;
  let takeNext = false;
  for (const r of plan.racks()) {
    const hit = names.has(r.name);
    if (hit && prev) out.add(prev.name);
    if (takeNext) out.add(r.name);
    takeNext = hit;
    prev = r;
  }
  return out;
}

/** The racks of one side whose names are in the window, in index order. */
function windowOf(plan: ClusterPlan, names: ReadonlySet<string>): RackPlan[] {
  const keep: RackPlan[] = [];
  for (const r of plan.racks()) if (names.has(r.name)) keep.push(r);
  return keep;
}

/**
 * The spines' files by router name ("spine", "spine1", ...), without rendering
 * any top-of-rack router: the renderer yields every spine's files before the
 * first rack's ToR, so the walk stops there.
 */
export function spineFiles(ctx: RenderContext): Map<string, FileEntry[]> {
  const first = ctx.plan.racks().next().value as RackPlan | undefined;
  const stop = first ? `fabric/${torName(first)}/` : undefined;
  const out = new Map<string, FileEntry[]>();
  for (const f of fabricRenderer.render(ctx)) {
    if (stop && f.path.startsWith(stop)) break;
    const m = /^fabric\/([^/]+)\/(.+)$/s.exec(f.path);
    if (!m) continue;
    const list = out.get(m[1]) ?? [];
    list.push({ ...f, path: m[2] });
    out.set(m[1], list);
  }
  return out;
}

/** The files of one rack's top-of-rack router (also for a rack with no node). */
export function torFiles(ctx: RenderContext, rack: RackPlan): FileEntry[] {
  const dir = `fabric/${torName(rack)}/`;
  const view = { ...ctx, plan: rackView(ctx.plan, [rack]) };
  return under(fabricRenderer.render(view), dir);
}

export function hostFiles(ctx: RenderContext, node: NodePlan): FileEntry[] {
  return under(renderHost(ctx, node), `hosts/${node.name}/`);
}

/** Templates each kind of target renders on the head side. */
export interface TemplateUse {
  hosts: Map<HostClass, Set<string>>;
  tor: Set<string>;
  spine: Set<string>;
}

function firstWorker(plan: ClusterPlan): NodePlan | undefined {
  let seen = 0;
  for (const n of plan.nodes()) {
    if (n.role === 'worker') return n;
    if (++seen > plan.controlPlanes.length + 1) break;
  }
  // A worker is only ever past the control plane's rack: look rack by rack, first node each.
  for (const r of plan.racks()) {
    for (const n of plan.nodesOfRack(r)) {
      if (n.role === 'worker') return n;
      if (n.controlPlaneIndex === undefined) break;
    }
  }
  return undefined;
}

export function probeTemplates(ctx: RenderContext & { templates: RecordingTemplateSet }): TemplateUse {
  const t = ctx.templates;
  const record = (f: () => void): Set<string> => {
    t.used.clear();
    f();
    return new Set(t.used);
  };
  const hosts = new Map<HostClass, Set<string>>();
  const probes = [ctx.plan.controlPlanes[0], ctx.plan.controlPlanes[1], firstWorker(ctx.plan)];
  for (const n of probes) if (n) hosts.set(hostClass(n), record(() => hostFiles(ctx, n)));
  const first = ctx.plan.racks().next().value as RackPlan | undefined;
  const tor = first ? record(() => torFiles(ctx, first)) : new Set<string>();
  const spine = first ? record(() => void spineFiles({ ...ctx, plan: rackView(ctx.plan, [first]) })) : new Set<string>();
  t.used.clear();
  return { hosts, tor, spine };
}

export interface Broad {
  reason: string;
  /** host kinds whose every host's inputs changed */
  classes: Set<HostClass>;
  tor: boolean;
  spine: boolean;
}

/** What a cluster-setting change or a template change reaches. */
export function broadOf(contextChange: string | undefined, changedTemplates: readonly string[], use: TemplateUse | undefined): Broad | undefined {
  if (contextChange) return { reason: contextChange, classes: new Set(['init', 'control-plane', 'worker']), tor: true, spine: true };
  if (!changedTemplates.length || !use) return undefined;
  const hit = (s: Set<string>): boolean => changedTemplates.some((t) => s.has(t));
  const classes = new Set<HostClass>();
  for (const [c, s] of use.hosts) if (hit(s)) classes.add(c);
  const tor = hit(use.tor);
  const spine = hit(use.spine);
  if (!classes.size && !tor && !spine) return undefined;
  return { reason: `template${changedTemplates.length > 1 ? 's' : ''} ${changedTemplates.join(', ')} changed`, classes, tor, spine };
}

/** Evenly spread picks of at most `n` from `items`, first and last included. */
export function spread<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.round((i * (items.length - 1)) / (n - 1))]);
  return [...new Set(out)];
}

export interface Sides {
  base: RenderContext;
  head: RenderContext;
  context: number;
  notes: string[];
}

function renderBoth(sides: Sides, name: string, baseFiles: () => FileEntry[], headFiles: () => FileEntry[]): TargetDiff | undefined {
  const h = headFiles();
  let b: FileEntry[];
  try {
    b = baseFiles();
  } catch (e) {
    sides.notes.push(`${name}: the base could not be rendered with today's renderers (${(e as Error).message.split('\n')[0]}); its files are not compared`);
    return undefined;
  }
  const files = compareFiles(b, h, sides.context);
  return files.length ? { name, files } : undefined;
}

/** Hosts on both sides whose inputs changed: render both, compare. */
export function diffHosts(sides: Sides, nd: NodeDiff, broad: Broad | undefined): { hosts: TargetDiff[]; coverage: Coverage } {
  const base = sides.base.plan;
  const head = sides.head.plan;
  const coverage = emptyCoverage();
  const names = new Set<string>();
  let inputsChanged = nd.changedCount;
  if (broad && broad.classes.size) {
    coverage.broad = broad.reason;
    const cps = head.controlPlanes.filter((n) => base.findNode(n.name));
    const commonCps = cps.filter((n) => broad.classes.has(hostClass(n))).length;
    const common = head.nodeCount - nd.addedCount;
    const inBroad = broad.classes.has('worker') ? common - cps.length + commonCps : commonCps;
    const outside = nd.changed.filter((name) => !broad.classes.has(hostClass(head.findNode(name)!))).length + (nd.changedCount - nd.changed.length);
    inputsChanged = inBroad + outside;
    if (inputsChanged <= HOST_LIMIT) {
      for (const n of cps) if (broad.classes.has(hostClass(n))) names.add(n.name);
      if (broad.classes.has('worker')) for (const n of head.nodes()) if (n.role === 'worker' && base.findNode(n.name)) names.add(n.name);
      for (const n of nd.changed) names.add(n);
    } else {
      coverage.sampled = true;
      for (const n of cps.slice(0, 5)) if (broad.classes.has(hostClass(n))) names.add(n.name);
      for (const n of spread(nd.changed, 4)) names.add(n);
      if (broad.classes.has('worker')) {
        const racks = [...nd.sameRacks];
        for (const r of spread(racks, 4)) {
          const rack = rackByName(head, r);
          if (!rack) continue;
          let last: NodePlan | undefined;
          for (const n of head.nodesOfRack(rack)) {
            if (n.role === 'worker' && !names.has(n.name) && names.size < HOST_SAMPLE) {
              if (!last) names.add(n.name);
              last = n;
            }
          }
          if (last && names.size < HOST_SAMPLE) names.add(last.name);
        }
      }
    }
  } else if (nd.changedCount <= HOST_LIMIT) {
    for (const n of nd.changed) names.add(n);
  } else {
    coverage.sampled = true;
    for (const n of spread(nd.changed, HOST_SAMPLE)) names.add(n);
  }
  coverage.inputsChanged = inputsChanged;
  const hosts: TargetDiff[] = [];
  for (const name of names) {
    const b = base.findNode(name);
    const h = head.findNode(name);
    if (!b || !h) continue;
    coverage.rendered++;
    const t = renderBoth(sides, name, () => hostFiles(sides.base, b), () => hostFiles(sides.head, h));
    if (t) hosts.push(t);
  }
  coverage.changed = hosts.length;
  return { hosts, coverage };
}

/** A rack by name: O(1) for generated names and listed racks alike, through a node lookup or a scan of listed racks. */
function rackByName(plan: ClusterPlan, name: string): RackPlan | undefined {
  if (plan.spec.racks.kind === 'list') {
    const r = plan.spec.racks.items.find((x) => x.name === name);
    return r ? plan.rackAt(r.index) : undefined;
  }
  const p = plan.spec.racks.namePrefix;
  if (!name.startsWith(p)) return undefined;
  const i = Number(name.slice(p.length));
  return Number.isInteger(i) && i >= 0 && i < plan.spec.racks.count && `${p}${i}` === name ? plan.rackAt(i) : undefined;
}

/** Fabric routers: the ToRs of racks on both sides whose inputs changed, and the spine. */
export function diffRouters(
  sides: Sides,
  nd: NodeDiff,
  broad: Broad | undefined,
  spineInputs: boolean,
): { routers: TargetDiff[]; coverage: Coverage; added: string[]; removed: string[] } {
  const base = sides.base.plan;
  const head = sides.head.plan;
  const coverage = emptyCoverage();
  const racks = new Set<string>(nd.torChanged);
  let inputsChanged = racks.size;
  if (broad?.tor) {
    coverage.broad = broad.reason;
    const common = [...nd.sameRacks, ...nd.torChanged];
    const all = new Set(common);
    inputsChanged = all.size;
    if (all.size <= ROUTER_LIMIT) for (const r of all) racks.add(r);
    else {
      coverage.sampled = true;
      racks.clear();
      for (const r of spread([...nd.torChanged], ROUTER_SAMPLE / 2)) racks.add(r);
      for (const r of spread([...nd.sameRacks], ROUTER_SAMPLE / 2)) racks.add(r);
    }
  } else if (racks.size > ROUTER_LIMIT) {
    coverage.sampled = true;
    const picked = spread([...racks], ROUTER_SAMPLE);
    racks.clear();
    for (const r of picked) racks.add(r);
  }
  const routers: TargetDiff[] = [];
  const spine = spineInputs || broad?.spine === true;
  const added: string[] = [];
  const removed: string[] = [];
  if (spine) {
    let baseCtx = sides.base;
    let headCtx = sides.head;
    const racks = Math.max(base.rackCount, head.rackCount);
    if (racks > SPINE_FULL_RACKS) {
      // Only the racks whose spine entries' inputs changed, with their neighbours; the rest are the same on both sides.
      const listed = nd.racks.addedCount + nd.racks.removedCount + nd.racks.changedCount <= nd.racks.added.length + nd.racks.removed.length + nd.racks.changed.length;
      const names = new Set<string>(broad?.spine || !listed ? spread([...nd.sameRacks, ...nd.torChanged], 8) : [...nd.racks.added, ...nd.racks.removed, ...nd.racks.changed.map((c) => c.name)]);
      // The same rack names on both sides: the racks named and their neighbours on either side.
      const window = new Set([...withNeighbours(base, names), ...withNeighbours(head, names)]);
      const b = windowOf(base, window);
      const h = windowOf(head, window);
      baseCtx = { ...sides.base, plan: rackView(base, b, true) };
      headCtx = { ...sides.head, plan: rackView(head, h, true) };
      sides.notes.push(
        `the spines of ${racks.toLocaleString('en-US')} racks were compared over a window of ${Math.max(b.length, h.length)} racks (${broad?.spine || !listed ? 'a sample' : 'those added, removed or changed and their neighbours'}): every other rack's entry has the same inputs on both sides. Line numbers in the spine diffs count within that window`,
      );
    }
    const h = spineFiles(headCtx);
    let b: Map<string, FileEntry[]> | undefined;
    try {
      b = spineFiles(baseCtx);
    } catch (e) {
      sides.notes.push(`spine: the base could not be rendered with today's renderers (${(e as Error).message.split('\n')[0]}); its files are not compared`);
    }
    if (b) {
      for (const name of [...new Set([...b.keys(), ...h.keys()])].sort()) {
        if (!b.has(name)) added.push(name);
        else if (!h.has(name)) removed.push(name);
        else {
          inputsChanged++;
          coverage.rendered++;
          const files = compareFiles(b.get(name)!, h.get(name)!, sides.context);
          if (files.length) routers.push({ name, files });
        }
      }
    }
  }
  for (const name of racks) {
    const b = rackByName(base, name);
    const h = rackByName(head, name);
    if (!b || !h) continue;
    coverage.rendered++;
    const t = renderBoth(sides, torName(h), () => torFiles(sides.base, b), () => torFiles(sides.head, h));
    if (t) routers.push(t);
  }
  coverage.inputsChanged = inputsChanged;
  coverage.changed = routers.length;
  for (const n of nd.racks.added) {
    const r = rackByName(head, n);
    if (r) added.push(torName(r));
  }
  for (const n of nd.racks.removed) {
    const r = rackByName(base, n);
    if (r) removed.push(torName(r));
  }
  return { routers, coverage, added, removed };
}
