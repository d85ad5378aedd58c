// A render worker thread (src/render/pool.ts): run from the CLI bundle and its
// code cache when there is one (bin/bundle-loader.cjs), as bin/flat6.js runs
// the CLI, else from the modules in dist/.
'use strict';
const bundle = require('./bundle-loader.cjs').loadBundle();
if (bundle) bundle.runRenderWorker();
else import('../dist/render/worker.js');
