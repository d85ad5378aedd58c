// Runs the CLI bundle (dist/flat6.cjs, made by scripts/bundle.mjs) from V8's
// compiled code for it (dist/flat6.cjs.v8cache): used by bin/flat6.js for the
// CLI and by bin/render-worker.cjs for render worker threads. Run from that
// cache, start-up neither resolves and reads some 250 modules nor compiles
// their code. The cache is used only when it is newer than the bundle, and V8
// refuses one made by another Node version or with other flags; either way
// the bundle is then compiled as usual.
'use strict';
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');
const { setFlagsFromString } = require('node:v8');
const { Script, constants } = require('node:vm');
const { isMainThread } = require('node:worker_threads');

/**
 * V8 flags every flat6 thread runs with, set before the bundle is compiled:
 * V8 refuses a code cache made under other flags, so the cache is made under
 * these too (scripts/bundle.mjs), and a run from the snapshot sets them as it
 * starts. An interrupt budget of 8x V8's default (67,584) leaves a function to
 * the interpreter and baseline code for longer before TurboFan optimises it:
 * a run of a few hundred milliseconds then spends its second core writing
 * files rather than optimising functions it barely uses. At 1,000 hosts V8's
 * compiler threads used 70-80 ms of CPU with the default and about 20 ms with
 * this, and the render ended 10-20 ms sooner (docs/performance.md).
 */
const V8_FLAGS = ['--interrupt-budget=540672'];

/**
 * Commands that run for long (a server): once the bundle is compiled they go
 * back to V8's defaults, whose tiering suits them. With the budget above,
 * `serve` answered 40% fewer requests per second, a function called once per
 * request waiting some 10,000 requests for TurboFan.
 */
const LONG_RUNNING = ['serve'];

const dist = join(__dirname, '..', 'dist');
const bundle = join(dist, 'flat6.cjs');
/** V8's defaults for V8_FLAGS, as `node --v8-options` printed them when the build ran (scripts/bundle.mjs). */
const V8_DEFAULTS = join(dist, 'flat6.v8-defaults.json');

function setV8Flags() {
  for (const f of V8_FLAGS) setFlagsFromString(f);
}

/** V8's defaults for V8_FLAGS recorded by the build, or none (then a long-running command keeps V8_FLAGS). */
function v8Defaults() {
  try {
    const d = JSON.parse(readFileSync(V8_DEFAULTS, 'utf8'));
    return Array.isArray(d) && d.every((f) => typeof f === 'string' && /^--[a-z0-9-]+=\d+$/.test(f)) ? d : [];
  } catch {
    return [];
  }
}

/** After the bundle is compiled: V8's defaults again for a long-running `command`. */
function settleV8Flags(command) {
  if (LONG_RUNNING.includes(command)) for (const f of v8Defaults()) setFlagsFromString(f);
}

/**
 * The bundle's exports, or undefined when there is none, when it is older than
 * dist/cli (tsc ran, the bundle step did not: the modules are newer), or with
 * FLAT6_BUNDLE=0. The caller then runs the modules in dist/.
 */
function loadBundle() {
  if (process.env.FLAT6_BUNDLE === '0') return undefined;
  let source;
  try {
    if (statSync(bundle).mtimeMs < statSync(join(dist, 'cli', 'index.js')).mtimeMs) return undefined;
    source = readFileSync(bundle, 'utf8');
  } catch {
    return undefined;
  }
  setV8Flags();
  const cacheFile = `${bundle}.v8cache`;
  let cachedData;
  try {
    if (statSync(cacheFile).mtimeMs >= statSync(bundle).mtimeMs) cachedData = readFileSync(cacheFile);
  } catch {
    // no cache: compile as usual
  }
  const script = new Script(Module.wrap(source), { filename: bundle, cachedData, importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(bundle), module, bundle, dist);
  if (isMainThread) settleV8Flags(process.argv[2]);
  // scripts/bundle.mjs: keep the code compiled while this run executed (lazily compiled functions included)
  const writeTo = process.env.FLAT6_WRITE_CODE_CACHE;
  if (writeTo && isMainThread) process.once('beforeExit', () => writeFileSync(writeTo, script.createCachedData()));
  if (process.env.FLAT6_SHOW_CODE_CACHE) {
    const state = cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'used';
    process.stderr.write(`flat6: ${isMainThread ? 'bundle' : 'worker bundle'} ${bundle}, code cache ${state}\n`);
  }
  return module.exports;
}

module.exports = { loadBundle, V8_FLAGS, LONG_RUNNING, V8_DEFAULTS };
