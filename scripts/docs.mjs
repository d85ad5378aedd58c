#!/usr/bin/env node
// Rewrite the generated blocks of docs/ from the stack section declarations
// (npm run docs: run with vite-node, so no build is needed).
// test/docs.test.ts fails when a block is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedDocs } from '../src/spec/docs-files.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let changed = 0;
for (const [file, text] of generatedDocs(root)) {
  if (readFileSync(file, 'utf8') !== text) {
    writeFileSync(file, text);
    changed++;
    console.log(`updated ${file}`);
  }
}
if (!changed) console.log('docs are up to date');
