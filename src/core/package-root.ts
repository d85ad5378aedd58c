/**
 * The flat6 package's root directory (package.json, templates/, stacks/,
 * dist/), found by walking up from a module's own file. The answer is the
 * same whether the module runs from src/ (vitest), from dist/ (compiled) or
 * inside the single-file CLI bundle (dist/flat6.cjs, scripts/bundle.mjs),
 * where every module shares one file and a fixed number of "..".
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const roots = new Map<string, string>();

export function packageRoot(moduleUrl: string): string {
  const start = dirname(fileURLToPath(moduleUrl));
  let root = roots.get(start);
  if (root !== undefined) return root;
  for (let d = start; ; d = dirname(d)) {
    if (isFlat6Package(d)) {
      root = d;
      break;
    }
    if (dirname(d) === d) throw new Error(`no flat6 package.json above ${start}`);
  }
  roots.set(start, root);
  return root;
}

function isFlat6Package(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'flat6';
  } catch {
    return false;
  }
}
