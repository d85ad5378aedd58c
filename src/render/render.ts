/**
 * Plan -> file tree. Output mirrors the host filesystem under hosts/<host>/,
 * plus plan.json and cluster-wide files. Same input, byte-identical output.
 */
import type { NodePlan } from '../plan/plan.js';
import type { RenderContext } from './context.js';
import { hostFacts } from './facts.js';
import { MODE_PUBLIC, type FileEntry, type TreeEntry } from './files.js';
import { planJsonChunks, stringify } from './plan-json.js';
import { CLUSTER_RENDERERS, HOST_RENDERERS } from './registry.js';

/** Files of one host, paths relative to the host's root (etc/...): what `flat6 serve` hands the host. */
export function renderHostFiles(ctx: RenderContext, node: NodePlan): FileEntry[] {
  const facts = hostFacts(ctx.plan, node);
  const out: FileEntry[] = [];
  // indexed loops: they run for every host, often before V8 optimises them, and for-of makes an iterator each time there
  for (let i = 0; i < HOST_RENDERERS.length; i++) {
    const files = HOST_RENDERERS[i]!.render(ctx, node, facts);
    for (let j = 0; j < files.length; j++) out.push(files[j]!);
  }
  return out;
}

/** Files of one host, paths relative to the output root (hosts/<host>/etc/...). */
export function renderHost(ctx: RenderContext, node: NodePlan): FileEntry[] {
  const files = renderHostFiles(ctx, node);
  const dir = `hosts/${node.name}/`;
  for (let i = 0; i < files.length; i++) files[i]!.path = dir + files[i]!.path;
  return files;
}

/** Stable JSON: keys in insertion order from our own builders, two-space indent, trailing newline. */
export function stableJson(v: unknown): string {
  return stringify(v) + '\n';
}

export interface RenderOptions {
  /** render only this host (and the cluster files that concern it) */
  only?: NodePlan;
  /** called after each host */
  progress?: (done: number, total: number) => void;
}

/** Every file of the render, in a fixed order; plan.json comes last, in pieces (src/render/plan-json.ts). */
export function* renderTree(ctx: RenderContext, opts: RenderOptions = {}): Generator<TreeEntry> {
  const { plan } = ctx;
  const nodes: Iterable<NodePlan> = opts.only ? [opts.only] : plan.nodes();
  const total = opts.only ? 1 : plan.nodeCount;
  let done = 0;
  for (const node of nodes) {
    yield* renderHost(ctx, node);
    done++;
    opts.progress?.(done, total);
  }
  for (const r of CLUSTER_RENDERERS) yield* r.render(ctx, opts.only);
  yield { path: 'plan.json', mode: MODE_PUBLIC, chunks: () => planJsonChunks(plan, opts.only) };
}
