/** `flat6 audit`: run the audit and print its report. */
import { resolve } from 'node:path';
import { inert, UsageError } from '../../core/diagnostics.js';
import { humanReport } from '../../audit/report/human.js';
import { jsonReport, summarize } from '../../audit/report/json.js';
import { sarifReport } from '../../audit/report/sarif.js';
import { runAudit } from '../../audit/run.js';
import type { ParsedArgs } from '../main.js';
import type { CliIO } from '../io.js';

const VERSION = '0.1.0';
const FORMATS = ['human', 'json', 'sarif'] as const;

/** Standard input: the CLI's own when a caller provides one (tests), else the process's. */
function stdinOf(io: CliIO): AsyncIterable<Buffer | string> {
  return io.stdin ?? process.stdin;
}

export async function runAuditCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const v = args.values;
  const format = (v['format'] as string | undefined) ?? 'human';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be human, json or sarif, not ${JSON.stringify(format)}`);
  const failOn = (v['fail-on'] as string | undefined) ?? 'blocker';
  if (failOn !== 'blocker' && failOn !== 'warning') throw new UsageError(`--fail-on must be blocker or warning, not ${JSON.stringify(failOn)}`);
  const color = (v['color'] as string | undefined) ?? 'auto';
  if (!['auto', 'always', 'never'].includes(color)) throw new UsageError(`--color must be auto, always or never, not ${JSON.stringify(color)}`);
  const kubeconfig = v['kubeconfig'] as string | undefined;
  if (!kubeconfig && (v['context'] !== undefined || v['namespace'] !== undefined)) throw new UsageError('--context and --namespace apply to live mode: add --kubeconfig FILE');
  if (!args.positionals.length && !kubeconfig) throw new UsageError('nothing to audit: give files, directories, - (standard input) or --kubeconfig FILE');
  if (args.positionals.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be read once');

  const result = await runAudit({
    paths: args.positionals,
    cwd: io.cwd,
    env: io.env,
    stdin: stdinOf(io),
    ...(kubeconfig ? { kubeconfig: resolve(io.cwd, kubeconfig) } : {}),
    ...(v['context'] !== undefined ? { context: v['context'] as string } : {}),
    ...(v['namespace'] !== undefined ? { namespace: v['namespace'] as string } : {}),
    excludeKinds: (v['exclude-kind'] as string[] | undefined) ?? [],
  });
  const summary = summarize(result.objects, result.findings);
  if (format === 'json') io.stdout(jsonReport(result.findings, summary));
  else if (format === 'sarif') io.stdout(sarifReport(result.findings, result.errors, io.cwd, VERSION));
  else io.stdout(humanReport(result.findings, summary, color === 'always' || (color === 'auto' && io.stdoutIsTTY === true && !io.env['NO_COLOR'])));

  for (const n of result.notes) io.stderr(`note: ${inert(n)}\n`);
  for (const e of result.errors) io.stderr(`flat6 audit: error: ${inert(e.where)}: ${inert(e.message)}\n`);
  if (result.errors.length) {
    io.stderr(`flat6 audit: ${result.errors.length} problem(s) with the input: the findings above cover only what could be read\n`);
    return 2;
  }
  const failing = failOn === 'warning' ? summary.blockers + summary.warnings : summary.blockers;
  return failing > 0 ? 1 : 0;
}
