import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import type { FileEntry } from './files.js';
import type { HostFacts } from './facts.js';
import type { Secrets } from './secrets.js';
import type { TemplateSet } from './templates.js';

export interface RenderContext {
  plan: ClusterPlan;
  templates: TemplateSet;
  secrets: Secrets;
}

/** Renders the files of one host; paths are relative to the host's root (etc/...). */
export interface HostRenderer {
  /** short name, e.g. "netplan" */
  readonly kind: string;
  /** `facts`: the host's formatted values (src/render/facts.ts), made once per host; made here when not given */
  render(ctx: RenderContext, node: NodePlan, facts?: HostFacts): FileEntry[];
}

/** Renders cluster-wide files (fabric routers, plan), paths relative to the output root. */
export interface ClusterRenderer {
  readonly kind: string;
  render(ctx: RenderContext, only?: NodePlan): Iterable<FileEntry>;
}
