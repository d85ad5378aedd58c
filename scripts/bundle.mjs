#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/index.js and every flat6, zod, yaml and
// ip-address module it reaches) into one CommonJS file, dist/flat6.cjs, then
// runs it once on the bundled default stack (a render into a temporary
// directory) and keeps the code V8 compiled during that run as
// dist/flat6.cjs.v8cache. bin/flat6.js runs the bundle from that cache (see
// there). Run by `npm run build` after tsc and the template cache.
//
// Left outside the bundle: handlebars (loaded only for an operator's template
// outside flat6's subset) and the Pulumi SDKs (the cloud programs, not the
// CLI). The render worker threads run dist/render/worker.js, not the bundle.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { V8_FLAGS, LONG_RUNNING, V8_DEFAULTS } = createRequire(import.meta.url)('../bin/bundle-loader.cjs');
const dist = join(root, 'dist');
const bundle = join(dist, 'flat6.cjs');
const cache = `${bundle}.v8cache`;

let esbuild;
try {
  esbuild = createRequire(import.meta.url)('esbuild');
} catch {
  rmSync(bundle, { force: true });
  rmSync(cache, { force: true });
  console.log('bundle: esbuild is not installed (a production install): the CLI runs from dist/cli');
  process.exit(0);
}

rmSync(cache, { force: true });
esbuild.buildSync({
  entryPoints: [join(dist, 'cli', 'index.js')],
  outfile: `${bundle}.tmp`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['handlebars', '@pulumi/*'],
  // every module's import.meta.url becomes the bundle's own; src/core/package-root.ts finds the package from there
  define: { 'import.meta.url': '__flat6_module_url' },
  banner: { js: '"use strict";\nconst __flat6_module_url = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: 'warning',
  // Whitespace only (names stay, so an internal error's stack still names its functions, at a column of a long
  // line; FLAT6_BUNDLE=0 runs the modules with their own lines): 1.2 MB instead of 1.6, and the snapshot 9.8 MB
  // instead of 10.6, which a run deserialises and its pages fault in: a 1,000-host render ended 5-7 ms sooner.
  minifyWhitespace: true,
});
renameSync(`${bundle}.tmp`, bundle);
const defaults = writeV8Defaults();

const work = mkdtempSync(join(tmpdir(), 'flat6-bundle-'));
try {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'flat6.js'), 'render', '--stack', join(root, 'stacks', 'Pulumi.metal.yaml'), '--out', join(work, 'out')], {
    cwd: work,
    env: { ...process.env, FLAT6_BUNDLE: '1', FLAT6_WRITE_CODE_CACHE: `${cache}.tmp` },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    console.error(`bundle: the bundled CLI failed its warm-up render (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
    rmSync(bundle, { force: true });
    process.exit(1);
  }
  renameSync(`${cache}.tmp`, cache);
} finally {
  rmSync(work, { recursive: true, force: true });
}
const mb = (f) => (statSync(f).size / 1e6).toFixed(1);

/**
 * V8's defaults for the flags bin/bundle-loader.cjs sets (V8_FLAGS), from this
 * node's `--v8-options`, into dist/flat6.v8-defaults.json: a long-running
 * command (LONG_RUNNING) goes back to them once the bundle is compiled. A
 * flag whose default is not found stays set for those commands too.
 */
function writeV8Defaults() {
  const r = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const found = [];
  for (const f of V8_FLAGS) {
    const name = f.slice(0, f.indexOf('='));
    const m = new RegExp(`default: (${name}=\\d+)\\s`).exec(r.stdout ?? '');
    if (m) found.push(m[1]);
    else console.error(`bundle: no default for ${name} in node --v8-options: ${LONG_RUNNING.join(', ')} will run with ${f}`);
  }
  writeFileSync(V8_DEFAULTS, `${JSON.stringify(found)}\n`);
  return found;
}

console.log(`bundle: ${bundle} (${mb(bundle)} MB), code cache ${cache} (${mb(cache)} MB)`);
buildSnapshot();

/**
 * The start-up snapshot (dist/flat6.snap) that bin/flat6 starts Node from:
 * the bundle evaluated and warmed up by a render of the metal stack, so a run
 * starts with flat6's modules initialised and their code compiled. Node
 * accepts a snapshot only from the very binary (and V8 flags) that made it,
 * so dist/flat6.snap.id records this package's directory and that binary's
 * identity (inode, size, modification and change times, as stat(1) prints
 * them); bin/flat6 uses the snapshot only when both match, and otherwise runs
 * bin/flat6.js. Node 20's snapshots are experimental; FLAT6_SNAPSHOT=0 at
 * build time makes none.
 */
function buildSnapshot() {
  const snap = join(dist, 'flat6.snap');
  const id = `${snap}.id`;
  const entry = join(dist, 'flat6-snapshot.cjs');
  rmSync(snap, { force: true });
  rmSync(id, { force: true });
  if (process.env.FLAT6_SNAPSHOT === '0') {
    rmSync(entry, { force: true });
    console.log('snapshot: not made (FLAT6_SNAPSHOT=0): bin/flat6 runs bin/flat6.js');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'flat6-snapshot-'));
  try {
    writeFileSync(entry, snapshotEntry(readFileSync(bundle, 'utf8'), join(work, 'warm-up'), snap));
    const r = spawnSync(process.execPath, ['--snapshot-blob', `${snap}.tmp`, '--build-snapshot', entry], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) {
      // an accelerator, not a requirement: the CLI runs without it
      console.error(`snapshot: not made: node --build-snapshot exited ${r.status ?? r.signal}:\n${r.stdout}${r.stderr}`);
      rmSync(`${snap}.tmp`, { force: true });
      return;
    }
    renameSync(`${snap}.tmp`, snap);
    writeFileSync(id, `${root} ${nodeIdentity(realpathSync(process.execPath))}\n`);
    console.log(`snapshot: ${snap} (${mb(snap)} MB) for ${process.execPath} ${process.version}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** What `stat -L -c '%i %s %Y %Z'` prints for a file: bin/flat6 compares the node on PATH with it. */
function nodeIdentity(file) {
  const st = statSync(file, { bigint: true });
  return `${st.ino} ${st.size} ${st.mtimeNs / 1_000_000_000n} ${st.ctimeNs / 1_000_000_000n}`;
}

/**
 * The script `node --build-snapshot` runs: the bundle, then one render of the
 * metal stack (so its code is compiled into the snapshot), then the function
 * a run from the snapshot starts in. While the snapshot is built, require()
 * reaches only Node's built-in modules, and worker_threads must not be loaded
 * (its state does not survive the snapshot), so it is loaded on first use.
 * Packages outside the bundle (handlebars) are required at run time.
 */
function snapshotEntry(source, warmUp, snap) {
  const q = JSON.stringify;
  return `'use strict';
// Made by scripts/bundle.mjs from dist/flat6.cjs: the script node --build-snapshot runs (see there).
const __flat6_builtin = require;
const __flat6_deferred = new Map([['node:worker_threads', undefined]]);
function __flat6_require(id) {
  if (__flat6_deferred.has(id)) {
    return new Proxy({}, {
      get(_t, key) {
        let m = __flat6_deferred.get(id);
        if (m === undefined) __flat6_deferred.set(id, (m = __flat6_builtin(id)));
        return m[key];
      },
    });
  }
  try {
    return __flat6_builtin(id);
  } catch {
    // not built in: a package beside the bundle
    return __flat6_builtin('node:module').createRequire(${q(bundle)})(id);
  }
}
const __flat6_module = { exports: {} };
(function (require, module, exports, __filename, __dirname) {
${source}
})(__flat6_require, __flat6_module, __flat6_module.exports, ${q(bundle)}, ${q(dist)});
(function () {
  const { main } = __flat6_module.exports;
  const v8 = __flat6_builtin('node:v8');
  v8.startupSnapshot.setDeserializeMainFunction(() => {
    // the V8 flags bin/bundle-loader.cjs sets (render workers load the bundle's code cache, made under them); set
    // only now, as the run starts: a snapshot records the flags it was built with, and Node refuses it under others
    for (const f of ${q(V8_FLAGS)}) v8.setFlagsFromString(f);
    // as if run as "node bin/flat6.js ...": Node leaves out the "--" bin/flat6 puts before the arguments
    process.argv.splice(1, 0, ${q(join(root, 'bin', 'flat6.js'))});
    // and V8's defaults again for a long-running command, as bin/bundle-loader.cjs does
    if (${q(LONG_RUNNING)}.includes(process.argv[2])) for (const f of ${q(defaults)}) v8.setFlagsFromString(f);
    // children (cluster workers) and worker threads start without the snapshot
    const i = process.execArgv.indexOf('--snapshot-blob');
    if (i >= 0) process.execArgv.splice(i, 2);
    if (process.env.FLAT6_SHOW_CODE_CACHE) process.stderr.write(${q('flat6: started from the snapshot ')} + ${q(snap)} + '\\n');
    return main();
  });
  main(['render', '--stack', ${q(join(root, 'stacks', 'Pulumi.metal.yaml'))}, '--out', ${q(warmUp)}, '--jobs', '1']).then(() => {
    if (process.exitCode) throw new Error('the warm-up render failed');
  });
})();
`;
}
