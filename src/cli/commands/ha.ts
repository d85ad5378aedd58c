import { resolve } from 'node:path';
import { UsageError } from '../../core/diagnostics.js';
import { HA_REQUIREMENTS } from '../../ha/lab.js';
import { formatReport, formatSummary } from '../../ha/report.js';
import { runFailover, type FailoverReport } from '../../ha/scenario.js';
import { TemplateSet } from '../../render/templates.js';
import { LabError } from '../../runtime/exec.js';
import { wholeNumber } from '../../runtime/options.js';
import { preflight } from '../../runtime/preflight.js';
import { interruptible, LabInterrupted } from '../../runtime/signals.js';
import { planFromArgs, STACK_HELP, STACK_OPTION, type Command } from '../main.js';

const SUBCOMMANDS = ['failover'];

export const haCommand: Command = {
  name: 'ha',
  summary: 'Prove the HA API endpoint: keepalived + haproxy failover in network namespaces.',
  usage: 'flat6 ha failover [--stack NAME] [--runs N] [--interval MS] [--timeout MS] [--json] [--logs DIR] [--templates DIR]',
  positionals: true,
  options: {
    ...STACK_OPTION,
    runs: { type: 'string' },
    interval: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    logs: { type: 'string' },
    templates: { type: 'string' },
  },
  help: `Subcommand:
  failover   Rebuild the stack's control-plane segment in network namespaces and
             run the rendered keepalived.conf, check_apiserver.sh and haproxy.cfg
             unchanged: a bridge, one namespace per control-plane node (its
             uplink and address from the stack, a stand-in HTTPS API server on
             [node]:apiServerPort answering /healthz and /readyz with its name,
             haproxy, keepalived) and a client at the segment's gateway address
             that polls https://[VIP]:port/healthz. Then, faults accumulating:
               (a) stop keepalived on the VIP holder (as systemctl stop would)
               (b) take the link of the new holder down (its switch port)
               (c) stop the API server on the holder
               (d) restore everything
             Reports, per fault, the time until the VIP answered again and how
             many requests failed, and which node held the VIP throughout
             (ip monitor, plus ip -6 addr samples every 100 ms).
             Passes when: after (a) and (b) the VIP answers within 5 s; (c)
             fails at most the requests of one haproxy check interval; after
             (d) every haproxy sees every API server UP; two nodes never hold
             the VIP for more than 1 s; and nothing is left behind.
             Root only. Everything started (namespaces f6ha-<pid>-*, processes,
             /etc/netns/f6ha-*, a temporary directory) is removed afterwards,
             also on failure or Ctrl-C; what a killed run (kill -9) left is
             removed by the next run. A run takes about 20 s.

Options:
${STACK_HELP}
      --runs N           run the scenario N times in a row (default 1)
      --interval MS      client request interval (default 100)
      --timeout MS       client request timeout (default 1000)
      --json             print the reports as JSON
      --logs DIR         keep the logs of keepalived, haproxy, the stand-ins and
                         the client in DIR
      --templates DIR    template overlay, as for flat6 render

Exit status: 0 every run passed, 1 a run failed its criteria or the lab broke,
2 usage error (including: not root, a tool missing, loadBalancer: none), 130
(Ctrl-C) or 143 (SIGTERM) interrupted, after removing everything it made
(further signals meanwhile are ignored).
See docs/ha.md.`,
  async run(args, io) {
    const sub = args.positionals[0];
    if (!sub) throw new UsageError(`name a subcommand: ${SUBCOMMANDS.join(', ')} (flat6 ha --help)`);
    if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`unknown subcommand "${sub}"; known: ${SUBCOMMANDS.join(', ')}`);
    if (args.positionals.length > 1) throw new UsageError(`unexpected argument "${args.positionals[1]}"`);
    const runs = wholeNumber(args.values['runs'], 'runs', 1, 100) ?? 1;
    const pollIntervalMs = wholeNumber(args.values['interval'], 'interval', 10, 1000) ?? 100;
    const requestTimeoutMs = wholeNumber(args.values['timeout'], 'timeout', 100, 10_000) ?? 1000;
    const { plan } = planFromArgs(args, io);
    if (plan.spec.controlPlane.loadBalancer !== 'keepalived-haproxy') {
      throw new UsageError(`stack ${plan.stackName} sets controlPlane.loadBalancer: ${plan.spec.controlPlane.loadBalancer}; flat6 renders no keepalived/haproxy for it, so there is nothing to fail over`);
    }
    if (plan.controlPlanes.length < 3) {
      throw new UsageError(
        `stack ${plan.stackName} has ${plan.controlPlanes.length} control-plane node(s); the scenario needs at least three (faults (a) and (b) take two nodes out, a third must take the VIP)`,
      );
    }
    preflight(HA_REQUIREMENTS);
    const templates = new TemplateSet(args.values['templates'] as string | undefined);
    const json = args.values['json'] === true;
    const logsDir = args.values['logs'] as string | undefined;

    const reports: FailoverReport[] = [];
    try {
      await interruptible(
        'flat6 ha failover',
        async () => {
          for (let i = 1; i <= runs; i++) {
            const report = await runFailover(plan, {
              runId: String(i),
              pollIntervalMs,
              requestTimeoutMs,
              templates,
              keepLogs: logsDir ? resolve(io.cwd, logsDir, `run${i}`) : undefined,
              log: json ? undefined : (line) => io.stderr(`${line}\n`),
            });
            reports.push(report);
            if (!json) io.stdout(formatReport(report, runs > 1 ? { index: i, of: runs } : undefined));
          }
        },
        io.stderr,
      );
    } catch (e) {
      if (e instanceof LabInterrupted) {
        io.stderr(`flat6 ha failover: ${e.message}; everything it made is removed\n`);
        return e.exitCode;
      }
      if (e instanceof LabError) {
        io.stderr(`flat6 ha failover: ${e.message}\n${logsDir ? `logs: ${logsDir}\n` : 'rerun with --logs DIR to keep the logs\n'}`);
        return 1;
      }
      throw e;
    }
    if (json) io.stdout(JSON.stringify(runs === 1 ? reports[0] : reports, null, 2) + '\n');
    else io.stdout(formatSummary(reports));
    return reports.every((r) => r.problems.length === 0) ? 0 : 1;
  },
};
