import { loadCloudStack, CLOUD_KEYS } from '../../cloud/select.js';
import { ADDONS_KEY } from '../../k8s/section.js';
import { planAddons } from '../../k8s/plan.js';
import { planFromArgs, STACK_HELP, STACK_OPTION, type Command } from '../main.js';

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
  run(args, io) {
    const { stack, plan } = planFromArgs(args, io);
    const checked = ['flat6:cluster'];
    const cloud = CLOUD_KEYS.filter((k) => stack.config[k] !== undefined);
    if (cloud.length > 0) {
      loadCloudStack(stack);
      checked.push(...cloud);
    }
    if (planAddons(stack, plan)) checked.push(ADDONS_KEY);
    io.stdout(`${plan.stackName}: ok (${plan.rackCount} rack(s), ${plan.nodeCount} node(s), ${plan.warnings.length} warning(s); checked ${checked.join(', ')})\n`);
    return 0;
  },
};
