import { planFromArgs, STACK_HELP, STACK_OPTION, type Command } from '../main.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Check the stack file and report every problem at once.',
  usage: 'flat6 validate [--stack NAME]',
  options: { ...STACK_OPTION },
  help: `${STACK_HELP}

Reports each problem with its code, its place (file:line:col), the offending
value and the fix. Exit status: 0 ok, 1 checks failed, 2 the file could not be
parsed as a stack. docs/stack.md lists every check code.`,
  run(args, io) {
    const { plan } = planFromArgs(args, io);
    io.stdout(`${plan.stackName}: ok (${plan.rackCount} rack(s), ${plan.nodeCount} node(s), ${plan.warnings.length} warning(s))\n`);
    return 0;
  },
};
