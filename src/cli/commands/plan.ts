import { STACK_HELP, STACK_OPTION, type Command } from '../main.js';

export const planCommand: Command = {
  name: 'plan',
  summary: 'Check the stack and print its address plan and routing state per tier.',
  usage: 'flat6 plan [--stack NAME] [--host NAME] [--json]',
  options: { ...STACK_OPTION, json: { type: 'boolean' }, host: { type: 'string' } },
  help: `${STACK_HELP}
      --host NAME        show one node (O(1): works on a 1,000,000-node stack)
      --json             machine-readable plan: cluster, racks, nodes

The human form lists ranges, the API endpoint, routes per tier (node, ToR,
spine) and what a pod move, a node add and a rack add change; then the first
racks and nodes. Nothing is written.`,
  async run(args, io) {
    const { runPlan } = await import('./plan-run.js');
    return runPlan(args, io);
  },
};
