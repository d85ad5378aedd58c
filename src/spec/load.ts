/**
 * Stack file -> typed ClusterSpec (with defaults), keeping the YAML syntax tree
 * so every later diagnostic can point at file:line:col. The section's shape,
 * types and defaults come from its one declaration (src/spec/schema.ts).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import { Flat6Error, type Diagnostic, type SourceLocation } from '../core/diagnostics.js';
import { CLUSTER_SECTION, ROUTING_DEFAULTS, type ClusterConfig, type GeneratedRacksConfig, type ListedNodeConfig, type RackConfig } from './schema.js';
import { checkSection, quote, type Path, type SchemaProblem, type Section } from './section.js';

export type { Path };

export const CLUSTER_KEY = CLUSTER_SECTION.key;

export type Role = NonNullable<ListedNodeConfig['role']>;

/** What serves the API VIP: flat6's keepalived + haproxy pair on the control-plane nodes, or something outside. */
export type LoadBalancer = ClusterConfig['controlPlane']['loadBalancer'];

export type ListedNodeSpec = ListedNodeConfig & {
  /** dotted path of this node inside flat6:cluster */
  path: string;
};

export type RackSpec = Omit<RackConfig, 'index' | 'nodes'> & {
  index: number;
  /** true when the stack file gives no index and the rack takes its list position */
  indexDefaulted: boolean;
  /** a count (slots 0..n-1) or nodes at fixed slots */
  nodes: number | ListedNodeSpec[];
  path: string;
};

export type RacksSpec = { kind: 'list'; items: RackSpec[] } | ({ kind: 'generated' } & GeneratedRacksConfig);

export type RoutingMode = ClusterConfig['routing']['mode'];

/** The `routing` section with defaults applied (docs/routing.md). */
export type RoutingSpec = Omit<ClusterConfig['routing'], 'fabric' | 'spines'> & {
  /** number of spine routers */
  spines: number;
  /** prefix of the ToR-spine /127 links */
  fabric: string;
  /** true when the stack does not set routing.fabric */
  fabricDefaulted: boolean;
};

/** The cluster section as the planner reads it: the declaration's output plus what follows from it. */
export type ClusterSpec = Omit<ClusterConfig, 'controlPlane' | 'routing' | 'racks'> & {
  controlPlane: ClusterConfig['controlPlane'] & { apiServerPort: number };
  routing: RoutingSpec;
  racks: RacksSpec;
};

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
  /** where a path inside another config key (e.g. flat6:aws) is written; `atKey` points at the key of the last segment */
  locateIn: (key: string, path: Path, atKey?: boolean) => SourceLocation | undefined;
  /** the text the stack was parsed from */
  source: string;
}

/** The plain-data part of a loaded stack: what a render worker thread is handed (a structured clone) instead of reading the file again. */
export type StackData = Omit<LoadedStack, 'locate' | 'locateIn'>;

export function stackData(s: LoadedStack): StackData {
  return { file: s.file, stackName: s.stackName, spec: s.spec, raw: s.raw, config: s.config, source: s.source };
}

/**
 * A loaded stack from handed data: the same checked spec, without reading,
 * parsing or validating anything. Locations (for a diagnostic) come from
 * parsing the same source again, on the first one asked for.
 */
export function stackFromData(d: StackData): LoadedStack {
  let parsed: LoadedStack | undefined;
  const full = (): LoadedStack => (parsed ??= parseStack(d.file, d.source));
  return { ...d, locate: (path) => full().locate(path), locateIn: (key, path, atKey) => full().locateIn(key, path, atKey) };
}

/** Pulumi's rule for stack names; the name is also written into rendered comments. */
export const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

export function stackNameOf(file: string): string {
  const m = /^Pulumi\.(.+)\.ya?ml$/s.exec(basename(file));
  return m ? m[1]! : basename(file).replace(/\.ya?ml$/, '');
}

export function pathText(path: Path): string {
  return path.map(String).join('.');
}

export function problemCode(p: SchemaProblem): Diagnostic['code'] {
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

/** The tags plain YAML values resolve to (YAML 1.2 core schema); any other tag is refused. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/** Stack files above this size are refused: a real one, even with 100,000 listed racks, is far smaller. */
export const MAX_STACK_BYTES = 64 * 1024 * 1024;
/** YAML aliases a stack file may expand (each may copy a large subtree): bounded against alias bombs. */
export const MAX_ALIASES = 100;

function readError(shownAs: string, why: string, fix: string): Flat6Error {
  return new Flat6Error([{ code: 'FILE_READ', severity: 'error', message: `cannot read stack file ${shownAs}: ${why}`, fix }], 2);
}

/**
 * Read a regular file of at most `max` bytes as UTF-8. A FIFO, device or
 * directory is refused without blocking on it (opened non-blocking, then fstat).
 */
export function readRegularFile(file: string, max: number, what: string, onError: (why: string) => Error): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw onError((e as Error).message);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw onError(`not a regular file (${st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'a special file'}); ${what} must be a plain file`);
    if (st.size > max) throw onError(`${st.size} bytes is larger than the ${max} a ${what} may have`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.toString('utf8', 0, off);
  } finally {
    closeSync(fd);
  }
}

/**
 * Load and structurally validate a stack file. Throws Flat6Error (exit 2) on parse or schema problems.
 * `file` is read (relative paths resolve against process.cwd()); `shownAs` names it in diagnostics.
 */
export function loadStack(file: string, text?: string, shownAs: string = file): LoadedStack {
  const source =
    text ??
    readRegularFile(file, MAX_STACK_BYTES, 'stack file', (why) => readError(shownAs, why, 'check the path; stacks live in stacks/Pulumi.<stack>.yaml'));
  return parseStack(shownAs, source);
}

/** Plain data of a parsed document, with aliases bounded; an alias problem is a located YAML_SYNTAX error. */
function toPlain(doc: Document, at: (offset: number) => SourceLocation, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    let where: SourceLocation | undefined;
    visit(doc, {
      Alias(_k, node) {
        if (node.range && !where) where = at(node.range[0]);
        return visit.BREAK;
      },
    });
    throw new Flat6Error(
      [
        {
          code: 'YAML_SYNTAX',
          severity: 'error',
          message: (e as Error).message.split('\n')[0]!,
          location: where ?? { file, line: 1, col: 1 },
          fix: `define each anchor (&name) before its alias (*name), and expand at most ${MAX_ALIASES} aliases; a stack file rarely needs any`,
        },
      ],
      2,
    );
  }
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
  const shapeProblems: Diagnostic[] = [];
  visit(doc, {
    Node(_k, node) {
      if (node.tag && !PLAIN_TAGS.has(node.tag)) {
        shapeProblems.push({
          code: 'YAML_SYNTAX',
          severity: 'error',
          message: `YAML tag ${quote(node.tag)} in a stack file`,
          location: rangeOf(node, at) ?? { file, line: 1, col: 1 },
          fix: 'remove the tag: stack values are plain strings, numbers, booleans, lists and mappings',
        });
      }
    },
    Pair(_k, pair) {
      if (pair.key !== null && !isScalar(pair.key)) {
        shapeProblems.push({
          code: 'YAML_SYNTAX',
          severity: 'error',
          message: 'a mapping key that is itself a list or a mapping',
          location: rangeOf(pair.key, at) ?? { file, line: 1, col: 1 },
          fix: 'keys in a stack file are plain names (e.g. "nodes:"); remove the "?" complex key or the brackets around the key',
        });
      }
    },
  });
  if (shapeProblems.length > 0) throw new Flat6Error(shapeProblems, 2);
  const stackName = stackNameOf(file);
  if (!STACK_NAME.test(stackName)) {
    throw new Flat6Error(
      [
        {
          code: 'STACK_NAME',
          severity: 'error',
          message: `stack name ${JSON.stringify(stackName)} (from the file name ${JSON.stringify(basename(file))}) is not a Pulumi stack name`,
          location: { file, line: 1, col: 1 },
          fix: 'rename the file Pulumi.<stack>.yaml with a stack name of 1-100 letters, digits, "-", "_" and "."',
        },
      ],
      2,
    );
  }
  const root = toPlain(doc, at, file);
  const config = isPlainObject(root) && Object.hasOwn(root, 'config') ? root['config'] : undefined;
  const cluster = isPlainObject(config) && Object.hasOwn(config, CLUSTER_KEY) ? config[CLUSTER_KEY] : undefined;
  if (!isPlainObject(cluster)) {
    throw new Flat6Error(
      [
        {
          code: 'NO_CLUSTER',
          severity: 'error',
          message: `no "${CLUSTER_KEY}" mapping under "config:" in ${file}`,
          location: locateNode(doc, ['config'], at, true) ?? { file, line: 1, col: 1 },
          fix: `a stack file looks like:\nconfig:\n  ${CLUSTER_KEY}:\n    name: my-cluster\n    ...   (run "flat6 schema" for every field)`,
        },
      ],
      2,
    );
  }
  const locateIn = (key: string, path: Path, atKey = false): SourceLocation | undefined => locateNode(doc, ['config', key, ...path], at, atKey);
  const locate = (dotted: string): SourceLocation | undefined =>
    locateIn(CLUSTER_KEY, dotted === '' ? [] : dotted.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)));
  const cfg = checkedSection(CLUSTER_SECTION, cluster, locateIn);
  return {
    file,
    stackName,
    spec: toSpec(cfg),
    raw: cluster,
    config: config as Record<string, unknown>,
    locate,
    locateIn,
    source,
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Validate one section against its declaration; every problem becomes a located
 * diagnostic (exit 2). Returns the section's value with defaults applied.
 */
export function checkedSection<S extends Section>(section: S, value: unknown, locateIn: LoadedStack['locateIn']): ReturnType<S['schema']['parse']> {
  const r = checkSection(section, value);
  if (r.ok) return r.value as ReturnType<S['schema']['parse']>;
  throw new Flat6Error(
    r.problems.map((p) => ({
      code: problemCode(p),
      severity: 'error' as const,
      message: p.message,
      path: pathText(p.path),
      section: section.key,
      // A missing field is reported at the key of the mapping that lacks it, an unknown one at its own key.
      location: p.kind === 'required' ? locateIn(section.key, p.path.slice(0, -1), true) : locateIn(section.key, p.path, p.kind === 'unknown'),
      fix: p.fix,
    })),
    2,
  );
}

/**
 * Walk the YAML tree along `path`; return where the deepest existing node starts.
 * With `atKey`, a final mapping entry is located at its key (also when its value is empty).
 */
function locateNode(doc: Document, path: Path, at: (o: number) => SourceLocation, atKey = false): SourceLocation | undefined {
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

function toSpec(c: ClusterConfig): ClusterSpec {
  const racks: RacksSpec = Array.isArray(c.racks)
    ? {
        kind: 'list',
        items: c.racks.map((r, i) => ({
          ...r,
          index: r.index ?? i,
          indexDefaulted: r.index === undefined,
          path: `racks.${i}`,
          nodes: typeof r.nodes === 'number' ? r.nodes : r.nodes.map((n, j) => ({ ...n, path: `racks.${i}.nodes.${j}` })),
        })),
      }
    : { kind: 'generated', ...c.racks };
  const cp = c.controlPlane;
  return {
    ...c,
    controlPlane: { ...cp, apiServerPort: cp.apiServerPort ?? defaultApiServerPort(cp.loadBalancer, cp.port) },
    routing: {
      ...c.routing,
      fabric: c.routing.fabric ?? ROUTING_DEFAULTS.fabric,
      fabricDefaulted: c.routing.fabric === undefined,
      spines: c.routing.spines ?? (c.routing.mode === 'bgp' && (Array.isArray(c.racks) ? c.racks.length : c.racks.count) > 1 ? ROUTING_DEFAULTS.spines : 1),
    },
    racks,
  };
}
