/** `flat6 audit`: what breaks when a cluster or a set of manifests goes IPv6-only (docs/audit.md). */
import { resolve } from 'node:path';
import { inert, UsageError } from '../../core/diagnostics.js';
import { humanReport } from '../../audit/report/human.js';
import { jsonReport, summarize } from '../../audit/report/json.js';
import { sarifReport } from '../../audit/report/sarif.js';
import { runAudit } from '../../audit/run.js';
import type { Command } from '../main.js';
import type { CliIO } from '../io.js';

const VERSION = '0.1.0';
const FORMATS = ['human', 'json', 'sarif'] as const;

/** Standard input: the CLI's own when a caller provides one (tests), else the process's. */
function stdinOf(io: CliIO): AsyncIterable<Buffer | string> {
  return io.stdin ?? process.stdin;
}

export const auditCommand: Command = {
  name: 'audit',
  summary: 'Find what breaks when manifests or a live cluster go IPv6-only.',
  usage: 'flat6 audit [PATH...] [--kubeconfig FILE [--context NAME] [--namespace NS]] [--format human|json|sarif] [--fail-on blocker|warning]',
  positionals: true,
  options: {
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
    format: { type: 'string', short: 'o' },
    'fail-on': { type: 'string' },
    'exclude-kind': { type: 'string', multiple: true },
    color: { type: 'string' },
  },
  help: `PATH is a YAML or JSON file, a directory (its .yaml, .yml and .json files,
recursively) or - for standard input: multi-document YAML, kind: List, the
output of kubectl get -A -o yaml|json, helm template output. Files are read as
streams, so multi-gigabyte dumps audit with flat memory.

  --kubeconfig FILE      also audit a live cluster through its API: read-only,
                         paginated list calls (GET only)
  --context NAME         the kubeconfig context (default: its current-context)
  -n, --namespace NS     live mode: only this namespace (default: all; Nodes
                         are then not listed)
  -o, --format FMT       human (default: a table per severity), json
                         ({"findings":[...],"summary":{...}}) or sarif (SARIF
                         2.1.0 for GitHub code scanning)
  --fail-on LEVEL        blocker (default) or warning: the lowest severity that
                         makes the exit status 1
  --exclude-kind KIND    do not audit (or list) objects of this kind; repeatable
  --color WHEN           auto (default: on a terminal unless NO_COLOR is set),
                         always or never

Findings name the object (kind, namespace, name), the field, a severity
(blocker: will not work on an IPv6-only cluster; warning: works by accident
or degrades), a stable code, the message and the fix. Secret values are never
printed. docs/audit.md explains every code with a before/after example.

Exit status: 0 no blockers, 1 blockers (or warnings with --fail-on warning),
2 usage error or unusable input (which file, which line; the rest is still
audited and reported).`,
  async run(args, io) {
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
  },
};
