/**
 * --jobs: racks rendered on worker threads give the same bytes as one thread,
 * for directory output (written by the native writer, or by the writer thread
 * with FLAT6_NATIVE=0) and archive output. Workers run the compiled dist/, built
 * here when it is missing or older than src/render and src/sinks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { defaultJobs, PARALLEL_MIN_HOSTS, WRITER_MIN_HOSTS } from '../src/cli/commands/render.js';
import { grouped, progressReporter, renderOutput, unitsOf } from '../src/render/output.js';
import { createPlan } from '../src/plan/plan.js';
import { TemplateSet } from '../src/render/templates.js';
import { currentUmask } from '../src/sinks/dir.js';
import { parseStack, stackData, stackFromData } from '../src/spec/load.js';
import { cleanupTempDirs, hashTree, planBundled, renderStack, ROOT, stackText, tempDir, TEST_SECRETS, writeStack } from './helpers.js';

afterAll(cleanupTempDirs);

function newest(dir: string): number {
  return Math.max(...readdirSync(dir).map((n) => statSync(join(dir, n)).mtimeMs));
}

beforeAll(() => {
  const worker = join(ROOT, 'dist', 'render', 'worker.js');
  const stale = !existsSync(worker) || ['src/render', 'src/sinks', 'src/plan', 'src/core'].some((d) => newest(join(ROOT, d)) > statSync(worker).mtimeMs);
  if (stale) spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
}, 180_000);

/** 12 racks of 40 nodes, static routing: enough units for two workers to interleave. */
const MANY = (): string =>
  writeStack(
    'jobs',
    stackText('scale')
      .replace(/count: 16384/, 'count: 12')
      .replace(/nodes: 64\n/, 'nodes: 40\n'),
  );

describe('render --jobs', () => {
  it.each([['dir'], ['tar'], ['tar.gz']])('multirack and a 480-node stack, %s: --jobs 1 and --jobs 2 give identical trees', async (format) => {
    for (const stack of ['multirack', MANY()]) {
      const one = await renderStack(stack, ['--format', format, '--jobs', '1']);
      const two = await renderStack(stack, ['--format', format, '--jobs', '2']);
      const three = await renderStack(stack, ['--format', format, '--jobs', '3']);
      expect(hashTree(two)).toBe(hashTree(one));
      expect(hashTree(three)).toBe(hashTree(one));
    }
  });

  it('dir with the writer thread (a build without the native writer) gives the same tree as one thread', async () => {
    process.env['FLAT6_NATIVE'] = '0';
    try {
      for (const stack of ['multirack', MANY()]) {
        const one = await renderStack(stack, ['--jobs', '1']);
        expect(hashTree(await renderStack(stack, ['--jobs', '2']))).toBe(hashTree(one));
        expect(hashTree(await renderStack(stack, ['--jobs', '3']))).toBe(hashTree(one));
      }
    } finally {
      delete process.env['FLAT6_NATIVE'];
    }
  });
});

describe('default --jobs', () => {
  it('is one thread for small renders, this thread and the writer for directories of a few hundred hosts, every CPU for large ones', () => {
    expect(defaultJobs('dir', 1, 8)).toBe(1);
    expect(defaultJobs('dir', WRITER_MIN_HOSTS - 1, 8)).toBe(1);
    expect(defaultJobs('dir', WRITER_MIN_HOSTS, 8)).toBe(2);
    expect(defaultJobs('dir', WRITER_MIN_HOSTS, 1)).toBe(1);
    expect(defaultJobs('tar', WRITER_MIN_HOSTS, 8)).toBe(1);
    expect(defaultJobs('dir', PARALLEL_MIN_HOSTS, 8)).toBe(8);
    expect(defaultJobs('tar.gz', PARALLEL_MIN_HOSTS, 2)).toBe(2);
  });
});

describe('unit order', () => {
  it('hands out every rack once, in order, and the fabric and plan.json once each, where they are due', () => {
    const plan = planBundled('multirack');
    const ctx = { plan, templates: new TemplateSet(), secrets: { bootstrapToken: TEST_SECRETS.bootstrapToken, certificateKey: TEST_SECRETS.certificateKey, caCertHashes: [] } };
    const racks = [...plan.racks()].map((r) => `rack${r.index}`);
    const place = fc.oneof(fc.integer({ min: 0, max: racks.length + 2 }), fc.constant(Infinity));
    fc.assert(
      fc.property(place, place, (fabricAfter, planAfter) => {
        const got = [...unitsOf(ctx, undefined, fabricAfter, planAfter)].map((u) => (u.kind === 'rack' ? `rack${u.index}` : u.kind));
        expect(got.filter((u) => u.startsWith('rack'))).toEqual(racks);
        expect(got.filter((u) => u === 'fabric')).toHaveLength(1);
        expect(got.filter((u) => u === 'plan')).toHaveLength(1);
        const before = (kind: string): number => got.slice(0, got.indexOf(kind)).filter((u) => u.startsWith('rack')).length;
        expect(before('fabric')).toBe(Math.min(fabricAfter, racks.length));
        expect(before('plan')).toBe(Math.min(planAfter, racks.length));
        if (planAfter === fabricAfter) expect(got.indexOf('plan')).toBeLessThan(got.indexOf('fabric'));
      }),
    );
    const only = plan.nodes().next().value!;
    expect([...unitsOf(ctx, only, 0, 0)].map((u) => u.kind)).toEqual(['plan', 'fabric', 'rack']);
  });
});

describe('progress figures', () => {
  it('group digits as en-US does', () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(grouped(n)).toBe(n.toLocaleString('en-US'));
      }),
    );
  });
});

describe('progress lines', () => {
  it('say nothing for a render that ends within a second, then one line a second and the closing one', () => {
    const lines: string[] = [];
    const quick = progressReporter((l) => lines.push(l));
    for (let h = 50; h <= 1000; h += 50) quick({ hosts: h, total: 1000, elapsed: h / 2000 });
    expect(lines).toEqual([]);
    const slow = progressReporter((l) => lines.push(l));
    for (let h = 1; h <= 100; h++) slow({ hosts: h * 1000, total: 100_000, elapsed: h * 0.05 });
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('render: 20000/100000 hosts (20%), 20,000 hosts/s, ETA 4s');
    expect(lines.at(-1)).toBe('render: 100000/100000 hosts (100%), 20,000 hosts/s, ETA 0s');
  });
});

describe('render workers are handed the checked stack', () => {
  it('a structured clone of the stack data plans the same cluster, and locates as the parsed stack does', () => {
    const text = stackText('multirack');
    const parsed = parseStack('Pulumi.handed.yaml', text);
    const handed = stackFromData(structuredClone(stackData(parsed)));
    expect(handed.spec).toEqual(parsed.spec);
    expect(createPlan(handed).nodeCount).toBe(createPlan(parsed).nodeCount);
    for (const path of ['network.nodes', 'racks', 'controlPlane.vip', 'no.such.field']) expect(handed.locate(path)).toEqual(parsed.locate(path));
  });

  it('workers never read the stack file: a stack with no file renders the same with 1, 2 and 3 threads', async () => {
    const stack = parseStack('/nonexistent/Pulumi.nofile.yaml', stackText('multirack'));
    const ctx = { plan: createPlan(stack), templates: new TemplateSet(), secrets: { ...TEST_SECRETS, caCertHashes: [TEST_SECRETS.caCertHash] } };
    const trees: string[] = [];
    for (const [format, jobs] of [['dir', 1], ['dir', 3], ['tar', 1], ['tar', 2]] as const) {
      const root = tempDir('handed');
      await renderOutput(ctx, root, { format, jobs, umask: currentUmask(), worker: { stack: stackData(stack), secrets: ctx.secrets } });
      trees.push(hashTree(root));
    }
    expect(trees[1]).toBe(trees[0]);
    expect(trees[3]).toBe(trees[2]);
  });
});
