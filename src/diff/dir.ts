/**
 * An earlier render directory as the base (`flat6 render --out DIR`): its
 * plan.json gives the nodes as they were rendered (name, rack, address, pod
 * prefix, gateway) and the cluster summary; its hosts/ and fabric/ trees the
 * files. The head is rendered in full and compared file by file, so this costs
 * what the directory holds. Files are read without following links, and only
 * regular files of bounded size.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/diagnostics.js';
import { formatAddress, formatPrefix, parseAddress, parsePrefix } from '../core/ip.js';
import type { ClusterPlan } from '../plan/plan.js';
import { torName } from '../plan/routing.js';
import { clusterSummary } from '../plan/summary.js';
import type { RenderContext } from '../render/context.js';
import type { FileEntry } from '../render/files.js';
import { isPlainObject } from '../spec/load.js';
import { compareFiles } from './files.js';
import { nodeRef } from './nodes.js';
import { block, emptyDiff, type Side } from './stack.js';
import { hostFiles, HOST_LIMIT, spineFiles, torFiles } from './targets.js';
import { MAX_LISTED, type FieldChange, type Renumber, type StackDiff, type TargetDiff } from './types.js';

/** A plan.json larger than this is refused (one of 1,048,576 nodes is about 300 MB). */
const MAX_PLAN_JSON = 512 * 1024 * 1024;
/** A rendered file larger than this is not read (flat6 writes none that large but the spine of a huge fabric). */
const MAX_FILE = 64 * 1024 * 1024;

interface RenderedNode {
  name: string;
  rack: string;
  address: string;
  podPrefix: string;
  gateway: string;
}

export interface RenderDir {
  dir: string;
  summary: Record<string, unknown>;
  nodes: RenderedNode[];
  /** the render covered one host (render --host) */
  host?: string;
}

function canonical(text: string): string {
  try {
    return text.includes('/') ? formatPrefix(parsePrefix(text)) : formatAddress(parseAddress(text));
  } catch {
    return text;
  }
}

/** Read DIR/plan.json; a UsageError says what is wrong with it. */
export function readRenderDir(dir: string): RenderDir {
  const file = join(dir, 'plan.json');
  let text: string;
  try {
    const st = lstatSync(file);
    if (!st.isFile()) throw new UsageError(`--base ${dir}: plan.json is not a regular file`);
    if (st.size > MAX_PLAN_JSON) throw new UsageError(`--base ${dir}: plan.json is ${st.size} bytes, more than the ${MAX_PLAN_JSON} flat6 diff reads`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--base ${dir} is a directory but not the output of flat6 render (no readable plan.json: ${(e as Error).message}); pass a git ref, or the --out directory of an earlier flat6 render`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--base ${dir}: plan.json is not JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json) || !Array.isArray(json['nodes'])) throw new UsageError(`--base ${dir}: plan.json has no "nodes" list; it is not a flat6 render's plan.json`);
  const nodes: RenderedNode[] = [];
  for (const [i, n] of (json['nodes'] as unknown[]).entries()) {
    const ok = isPlainObject(n) && ['name', 'rack', 'address', 'podPrefix', 'gateway'].every((k) => typeof n[k] === 'string');
    if (!ok) throw new UsageError(`--base ${dir}: plan.json nodes[${i}] lacks name, rack, address, podPrefix or gateway`);
    const r = n as Record<string, string>;
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(r['name'])) throw new UsageError(`--base ${dir}: plan.json nodes[${i}] has a name that is not a host name`);
    nodes.push({ name: r['name'], rack: r['rack'], address: canonical(r['address']), podPrefix: canonical(r['podPrefix']), gateway: canonical(r['gateway']) });
  }
  const scope = json['scope'];
  const host = isPlainObject(scope) && typeof scope['host'] === 'string' ? scope['host'] : undefined;
  const summary = Object.fromEntries(Object.entries(json).filter(([k]) => !['nodes', 'racks', 'scope'].includes(k)));
  return { dir, summary, nodes, ...(host ? { host } : {}) };
}

/** Regular files under `root` (paths relative to it, modes), links and oversized files left out with a note. */
function readTree(root: string, notes: string[]): FileEntry[] {
  const out: FileEntry[] = [];
  const walk = (d: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, r);
      else if (!st.isFile()) notes.push(`${p}: not a regular file; not compared`);
      else if (st.size > MAX_FILE) notes.push(`${p}: ${st.size} bytes; not compared`);
      else out.push({ path: r, mode: st.mode & 0o7777, content: readFileSync(p, 'utf8') });
    }
  };
  walk(root, '');
  return out;
}

function flat(v: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) flat(x, prefix ? `${prefix}.${k}` : k, out);
  else out.set(prefix, typeof v === 'string' ? canonical(v) : JSON.stringify(v));
  return out;
}

const DISRUPTIVE: Record<string, string> = {
  cluster: 'the cluster name is in every certificate and kubeconfig kubeadm made; a live cluster cannot be renamed',
  podRange: 'the pod range of a live cluster cannot change: every pod prefix and pod address moves',
  serviceRange: 'the service range of a live cluster cannot change: every Service address moves',
  vip: 'the API endpoint address is in every kubeconfig, join configuration and the API server certificate',
  controlPlanes: 'control-plane membership changes: etcd members and API servers are added or removed one at a time by hand',
};

/** The diff of a stack against an earlier render of it. */
export function diffAgainstDir(o: { name: string; file: string; head: Side; rendered: RenderDir; ctx: (plan: ClusterPlan) => RenderContext; context: number; allowRenumber: boolean }): StackDiff {
  const d = emptyDiff(o.name, o.file, { kind: 'dir', dir: o.rendered.dir });
  if (o.head.kind !== 'ok') {
    d.status = 'error';
    d.error = o.head.kind === 'error' ? o.head.error : { exitCode: 2, message: 'no stack file', diagnostics: [] };
    return d;
  }
  const plan = o.head.plan;
  const stack = o.head.stack;
  const ctx = o.ctx(plan);
  const r = o.rendered;
  d.counts.hostsBase = r.nodes.length;
  d.counts.hostsHead = r.host ? 1 : plan.nodeCount;
  if (r.summary['stack'] !== undefined && r.summary['stack'] !== plan.stackName) {
    d.notes.push(`${r.dir} was rendered from stack ${JSON.stringify(r.summary['stack'])}, not ${plan.stackName}`);
  }
  // Cluster summary fields.
  const b = flat(r.summary, '', new Map());
  const h = flat(JSON.parse(JSON.stringify(clusterSummary(plan))) as unknown, '', new Map());
  for (const path of [...new Set([...b.keys(), ...h.keys()])].sort()) {
    if (b.get(path) === h.get(path) || path === 'nodeCount' || path === 'rackCount') continue;
    const top = path.split('.')[0];
    const names = (v: string | undefined): string => {
      let list: unknown = v;
      try {
        list = v === undefined ? undefined : (JSON.parse(v) as unknown);
      } catch {
        /* a plain string */
      }
      return JSON.stringify(Array.isArray(list) ? (list as unknown[]).map((x): unknown => (isPlainObject(x) ? x['name'] : x)) : list);
    };
    const why = top === 'controlPlanes' && names(b.get(path)) === names(h.get(path)) ? undefined : DISRUPTIVE[top];
    const c: FieldChange = { section: 'plan.json', path, ...(b.has(path) ? { old: b.get(path)! } : {}), ...(h.has(path) ? { new: h.get(path)! } : {}), ...(why ? { disruptive: why } : {}) };
    d.cluster.push(c);
  }
  if (d.cluster.some((c) => c.disruptive)) block(d, 'DISRUPTIVE', o.allowRenumber);
  // Nodes: renumbered, removed, added.
  const seen = new Set<string>();
  const hosts: TargetDiff[] = [];
  let changedHosts = 0;
  for (const n of r.nodes) {
    seen.add(n.name);
    const now = plan.findNode(n.name);
    if (!now) {
      d.counts.removed++;
      if (d.removed.length < MAX_LISTED) d.removed.push({ name: n.name, rack: n.rack, address: n.address, podPrefix: n.podPrefix });
      continue;
    }
    const ref = nodeRef(now);
    const gw = formatAddress(now.rack.gateway);
    const changes: Renumber['changes'] = [];
    if (n.address !== ref.address) changes.push({ field: 'address', old: n.address, new: ref.address });
    if (n.podPrefix !== ref.podPrefix) changes.push({ field: 'podPrefix', old: n.podPrefix, new: ref.podPrefix });
    if (n.rack !== ref.rack) changes.push({ field: 'rack', old: n.rack, new: ref.rack });
    if (n.gateway !== gw) changes.push({ field: 'gateway', old: n.gateway, new: gw });
    if (changes.length) {
      d.counts.renumbered++;
      const path = now.path ?? now.rack.path ?? 'racks';
      if (d.renumber.length < MAX_LISTED) d.renumber.push({ node: n.name, changes, causes: [{ path, location: stack.locate(path), why: `the stack now places ${n.name} differently from the render in ${r.dir}` }] });
    }
    const files = compareFiles(readTree(join(r.dir, 'hosts', n.name), d.notes), hostFiles(ctx, now), o.context);
    d.hostCoverage.rendered++;
    if (files.length) {
      changedHosts++;
      if (hosts.length < HOST_LIMIT) hosts.push({ name: n.name, files });
    }
  }
  if (d.counts.renumbered) block(d, 'RENUMBER', o.allowRenumber);
  if (!r.host) {
    for (const n of plan.nodes()) {
      if (seen.has(n.name)) continue;
      d.counts.added++;
      if (d.added.length < MAX_LISTED) d.added.push(nodeRef(n));
    }
  }
  d.hosts = hosts;
  d.hostCoverage.all = true;
  d.routerCoverage.all = true;
  d.hostCoverage.inputsChanged = d.hostCoverage.rendered;
  d.hostCoverage.changed = changedHosts;
  if (changedHosts > hosts.length) d.notes.push(`${changedHosts - hosts.length} more changed host(s) are counted but not shown`);
  // Fabric routers: every router directory of the render against the head's.
  const headRouters = new Map<string, FileEntry[]>(spineFiles(ctx));
  const racks = r.host ? [plan.findNode(r.host)?.rack].filter((x) => x !== undefined) : [...plan.racks()];
  for (const rack of racks) headRouters.set(torName(rack), torFiles(ctx, rack));
  let baseRouters: string[] = [];
  try {
    baseRouters = readdirSync(join(r.dir, 'fabric')).sort();
  } catch {
    /* a render without fabric/ */
  }
  for (const name of baseRouters) {
    const now = headRouters.get(name);
    if (!now) {
      d.routersRemoved.push(name);
      continue;
    }
    d.routerCoverage.rendered++;
    const files = compareFiles(readTree(join(r.dir, 'fabric', name), d.notes), now, o.context);
    if (files.length) d.routers.push({ name, files });
  }
  for (const name of headRouters.keys()) if (!baseRouters.includes(name)) d.routersAdded.push(name);
  d.routerCoverage.inputsChanged = d.routerCoverage.rendered;
  d.routerCoverage.changed = d.routers.length;
  d.status = d.cluster.length || d.counts.added || d.counts.removed || d.counts.renumbered || d.hosts.length || d.routers.length || d.routersAdded.length || d.routersRemoved.length ? 'changed' : 'unchanged';
  return d;
}
