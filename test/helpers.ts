/**
 * Shared test helpers: temporary directories, the CLI driven in-process with
 * captured streams, the fixed test-only secrets, stack loading and whole-tree
 * reading/hashing for golden and "nothing written" assertions.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../src/cli/index.js';
import type { CliIO } from '../src/cli/io.js';
import { createPlan, type ClusterPlan } from '../src/plan/plan.js';
import { parseStack, type LoadedStack } from '../src/spec/load.js';

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const GOLDEN = join(ROOT, 'test', 'golden');
export const BUNDLED_STACKS = ['metal', 'multirack', 'scale'] as const;

/** The last node of the 1,048,576-node scale stack (rack 16383, slot 63). */
export const SCALE_LAST = 'rack16383-n63';
/** A handful of scale hosts: init control plane, joining control plane, a worker of the control-plane rack, one from the middle, the last. */
export const SCALE_HOSTS = ['rack0-n0', 'rack0-n1', 'rack0-n3', 'rack8191-n17', SCALE_LAST] as const;

// ---------------------------------------------------------------------------
// Temporary directories
// ---------------------------------------------------------------------------

const made: string[] = [];

/** A fresh empty directory under the OS temp dir; removed by cleanupTempDirs(). */
export function tempDir(label = 'tmp'): string {
  const d = mkdtempSync(join(tmpdir(), `flat6-test-${process.pid}-${label}-`));
  made.push(d);
  return d;
}

/** Remove every directory tempDir() handed out (call from afterAll). */
export function cleanupTempDirs(): void {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// Secrets (fixed, fake, test-only)
// ---------------------------------------------------------------------------

/** Values in test/fixtures/secrets.test-only.yaml. Fake: never valid for any real cluster. */
export const TEST_SECRETS = {
  bootstrapToken: 'abcdef.0123456789abcdef',
  certificateKey: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  caCertHash: 'sha256:00000000000000000000000000000000000000000000000000000000000000aa',
} as const;

/**
 * Path of the fixed test secrets file, made owner-only first: git does not
 * keep file modes and flat6 refuses a group/world-readable secrets file.
 */
export function testSecretsFile(): string {
  const p = join(FIXTURES, 'secrets.test-only.yaml');
  chmodSync(p, 0o600);
  return p;
}

// ---------------------------------------------------------------------------
// The CLI, in-process
// ---------------------------------------------------------------------------

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** environment seen by the CLI (default: empty, so FLAT6_* of the caller never leak in) */
  env?: NodeJS.ProcessEnv;
  /** working directory seen by the CLI (default: the repository root) */
  cwd?: string;
}

/** Run `flat6 ...argv` in this process with captured streams. */
export async function cli(argv: string[], opts: CliOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: opts.env ?? {},
    cwd: opts.cwd ?? ROOT,
    isTTY: false,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/** `flat6 render` with the fixed test secrets into a fresh temp dir (or `out`); throws unless it exits 0. */
export async function renderStack(stack: string, extra: string[] = [], out?: string): Promise<string> {
  const dir = out ?? join(tempDir('render'), 'out');
  const r = await cli(['render', '--stack', stack, '--out', dir, '--secrets', testSecretsFile(), ...extra]);
  if (r.code !== 0) throw new Error(`flat6 render --stack ${stack} ${extra.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return dir;
}

// ---------------------------------------------------------------------------
// Stacks and plans
// ---------------------------------------------------------------------------

export function stackPath(name: string): string {
  return join(ROOT, 'stacks', `Pulumi.${name}.yaml`);
}

export function stackText(name: string): string {
  return readFileSync(stackPath(name), 'utf8');
}

/** Parse a stack from text (no file needed); `file` only names it in diagnostics. */
export function loadText(text: string, file = 'Pulumi.test.yaml'): LoadedStack {
  return parseStack(file, text);
}

export function planText(text: string, file = 'Pulumi.test.yaml'): ClusterPlan {
  return createPlan(parseStack(file, text));
}

export function planBundled(name: string): ClusterPlan {
  return createPlan(parseStack(stackPath(name), stackText(name)));
}

/** Write `text` as <fresh dir>/Pulumi.<name>.yaml and return its path. */
export function writeStack(name: string, text: string): string {
  const p = join(tempDir('stack'), `Pulumi.${name}.yaml`);
  writeFileSync(p, text);
  return p;
}

// ---------------------------------------------------------------------------
// File trees
// ---------------------------------------------------------------------------

export interface TreeFile {
  mode: number;
  content: Buffer;
}

/** Every regular file under `dir` (relative POSIX paths, sorted) with its permission bits and bytes. */
export function readTree(dir: string): Map<string, TreeFile> {
  const out = new Map<string, TreeFile>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.set(relative(dir, p).split('\\').join('/'), { mode: st.mode & 0o7777, content: readFileSync(p) });
      else throw new Error(`unexpected non-regular file in rendered tree: ${p}`);
    }
  };
  walk(dir);
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** One hash over paths, modes (files and directories) and bytes; "absent" when `dir` does not exist. */
export function hashTree(dir: string): string {
  if (!existsSync(dir)) return 'absent';
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      h.update(`${relative(dir, p)}\0${(st.mode & 0o7777).toString(8)}\0`);
      if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
      h.update('\0');
    }
  };
  h.update((lstatSync(dir).mode & 0o7777).toString(8));
  walk(dir);
  return h.digest('hex');
}

/** Files of `tree` whose path starts with `prefix`. */
export function filesUnder(tree: Map<string, TreeFile>, prefix: string): string[] {
  return [...tree.keys()].filter((p) => p.startsWith(prefix));
}

/** Host names present in a rendered tree (hosts/<name>/...). */
export function hostsOf(tree: Map<string, TreeFile>): string[] {
  const s = new Set<string>();
  for (const p of tree.keys()) {
    const m = /^hosts\/([^/]+)\//.exec(p);
    if (m) s.add(m[1]);
  }
  return [...s].sort();
}

/** Entries of `parent` whose name starts with `.<base>.flat6-` (leftovers of an atomic write). */
export function atomicLeftovers(parent: string, base: string): string[] {
  if (!existsSync(parent)) return [];
  return readdirSync(parent).filter((n) => n.startsWith(`.${base}.flat6-`));
}

// ---------------------------------------------------------------------------
// Real tools
// ---------------------------------------------------------------------------

/** Absolute path of a system tool (PATH, then the sbin directories); throws with the install hint when missing. */
export function tool(name: string): string {
  const dirs = [...(process.env['PATH'] ?? '').split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`${name} is not installed: run scripts/install-test-deps.sh (as root)`);
}

/** Every stack bundled in stacks/ (Pulumi.<name>.yaml), sorted. */
export function bundledStacks(): string[] {
  return readdirSync(join(ROOT, 'stacks'))
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((x): x is string => !!x)
    .sort();
}

/** Stacks with more nodes than this are covered by a few `render --host` runs instead of a full render. */
export const FULL_RENDER_MAX_NODES = 256;

export interface ToolTarget {
  stack: string;
  out: string;
  /** the hosts this render must contain */
  hosts: string[];
}

/**
 * What the real-tool tests cover: every host of every bundled stack, except
 * large stacks (scale), of which a few hosts are rendered one by one with --host.
 */
export async function renderAllForTools(): Promise<ToolTarget[]> {
  const outs: ToolTarget[] = [];
  for (const stack of bundledStacks()) {
    const plan = planBundled(stack);
    if (plan.nodeCount <= FULL_RENDER_MAX_NODES) {
      outs.push({ stack, out: await renderStack(stack), hosts: [...plan.nodes()].map((n) => n.name).sort() });
      continue;
    }
    for (const h of sampleHosts(plan)) outs.push({ stack, out: await renderStack(stack, ['--host', h]), hosts: [h] });
  }
  return outs;
}

/** A few hosts of a large plan: SCALE_HOSTS for scale, else both ends, the control plane and the middle. */
export function sampleHosts(plan: ClusterPlan): string[] {
  if (plan.stackName === 'scale') return [...SCALE_HOSTS];
  const racks = [...(plan.spec.racks.kind === 'generated' ? [plan.rackAt(0), plan.rackAt(Math.floor(plan.rackCount / 2)), plan.rackAt(plan.rackCount - 1)] : plan.racks())];
  const names = new Set<string>(plan.controlPlanes.slice(0, 2).map((n) => n.name));
  for (const r of racks) {
    const it = plan.nodesOfRack(r);
    const first = it.next().value;
    if (first) names.add(first.name);
  }
  const lastRack = racks[racks.length - 1];
  const lastNode = plan.nodeAt(lastRack.index, lastRack.nodeCount - 1);
  if (lastNode) names.add(lastNode.name);
  return [...names].slice(0, 8);
}

/**
 * Roots of a rendered tree that hold files under etc/<sub>/ (hosts/<host>, fabric/<router>, ...),
 * so the real-tool tests also cover what later renderers add.
 */
export function rootsWith(tree: Map<string, TreeFile>, sub: string): string[] {
  const roots = new Set<string>();
  for (const p of tree.keys()) {
    const i = p.indexOf(`/etc/${sub}/`);
    if (i > 0) roots.add(p.slice(0, i));
  }
  return [...roots].sort();
}
