/**
 * Fuzzing the stack file: random mutations of the bundled stacks (types
 * swapped, keys deleted or added, strings with control characters, line
 * breaks and template syntax, huge numbers, raw text spliced into the YAML)
 * go through load, check and render (and now and then plan, plan --json or
 * validate). The property, for every case:
 *   - flat6 never throws (no exit 70) and exits 0, 1 or 2;
 *   - exit 0: every YAML and JSON file parses back (YAML 1.1 and 1.2), and no
 *     injected key or line (the marker INJECTED) appears in any rendered file;
 *   - exit 1 or 2: a diagnostic or usage error is printed, --out does not exist;
 *   - no raw control character reaches the terminal.
 * FLAT6_FUZZ_RUNS sets the number of cases (default 1500; CI runs the default).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { loadStack } from '../src/spec/load.js';
import { createPlan } from '../src/plan/plan.js';
import { cleanupTempDirs, cli, FIXTURES, stackPath, tempDir, testSecretsFile } from './helpers.js';

afterAll(cleanupTempDirs);

const RUNS = Number(process.env['FLAT6_FUZZ_RUNS'] ?? 1500);
const MARK = 'INJECTED';

const BASES = [stackPath('metal'), stackPath('multirack'), stackPath('aws-lab'), join(FIXTURES, 'Pulumi.good.yaml')].map((f) => readFileSync(f, 'utf8'));

/** Payloads that would add structure if written raw, each carrying the marker. */
const PAYLOADS = [
  `x\n${MARK}: 1`,
  `x\r\n${MARK}: [1]`,
  `"\n${MARK}: 1\n#`,
  `'\n${MARK}: 1`,
  `x; ${MARK};`,
  `x }\n${MARK} {`,
  `x\n${MARK} = 1`,
  `x\u2028${MARK}: 1`,
  `x\u0085${MARK}: 1`,
  `{{host}}\n${MARK}: 1`,
  `{{{host}}}`,
  `\${${MARK}}`,
  `$(${MARK})`,
  `a: b\n${MARK}: c`,
  `- ${MARK}`,
];

const hostileString = fc.oneof(
  fc.constantFrom(...PAYLOADS),
  fc.constantFrom('', ' ', '\x7f', '\u0000', '\t', '#', ';', '"', '[a]', '{a: 1}', '0.0.0.0/0', '::/0', '10.0.0.1', 'fe80::1%eth0', '2001:db8::/129', '2001:db8::1/64', 'x'.repeat(400), 'constructor', '__proto__', 'v1.33.4', 'unix:///run/x.sock'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

const hostileNumber = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, 1, 2 ** 24, 2 ** 24 + 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53 + 1, 2 ** 60, 1e300, 0.5, -0.0, 65535, 65536, 4294967295),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Values a stack could hold: they keep many cases valid, so the later stages (checks, render) are reached. */
const plausibleValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 0, max: 300 }),
  fc.constantFrom(1, 2, 3, 16, 64, 80, 112, 256, 1280, 6443, 9000, 4200000000),
  fc.constantFrom('2001:db8:1::100', '2001:db8:1::/64', '2001:db8:42::/48', '2001:db8:43::/112', '2001:db8:1::1', 'fd00::/8', 'r9', 'node-a', 'eth1', 'ens3', 'aa:bb:cc:dd:ee:ff', 'worker', 'control-plane', 'static', 'bgp', 'none', 'v1.34.0', 'v1.30.0', 'cluster.local'),
  fc.boolean(),
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 9, arbitrary: plausibleValue },
  { weight: 4, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('name', 'slot', 'nodes', 'count', '__proto__', 'constructor', 'toString', MARK), hostileString, { maxKeys: 2 }) },
);

type Op = { kind: 'set'; at: number; value: unknown } | { kind: 'delete'; at: number } | { kind: 'add'; at: number; key: string; value: unknown };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: hostileValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom('constructor', '__proto__', 'toString', 'valueOf', MARK, 'mac', 'index', 'gateway', 'role', 'interface', 'apiServerPort', 'vrrpId', 'rack'), fc.string({ maxLength: 6 })), value: hostileValue }) },
);

/** Every container (object or array) in the tree with the path to it. */
function containers(v: unknown, path: Array<string | number> = []): Array<{ path: Array<string | number>; node: Record<string, unknown> | unknown[] }> {
  if (v === null || typeof v !== 'object') return [];
  const here = [{ path, node: v as Record<string, unknown> | unknown[] }];
  const kids = Array.isArray(v) ? v.map((x, i) => containers(x, [...path, i])) : Object.entries(v).map(([k, x]) => containers(x, [...path, k]));
  return [...here, ...kids.flat()];
}

/** Mutations land inside flat6:cluster (where flat6 reads), now and then anywhere in the file. */
function mutate(base: unknown, ops: Op[]): unknown {
  const doc = structuredClone(base);
  for (const o of ops) {
    const all = containers(doc);
    const inCluster = all.filter((c) => c.path[0] === 'config' && c.path[1] === 'flat6:cluster');
    const cs = o.at % 10 === 0 || inCluster.length === 0 ? all : inCluster;
    const { node } = cs[o.at % cs.length];
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (o.kind === 'add') {
      if (Array.isArray(node)) node.push(o.value);
      else Object.defineProperty(node, o.key, { value: o.value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    if (keys.length === 0) continue;
    const k = keys[o.at % keys.length];
    if (o.kind === 'delete') {
      if (Array.isArray(node)) node.splice(k as number, 1);
      else Reflect.deleteProperty(node, k);
    } else (node as Record<string | number, unknown>)[k] = o.value;
  }
  return doc;
}

/** Keys anywhere in a parsed document. */
function hasKey(v: unknown, key: string): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (!Array.isArray(v) && Object.hasOwn(v, key)) return true;
  return Object.values(v).some((x) => hasKey(x, key));
}

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else yield p;
  }
}

/** Problems with a rendered tree: unparsable YAML/JSON, or the marker as a key or a line of its own. */
function treeProblems(dir: string): string[] {
  const out: string[] = [];
  for (const f of files(dir)) {
    const text = readFileSync(f, 'utf8');
    if (/\.(ya?ml)$/.test(f)) {
      for (const version of ['1.2', '1.1'] as const) {
        for (const d of parseAllDocuments(text, { version })) {
          if (d.errors.length) out.push(`${f}: YAML ${version}: ${d.errors[0].message}`);
          else if (hasKey(d.toJS(), MARK)) out.push(`${f}: injected key`);
        }
      }
    } else if (/\.(json|conflist)$/.test(f)) {
      try {
        if (hasKey(JSON.parse(text), MARK)) out.push(`${f}: injected key`);
      } catch (e) {
        out.push(`${f}: JSON: ${(e as Error).message}`);
      }
    } else {
      for (const line of text.split('\n')) if (new RegExp(`^\\s*[^#\\s]*\\s*${MARK}`).test(line) && !line.trimStart().startsWith('#')) out.push(`${f}: injected line ${JSON.stringify(line)}`);
    }
  }
  return out;
}

/** Nodes in the stack when it loads and plans; undefined when it does not. */
function nodeCount(file: string): { count: number; first: string } | undefined {
  try {
    const plan = createPlan(loadStack(file));
    return { count: plan.nodeCount, first: plan.controlPlanes[0]?.name ?? '' };
  } catch {
    return undefined;
  }
}

const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/;

describe('fuzzing stack files through load, check and render', () => {
  const secrets = testSecretsFile();
  const work = tempDir('fuzz');
  let n = 0;
  const outcomes = { ok: 0, checks: 0, parse: 0 };

  it(`${RUNS} mutated stacks: no exception, no injected structure, nothing half-written`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(BASES.length - 1),
        fc.array(op, { minLength: 1, maxLength: 2 }),
        fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom(...PAYLOADS, '\t', ': ', '- ', '&a ', '*a', '<<: *a', '? ', '!!binary ')) }),
        fc.oneof({ weight: 12, arbitrary: fc.constant('Pulumi.fuzz.yaml') }, { weight: 1, arbitrary: fc.constantFrom(`Pulumi.x\n${MARK}: 1\n#.yaml`, 'Pulumi.a b.yaml') }),
        fc.oneof({ weight: 7, arbitrary: fc.constant('render') }, { weight: 1, arbitrary: fc.constantFrom('plan', 'plan --json', 'validate') }),
        async (baseIdx, ops, splice, name, cmd) => {
          const base = parse(BASES[baseIdx]) as unknown;
          let text = stringify(mutate(base, ops), { lineWidth: 0 });
          if (splice) {
            const [at, what] = splice;
            const i = at % (text.length + 1);
            text = text.slice(0, i) + what + text.slice(i);
          }
          const dir = join(work, String(n++));
          rmSync(dir, { recursive: true, force: true });
          const file = join(tempDir('fuzzcase'), name);
          writeFileSync(file, text);
          const out = join(dir, 'out');
          const size = nodeCount(file);
          const args = cmd === 'render' ? ['render', '--stack', file, '--out', out, '--secrets', secrets] : [...cmd.split(' '), '--stack', file];
          if (size && size.count > 64 && size.first && cmd !== 'validate') args.push('--host', size.first);
          const r = await cli(args);
          expect([0, 1, 2], r.stderr).toContain(r.code);
          expect(CONTROL.test(r.stderr), `raw control character in: ${JSON.stringify(r.stderr.slice(0, 400))}`).toBe(false);
          if (r.code === 0) {
            outcomes.ok++;
            if (cmd === 'render') {
              expect(statSync(out).isDirectory()).toBe(true);
              expect(treeProblems(out), text).toEqual([]);
            } else if (cmd === 'plan --json') expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
          } else {
            if (r.code === 1) outcomes.checks++;
            else outcomes.parse++;
            expect(r.stderr.length).toBeGreaterThan(0);
            expect(existsSync(out)).toBe(false);
          }
          rmSync(dir, { recursive: true, force: true });
          rmSync(file, { force: true });
        },
      ),
      { numRuns: RUNS, seed: process.env['FLAT6_FUZZ_SEED'] ? Number(process.env['FLAT6_FUZZ_SEED']) : undefined },
    );
    // The mutations must reach every stage: some cases render, some fail checks, some fail parsing.
    console.log(`fuzz outcomes over ${RUNS} cases: ${outcomes.ok} succeeded (exit 0), ${outcomes.checks} failed checks (exit 1), ${outcomes.parse} refused (exit 2)`);
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.checks).toBeGreaterThan(0);
    expect(outcomes.parse).toBeGreaterThan(0);
  }, 600_000);
});
