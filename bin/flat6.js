#!/usr/bin/env node
// flat6 command line (compiled from src/cli by `npm install` / `npm run build`).
import { main } from '../dist/cli/index.js';

await main();
