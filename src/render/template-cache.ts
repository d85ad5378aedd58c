/**
 * The build's template cache (see TEMPLATE_CACHE in src/render/templates.ts):
 * every bundled template's source and the AST the subset compiler reads, so a
 * render of the bundled templates neither loads nor runs the Handlebars
 * parser. `npm run build` writes it with scripts/template-cache.mjs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_TEMPLATES, parseGuarded, subsetAst } from './templates.js';

/** The AST as JSON keeps it: source locations dropped (the subset compiler never reads them). */
function withoutLocations(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutLocations);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (k !== 'loc' && x !== undefined) out[k] = withoutLocations(x);
  return out;
}

/** Names of the bundled templates ("netplan/60-flat6.yaml.hbs", ...), sorted. */
export function bundledTemplateNames(root = BUILTIN_TEMPLATES): string[] {
  const names: string[] = [];
  for (const dir of readdirSync(root).sort()) {
    if (!statSync(join(root, dir)).isDirectory()) continue;
    for (const f of readdirSync(join(root, dir)).sort()) if (f.endsWith('.hbs')) names.push(`${dir}/${f}`);
  }
  return names;
}

export function buildTemplateCache(root = BUILTIN_TEMPLATES): Record<string, { source: string; ast: unknown }> {
  const out: Record<string, { source: string; ast: unknown }> = {};
  for (const name of bundledTemplateNames(root)) {
    const source = readFileSync(join(root, name), 'utf8');
    out[name] = { source, ast: withoutLocations(subsetAst(parseGuarded(source, name))) };
  }
  return out;
}
