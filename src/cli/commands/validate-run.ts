/** `flat6 validate`: check every section of a stack. */
import { loadCloudStack, CLOUD_KEYS } from '../../cloud/select.js';
import { ADDONS_KEY } from '../../k8s/section.js';
import { planAddons } from '../../k8s/plan.js';
import type { ParsedArgs } from '../main.js';
import { planFromArgs } from '../plan-args.js';
import type { CliIO } from '../io.js';

export function runValidate(args: ParsedArgs, io: CliIO): number {
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
}
