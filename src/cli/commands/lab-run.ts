/** `flat6 lab up|check|down`: the stack's network in network namespaces. */
import { UsageError } from '../../core/diagnostics.js';
import { labCheck } from '../../lab/check.js';
import { teardown } from '../../lab/down.js';
import { readState, runDirOf } from '../../lab/state.js';
import { labPreflight, labUp } from '../../lab/up.js';
import { LabError } from '../../runtime/exec.js';
import { wholeNumber } from '../../runtime/options.js';
import { LabInterrupted } from '../../runtime/signals.js';
import { stackNameOf, type RoutingMode } from '../../spec/load.js';
import type { ParsedArgs } from '../main.js';
import { loadStackAt } from '../plan-args.js';
import { resolveStackFile } from '../stack.js';
import type { CliIO } from '../io.js';

function stackName(args: ParsedArgs, io: CliIO): { file: string; name: string } {
  const file = resolveStackFile(io, args.values['stack'] as string | undefined);
  return { file, name: stackNameOf(file) };
}

async function up(args: ParsedArgs, io: CliIO): Promise<number> {
  const mode = args.values['mode'] as string | undefined;
  if (mode !== undefined && mode !== 'bgp' && mode !== 'static') throw new UsageError(`--mode is bgp or static, not "${mode}"`);
  const { file } = stackName(args, io);
  labPreflight();
  const stack = loadStackAt(io, file);
  const state = await labUp(
    stack,
    io.env,
    {
      racks: wholeNumber(args.values['racks'], 'racks', 1),
      nodesPerRack: wholeNumber(args.values['nodes-per-rack'], 'nodes-per-rack', 1),
      podsPerNode: wholeNumber(args.values['pods-per-node'], 'pods-per-node', 1) ?? 2,
      mode: mode as RoutingMode | undefined,
      break: (args.values['break'] as string[] | undefined) ?? [],
      timeoutSec: wholeNumber(args.values['timeout'], 'timeout', 1) ?? 30,
      templates: args.values['templates'] as string | undefined,
      keepTimers: args.values['keep-timers'] === true,
    },
    (l) => io.stdout(l + '\n'),
  );
  io.stdout(`next: flat6 lab check --stack ${state.stack}; remove it with: flat6 lab down --stack ${state.stack}\n`);
  return 0;
}

async function check(args: ParsedArgs, io: CliIO): Promise<number> {
  const { name } = stackName(args, io);
  labPreflight();
  const dir = runDirOf(io.env, name);
  const state = readState(dir);
  if (!state || state.phase !== 'up') throw new UsageError(`no lab of stack ${name} is up (${dir}): run "flat6 lab up --stack ${name}" first`);
  const results = await labCheck(state, (l) => io.stdout(l + '\n'));
  const failed = results.filter((r) => r.status === 'FAIL').length;
  const passed = results.filter((r) => r.status === 'PASS').length;
  const skipped = results.length - failed - passed;
  io.stdout(`${failed === 0 ? 'all checks passed' : `${failed} check(s) FAILED`}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  return failed === 0 ? 0 : 1;
}

function down(args: ParsedArgs, io: CliIO): number {
  const { name } = stackName(args, io);
  labPreflight();
  const dir = runDirOf(io.env, name);
  const state = readState(dir);
  if (!state) {
    io.stdout(`no lab of stack ${name} is up (${dir}); nothing to remove\n`);
    return 0;
  }
  const r = teardown(state);
  if (r.left.length) {
    io.stderr(`flat6 lab down: could not remove ${r.left.join(', ')}\n`);
    return 1;
  }
  io.stdout(`lab ${name} down: removed ${r.namespaces} namespace(s) and ${r.processes} process(es) of run ${state.runId}; nothing of it is left\n`);
  return 0;
}

export async function runLab(args: ParsedArgs, io: CliIO): Promise<number> {
  const [action, ...extra] = args.positionals;
  if (!action || extra.length) throw new UsageError('say what to do: flat6 lab up, flat6 lab check or flat6 lab down (flat6 lab --help)');
  const upOnly = ['racks', 'nodes-per-rack', 'pods-per-node', 'mode', 'timeout', 'templates', 'keep-timers', 'break'].filter((o) => args.values[o] !== undefined);
  if (action !== 'up' && upOnly.length) throw new UsageError(`--${upOnly[0]} is an option of "flat6 lab up"`);
  try {
    if (action === 'up') return await up(args, io);
    if (action === 'check') return await check(args, io);
    if (action === 'down') return down(args, io);
  } catch (e) {
    if (e instanceof LabError) {
      io.stderr(`flat6 lab ${action}: ${e.message}\n`);
      return e instanceof LabInterrupted ? e.exitCode : 1;
    }
    throw e;
  }
  throw new UsageError(`unknown lab action "${action}": use up, check or down`);
}
