/** `flat6 ha failover`: the keepalived + haproxy failover scenario. */
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
import type { ParsedArgs } from '../main.js';
import { planFromArgs } from '../plan-args.js';
import type { CliIO } from '../io.js';

const SUBCOMMANDS = ['failover'];

export async function runHa(args: ParsedArgs, io: CliIO): Promise<number> {
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
}
