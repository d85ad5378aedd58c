/** Finding the stack file a command means. */
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../core/diagnostics.js';
import { packageRoot } from '../core/package-root.js';
import type { CliIO } from './io.js';

export const DEFAULT_STACK = 'metal';
export const PACKAGE_ROOT = packageRoot(import.meta.url);

/** stacks/ of the current directory when it has one, else the stacks bundled with flat6. */
export function stacksDir(io: CliIO): string {
  const local = join(io.cwd, 'stacks');
  return existsSync(local) ? local : join(PACKAGE_ROOT, 'stacks');
}

export function listStacks(dir: string): string[] {
  try {
    return readdirSync(dir)
      .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
      .filter((x): x is string => !!x)
      .sort();
  } catch {
    return [];
  }
}

/**
 * --stack NAME (stacks/Pulumi.NAME.yaml) or --stack PATH (any .yaml file);
 * default: $FLAT6_STACK, then "metal".
 */
export function resolveStackFile(io: CliIO, stack: string | undefined): string {
  const name = stack ?? io.env['FLAT6_STACK'] ?? DEFAULT_STACK;
  if (/\.ya?ml$/.test(name) || name.includes('/')) {
    const p = isAbsolute(name) ? name : resolve(io.cwd, name);
    if (!existsSync(p)) throw new UsageError(`stack file ${name} does not exist`);
    return p;
  }
  const dir = stacksDir(io);
  for (const ext of ['yaml', 'yml']) {
    const p = join(dir, `Pulumi.${name}.${ext}`);
    if (existsSync(p)) return p;
  }
  const known = listStacks(dir);
  throw new UsageError(`no stack "${name}" in ${dir}${known.length ? ` (stacks there: ${known.join(', ')})` : ''}; pass --stack NAME or --stack path/to/Pulumi.NAME.yaml`);
}
