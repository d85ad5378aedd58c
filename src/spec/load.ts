/**
 * Stack file -> typed ClusterSpec (with defaults), keeping the YAML syntax tree
 * so every later diagnostic can point at file:line:col.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { Flat6Error, type Diagnostic, type SourceLocation } from '../core/diagnostics.js';
import { ROUTING_DEFAULTS, STACK_SCHEMA } from './schema.js';
import { validateAgainst, type Path, type SchemaProblem } from './validate.js';

export const CLUSTER_KEY = 'flat6:cluster';

export type Role = 'control-plane' | 'worker';

/** What serves the API VIP: flat6's keepalived + haproxy pair on the control-plane nodes, or something outside. */
export type LoadBalancer = 'keepalived-haproxy' | 'none';

export interface ListedNodeSpec {
  name: string;
  slot: number;
  role?: Role;
  interface?: string;
  mac?: string;
  /** dotted path of this node inside flat6:cluster */
  path: string;
}

export interface RackSpec {
  name: string;
  index: number;
  /** true when the stack file gives no index and the rack takes its list position */
  indexDefaulted?: boolean;
  gateway?: string;
  /** a count (slots 0..n-1) or nodes at fixed slots */
  nodes: number | ListedNodeSpec[];
  path: string;
}

export type RacksSpec =
  | { kind: 'list'; items: RackSpec[] }
  | { kind: 'generated'; count: number; nodes: number; namePrefix: string };

export interface ClusterSpec {
  name: string;
  kubernetesVersion: string;
  network: {
    nodes: string;
    rackSubnetLength: number;
    pods: string;
    podPrefixLength: number;
    services: string;
    dns: string[];
    mtu: number;
    dnsDomain: string;
  };
  layout: { slotsPerRack: number; hostOffset: number; gatewayOffset: number };
  controlPlane: {
    count: number;
    rack?: string;
    vip: string;
    port: number;
    apiServerPort: number;
    loadBalancer: LoadBalancer;
    /** keepalived preemption (false renders nopreempt) */
    preempt: boolean;
    /** VRRP virtual_router_id as written; undefined = derived (src/render/ha.ts vrrpIdOf) */
    vrrpId?: number;
  };
  defaults: { interface: string; criSocket: string };
  routing: RoutingSpec;
  racks: RacksSpec;
}

export type RoutingMode = 'bgp' | 'static';

/** The `routing` section with defaults applied (docs/routing.md). */
export interface RoutingSpec {
  mode: RoutingMode;
  /** prefix of the ToR-spine /127 links */
  fabric: string;
  /** true when the stack does not set routing.fabric */
  fabricDefaulted: boolean;
  /** spine AS; ToR of rack i: tor + i; node (r, s): node + r * slotsPerRack + s */
  asn: { spine: number; tor: number; node: number };
  bgp: { holdTime: number; keepaliveTime: number; connectRetryTime: number };
}

export interface LoadedStack {
  /** path of the stack file as given */
  file: string;
  /** stack name: Pulumi.<name>.yaml */
  stackName: string;
  spec: ClusterSpec;
  /** the flat6:cluster section as plain data */
  raw: Record<string, unknown>;
  /** the whole `config:` map as plain data (other keys such as flat6:aws, aws:region) */
  config: Record<string, unknown>;
  /** where a dotted path inside flat6:cluster is written (or its nearest written ancestor) */
  locate(path: string): SourceLocation | undefined;
}

export function stackNameOf(file: string): string {
  const m = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(file));
  return m ? m[1]! : basename(file).replace(/\.ya?ml$/, '');
}

export function pathText(path: Path): string {
  return path.map(String).join('.');
}

function problemCode(p: SchemaProblem): Diagnostic['code'] {
  switch (p.kind) {
    case 'type':
      return 'SCHEMA_TYPE';
    case 'unknown':
      return 'SCHEMA_UNKNOWN_FIELD';
    case 'required':
      return 'SCHEMA_REQUIRED';
    default:
      return 'SCHEMA_VALUE';
  }
}

/**
 * Load and structurally validate a stack file. Throws Flat6Error (exit 2) on parse or schema problems.
 * `file` is read (relative paths resolve against process.cwd()); `shownAs` names it in diagnostics.
 */
export function loadStack(file: string, text?: string, shownAs: string = file): LoadedStack {
  let source: string;
  try {
    source = text ?? readFileSync(file, 'utf8');
  } catch (e) {
    throw new Flat6Error(
      [{ code: 'FILE_READ', severity: 'error', message: `cannot read stack file ${shownAs}: ${(e as Error).message}`, fix: 'check the path; stacks live in stacks/Pulumi.<stack>.yaml' }],
      2,
    );
  }
  return parseStack(shownAs, source);
}

export function parseStack(file: string, source: string): LoadedStack {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourceLocation => {
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  if (doc.errors.length > 0) {
    throw new Flat6Error(
      doc.errors.map((e) => ({
        code: 'YAML_SYNTAX',
        severity: 'error' as const,
        message: e.message.split('\n')[0]!,
        location: at(e.pos[0]),
        fix: 'fix the YAML syntax (indentation, quoting, duplicate keys)',
      })),
      2,
    );
  }
  const root = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const config = root && typeof root === 'object' ? (root as Record<string, unknown>)['config'] : undefined;
  const cluster = config && typeof config === 'object' ? (config as Record<string, unknown>)[CLUSTER_KEY] : undefined;
  if (!cluster || typeof cluster !== 'object' || Array.isArray(cluster)) {
    throw new Flat6Error(
      [
        {
          code: 'NO_CLUSTER',
          severity: 'error',
          message: `no "${CLUSTER_KEY}" mapping under "config:" in ${file}`,
          location: locateIn(doc, ['config'], at, true) ?? { file, line: 1, col: 1 },
          fix: `a stack file looks like:\nconfig:\n  ${CLUSTER_KEY}:\n    name: my-cluster\n    ...   (run "flat6 schema" for every field)`,
        },
      ],
      2,
    );
  }
  const locatePath = (path: Path, atKey = false): SourceLocation | undefined => locateIn(doc, ['config', CLUSTER_KEY, ...path], at, atKey);
  const locate = (dotted: string): SourceLocation | undefined =>
    locatePath(dotted === '' ? [] : dotted.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)));

  const problems = validateAgainst(cluster, STACK_SCHEMA);
  if (problems.length > 0) {
    throw new Flat6Error(
      problems.map((p) => ({
        code: problemCode(p),
        severity: 'error' as const,
        message: p.message,
        path: pathText(p.path),
        // A missing field is reported at the key of the mapping that lacks it, an unknown one at its own key.
        location: p.kind === 'required' ? locatePath(p.path.slice(0, -1), true) : locatePath(p.path, p.kind === 'unknown'),
        fix: p.fix,
      })),
      2,
    );
  }
  const spec = toSpec(cluster as Record<string, unknown>);
  return {
    file,
    stackName: stackNameOf(file),
    spec,
    raw: cluster as Record<string, unknown>,
    config: config as Record<string, unknown>,
    locate,
  };
}

/**
 * Walk the YAML tree along `path`; return where the deepest existing node starts.
 * With `atKey`, a final mapping entry is located at its key (also when its value is empty).
 */
function locateIn(doc: Document, path: Path, at: (o: number) => SourceLocation, atKey = false): SourceLocation | undefined {
  let node: unknown = doc.contents;
  let best: SourceLocation | undefined = rangeOf(node, at);
  for (const [i, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) return best;
      // Point at the value when there is one, else at the key.
      const empty = isScalar(pair.value) && pair.value.value === null && !pair.value.source;
      const keyFirst = empty || (atKey && i === path.length - 1);
      best = (keyFirst ? rangeOf(pair.key, at) : undefined) ?? rangeOf(pair.value, at) ?? rangeOf(pair.key, at) ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return best;
      best = rangeOf(item, at) ?? best;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}

function rangeOf(node: unknown, at: (o: number) => SourceLocation): SourceLocation | undefined {
  const r = (node as YamlNode | undefined)?.range;
  return r ? at(r[0]) : undefined;
}

/**
 * With keepalived-haproxy, haproxy holds controlPlane.port on every control-plane
 * node, so kube-apiserver needs its own port: the next one (6444 for 6443).
 */
export function defaultApiServerPort(loadBalancer: LoadBalancer, port: number): number {
  if (loadBalancer === 'none') return port;
  return port < 65535 ? port + 1 : port - 1;
}

function toSpec(c: Record<string, unknown>): ClusterSpec {
  const net = c['network'] as Record<string, unknown>;
  const layout = (c['layout'] ?? {}) as Record<string, unknown>;
  const cp = c['controlPlane'] as Record<string, unknown>;
  const loadBalancer = (cp['loadBalancer'] as LoadBalancer | undefined) ?? 'keepalived-haproxy';
  const port = (cp['port'] as number | undefined) ?? 6443;
  const defaults = (c['defaults'] ?? {}) as Record<string, unknown>;
  const racksRaw = c['racks'];
  let racks: RacksSpec;
  if (Array.isArray(racksRaw)) {
    racks = {
      kind: 'list',
      items: racksRaw.map((r: Record<string, unknown>, i) => {
        const nodes = r['nodes'];
        return {
          name: r['name'] as string,
          index: (r['index'] as number | undefined) ?? i,
          indexDefaulted: r['index'] === undefined,
          gateway: r['gateway'] as string | undefined,
          path: `racks.${i}`,
          nodes: Array.isArray(nodes)
            ? nodes.map((n: Record<string, unknown>, j) => ({
                name: n['name'] as string,
                slot: n['slot'] as number,
                role: n['role'] as Role | undefined,
                interface: n['interface'] as string | undefined,
                mac: n['mac'] === undefined ? undefined : (n['mac'] as string).toLowerCase(),
                path: `racks.${i}.nodes.${j}`,
              }))
            : (nodes as number),
        };
      }),
    };
  } else {
    const g = racksRaw as Record<string, unknown>;
    racks = { kind: 'generated', count: g['count'] as number, nodes: g['nodes'] as number, namePrefix: (g['namePrefix'] as string | undefined) ?? 'rack' };
  }
  return {
    name: c['name'] as string,
    kubernetesVersion: c['kubernetesVersion'] as string,
    network: {
      nodes: net['nodes'] as string,
      rackSubnetLength: (net['rackSubnetLength'] as number | undefined) ?? 64,
      pods: net['pods'] as string,
      podPrefixLength: (net['podPrefixLength'] as number | undefined) ?? 64,
      services: net['services'] as string,
      dns: net['dns'] as string[],
      mtu: (net['mtu'] as number | undefined) ?? 1500,
      dnsDomain: (net['dnsDomain'] as string | undefined) ?? 'cluster.local',
    },
    layout: {
      slotsPerRack: (layout['slotsPerRack'] as number | undefined) ?? 256,
      hostOffset: (layout['hostOffset'] as number | undefined) ?? 16,
      gatewayOffset: (layout['gatewayOffset'] as number | undefined) ?? 1,
    },
    controlPlane: {
      count: (cp['count'] as number | undefined) ?? 3,
      rack: cp['rack'] as string | undefined,
      vip: cp['vip'] as string,
      port,
      apiServerPort: (cp['apiServerPort'] as number | undefined) ?? defaultApiServerPort(loadBalancer, port),
      loadBalancer,
      preempt: (cp['preempt'] as boolean | undefined) ?? false,
      vrrpId: cp['vrrpId'] as number | undefined,
    },
    defaults: {
      interface: (defaults['interface'] as string | undefined) ?? 'eth0',
      criSocket: (defaults['criSocket'] as string | undefined) ?? 'unix:///var/run/containerd/containerd.sock',
    },
    routing: toRouting(c['routing'] as Record<string, unknown> | undefined),
    racks,
  };
}

function toRouting(r: Record<string, unknown> = {}): RoutingSpec {
  const asn = (r['asn'] ?? {}) as Record<string, unknown>;
  const bgp = (r['bgp'] ?? {}) as Record<string, unknown>;
  const d = ROUTING_DEFAULTS;
  return {
    mode: (r['mode'] as RoutingMode | undefined) ?? d.mode,
    fabric: (r['fabric'] as string | undefined) ?? d.fabric,
    fabricDefaulted: r['fabric'] === undefined,
    asn: {
      spine: (asn['spine'] as number | undefined) ?? d.asn.spine,
      tor: (asn['tor'] as number | undefined) ?? d.asn.tor,
      node: (asn['node'] as number | undefined) ?? d.asn.node,
    },
    bgp: {
      holdTime: (bgp['holdTime'] as number | undefined) ?? d.bgp.holdTime,
      keepaliveTime: (bgp['keepaliveTime'] as number | undefined) ?? d.bgp.keepaliveTime,
      connectRetryTime: (bgp['connectRetryTime'] as number | undefined) ?? d.bgp.connectRetryTime,
    },
  };
}
