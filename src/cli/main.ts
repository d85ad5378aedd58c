/**
 * The flat6 command line. `run(argv, io)` returns the exit status:
 * 0 ok, 1 checks failed, 2 usage or parse error.
 */
import { isAbsolute, relative } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Flat6Error, formatDiagnostics, inert, UsageError } from '../core/diagnostics.js';
import type { CliIO } from './io.js';
import { resolveStackFile } from './stack.js';
import { loadStack, type LoadedStack } from '../spec/load.js';
import { createPlan, type ClusterPlan } from '../plan/plan.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** full help text below the usage line */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** accepts positional arguments */
  positionals?: boolean;
  run(args: ParsedArgs, io: CliIO): Promise<number> | number;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export const STACK_OPTION = { stack: { type: 'string', short: 's' } } as const;

export const STACK_HELP = `  -s, --stack NAME|FILE  stack to use: a name (stacks/Pulumi.NAME.yaml) or a path.
                         Default: $FLAT6_STACK, else "metal".`;

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

const commands = new Map<string, Command>();

export function registerCommand(c: Command): void {
  commands.set(c.name, c);
}

export function topHelp(): string {
  const width = Math.max(...[...commands.keys()].map((k) => k.length));
  return `flat6 — IPv6-only Kubernetes with flat, routable pod addressing and no overlay.

Usage: flat6 <command> [options]

Commands:
${[...commands.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Every command takes --help. Stacks live in stacks/Pulumi.<stack>.yaml under
config: flat6:cluster (see docs/stack.md, or "flat6 schema").
Exit status: 0 ok, 1 checks failed, 2 usage or parse error.
`;
}

export function commandHelp(c: Command): string {
  return `Usage: ${c.usage}\n\n${c.summary}\n\n${c.help.trimEnd()}\n`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' && rest[0] ? commands.get(rest[0]) : undefined;
    io.stdout(target ? commandHelp(target) : topHelp());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout('flat6 0.1.0\n');
    return 0;
  }
  const cmd = commands.get(name);
  if (!cmd) {
    io.stderr(`flat6: unknown command "${name}"\n\n${topHelp()}`);
    return 2;
  }
  let args: ParsedArgs;
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: cmd.positionals ?? false,
      strict: true,
    });
    args = { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (e) {
    io.stderr(`flat6 ${cmd.name}: ${(e as Error).message}\n\n${commandHelp(cmd)}`);
    return 2;
  }
  if (args.values['help']) {
    io.stdout(commandHelp(cmd));
    return 0;
  }
  try {
    return await cmd.run(args, io);
  } catch (e) {
    if (e instanceof Flat6Error) {
      io.stderr(formatDiagnostics(e.diagnostics));
      io.stderr(e.exitCode === 2 ? 'The stack file could not be read as a flat6 stack; nothing was written.\n' : 'Checks failed; nothing was written.\n');
      return e.exitCode;
    }
    if (e instanceof UsageError) {
      io.stderr(`flat6 ${cmd.name}: ${inert(e.message, true)}\n`);
      return 2;
    }
    throw e;
  }
}
