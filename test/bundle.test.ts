/**
 * The CLI bundle (dist/flat6.cjs, scripts/bundle.mjs) behaves as the modules
 * it is built from: bin/flat6.js run from the bundle and its code cache, and
 * with FLAT6_BUNDLE=0 from dist/cli, gives the same output, the same
 * messages and the same exit status, for a render and for a stack with
 * errors. npm run build (scripts/test.sh runs it first) makes the bundle.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, hashTree, ROOT, stackPath, tempDir, testSecretsFile } from './helpers.js';

afterAll(cleanupTempDirs);

const BUNDLE = join(ROOT, 'dist', 'flat6.cjs');

function flat6(args: string[], env: Record<string, string>, cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'flat6.js'), ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI bundle', () => {
  it('is built with its code cache, and the cache is used', () => {
    expect(existsSync(BUNDLE), 'npm run build writes dist/flat6.cjs').toBe(true);
    expect(existsSync(`${BUNDLE}.v8cache`)).toBe(true);
    const r = flat6(['--version'], { FLAT6_SHOW_CODE_CACHE: '1' }, ROOT);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('code cache used');
  });

  it('renders the same tree, with the same report, as the modules in dist/cli', () => {
    const cwd = tempDir('bundle');
    const run = (env: Record<string, string>, out: string): { status: number | null; stdout: string; stderr: string } =>
      flat6(['render', '--stack', stackPath('multirack'), '--out', out, '--secrets', testSecretsFile()], env, cwd);
    const a = run({}, 'a');
    const b = run({ FLAT6_BUNDLE: '0' }, 'b');
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(a.stdout.replace('-> a', '-> X')).toBe(b.stdout.replace('-> b', '-> X'));
    expect(a.stderr).toBe(b.stderr);
    expect(hashTree(join(cwd, 'a'))).toBe(hashTree(join(cwd, 'b')));
  });

  it('runs render workers from the bundle and its code cache too, with the same archives', () => {
    const cwd = tempDir('bundle-workers');
    const run = (env: Record<string, string>, out: string): { status: number | null; stdout: string; stderr: string } =>
      flat6(['render', '--stack', stackPath('multirack'), '--out', out, '--secrets', testSecretsFile(), '--format', 'tar', '--jobs', '2'], env, cwd);
    const a = run({ FLAT6_SHOW_CODE_CACHE: '1' }, 'a');
    const b = run({ FLAT6_BUNDLE: '0' }, 'b');
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(a.stderr.match(/worker bundle .* code cache used/g)).toHaveLength(2);
    expect(hashTree(join(cwd, 'a'))).toBe(hashTree(join(cwd, 'b')));
  });

  it('reports a broken stack with the same diagnostics and exit status', () => {
    const cwd = tempDir('bundle-bad');
    const file = join(cwd, 'Pulumi.bad.yaml');
    writeFileSync(file, 'config:\n  flat6:cluster:\n    name: "bad name"\n    network:\n      nodes: "2001:db8::/129"\n    racks: {count: -1}\n');
    const a = flat6(['validate', '--stack', file], {}, cwd);
    const b = flat6(['validate', '--stack', file], { FLAT6_BUNDLE: '0' }, cwd);
    expect(a.status).toBe(2);
    expect(b.status).toBe(2);
    expect(a.stderr).toBe(b.stderr);
    expect(a.stderr).toContain('Pulumi.bad.yaml:');
  });
});
