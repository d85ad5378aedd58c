/**
 * The CLI bundle (dist/flat6.cjs, scripts/bundle.mjs) behaves as the modules
 * it is built from: bin/flat6.js run from the bundle and its code cache, and
 * with FLAT6_BUNDLE=0 from dist/cli, gives the same output, the same
 * messages and the same exit status, for a render and for a stack with
 * errors. npm run build (scripts/test.sh runs it first) makes the bundle.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
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

describe('bundle loader (bin/bundle-loader.cjs), on a package of its own', () => {
  /** A package with the loader, a two-line bundle and a dist/cli/index.js, with mtimes set per case. */
  function fakePackage(): string {
    const root = tempDir('loader');
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    copyFileSync(join(ROOT, 'bin', 'bundle-loader.cjs'), join(root, 'bin', 'bundle-loader.cjs'));
    writeFileSync(join(root, 'dist', 'flat6.cjs'), "'use strict';\nmodule.exports = { from: 'bundle', file: __filename };\n");
    writeFileSync(join(root, 'dist', 'cli', 'index.js'), '');
    return root;
  }
  const at = (root: string, rel: string, seconds: number): void => utimesSync(join(root, rel), seconds, seconds);
  function load(root: string, env: Record<string, string> = {}): { result: string; stderr: string } {
    const r = spawnSync(process.execPath, ['-e', `const b = require(${JSON.stringify(join(root, 'bin', 'bundle-loader.cjs'))}).loadBundle(); process.stdout.write(b ? b.from : 'modules')`], {
      env: { ...process.env, FLAT6_SHOW_CODE_CACHE: '1', ...env },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    return { result: r.stdout, stderr: r.stderr };
  }

  it('runs the bundle when it is at least as new as dist/cli, else the modules; FLAT6_BUNDLE=0 always the modules', () => {
    const root = fakePackage();
    at(root, 'dist/cli/index.js', 1_000);
    at(root, 'dist/flat6.cjs', 2_000);
    expect(load(root).result).toBe('bundle');
    expect(load(root, { FLAT6_BUNDLE: '0' }).result).toBe('modules');
    at(root, 'dist/cli/index.js', 3_000); // tsc ran after the bundle was made
    expect(load(root).result).toBe('modules');
  });

  it('uses a code cache only when it is newer than the bundle, and survives one V8 refuses', () => {
    const root = fakePackage();
    at(root, 'dist/cli/index.js', 1_000);
    at(root, 'dist/flat6.cjs', 2_000);
    expect(load(root).stderr).toContain('code cache absent');
    writeFileSync(join(root, 'dist', 'flat6.cjs.v8cache'), 'not a code cache');
    at(root, 'dist/flat6.cjs.v8cache', 3_000);
    const refused = load(root);
    expect(refused.result).toBe('bundle');
    expect(refused.stderr).toContain('code cache rejected');
    at(root, 'dist/flat6.cjs.v8cache', 1_500); // older than the bundle: not even offered to V8
    expect(load(root).stderr).toContain('code cache absent');
  });
});
