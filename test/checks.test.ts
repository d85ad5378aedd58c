/**
 * Bad input. test/fixtures/bad/ holds one minimal stack per diagnostic code
 * (<CODE>.yaml, variants <CODE>.<what>.yaml), each a copy of
 * test/fixtures/Pulumi.good.yaml changed in one place. The offending line
 * carries a marker comment:
 *
 *   # expect CODE            the diagnostic points at the value of this `key: value` line
 *   # expect CODE@needle     ... at the first occurrence of `needle` on this line
 *   # expect CODE@*          ... at this line, any column
 *   # related@needle         a second place the diagnostic names (e.g. the other range of an overlap)
 *
 * For every fixture the test asserts: exactly the expected error codes, their
 * file:line:col (in the structured diagnostic and in the CLI's output), a fix
 * for every error, the exit status (1 checks, 2 parse), and that
 * `flat6 render --out DIR` neither creates DIR nor changes an existing DIR.
 * A code in src/core/diagnostics.ts without a fixture fails the suite.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Flat6Error, isParseCode, type Diagnostic } from '../src/core/diagnostics.js';
import { checkStack } from '../src/plan/checks.js';
import { createPlan } from '../src/plan/plan.js';
import { loadStack, type LoadedStack } from '../src/spec/load.js';
import { atomicLeftovers, cleanupTempDirs, cli, FIXTURES, hashTree, ROOT, tempDir, testSecretsFile, writeStack } from './helpers.js';

afterAll(cleanupTempDirs);

const BAD = join(FIXTURES, 'bad');
const GOOD = join(FIXTURES, 'Pulumi.good.yaml');

/** Members of a string-literal union type in src/core/diagnostics.ts. */
function unionMembers(typeName: string): string[] {
  const src = readFileSync(join(ROOT, 'src', 'core', 'diagnostics.ts'), 'utf8');
  const m = new RegExp(`export type ${typeName} =([^;]+);`).exec(src);
  if (!m) throw new Error(`type ${typeName} not found in src/core/diagnostics.ts`);
  return [...m[1].matchAll(/'([A-Z0-9_]+)'/g)].map((x) => x[1]);
}

const CHECK_CODES = unionMembers('CheckCode');
const PARSE_CODES = unionMembers('ParseCode');

interface Place {
  line: number;
  /** undefined: any column */
  col?: number;
}
interface Expected extends Place {
  code: string;
}

/** Column (1-based) where the marker says the diagnostic points. */
function columnOf(line: string, needle: string | undefined): number | undefined {
  const body = line.slice(0, line.lastIndexOf('#')).trimEnd();
  if (needle === '*') return undefined;
  if (needle !== undefined) {
    const i = body.indexOf(needle);
    if (i < 0) throw new Error(`marker needle ${JSON.stringify(needle)} not on line: ${line}`);
    return i + 1;
  }
  const m = /^(\s*(?:-\s+)?[^\s:]+:\s+)\S/.exec(body);
  if (!m) throw new Error(`marker without @needle on a line that is not "key: value": ${line}`);
  return m[1].length + 1;
}

function markers(text: string): { expected: Expected[]; related: Place[] } {
  const expected: Expected[] = [];
  const related: Place[] = [];
  text.split('\n').forEach((line, i) => {
    const e = /#\s*expect\s+(.+)$/.exec(line);
    if (e) {
      for (const tok of e[1].trim().split(/\s+/)) {
        const [code, needle] = tok.split(/@(.*)/s) as [string, string | undefined];
        expected.push({ code, line: i + 1, col: columnOf(line, needle) });
      }
    }
    const r = /#\s*related(?:@(\S+))?\s*$/.exec(line);
    if (r) related.push({ line: i + 1, col: columnOf(line, r[1]) });
  });
  return { expected, related };
}

/** Diagnostics of a stack file, whichever stage reports them. */
function diagnose(file: string): Diagnostic[] {
  try {
    return checkStack(loadStack(file)).diagnostics;
  } catch (e) {
    if (e instanceof Flat6Error) return e.diagnostics;
    throw e;
  }
}

const fixtures = readdirSync(BAD)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const codeOf = (f: string): string => f.split('.')[0];

describe('fixture coverage', () => {
  it('every check and parse code has a fixture (FILE_READ is built in the test)', () => {
    const have = new Set(fixtures.map(codeOf));
    const missing = [...CHECK_CODES, ...PARSE_CODES].filter((c) => c !== 'FILE_READ' && !have.has(c));
    expect(missing, `add test/fixtures/bad/<CODE>.yaml with a "# expect CODE" marker for: ${missing.join(', ')}`).toEqual([]);
  });
  it('every fixture is named after a known code and carries markers', () => {
    for (const f of fixtures) {
      expect([...CHECK_CODES, ...PARSE_CODES], f).toContain(codeOf(f));
      const { expected } = markers(readFileSync(join(BAD, f), 'utf8'));
      expect(expected.map((x) => x.code), f).toContain(codeOf(f));
    }
  });
  it('the base fixture is a valid stack', async () => {
    expect(diagnose(GOOD)).toEqual([]);
    const r = await cli(['validate', '--stack', GOOD]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe.each(fixtures)('bad stack %s', (f) => {
  const file = join(BAD, f);
  const shown = relative(ROOT, file);
  const text = readFileSync(file, 'utf8');
  const { expected, related } = markers(text);
  const parse = isParseCode(codeOf(f));
  const status = parse ? 2 : 1;

  it(`reports ${[...new Set(expected.map((e) => e.code))].join(' + ')} at the marked places, each with a fix`, () => {
    const ds = diagnose(file);
    const errors = ds.filter((d) => d.severity === 'error');
    expect([...new Set(errors.map((d) => d.code))].sort()).toEqual([...new Set(expected.map((e) => e.code))].sort());
    for (const e of expected) {
      const hit = errors.find((d) => d.code === e.code && d.location?.line === e.line && (e.col === undefined || d.location.col === e.col));
      expect(hit, `${e.code} at ${e.line}:${e.col ?? '*'}; got ${errors.map((d) => `${d.code}@${d.location?.line}:${d.location?.col}`).join(', ')}`).toBeDefined();
    }
    for (const r of related) {
      const places = errors.flatMap((d) => d.related ?? []).map((x) => x.location);
      expect(places.some((l) => l?.line === r.line && (r.col === undefined || l.col === r.col)), `related place ${r.line}:${r.col}`).toBe(true);
    }
    for (const d of errors) {
      expect(d.fix, `${d.code} without a fix`).toBeTruthy();
      expect(d.location?.file).toBe(file);
    }
  });

  it(`validate exits ${status} and prints file:line:col`, async () => {
    const r = await cli(['validate', '--stack', file]);
    expect(r.code, r.stderr).toBe(status);
    expect(r.stdout).toBe('');
    for (const e of expected) {
      expect(r.stderr).toContain(e.col === undefined ? `${shown}:${e.line}:` : `${shown}:${e.line}:${e.col}: error ${e.code}`);
    }
    expect(r.stderr).toMatch(/fix: /);
    expect(r.stderr).toContain('nothing was written');
  });

  it('render --out neither creates an absent directory nor touches an existing one', async () => {
    const parent = tempDir('bad');
    const absent = join(parent, 'absent');
    const r1 = await cli(['render', '--stack', file, '--out', absent, '--secrets', testSecretsFile()]);
    expect(r1.code).toBe(status);
    expect(hashTree(absent)).toBe('absent');

    const existing = join(parent, 'existing');
    mkdirSync(join(existing, 'hosts', 'old'), { recursive: true });
    writeFileSync(join(existing, 'hosts', 'old', 'keep.txt'), 'from an earlier render\n', { mode: 0o600 });
    writeFileSync(join(existing, 'plan.json'), '{}\n');
    const before = hashTree(existing);
    const r2 = await cli(['render', '--stack', file, '--out', existing]);
    expect(r2.code).toBe(status);
    expect(hashTree(existing)).toBe(before);
    expect(readdirSync(parent).sort()).toEqual(['existing']);
    expect(atomicLeftovers(parent, 'existing')).toEqual([]);
  });
});

describe('acceptance: overlapping pod and service ranges', () => {
  it('exits 1 naming both ranges with their lines, and writes nothing', async () => {
    const file = join(BAD, 'RANGE_OVERLAP.yaml');
    const shown = relative(ROOT, file);
    const out = join(tempDir('overlap'), 'out');
    const r = await cli(['render', '--stack', file, '--out', out, '--secrets', testSecretsFile()]);
    expect(r.code).toBe(1);
    // network.pods is on line 8, network.services on line 9 of the fixture.
    expect(r.stderr).toContain(`${shown}:8:13: error RANGE_OVERLAP: pod range 2001:db8:42::/48 overlaps service range 2001:db8:42::/112`);
    expect(r.stderr).toContain(`see ${shown}:9:17 flat6:cluster.network.services: service range 2001:db8:42::/112`);
    expect(r.stderr).toContain('at flat6:cluster.network.pods');
    expect(r.stdout).toBe('');
    expect(hashTree(out)).toBe('absent');
  });
});

describe('other bad input', () => {
  it('FILE_READ: a stack path that cannot be read exits 2 and names the file', async () => {
    const dir = join(tempDir('fileread'), 'Pulumi.dir.yaml');
    mkdirSync(dir);
    const out = join(dirname(dir), 'out');
    const r = await cli(['render', '--stack', dir, '--out', out, '--secrets', testSecretsFile()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error FILE_READ: cannot read stack file .*Pulumi\.dir\.yaml/);
    expect(r.stderr).toContain('fix: ');
    expect(hashTree(out)).toBe('absent');
  });

  it('every problem is reported in one run', async () => {
    const text = readFileSync(GOOD, 'utf8')
      .replace('kubernetesVersion: v1.33.4', 'kubernetesVersion: v1.29.0')
      .replace('services: "2001:db8:43::/112"', 'services: "2001:db8:43::/100"')
      .replace('vip: "2001:db8:1::2"', 'vip: "2001:db8:9::2"');
    const file = writeStack('multi', text);
    const r = await cli(['validate', '--stack', file]);
    expect(r.code).toBe(1);
    for (const code of ['K8S_VERSION', 'SERVICE_MASK', 'VIP_OUTSIDE_SEGMENT']) expect(r.stderr).toContain(`error ${code}`);
    expect(r.stderr).toContain('3 error(s), 0 warning(s)');
  });

  it('schema problems are reported together too, and exit 2 even when checks would also fail', async () => {
    const text = readFileSync(GOOD, 'utf8')
      .replace('name: tiny', 'name: Tiny_Cluster')
      .replace('      dns:', '      podPrefixLen: 64\n      dns:')
      .replace('services: "2001:db8:43::/112"', 'services: "2001:db8:42::/112"');
    const r = await cli(['validate', '--stack', writeStack('multi', text)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error SCHEMA_VALUE');
    expect(r.stderr).toContain('error SCHEMA_UNKNOWN_FIELD');
    expect(r.stderr).toContain('did you mean "podPrefixLength"?');
    expect(r.stderr).not.toContain('RANGE_OVERLAP'); // checks run only on a well-formed stack
  });

  it('a warning does not fail: a VIP on a free node slot is reported, and render writes', async () => {
    const text = readFileSync(GOOD, 'utf8').replace('vip: "2001:db8:1::2"', 'vip: "2001:db8:1::20"');
    const file = writeStack('warn', text);
    const v = await cli(['validate', '--stack', file]);
    expect(v.code).toBe(0);
    expect(v.stderr).toMatch(/:13:12: warning VIP_CONFLICT: API VIP 2001:db8:1::20 sits on free node slot 16/);
    const out = join(tempDir('warn'), 'out');
    const r = await cli(['render', '--stack', file, '--out', out, '--secrets', testSecretsFile()]);
    expect(r.code, r.stderr).toBe(0);
    expect(hashTree(out)).not.toBe('absent');
  });

  it('with hostOffset 0 the free-slot VIP warning suggests an address past the last slot', async () => {
    const text = readFileSync(GOOD, 'utf8')
      .replace('    controlPlane:', '    layout:\n      hostOffset: 0\n    controlPlane:')
      .replace('        nodes: 2\n', '        nodes:\n          - { name: a, slot: 16 }\n');
    const v = await cli(['validate', '--stack', writeStack('hint', text)]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toContain('warning VIP_CONFLICT: API VIP 2001:db8:1::2 sits on free node slot 2');
    expect(v.stderr).toContain('fix: move the VIP past the last slot (hostOffset 0 + slotsPerRack 256), e.g. 2001:db8:1::100');
  });

  it('an unknown stack name, a missing --out and an unknown host exit 2 and write nothing', async () => {
    const parent = tempDir('usage');
    const out = join(parent, 'out');
    const a = await cli(['render', '--stack', 'no-such-stack', '--out', out]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/no stack "no-such-stack" in .*stacks there: .*metal/);
    const b = await cli(['render', '--stack', 'metal']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--out DIR is required');
    const c = await cli(['render', '--stack', 'metal', '--out', out, '--host', 'nope', '--secrets', testSecretsFile()]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('no node "nope"');
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('rack indexes and address hints', () => {
  const good = (): string => readFileSync(GOOD, 'utf8').replace('nodes: "2001:db8:1::/64"', 'nodes: "2001:db8:1::/60"');
  const warningsOf = (text: string): Diagnostic[] => checkStack(loadStack(writeStack('w', text))).diagnostics;

  it('LAYOUT warning on each rack of several that has no index, with the index to set; none when written or when there is one rack', () => {
    const two = good().replace('        nodes: 2\n', '        nodes: 2\n      - { name: r1, nodes: 1 }\n');
    const ds = warningsOf(two);
    expect(ds.filter((d) => d.severity === 'error')).toEqual([]);
    const layout = ds.filter((d) => d.code === 'LAYOUT');
    expect(layout.map((d) => [d.severity, d.path, d.location?.line])).toEqual([
      ['warning', 'racks.0', 15],
      ['warning', 'racks.1', 17],
    ]);
    expect(layout[1].fix).toContain('set index: 1 on rack r1');
    const indexed = two.replace('      - name: r0\n', '      - name: r0\n        index: 0\n').replace('{ name: r1, nodes: 1 }', '{ name: r1, index: 1, nodes: 1 }');
    expect(warningsOf(indexed).filter((d) => d.code === 'LAYOUT')).toEqual([]);
    expect(warningsOf(good()).filter((d) => d.code === 'LAYOUT')).toEqual([]);
  });

  /** Offset of `fix`'s "e.g." address in 2001:db8:1::/64. */
  const suggested = (fix: string | undefined): bigint => {
    const m = /e\.g\. (2001:db8:1::([0-9a-f]+))\b/.exec(fix ?? '');
    if (!m) throw new Error(`no address in fix: ${fix}`);
    return BigInt(`0x${m[2]}`);
  };

  it('VIP_OUTSIDE_SEGMENT suggests an address that is neither the gateway nor a node slot', () => {
    const outside = (layout: string): Diagnostic =>
      warningsOf(good().replace('vip: "2001:db8:1::2"', 'vip: "2001:db8:2::2"').replace('    controlPlane:', `    layout: ${layout}\n    controlPlane:`)).find((d) => d.code === 'VIP_OUTSIDE_SEGMENT')!;
    // gateway just below the first slot: the highest free offset below hostOffset is the one under it
    expect(suggested(outside('{ hostOffset: 16, gatewayOffset: 15 }').fix)).toBe(14n);
    // hostOffset 2 leaves only offset 1, the gateway: past the last slot instead
    const d = outside('{ hostOffset: 2, gatewayOffset: 1, slotsPerRack: 4 }');
    expect(suggested(d.fix)).toBe(6n);
    expect(d.fix).toContain('past the last slot');
  });

  it('VIP_CONFLICT on the gateway suggests a free address too', () => {
    const d = warningsOf(good().replace('vip: "2001:db8:1::2"', 'vip: "2001:db8:1::f"').replace('    controlPlane:', '    layout: { gatewayOffset: 15 }\n    controlPlane:')).find((x) => x.code === 'VIP_CONFLICT')!;
    expect(d.message).toContain('the gateway of rack r0');
    expect(suggested(d.fix)).toBe(14n);
  });
});

describe('the checks cost what the stack lists, never a number it writes (issue 8)', () => {
  // The schema bounds these numbers as well; the checks must not depend on it, so the
  // first tests write them into the parsed spec, past any schema limit.
  const huge = (loadBalancer: 'keepalived-haproxy' | 'none'): LoadedStack => {
    const stack = loadStack(GOOD);
    const racks = stack.spec.racks;
    if (racks.kind !== 'list') throw new Error('the base fixture lists its racks');
    racks.items[0].nodes = 1e9;
    stack.spec.controlPlane.count = 1e9;
    stack.spec.controlPlane.loadBalancer = loadBalancer;
    return stack;
  };
  const errorsOf = (stack: LoadedStack): Array<[string, string | undefined, number | undefined, number | undefined]> =>
    checkStack(stack)
      .diagnostics.filter((d) => d.severity === 'error')
      .map((d) => [d.code, d.path, d.location?.line, d.location?.col]);

  it('controlPlane.count 1e9 on a rack of 1e9 nodes: located errors, no list of a billion slots', () => {
    const stack = huge('keepalived-haproxy');
    // The fixture writes controlPlane.count on line 12 and the rack's nodes on line 16.
    expect(errorsOf(stack)).toEqual([
      ['SLOT_RANGE', 'racks.0.nodes', 16, 16],
      ['CONTROL_PLANE', 'controlPlane.count', 12, 14],
    ]);
    expect(checkStack(stack).diagnostics.map((d) => d.message)).toContain('1000000000 control-plane nodes exceed the 200 distinct VRRP priorities flat6 assigns (200 down to 1)');
    expect(() => createPlan(stack)).toThrow(Flat6Error);
  });

  it('with loadBalancer: none the control plane is bounded too (the plan holds every control-plane node)', () => {
    const stack = huge('none');
    expect(errorsOf(stack)).toEqual([
      ['SLOT_RANGE', 'racks.0.nodes', 16, 16],
      ['CONTROL_PLANE', 'controlPlane.count', 12, 14],
    ]);
    expect(checkStack(stack).diagnostics.find((d) => d.code === 'CONTROL_PLANE' && d.severity === 'error')?.message).toBe(
      '1000000000 control-plane nodes exceed the 200 flat6 plans (each one is an etcd member, and etcd is sized 3, 5 or 7)',
    );
  });

  it('a control-plane count the schema accepts but flat6 does not plan exits 1 at its line', async () => {
    const text = readFileSync(GOOD, 'utf8')
      .replace('      count: 1\n', '      count: 201\n')
      .replace('      vip: "2001:db8:1::2"\n', '      vip: "2001:db8:1::2"\n      loadBalancer: none\n')
      .replace('        nodes: 2\n', '        nodes: 255\n');
    const file = writeStack('cp201', text);
    const r = await cli(['validate', '--stack', file]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(':12:14: error CONTROL_PLANE: 201 control-plane nodes exceed the 200 flat6 plans');
    expect(r.stderr).toContain('1 error(s)');
  });

  it('200,000 listed racks: the highest rack index is found without spreading them into Math.max', () => {
    const stack = loadStack(GOOD);
    stack.spec.racks = { kind: 'list', items: Array.from({ length: 200_000 }, (_, i) => ({ name: `r${i}`, index: i, indexDefaulted: false, nodes: 1, path: `racks.${i}` })) };
    const ds = checkStack(stack).diagnostics.filter((d) => d.severity === 'error');
    // The fixture's /64 node range holds one rack: capacity errors that name the highest index, not a crash.
    expect(ds.map((d) => d.code)).toEqual(['POD_CAPACITY', 'NODE_CAPACITY']);
    expect(ds[1].message).toBe('node range 2001:db8:1::/64 holds 1 rack subnets of /64; the stack needs 200000');
  });
});
