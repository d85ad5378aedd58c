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

/** JSON.stringify(v, _, 2), turning bigints into strings; the replacer (a call per value) only when there is one. stableJson (render.ts) writes with it too. */
export function stringify(v: unknown): string {
  try {
    return JSON.stringify(v, null, 2);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return JSON.stringify(v, replacer, 2);
  }
}

/** Summaries stringified together: one call per batch rather than per element. */
const BATCH = 256;
/** What JSON.stringify({ x: [...] }, _, 2) writes around the elements, which it indents as they stand in the file (depth 2). */
const OPEN = '{\n  "x": [\n';
const CLOSE = '\n  ]\n}';

function* array<T>(key: string, items: Iterable<T>, summary: (x: T) => unknown, last: boolean): Generator<string> {
  let buf = `  "${key}": [`;
  let first = true;
  let batch: unknown[] = [];
  const flush = (): void => {
    const text = stringify({ x: batch });
    buf += (first ? '\n' : ',\n') + text.slice(OPEN.length, text.length - CLOSE.length);
    first = false;
    batch = [];
  };
  for (const x of items) {
    batch.push(summary(x));
    if (batch.length === BATCH) {
      flush();
      if (buf.length >= CHUNK) {
        yield buf;
        buf = '';
      }
    }
  }
  if (batch.length > 0) flush();
  yield buf + (first ? ']' : '\n  ]') + (last ? '\n' : ',\n');
}

/** The plan as JSON text, in chunks; `only` scopes it to one node and its rack. */
export function* planJsonChunks(plan: ClusterPlan, only?: NodePlan): Generator<string> {
  const head = stringify({ ...clusterSummary(plan), scope: only ? { host: only.name } : 'cluster' });
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
