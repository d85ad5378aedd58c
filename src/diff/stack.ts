/**
 * The diff of one stack: load and plan both sides, compare cluster fields,
 * racks and nodes at the plan level, then render only what changed.
 */
import { Flat6Error, UsageError } from '../core/diagnostics.js';
import { createPlan, type ClusterPlan } from '../plan/plan.js';
import type { RenderContext } from '../render/context.js';
import type { Secrets } from '../render/secrets.js';
import { loadStack, parseStack, type LoadedStack } from '../spec/load.js';
import { CauseFinder } from './cause.js';
import { cloudKeyOf, clusterChanges, configChanges, controlPlaneChange } from './cluster.js';
import { nodeRef, diffNodes } from './nodes.js';
import { broadOf, diffHosts, diffRouters, probeTemplates, HOST_LIMIT, type Sides } from './targets.js';
import type { TemplateSides } from './templates.js';
import { emptyCoverage, MAX_LISTED, type BaseRef, type BlockCode, type StackDiff } from './types.js';

/** One side of the diff, planned; or why it could not be. */
export type Side = { kind: 'ok'; stack: LoadedStack; plan: ClusterPlan } | { kind: 'absent' } | { kind: 'error'; error: NonNullable<StackDiff['error']> };

function failure(e: unknown): NonNullable<StackDiff['error']> {
  if (e instanceof Flat6Error) return { exitCode: e.exitCode, message: e.message, diagnostics: e.diagnostics };
  if (e instanceof UsageError) return { exitCode: 2, message: e.message, diagnostics: [] };
  throw e;
}

/** Load and plan a stack, from its file (head) or from text (base at a commit). */
export function loadSide(file: string | undefined, text: string | undefined, shownAs: string): Side {
  if (file === undefined && text === undefined) return { kind: 'absent' };
  try {
    const stack = text !== undefined ? parseStack(shownAs, text) : loadStack(file!, undefined, shownAs);
    return { kind: 'ok', stack, plan: createPlan(stack) };
  } catch (e) {
    return { kind: 'error', error: failure(e) };
  }
}

export interface StackDiffOptions {
  name: string;
  /** the head stack file as shown */
  file: string;
  baseRef: BaseRef;
  head: Side;
  base: Side;
  templates: TemplateSides;
  /** secrets both sides render with */
  secrets: { base: Secrets; head: Secrets };
  context: number;
  allowRenumber: boolean;
}

export function emptyDiff(name: string, file: string, base: BaseRef): StackDiff {
  return {
    stack: name,
    file,
    base,
    status: 'unchanged',
    blocked: false,
    blocks: [],
    notes: [],
    cluster: [],
    templates: [],
    counts: { hostsBase: 0, hostsHead: 0, added: 0, removed: 0, renumbered: 0 },
    added: [],
    removed: [],
    renumber: [],
    racks: { added: [], removed: [], changed: [], addedCount: 0, removedCount: 0, changedCount: 0 },
    hosts: [],
    hostCoverage: emptyCoverage(),
    routers: [],
    routersAdded: [],
    routersRemoved: [],
    routerCoverage: emptyCoverage(),
  };
}

/** Every node of one side, as an added or removed list (capped) with its count. */
function allNodes(plan: ClusterPlan): { list: StackDiff['added']; count: number } {
  const list: StackDiff['added'] = [];
  for (const n of plan.nodes()) {
    if (list.length >= MAX_LISTED) break;
    list.push(nodeRef(n));
  }
  return { list, count: plan.nodeCount };
}

export function block(d: StackDiff, code: BlockCode, allow: boolean): void {
  if (!d.blocks.includes(code)) d.blocks.push(code);
  if (!allow) d.blocked = true;
}

export function diffStack(o: StackDiffOptions): StackDiff {
  const d = emptyDiff(o.name, o.file, o.baseRef);
  const { head, base } = o;
  if (head.kind === 'error') {
    d.status = 'error';
    d.error = head.error;
    return d;
  }
  if (head.kind === 'absent') {
    d.status = 'removed';
    if (base.kind === 'ok') {
      const all = allNodes(base.plan);
      d.removed = all.list;
      d.counts.removed = all.count;
      d.counts.hostsBase = all.count;
    }
    d.notes.push('the stack file is gone: every node of the cluster it described is removed');
    return d;
  }
  d.counts.hostsHead = head.plan.nodeCount;
  if (base.kind !== 'ok') {
    const all = allNodes(head.plan);
    d.added = all.list;
    d.counts.added = all.count;
    d.status = 'added';
    if (base.kind === 'error') {
      const codes = [...new Set(base.error.diagnostics.map((x) => x.code))].join(', ') || base.error.message;
      d.notes.push(
        `the base stack does not load or pass today's checks (${codes}), so its nodes cannot be compared: the renumbering guard could not run (UNVERIFIED). Check by hand that no live node moves, then pass --allow-renumber`,
      );
      block(d, 'UNVERIFIED', o.allowRenumber);
      d.status = 'changed';
    } else {
      d.notes.push('new stack: no stack file of this name at the base');
    }
    return d;
  }
  d.counts.hostsBase = base.plan.nodeCount;
  d.templates = o.templates.changed;
  const cluster = clusterChanges(base.stack, head.stack);
  const config = configChanges(base.stack, head.stack);
  const members = controlPlaneChange(base.plan, head.plan, head.stack);
  d.cluster = [...cluster, ...config, ...(members ? [members] : [])];
  if (d.cluster.some((c) => c.disruptive)) block(d, 'DISRUPTIVE', o.allowRenumber);

  const cloud = cloudKeyOf(head.stack) ?? cloudKeyOf(base.stack);
  if (cloud) {
    d.notes.push(`cloud stack (${cloud}): its machines boot from the node pools below; the node and pod ranges of flat6:cluster are not used in the cloud, so its bare-metal hosts are not compared`);
  } else {
    try {
      diffMetal(o, d, base, head, cluster.map((c) => c.path));
    } catch (e) {
      d.status = 'error';
      d.error = failure(e);
      return d;
    }
  }
  const changed =
    d.cluster.length > 0 ||
    d.counts.added + d.counts.removed + d.counts.renumbered > 0 ||
    d.hosts.length + d.routers.length + d.routersAdded.length + d.routersRemoved.length > 0 ||
    (d.pools?.length ?? 0) + (d.poolsAdded?.length ?? 0) + (d.poolsRemoved?.length ?? 0) > 0 ||
    d.racks.changedCount > 0;
  d.status = changed ? 'changed' : 'unchanged';
  return d;
}

/** Hosts and fabric routers of a bare-metal stack. */
function diffMetal(o: StackDiffOptions, d: StackDiff, base: Extract<Side, { kind: 'ok' }>, head: Extract<Side, { kind: 'ok' }>, clusterPaths: string[]): void {
  const causes = new CauseFinder(base.stack, head.stack, d.cluster);
  const nd = diffNodes(base.plan, head.plan, causes, HOST_LIMIT + 1);
  d.counts.added = nd.addedCount;
  d.counts.removed = nd.removedCount;
  d.counts.renumbered = nd.renumberCount;
  d.added = nd.added;
  d.removed = nd.removed;
  d.renumber = nd.renumber;
  d.racks = nd.racks;
  d.notes.push(...nd.notes);
  if (nd.renumberCount > 0) block(d, 'RENUMBER', o.allowRenumber);

  const cpKey = (p: ClusterPlan): string => JSON.stringify(p.controlPlanes.map((n) => [n.name, String(n.address), n.controlPlaneIndex]));
  const contextReasons = [...clusterPaths];
  if (cpKey(base.plan) !== cpKey(head.plan)) contextReasons.push('the control-plane nodes');
  const contextChange = contextReasons.length ? `cluster settings changed (${contextReasons.join(', ')})` : undefined;
  const baseCtx: RenderContext = { plan: base.plan, templates: o.templates.base, secrets: o.secrets.base };
  const headCtx: RenderContext = { plan: head.plan, templates: o.templates.head, secrets: o.secrets.head };
  const use = o.templates.changed.length && !contextChange ? probeTemplates({ ...headCtx, templates: o.templates.head }) : undefined;
  const broad = broadOf(contextChange, o.templates.changed, use);
  if (o.templates.changed.length && use && !broad) d.notes.push(`template${o.templates.changed.length > 1 ? 's' : ''} ${o.templates.changed.join(', ')} changed but no host or router of this stack renders ${o.templates.changed.length > 1 ? 'them' : 'it'}`);
  const sides: Sides = { base: baseCtx, head: headCtx, context: o.context, notes: d.notes };
  const hosts = diffHosts(sides, nd, broad);
  d.hosts = hosts.hosts;
  d.hostCoverage = hosts.coverage;
  const routers = diffRouters(sides, nd, broad, nd.rackPlansChanged);
  d.routers = routers.routers;
  d.routerCoverage = routers.coverage;
  d.routersAdded = routers.added;
  d.routersRemoved = routers.removed;
}
