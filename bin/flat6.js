#!/usr/bin/env node
// flat6 command line. `npm run build` (and `npm install`) compiles src/ into
// dist/, then bundles the CLI into one file, dist/flat6.cjs, and writes V8's
// compiled code for it beside it, dist/flat6.cjs.v8cache (scripts/bundle.mjs).
// Run from that cache, start-up neither resolves and reads some 250 modules
// nor compiles their code: `flat6 --version` and a small render start about
// 80 ms sooner. The cache is used only when it is newer than the bundle, and
// V8 refuses one made by another Node version or with other flags; either
// way the bundle is then compiled as usual. Without a bundle, with one older
// than dist/cli (tsc ran without the bundle step), or with FLAT6_BUNDLE=0,
// the CLI runs from the modules in dist/cli.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script, constants } from 'node:vm';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const bundle = join(dist, 'flat6.cjs');

/** The bundle's exports, or undefined when there is none (or FLAT6_BUNDLE=0). */
function loadBundle() {
  if (process.env.FLAT6_BUNDLE === '0') return undefined;
  let source;
  try {
    // a bundle older than the compiled modules (tsc ran, the bundle step did not) is stale: run the modules
    if (statSync(bundle).mtimeMs < statSync(join(dist, 'cli', 'index.js')).mtimeMs) return undefined;
    source = readFileSync(bundle, 'utf8');
  } catch {
    return undefined;
  }
  const cacheFile = `${bundle}.v8cache`;
  let cachedData;
  try {
    if (statSync(cacheFile).mtimeMs >= statSync(bundle).mtimeMs) cachedData = readFileSync(cacheFile);
  } catch {
    // no cache: compile as usual
  }
  const script = new Script(Module.wrap(source), { filename: bundle, cachedData, importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dist);
  // scripts/bundle.mjs: write the code compiled while this run executed (lazily compiled functions included)
  if (process.env.FLAT6_WRITE_CODE_CACHE) process.once('beforeExit', () => writeFileSync(process.env.FLAT6_WRITE_CODE_CACHE, script.createCachedData()));
  if (process.env.FLAT6_SHOW_CODE_CACHE) process.stderr.write(`flat6: bundle ${bundle}, code cache ${cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'used'}\n`);
  return module.exports;
}

const { main } = loadBundle() ?? (await import('../dist/cli/index.js'));
await main();
