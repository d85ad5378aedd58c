import { STACK_HELP, STACK_OPTION, type Command } from '../main.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Check the stack file and report every problem at once.',
  usage: 'flat6 validate [--stack NAME]',
  options: { ...STACK_OPTION },
  help: `${STACK_HELP}

Checks every section the stack has: flat6:cluster always; flat6:aws or
flat6:oci (the checks the Pulumi program runs before it creates anything);
flat6:addons. Reports each problem with its code, its place (file:line:col),
the offending value and the fix. Exit status: 0 ok, 1 checks failed, 2 the
file could not be parsed as a stack. docs/stack.md lists every check code.`,
  async run(args, io) {
    const { runValidate } = await import('./validate-run.js');
    return runValidate(args, io);
  },
};
