#!/usr/bin/env node
// flat6 command line. `npm run build` (and `npm install`) compiles src/ into
// dist/, then bundles the CLI into one file, dist/flat6.cjs, and writes V8's
// compiled code for it beside it (scripts/bundle.mjs). bin/bundle-loader.cjs
// runs the bundle from that code: `flat6 render` of a few hundred hosts
// starts about 80 ms sooner than from the ~250 modules in dist/cli, which run
// instead when there is no bundle, when it is older than dist/cli, or with
// FLAT6_BUNDLE=0.
import { createRequire } from 'node:module';

const { loadBundle } = createRequire(import.meta.url)('./bundle-loader.cjs');
const { main } = loadBundle() ?? (await import('../dist/cli/index.js'));
await main();
