/**
 * Rendering: golden trees, parse-back, growth without change, determinism,
 * key-order independence and file modes.
 *
 * Golden trees live in test/golden/<case>/: every rendered file, byte for
 * byte, plus MODES (mode and path of each file, since git keeps no modes).
 * Cases: metal and multirack (all hosts), and scale/<host> for a few hosts of
 * the 1,048,576-node stack (one `render --host` each). They are rendered with
 * the fake secrets of test/fixtures/secrets.test-only.yaml.
 *
 * After an intended change to a renderer or template, regenerate them and
 * review the diff like code:
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/render.test.ts
 *   git diff --stat test/golden
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isMap, parseAllDocuments, parseDocument, visit } from 'yaml';
import {
  BUNDLED_STACKS,
  cleanupTempDirs,
  cli,
  GOLDEN,
  hashTree,
  hostsOf,
  readTree,
  renderStack,
  SCALE_HOSTS,
  stackText,
  tempDir,
  TEST_SECRETS,
  testSecretsFile,
  writeStack,
  type TreeFile,
} from './helpers.js';

afterAll(cleanupTempDirs);

const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const MODES = 'MODES';
const MODES_HEADER = [
  '# Mode and path of every file of this golden tree (git keeps no file modes).',
  '# Regenerate after an intended change: UPDATE_GOLDEN=1 npx vitest run test/render.test.ts',
];

interface GoldenCase {
  /** directory under test/golden */
  name: string;
  stack: string;
  args: string[];
}

const CASES: GoldenCase[] = [
  { name: 'metal', stack: 'metal', args: [] },
  { name: 'multirack', stack: 'multirack', args: [] },
  ...SCALE_HOSTS.map((h) => ({ name: `scale/${h}`, stack: 'scale', args: ['--host', h] })),
];

const octal = (mode: number): string => mode.toString(8).padStart(4, '0');

function writeGolden(dir: string, tree: Map<string, TreeFile>): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [path, f] of tree) {
    const p = join(dir, path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content, { mode: 0o644 });
  }
  const lines = [...tree].map(([path, f]) => `${octal(f.mode)} ${path}`);
  writeFileSync(join(dir, MODES), [...MODES_HEADER, ...lines, ''].join('\n'));
}

/** Differences between a rendered tree and a golden directory, one line each. */
function compareGolden(dir: string, tree: Map<string, TreeFile>): string[] {
  if (!existsSync(join(dir, MODES))) return [`${dir}/${MODES} is missing (no golden tree yet?)`];
  const modes = new Map<string, string>();
  for (const line of readFileSync(join(dir, MODES), 'utf8').split('\n')) {
    const m = /^(\d{4}) (.+)$/.exec(line);
    if (m) modes.set(m[2], m[1]);
  }
  const golden = readTree(dir);
  golden.delete(MODES);
  const problems: string[] = [];
  for (const path of golden.keys()) {
    if (!modes.has(path)) problems.push(`${path}: in the golden tree but not in ${MODES}`);
  }
  for (const [path, mode] of modes) {
    const f = tree.get(path);
    const g = golden.get(path);
    if (!f) {
      problems.push(`${path}: expected, not rendered`);
      continue;
    }
    if (!g) problems.push(`${path}: listed in ${MODES} but the golden file is missing`);
    else if (!f.content.equals(g.content)) problems.push(`${path}: content differs${firstDifference(g.content.toString(), f.content.toString())}`);
    if (octal(f.mode) !== mode) problems.push(`${path}: mode ${octal(f.mode)}, golden ${mode}`);
  }
  for (const path of tree.keys()) if (!modes.has(path)) problems.push(`${path}: rendered, not in the golden tree`);
  return problems;
}

function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) return ` (line ${i + 1}: golden ${JSON.stringify(x[i] ?? '<end>')}, rendered ${JSON.stringify(y[i] ?? '<end>')})`;
  }
  return '';
}

describe('golden trees', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const out = await renderStack(c.stack, c.args);
    const tree = readTree(out);
    const dir = join(GOLDEN, c.name);
    if (UPDATE) {
      writeGolden(dir, tree);
      return;
    }
    const problems = compareGolden(dir, tree);
    expect(problems, `rendered tree differs from test/golden/${c.name}; if intended: UPDATE_GOLDEN=1 npx vitest run test/render.test.ts`).toEqual([]);
  });

  it('test/golden holds no tree that no case renders', () => {
    const wanted = new Set(CASES.map((c) => c.name));
    const stale: string[] = [];
    const walk = (rel: string): void => {
      if (wanted.has(rel)) return;
      const dir = join(GOLDEN, rel);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) return void stale.push(rel);
      const children = readdirSync(dir);
      if (!CASES.some((c) => c.name.startsWith(`${rel}/`)) || children.length === 0) return void stale.push(rel);
      for (const n of children) walk(`${rel}/${n}`);
    };
    for (const n of readdirSync(GOLDEN)) walk(n);
    if (UPDATE) for (const s of stale) rmSync(join(GOLDEN, s), { recursive: true, force: true });
    else expect(stale, 'stale golden trees; UPDATE_GOLDEN=1 removes them').toEqual([]);
  });

  it('the scale goldens hold exactly the one host each render asked for', () => {
    for (const h of SCALE_HOSTS) {
      const tree = readTree(join(GOLDEN, 'scale', h));
      expect(hostsOf(tree)).toEqual([h]);
    }
  });

  it('the comparison catches a changed byte, a changed mode, a missing and an extra file', async () => {
    const out = await renderStack('metal');
    const tree = readTree(out);
    const dir = join(tempDir('golden'), 'g');
    writeGolden(dir, tree);
    expect(compareGolden(dir, tree)).toEqual([]);
    const [first, second] = [...tree.keys()];
    const changed = new Map(tree);
    changed.set(first, { ...tree.get(first)!, content: Buffer.concat([tree.get(first)!.content, Buffer.from(' ')]) });
    changed.set(second, { ...tree.get(second)!, mode: 0o666 });
    changed.set('hosts/extra/file', { mode: 0o644, content: Buffer.from('x') });
    changed.delete('plan.json');
    const problems = compareGolden(dir, changed).join('\n');
    expect(problems).toContain(`${first}: content differs`);
    expect(problems).toContain(`${second}: mode 0666, golden`);
    expect(problems).toContain('hosts/extra/file: rendered, not in the golden tree');
    expect(problems).toContain('plan.json: expected, not rendered');
  });
});

describe('parse-back', () => {
  it.each([...BUNDLED_STACKS].map((s) => [s]))('every YAML and JSON file of %s parses; sysctl files are key = value', async (stack) => {
    const out = await renderStack(stack, stack === 'scale' ? ['--host', 'rack0-n0'] : []);
    const tree = readTree(out);
    let yamlFiles = 0;
    for (const [path, f] of tree) {
      const text = f.content.toString('utf8');
      expect(text.endsWith('\n'), `${path} ends with a newline`).toBe(true);
      if (/\.ya?ml$/.test(path)) {
        yamlFiles++;
        for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
          expect(doc.errors.map((e) => e.message), path).toEqual([]);
          expect(doc.warnings.map((e) => e.message), path).toEqual([]);
          expect(doc.toJS(), path).toBeTypeOf('object');
        }
      } else if (path.endsWith('.json')) {
        expect(() => JSON.parse(text), path).not.toThrow();
      } else if (path.includes('/etc/sysctl.d/')) {
        for (const line of text.split('\n')) {
          if (line === '' || line.startsWith('#')) continue;
          expect(line, path).toMatch(/^[a-z0-9_.-]+ = \S+$/);
        }
      }
    }
    expect(yamlFiles).toBeGreaterThan(0);
  });

  it('plan.json of metal describes every host that was rendered', async () => {
    const out = await renderStack('metal');
    const tree = readTree(out);
    const plan = JSON.parse(tree.get('plan.json')!.content.toString());
    expect(plan.scope).toBe('cluster');
    expect(plan.nodes.map((n: { name: string }) => n.name).sort()).toEqual(hostsOf(tree));
    expect(plan.controlPlaneEndpoint).toBe('[2001:db8:1::100]:6443');
  });
});

/** Host files of `before` that are missing or different in `after` (plan.json and other cluster files excluded). */
function changedHostFiles(before: Map<string, TreeFile>, after: Map<string, TreeFile>): string[] {
  const out: string[] = [];
  for (const [path, f] of before) {
    if (!path.startsWith('hosts/')) continue;
    const g = after.get(path);
    if (!g) out.push(`${path}: gone`);
    else if (!g.content.equals(f.content)) out.push(`${path}: changed${firstDifference(f.content.toString(), g.content.toString())}`);
    else if (g.mode !== f.mode) out.push(`${path}: mode changed`);
  }
  for (const h of hostsOf(before)) {
    const prefix = `hosts/${h}/`;
    for (const path of after.keys()) if (path.startsWith(prefix) && !before.has(path)) out.push(`${path}: new file for an existing host`);
  }
  return out;
}

/**
 * Growing a cluster must leave every existing host's files byte-identical:
 * a node's files depend on its own (rack, slot) and on cluster-wide settings,
 * never on how many racks or nodes exist. plan.json is excepted on purpose:
 * it is the plan of the whole cluster (rack and node counts, the rack list,
 * spine route totals), so it must change when the cluster grows. Cluster-wide
 * files outside hosts/ (fabric routers) likewise gain the new rack.
 */
describe('growth leaves existing hosts byte-identical', () => {
  const GENERATED = `config:
  flat6:cluster:
    name: gen
    kubernetesVersion: v1.33.4
    network:
      nodes: "2001:db8:100::/56"
      pods: "2001:db8:4200::/48"
      services: "2001:db8:43::/112"
      dns: ["2001:db8:53::53"]
    layout:
      slotsPerRack: 64
    controlPlane:
      vip: "2001:db8:100::100"
    racks:
      count: 2
      nodes: 3
`;
  const growths: Array<[string, string, string, (t: string) => string]> = [
    ['multirack: a rack appended', 'multirack', stackText('multirack'), (t) => `${t.trimEnd()}\n      - { name: r4, index: 4, nodes: 4 }\n`],
    ['multirack: a node added to a counted rack', 'multirack', stackText('multirack'), (t) => sub(t, '- { name: r1, index: 1, nodes: 4 }', '- { name: r1, index: 1, nodes: 5 }')],
    ['multirack: a node added to the control-plane rack', 'multirack', stackText('multirack'), (t) => sub(t, '- { name: r0, index: 0, nodes: 4 }', '- { name: r0, index: 0, nodes: 6 }')],
    ['multirack: a listed node added', 'multirack', stackText('multirack'), (t) => sub(t, '          - { name: gpu2,', '          - { name: gpu3, slot: 9, mac: "02:00:5e:10:00:09" }\n          - { name: gpu2,')],
    ['metal: a worker added', 'metal', stackText('metal'), (t) => sub(t, '          - { name: worker3, slot: 0x42 }', '          - { name: worker3, slot: 0x42 }\n          - { name: worker4, slot: 0x50 }')],
    ['generated racks: one more rack', 'gen', GENERATED, (t) => sub(t, 'count: 2', 'count: 3')],
    ['generated racks: one more node per rack', 'gen', GENERATED, (t) => sub(t, 'nodes: 3', 'nodes: 4')],
  ];

  it.each(growths)('%s', async (_label, name, text, grow) => {
    const before = readTree(await renderStack(writeStack(name, text)));
    const after = readTree(await renderStack(writeStack(name, grow(text))));
    expect(hostsOf(after).length).toBeGreaterThan(hostsOf(before).length);
    expect(hostsOf(after)).toEqual(expect.arrayContaining(hostsOf(before)));
    expect(changedHostFiles(before, after)).toEqual([]);
    // The exception, and why it is one: plan.json counts the cluster.
    expect(after.get('plan.json')!.content.equals(before.get('plan.json')!.content)).toBe(false);
  });

  it('the comparison does notice a change to an existing host', async () => {
    const text = stackText('metal');
    const before = readTree(await renderStack(writeStack('metal', text)));
    const after = readTree(await renderStack(writeStack('metal', sub(text, '"2606:4700:4700::1111"', '"2606:4700:4700::1001"'))));
    expect(changedHostFiles(before, after).length).toBeGreaterThan(0);
  });
});

function sub(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`stack text has no ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

describe('determinism', () => {
  it.each([['metal'], ['multirack']])('%s: two renders are byte-identical', async (stack) => {
    const a = await renderStack(stack);
    const b = await renderStack(stack);
    expect(hashTree(a)).toBe(hashTree(b));
  });

  it('scale --host: two renders are byte-identical', async () => {
    const a = await renderStack('scale', ['--host', 'rack16383-n63']);
    const b = await renderStack('scale', ['--host', 'rack16383-n63']);
    expect(hashTree(a)).toBe(hashTree(b));
  });

  it.each([['metal'], ['multirack']])('%s: the order of keys in the stack file does not change a byte', async (stack) => {
    const doc = parseDocument(stackText(stack));
    visit(doc, {
      Map(_key, node) {
        if (isMap(node)) node.items.reverse();
      },
    });
    const reversed = doc.toString();
    expect(reversed).not.toBe(stackText(stack));
    const a = await renderStack(stack);
    const b = await renderStack(writeStack(stack, reversed));
    expect(hashTree(b)).toBe(hashTree(a));
  });
});

describe('file modes', () => {
  const renderWithUmask = async (mask: number): Promise<Map<string, TreeFile>> => {
    const old = process.umask(mask);
    try {
      return readTree(await renderStack('metal'));
    } finally {
      process.umask(old);
    }
  };

  it('netplan and kubeadm files are 0600, others 0644, whatever the umask', async () => {
    const loose = await renderWithUmask(0o000);
    const tight = await renderWithUmask(0o077);
    for (const tree of [loose, tight]) {
      for (const [path, f] of tree) {
        if (path.includes('/etc/netplan/') || path.endsWith('/kubeadm.yaml')) expect(octal(f.mode), path).toBe('0600');
        expect(f.mode & 0o022, `${path} is group/world writable`).toBe(0);
      }
    }
    expect([...loose].map(([p, f]) => [p, f.mode])).toEqual([...tight].map(([p, f]) => [p, f.mode]));
    expect(octal(loose.get('plan.json')!.mode)).toBe('0644');
    expect(octal(loose.get('hosts/cp1/etc/sysctl.d/99-flat6.conf')!.mode)).toBe('0644');
  });

  it.each([...BUNDLED_STACKS].map((s) => [s]))('%s: every file holding a secret is owner-only', async (stack) => {
    const tree = readTree(await renderStack(stack, stack === 'scale' ? ['--host', 'rack0-n0'] : []));
    let holders = 0;
    for (const [path, f] of tree) {
      const text = f.content.toString();
      if (text.includes(TEST_SECRETS.bootstrapToken) || text.includes(TEST_SECRETS.certificateKey)) {
        holders++;
        expect(f.mode & 0o077, `${path} holds a secret with mode ${octal(f.mode)}`).toBe(0);
      }
    }
    expect(holders).toBeGreaterThan(0);
    expect(tree.get('plan.json')!.content.toString()).not.toContain(TEST_SECRETS.bootstrapToken.split('.')[1]);
  });

  it('directories of the output are not group/world writable', async () => {
    const out = await renderStack('metal');
    const r = await cli(['render', '--stack', 'metal', '--out', out, '--secrets', testSecretsFile()]);
    expect(r.code).toBe(0);
    const walk = (d: string): void => {
      expect(statSync(d).mode & 0o022, d).toBe(0);
      for (const n of readdirSync(d, { withFileTypes: true })) if (n.isDirectory()) walk(join(d, n.name));
    };
    walk(out);
  });
});
