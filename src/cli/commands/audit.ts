/** `flat6 audit`: what breaks when a cluster or a set of manifests goes IPv6-only (docs/audit.md). */
import type { Command } from '../main.js';

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
    const { runAuditCommand } = await import('./audit-run.js');
    return runAuditCommand(args, io);
  },
};
