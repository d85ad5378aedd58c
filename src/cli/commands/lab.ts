import type { MAX_LAB_NODES as LAB_NODES_LIMIT } from '../../lab/topology.js';
import { STACK_HELP, STACK_OPTION, type Command } from '../main.js';

/** MAX_LAB_NODES of src/lab/topology.ts (its type is that value), for the help. */
const MAX_LAB_NODES: typeof LAB_NODES_LIMIT = 256;

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
    const { runLab } = await import('./lab-run.js');
    return runLab(args, io);
  },
};
