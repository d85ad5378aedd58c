/** `flat6 plan`: print the address plan of a stack. */
import { formatAddress, formatPrefix } from '../../core/ip.js';
import { UsageError } from '../../core/diagnostics.js';
import { nodeSummary, type ClusterPlan, type NodePlan } from '../../plan/plan.js';
import { routingStatements } from '../../plan/summary.js';
import { planJsonChunks } from '../../render/plan-json.js';
import type { ParsedArgs } from '../main.js';
import { planFromArgs } from '../plan-args.js';
import type { CliIO } from '../io.js';

const SHOW_NODES = 64;
const SHOW_RACKS = 16;

export function humanPlan(plan: ClusterPlan, only?: NodePlan): string {
  const lines: string[] = [];
  const L = (s = ''): void => void lines.push(s);
  L(`cluster ${plan.name} (stack ${plan.stackName}), Kubernetes ${plan.kubernetesVersion}`);
  L(`  node range     ${formatPrefix(plan.nodeRange)}   rack subnets /${plan.rackSubnetLength}`);
  L(`  pod range      ${formatPrefix(plan.podRange)}   rack blocks /${plan.rackPodLength}, node prefixes /${plan.podPrefixLength} (${plan.spec.layout.slotsPerRack} slots per rack)`);
  if (plan.rackRange) L(`  rack range     ${formatPrefix(plan.rackRange)}   one /${plan.rackBlockLength} per rack (its one spine route): node subnet = its first /${plan.rackSubnetLength}, pod block = its last /${plan.rackPodLength}`);
  L(`  service range  ${formatPrefix(plan.serviceRange)}   API ${formatAddress(plan.apiServiceIP)}, DNS ${formatAddress(plan.dnsServiceIP)}`);
  L(`  API endpoint   ${plan.controlPlaneEndpoint} (VIP in rack ${plan.controlPlaneRack.name})`);
  L(`  control plane  ${plan.controlPlanes.map((n) => `${n.name} ${formatAddress(n.address)}`).join(', ')}`);
  L(`  upstream DNS   ${plan.dns.map(formatAddress).join(', ')}`);
  L(`  size           ${plan.rackCount} rack(s), ${plan.nodeCount} node(s)`);
  L();
  for (const s of routingStatements(plan)) L(s);
  L();
  if (only) {
    L('node:');
    for (const [k, v] of Object.entries(nodeSummary(only))) L(`  ${k.padEnd(16)} ${String(v)}`);
    return lines.join('\n') + '\n';
  }
  L('racks:');
  L(`  ${'rack'.padEnd(12)} ${'subnet'.padEnd(26)} ${'gateway'.padEnd(24)} ${'pod block'.padEnd(26)} nodes`);
  let i = 0;
  for (const r of plan.racks()) {
    if (i++ >= SHOW_RACKS) {
      L(`  ... ${plan.rackCount - SHOW_RACKS} more rack(s) (flat6 plan --json lists them all)`);
      break;
    }
    L(`  ${r.name.padEnd(12)} ${formatPrefix(r.subnet).padEnd(26)} ${formatAddress(r.gateway).padEnd(24)} ${formatPrefix(r.podBlock).padEnd(26)} ${r.nodeCount}`);
  }
  L();
  L('nodes:');
  L(`  ${'name'.padEnd(14)} ${'role'.padEnd(13)} ${'rack'.padEnd(10)} ${'slot'.padStart(4)}  ${'address'.padEnd(24)} pod prefix`);
  i = 0;
  for (const n of plan.nodes()) {
    if (i++ >= SHOW_NODES) {
      L(`  ... ${plan.nodeCount - SHOW_NODES} more node(s) (flat6 plan --host NAME shows one)`);
      break;
    }
    L(`  ${n.name.padEnd(14)} ${n.role.padEnd(13)} ${n.rack.name.padEnd(10)} ${String(n.slot).padStart(4)}  ${formatAddress(n.address).padEnd(24)} ${formatPrefix(n.podPrefix)}`);
  }
  return lines.join('\n') + '\n';
}

/** JSON plan, written in pieces by the writer of render's plan.json (src/render/plan-json.ts): same bytes. */
export function writeJsonPlan(plan: ClusterPlan, io: CliIO, only?: NodePlan): void {
  for (const chunk of planJsonChunks(plan, only)) io.stdout(chunk);
}

export function runPlan(args: ParsedArgs, io: CliIO): number {
  const { plan } = planFromArgs(args, io);
  const host = args.values['host'] as string | undefined;
  const only = host === undefined ? undefined : plan.findNode(host);
  if (host !== undefined && !only) throw new UsageError(`no node "${host}" in stack ${plan.stackName}`);
  if (args.values['json']) writeJsonPlan(plan, io, only);
  else io.stdout(humanPlan(plan, only));
  return 0;
}
