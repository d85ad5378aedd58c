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
import { mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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
});
renameSync(`${bundle}.tmp`, bundle);

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
console.log(`bundle: ${bundle} (${mb(bundle)} MB), code cache ${cache} (${mb(cache)} MB)`);
