import { UsageError } from '../../core/diagnostics.js';
import { labCheck } from '../../lab/check.js';
import { teardown } from '../../lab/down.js';
import { readState, runDirOf } from '../../lab/state.js';
import { MAX_LAB_NODES } from '../../lab/topology.js';
import { labPreflight, labUp } from '../../lab/up.js';
import { LabError } from '../../runtime/exec.js';
import { wholeNumber } from '../../runtime/options.js';
import { LabInterrupted } from '../../runtime/signals.js';
import { stackNameOf, type RoutingMode } from '../../spec/load.js';
import { loadStackAt, STACK_HELP, STACK_OPTION, type Command, type ParsedArgs } from '../main.js';
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

export const labCommand: Command = {
  name: 'lab',
  summary: 'Build the stack\'s network in network namespaces from the rendered files, prove it, remove it (root).',
  usage: 'flat6 lab up|check|down [--stack NAME] [options]',
  positionals: true,
  options: {
    ...STACK_OPTION,
    racks: { type: 'string' },
    'nodes-per-rack': { type: 'string' },
    'pods-per-node': { type: 'string' },
    mode: { type: 'string' },
    timeout: { type: 'string' },
    templates: { type: 'string' },
    'keep-timers': { type: 'boolean' },
    break: { type: 'string', multiple: true },
  },
  help: `${STACK_HELP}

  up      render the stack (or a subset of it) and build its network on this
          machine: a spine, one ToR per rack, the nodes, pods on every node.
          Every node and router is configured from its rendered files: netplan
          (through netplan generate and the networkd units it writes), sysctl -p
          of the rendered sysctl file, the rendered CNI conflist run by the real
          plugins in /usr/lib/cni, and in bgp mode BIRD with the rendered
          bird.conf. Returns once every router holds the routes the plan predicts.
  check   prove the lab: pod to pod on one node, across a rack and across racks
          (ICMPv6 and TCP); full-size packets with DF set; no tunnel device;
          route counts on node, ToR and spine equal the plan's; deleting and
          re-adding pods changes no route on any router; adding a node adds one
          route at its ToR and none at the spine. One PASS/FAIL line per check
          with what was measured; exit 1 if any check fails.
  down    stop the run's processes and delete its namespaces and run directory.

Options of up:
      --racks N            build the first N racks (the control-plane rack first)
      --nodes-per-rack N   the first N nodes (by slot) of each rack
      --pods-per-node N    pods per node (default 2)
      --mode bgp|static    routing mode to render (default: the stack's routing.mode)
      --timeout SEC        how long to wait for routes to converge (default 30)
      --templates DIR      template overlay, as for flat6 render
      --keep-timers        render the stack's own BGP timers; by default the lab
                           stack uses hold 3 s, keepalive 1 s, connect retry 1 s
                           (BIRD 2.0 may hold a new session's first update until
                           its next timer fires, so short timers converge faster)
      --break NODE         fault injection: leave NODE's pod prefix unrouted
                           (bgp: its BIRD is not started; static: its ToR does
                           not get its route); check must then fail. Repeatable.

Without --racks/--nodes-per-rack the whole stack is built, up to ${MAX_LAB_NODES} nodes.
Racks keep their index and nodes their slot, so every address and file is the one
the full stack renders. Needs root and the Debian packages iproute2, procps,
netplan.io, bird2, iputils-ping and containernetworking-plugins
(scripts/install-test-deps.sh), and setpriv (util-linux). Namespaces are named f6-<run id>-...; the run
directory is /run/flat6-lab/<stack> ($FLAT6_LAB_DIR/<stack> if set). Addresses
never leave the lab's namespaces. docs/lab.md has the details.
Exit status: 0 ok, 1 a check failed or the lab could not be built (everything
it made is removed), 2 usage error (e.g. not root), 130 (Ctrl-C) or 143 (SIGTERM)
up interrupted (what it had built is removed; further signals meanwhile are ignored).
A run that a killed "lab up" left half built is removed by the next "lab up".`,
  async run(args, io) {
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
  },
};
