/**
 * Plan -> file tree. Output mirrors the host filesystem under hosts/<host>/,
 * plus plan.json and cluster-wide files. Same input, byte-identical output.
 */
import type { NodePlan } from '../plan/plan.js';
import { nodeSummary } from '../plan/plan.js';
import { clusterSummary, rackSummary } from '../plan/summary.js';
import type { RenderContext } from './context.js';
import { MODE_PUBLIC, type FileEntry } from './files.js';
import { CLUSTER_RENDERERS, HOST_RENDERERS } from './registry.js';

/** Files of one host, paths relative to the output root. */
export function renderHost(ctx: RenderContext, node: NodePlan): FileEntry[] {
  const out: FileEntry[] = [];
  for (const r of HOST_RENDERERS) {
    for (const f of r.render(ctx, node)) out.push({ ...f, path: `hosts/${node.name}/${f.path}` });
  }
  return out;
}

/** Stable JSON: keys in insertion order from our own builders, two-space indent, trailing newline. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2) + '\n';
}

export interface RenderOptions {
  /** render only this host (and the cluster files that concern it) */
  only?: NodePlan;
  /** called after each host */
  progress?: (done: number, total: number) => void;
}

/** Every file of the render, in a fixed order. */
export function* renderTree(ctx: RenderContext, opts: RenderOptions = {}): Generator<FileEntry> {
  const { plan } = ctx;
  const nodes: Iterable<NodePlan> = opts.only ? [opts.only] : plan.nodes();
  const total = opts.only ? 1 : plan.nodeCount;
  const summaries: Record<string, unknown>[] = [];
  let done = 0;
  for (const node of nodes) {
    yield* renderHost(ctx, node);
    summaries.push(nodeSummary(node));
    done++;
    opts.progress?.(done, total);
  }
  for (const r of CLUSTER_RENDERERS) yield* r.render(ctx, opts.only);
  const racks = opts.only ? [opts.only.rack] : [...plan.racks()];
  yield {
    path: 'plan.json',
    mode: MODE_PUBLIC,
    content: stableJson({ ...clusterSummary(plan), scope: opts.only ? { host: opts.only.name } : 'cluster', racks: racks.map(rackSummary), nodes: summaries }),
  };
}
