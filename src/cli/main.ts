/**
 * The flat6 command line. `run(argv, io)` returns the exit status:
 * 0 ok, 1 checks failed, 2 usage or parse error.
 *
 * A command module (src/cli/commands/NAME.ts) holds the command's descriptor
 * (name, usage, help, options); its run() imports the implementation
 * (NAME-run.ts) when the command runs, so --version and help load none of it.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Flat6Error, formatDiagnostics, inert, UsageError } from '../core/diagnostics.js';
import type { CliIO } from './io.js';

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

/** Registered commands, in the order of the help. */
const commands = new Map<string, Command>();

export function registerCommand(c: Command): void {
  commands.set(c.name, c);
}


/** The top-level help: every command and its summary. */
export function topHelp(): string {
  const all = [...commands.values()];
  const width = Math.max(...all.map((c) => c.name.length));
  return `flat6 — IPv6-only Kubernetes with flat, routable pod addressing and no overlay.

Usage: flat6 <command> [options]

Commands:
${all.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

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
