/**
 * The CLI bundle (dist/flat6.cjs, scripts/bundle.mjs) behaves as the modules
 * it is built from: bin/flat6.js run from the bundle and its code cache, and
 * with FLAT6_BUNDLE=0 from dist/cli, gives the same output, the same
 * messages and the same exit status, for a render and for a stack with
 * errors. So does bin/flat6 started from the start-up snapshot
 * (dist/flat6.snap), whose launcher falls back to bin/flat6.js whenever the
 * snapshot may not be the one for this package and this node. npm run build
 * (scripts/test.sh runs it first) makes the bundle and the snapshot.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cleanupTempDirs, hashTree, ROOT, stackPath, tempDir, testSecretsFile, tool } from './helpers.js';

afterAll(cleanupTempDirs);

const BUNDLE = join(ROOT, 'dist', 'flat6.cjs');

type Run = { status: number | null; stdout: string; stderr: string };

function flat6(args: string[], env: Record<string, string>, cwd: string): Run {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'flat6.js'), ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** This node binary as dist/flat6.snap.id records it: inode, size, modification and change times in seconds (stat -L -c '%i %s %Y %Z'). */
function nodeIdentity(): string {
  const st = statSync(realpathSync(process.execPath), { bigint: true });
  return `${st.ino} ${st.size} ${st.mtimeNs / 1_000_000_000n} ${st.ctimeNs / 1_000_000_000n}`;
}

type Cli = (args: string[], env: Record<string, string>, cwd: string) => Run;

/**
 * multirack as tar archives with two render workers, run by `a` (with
 * FLAT6_SHOW_CODE_CACHE=1) and by the modules in dist/: the same archives,
 * and both of a's workers ran from the bundle's code cache. Returns a's run.
 */
function sameWorkerArchives(a: Cli, name: string): Run {
  const cwd = tempDir(name);
  const args = (out: string): string[] => ['render', '--stack', stackPath('multirack'), '--out', out, '--secrets', testSecretsFile(), '--format', 'tar', '--jobs', '2'];
  const ra = a(args('a'), { FLAT6_SHOW_CODE_CACHE: '1' }, cwd);
  const rb = flat6(args('b'), { FLAT6_BUNDLE: '0' }, cwd);
  expect(ra.status).toBe(0);
  expect(rb.status).toBe(0);
  expect(ra.stderr.match(/worker bundle .* code cache used/g)).toHaveLength(2);
  expect(hashTree(join(cwd, 'a'))).toBe(hashTree(join(cwd, 'b')));
  return ra;
}

/** bin/flat6, the command npm installs (a shell script), with this test's node first on PATH. */
function launcher(args: string[], env: Record<string, string>, cwd: string, bin = join(ROOT, 'bin', 'flat6')): Run {
  const PATH = `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`;
  const r = spawnSync(bin, args, { cwd, env: { ...process.env, PATH, ...env }, encoding: 'utf8' });
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

  it('records V8\'s defaults for the flags it sets, which a long-running command goes back to', () => {
    const loader = createRequire(import.meta.url)('../bin/bundle-loader.cjs') as { V8_FLAGS: string[]; LONG_RUNNING: string[]; V8_DEFAULTS: string };
    expect(loader.LONG_RUNNING).toContain('serve');
    const options = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8', maxBuffer: 1 << 24 }).stdout;
    const defaults = JSON.parse(readFileSync(loader.V8_DEFAULTS, 'utf8')) as string[];
    expect(defaults.map((f) => f.split('=')[0])).toEqual(loader.V8_FLAGS.map((f) => f.split('=')[0]));
    for (const f of defaults) expect(options).toContain(`default: ${f}\n`);
    for (const f of loader.V8_FLAGS) expect(defaults).not.toContain(f); // a flag that changes nothing would be pointless
  });

  it('renders the same tree, with the same report, as the modules in dist/cli', () => {
    const cwd = tempDir('bundle');
    const run = (env: Record<string, string>, out: string): Run =>
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
    sameWorkerArchives(flat6, 'bundle-workers');
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

describe('start-up snapshot (bin/flat6)', () => {
  const SNAP = join(ROOT, 'dist', 'flat6.snap');
  const STARTED = 'started from the snapshot';

  it('is built for this node and this package, and bin/flat6 starts from it', () => {
    expect(existsSync(SNAP), 'npm run build writes dist/flat6.snap').toBe(true);
    expect(readFileSync(`${SNAP}.id`, 'utf8')).toBe(`${ROOT} ${nodeIdentity()}\n`);
    const r = launcher(['--version'], { FLAT6_SHOW_CODE_CACHE: '1' }, ROOT);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^flat6 \d/);
    expect(r.stderr).toContain(`${STARTED} ${SNAP}`);
  });

  it('renders the same tree, with the same report, as bin/flat6.js', () => {
    const cwd = tempDir('snapshot');
    const args = (out: string): string[] => ['render', '--stack', stackPath('multirack'), '--out', out, '--secrets', testSecretsFile()];
    const a = launcher(args('a'), { FLAT6_SHOW_CODE_CACHE: '1' }, cwd);
    const b = flat6(args('b'), {}, cwd);
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(a.stderr).toContain(STARTED);
    expect(a.stdout.replace('-> a', '-> X')).toBe(b.stdout.replace('-> b', '-> X'));
    expect(a.stderr.replace(/.*started from the snapshot.*\n/, '').replace(/.*code cache.*\n/g, '')).toBe(b.stderr);
    expect(hashTree(join(cwd, 'a'))).toBe(hashTree(join(cwd, 'b')));
  });

  it('runs render workers (from the bundle) beside it, with the same archives', () => {
    expect(sameWorkerArchives(launcher, 'snapshot-workers').stderr).toContain(STARTED);
  });

  it('reports a broken stack, and renders with an overlay, as bin/flat6.js does', () => {
    const cwd = tempDir('snapshot-bad');
    const file = join(cwd, 'Pulumi.bad.yaml');
    writeFileSync(file, 'config:\n  flat6:cluster:\n    name: "bad name"\n    racks: {count: -1}\n');
    const a = launcher(['validate', '--stack', file], {}, cwd);
    const b = flat6(['validate', '--stack', file], {}, cwd);
    expect(a.status).toBe(2);
    expect(a.stderr).toBe(b.stderr);
    expect(a.stdout).toBe(b.stdout);
    // a template the snapshot's warm-up compiled, replaced by an overlay (test/compile.test.ts: an edited template is compiled again)
    mkdirSync(join(cwd, 'overlay', 'sysctl'), { recursive: true });
    writeFileSync(join(cwd, 'overlay', 'sysctl', 'modules-load.conf.hbs'), '# overlay for {{host}}\n');
    const r = launcher(['render', '--stack', stackPath('metal'), '--out', 'o', '--secrets', testSecretsFile(), '--templates', 'overlay'], {}, cwd);
    expect(r.status).toBe(0);
    expect(readFileSync(join(cwd, 'o', 'hosts', 'cp1', 'etc', 'modules-load.d', 'flat6.conf'), 'utf8')).toBe('# overlay for cp1\n');
  });
});

describe.skipIf(process.getuid?.() !== 0)('serve --workers from the snapshot (root, a network namespace of its own, loopback only)', () => {
  const NS = `f6snap-${process.pid}`;
  const ip = (...args: string[]): void => {
    const r = spawnSync(tool('ip'), args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  };
  afterAll(() => {
    spawnSync(tool('ip'), ['netns', 'del', NS]);
  });

  it('starts its worker processes (without the snapshot), serves, and stops on SIGTERM', async () => {
    spawnSync(tool('ip'), ['netns', 'del', NS], { stdio: 'ignore' });
    ip('netns', 'add', NS);
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    const port = String(20_000 + (process.pid % 10_000));
    const PATH = `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`;
    const env = { ...process.env, PATH, FLAT6_SHOW_CODE_CACHE: '1' };
    const server = spawn(tool('ip'), ['netns', 'exec', NS, join(ROOT, 'bin', 'flat6'), 'serve', '--stack', stackPath('metal'), '--listen', `[::1]:${port}`, '--workers', '2', '--secrets', testSecretsFile()], { env });
    let out = '';
    let err = '';
    server.stdout.on('data', (d: Buffer) => (out += d.toString()));
    server.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((ok) => server.on('exit', (code) => ok(code)));
    try {
      for (let i = 0; i < 200 && !out.includes('serving'); i++) await new Promise((ok) => setTimeout(ok, 50));
      expect(out, err).toContain('with 2 worker processes');
      const client = `fetch('http://[::1]:${port}/v1/plan').then(async (r) => process.stdout.write(r.status + ' ' + JSON.stringify(Object.keys(await r.json()))))`;
      const r = spawnSync(tool('ip'), ['netns', 'exec', NS, process.execPath, '-e', client], { encoding: 'utf8' });
      expect(r.stdout, r.stderr).toMatch(/^200 \[.*"cluster"/);
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(err).toContain('started from the snapshot');
    expect(err.match(/worker bundle|flat6: bundle/g)?.length ?? 0, err).toBeGreaterThanOrEqual(2); // each worker process loads the bundle
  });
});

describe('bin/flat6 launcher, on a package of its own', () => {
  /**
   * A package with bin/flat6, a bin/flat6.js that reports "modules" and its
   * arguments, a dist/cli/index.js, and a snapshot of a script that reports
   * "snapshot" and its arguments, with its id for this node.
   */
  function fakePackage(): string {
    const root = tempDir('launcher');
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    copyFileSync(join(ROOT, 'bin', 'flat6'), join(root, 'bin', 'flat6'));
    chmodSync(join(root, 'bin', 'flat6'), 0o755);
    writeFileSync(join(root, 'bin', 'flat6.js'), "process.stdout.write(JSON.stringify(['modules', process.env.NODE_EXTRA_CA_CERTS ?? null, ...process.argv.slice(2)]));\n");
    writeFileSync(join(root, 'dist', 'cli', 'index.js'), '');
    const entry = join(root, 'entry.cjs');
    writeFileSync(entry, "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => process.stdout.write(JSON.stringify(['snapshot', process.env.NODE_EXTRA_CA_CERTS ?? null, ...process.argv.slice(1)])));\n");
    const built = spawnSync(process.execPath, ['--snapshot-blob', join(root, 'dist', 'flat6.snap'), '--build-snapshot', entry], { cwd: root, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    writeFileSync(join(root, 'dist', 'flat6.snap.id'), `${root} ${nodeIdentity()}\n`);
    utimesSync(join(root, 'dist', 'cli', 'index.js'), 1_000, 1_000);
    return root;
  }
  const ARGS = ['render', '--version', '--', 'two words', '-x'];
  /** How bin/flat6 started the CLI ("snapshot" or "modules"), the NODE_EXTRA_CA_CERTS the CLI saw, and its arguments. */
  const run = (root: string, env: Record<string, string> = {}, bin = join(root, 'bin', 'flat6'), argv = ARGS): { from: string; ca: string | null } => {
    const r = launcher(argv, env, root, bin);
    expect(r.status, r.stderr).toBe(0);
    const [from, ca, ...args] = JSON.parse(r.stdout) as [string, string | null, ...string[]];
    expect(args).toEqual(argv);
    return { from, ca };
  };
  const started = (root: string, env: Record<string, string> = {}, bin = join(root, 'bin', 'flat6')): string => run(root, env, bin).from;

  it('starts from the snapshot when its id names this package and this node, also through symlinks and by a relative path, with the arguments intact', () => {
    const root = fakePackage();
    expect(started(root)).toBe('snapshot');
    const link = join(tempDir('launcher-link'), 'flat6');
    symlinkSync(join(root, 'bin', 'flat6'), link);
    expect(started(root, {}, link)).toBe('snapshot');
    const relative = join(tempDir('launcher-relative'), 'flat6'); // a relative link, as npm makes in node_modules/.bin
    symlinkSync(relative.split('/').slice(1, -1).map(() => '..').join('/') + join(root, 'bin', 'flat6'), relative);
    expect(started(root, {}, relative)).toBe('snapshot');
    expect(started(root, {}, 'bin/flat6')).toBe('snapshot'); // run from the package's directory
  });

  it('runs bin/flat6.js instead with NODE_OPTIONS, with FLAT6_SNAPSHOT=0, for another package or another node, when dist/cli is newer, or with no snapshot', () => {
    const root = fakePackage();
    expect(started(root, { NODE_OPTIONS: '--max-old-space-size=512' })).toBe('modules');
    expect(started(root, { FLAT6_SNAPSHOT: '0' })).toBe('modules');
    const id = join(root, 'dist', 'flat6.snap.id');
    const good = readFileSync(id, 'utf8');
    writeFileSync(id, good.replace(root, `${root}-elsewhere`));
    expect(started(root)).toBe('modules');
    const [dir, ino, size, ...times] = good.trim().split(' ');
    writeFileSync(id, [dir, ino, String(Number(size) + 1), ...times].join(' ') + '\n'); // another node binary
    expect(started(root)).toBe('modules');
    writeFileSync(id, good);
    expect(started(root)).toBe('snapshot');
    const now = Date.now() / 1000 + 60;
    utimesSync(join(root, 'dist', 'cli', 'index.js'), now, now); // tsc ran after the snapshot was made
    expect(started(root)).toBe('modules');
    utimesSync(join(root, 'dist', 'cli', 'index.js'), 1_000, 1_000);
    expect(started(root)).toBe('snapshot');
    rmSync(join(root, 'dist', 'flat6.snap'));
    expect(started(root)).toBe('modules');
  });

  it('leaves NODE_EXTRA_CA_CERTS out for the commands that open no TLS connection, and keeps it for the others, from the snapshot or not', () => {
    const root = fakePackage();
    const pem = join(tempDir('launcher-ca'), 'extra.pem');
    writeFileSync(pem, '');
    for (const env of [{}, { FLAT6_SNAPSHOT: '0' }] as Array<Record<string, string>>) {
      for (const cmd of ['render', 'plan', 'validate', 'schema', 'diff']) expect(run(root, { ...env, NODE_EXTRA_CA_CERTS: pem }, undefined, [cmd, '--x']).ca).toBeNull();
      for (const argv of [['audit', '--x'], ['serve'], ['lab', 'up'], ['ha'], ['--version'], ['x', 'render'], ['renders']]) expect(run(root, { ...env, NODE_EXTRA_CA_CERTS: pem }, undefined, argv).ca).toBe(pem);
    }
  });
});
