/** Loading and planning the stack a command names (--stack); imported by the commands that need it. */
import { isAbsolute, relative } from 'node:path';
import { formatDiagnostics } from '../core/diagnostics.js';
import type { CliIO } from './io.js';
import type { ParsedArgs } from './main.js';
import { resolveStackFile } from './stack.js';
import { loadStack, type LoadedStack } from '../spec/load.js';
import { createPlan, type ClusterPlan } from '../plan/plan.js';

/** Load the stack file at absolute `file`; diagnostics name it relative to io.cwd when it lies below. */
export function loadStackAt(io: CliIO, file: string): LoadedStack {
  const rel = relative(io.cwd, file);
  return loadStack(file, undefined, rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file);
}

/**
 * Load, check and plan the stack named by --stack; diagnostics (warnings too) go to stderr.
 * The file is read at its absolute path (resolved against io.cwd); the path relative to
 * io.cwd only names it in diagnostics. `file` is that absolute path.
 */
export function planFromArgs(args: ParsedArgs, io: CliIO): { stack: LoadedStack; plan: ClusterPlan; file: string } {
  const file = resolveStackFile(io, args.values['stack'] as string | undefined);
  const stack = loadStackAt(io, file);
  const plan = createPlan(stack);
  if (plan.warnings.length) io.stderr(formatDiagnostics(plan.warnings));
  return { stack, plan, file };
}
