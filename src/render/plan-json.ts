/**
 * plan.json, written in pieces: the one writer behind `flat6 plan --json` and
 * the plan.json of `flat6 render`, so the two never differ and a million
 * nodes never sit in one string. The bytes equal
 * stableJson({ ...clusterSummary, scope, racks, nodes }) (two-space indent,
 * trailing newline); chunks are about CHUNK characters each.
 */
import { nodeSummary, type ClusterPlan, type NodePlan } from '../plan/plan.js';
import { clusterSummary, rackSummary } from '../plan/summary.js';

const CHUNK = 1 << 16;

const replacer = (_k: string, x: unknown): unknown => (typeof x === 'bigint' ? x.toString() : x);

/** `v` as JSON.stringify(v, _, 2) writes it at nesting depth 2 (inside a top-level array). */
function element(v: unknown): string {
  return '    ' + JSON.stringify(v, replacer, 2).replace(/\n/g, '\n    ');
}

function* array<T>(key: string, items: Iterable<T>, summary: (x: T) => unknown, last: boolean): Generator<string> {
  let buf = `  "${key}": [`;
  let first = true;
  for (const x of items) {
    buf += (first ? '\n' : ',\n') + element(summary(x));
    first = false;
    if (buf.length >= CHUNK) {
      yield buf;
      buf = '';
    }
  }
  yield buf + (first ? ']' : '\n  ]') + (last ? '\n' : ',\n');
}

/** The plan as JSON text, in chunks; `only` scopes it to one node and its rack. */
export function* planJsonChunks(plan: ClusterPlan, only?: NodePlan): Generator<string> {
  const head = JSON.stringify({ ...clusterSummary(plan), scope: only ? { host: only.name } : 'cluster' }, replacer, 2);
  yield head.slice(0, -2) + ',\n';
  yield* array('racks', only ? [only.rack] : plan.racks(), rackSummary, false);
  yield* array('nodes', only ? [only] : plan.nodes(), nodeSummary, true);
  yield '}\n';
}

/** The whole text (small plans and tests). */
export function planJson(plan: ClusterPlan, only?: NodePlan): string {
  let s = '';
  for (const c of planJsonChunks(plan, only)) s += c;
  return s;
}
