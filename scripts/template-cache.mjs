#!/usr/bin/env node
// Writes dist/render/templates.cache.json from templates/ (run by `npm run build`
// after tsc): see src/render/template-cache.ts.
import { writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'render');
const { buildTemplateCache } = await import(join(dist, 'template-cache.js'));
const { TEMPLATE_CACHE } = await import(join(dist, 'templates.js'));
const cache = buildTemplateCache();
const file = join(dist, TEMPLATE_CACHE);
writeFileSync(`${file}.tmp`, JSON.stringify(cache));
renameSync(`${file}.tmp`, file);
console.log(`template cache: ${Object.keys(cache).length} templates -> ${file}`);
