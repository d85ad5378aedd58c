/**
 * Semantic checks on a structurally valid stack. Every problem is collected;
 * nothing here does I/O. The cost is O(racks listed + nodes listed), never
 * O(nodes in the cluster) nor O(any number written in the stack file), so a
 * 1,000,000-node generated stack checks instantly. The checks themselves live
 * in src/plan/checks/, one module per concern; this module runs them in order
 * (the order of the diagnostics is part of the CLI's output).
 */
import type { Diagnostic } from '../core/diagnostics.js';
import type { Prefix } from '../core/ip.js';
import type { LoadedStack } from '../spec/load.js';
import { addressParsers, checkIPv4Literals, parseNetwork } from './checks/addresses.js';
import { checkNodeCapacity, checkPodCapacity, checkRackLayout, checkPodPrefixLength, checkRackSubnetRoom, checkSlotsPerRack } from './checks/capacity.js';
import { createContext, createReporter, type CheckContext } from './checks/context.js';
import { checkControlPlane, checkControlPlaneSize, checkVipOutsideRanges } from './checks/control-plane.js';
import { checkPorts } from './checks/ports.js';
import { checkRacks } from './checks/racks.js';
import { checkRangeOverlaps, checkServiceMask } from './checks/ranges.js';
import { checkAsnPlan, checkBgpTimers, checkFabric } from './checks/routing.js';
import { checkKubernetesVersion } from './checks/version.js';

/** What the planner needs from a stack that passed the checks. */
export interface Resolved {
  nodeRange: Prefix;
  podRange: Prefix;
  serviceRange: Prefix;
  vip: bigint;
  dns: bigint[];
  /** rack gateway overrides by rack index */
  gateways: Map<number, bigint>;
  /** length of each rack's pod aggregate */
  rackPodLength: number;
  /** the rack layout: network.racks and the length of each rack block */
  rackRange?: Prefix;
  rackBlockLength?: number;
}

/** Every diagnostic of a stack, and what the planner needs when none is an error. */
export interface StackCheckOutcome {
  diagnostics: Diagnostic[];
  resolved?: Resolved;
}

/** The checks after parsing, in report order. */
const CHECKS: ReadonlyArray<(c: CheckContext) => void> = [
  checkKubernetesVersion,
  // ranges: overlaps and sizes
  checkRangeOverlaps,
  checkServiceMask,
  // layout and capacity
  checkSlotsPerRack,
  checkPodPrefixLength,
  checkPodCapacity,
  checkNodeCapacity,
  checkRackLayout,
  checkRackSubnetRoom,
  // racks and nodes (fills the gateway overrides the control-plane checks read)
  checkRacks,
  // control plane and its VIP
  checkControlPlane,
  checkVipOutsideRanges,
  checkPorts,
  checkControlPlaneSize,
  // routing
  checkFabric,
  checkAsnPlan,
  checkBgpTimers,
];

export function checkStack(stack: LoadedStack): StackCheckOutcome {
  const reporter = createReporter(stack);
  const ipv4Paths = checkIPv4Literals(stack, reporter);
  const parsers = addressParsers(reporter, ipv4Paths);
  const network = parseNetwork(stack, reporter, parsers);
  const c = createContext(stack, reporter, parsers, network);
  for (const check of CHECKS) check(c);

  const ds = reporter.diagnostics;
  const { nodeRange, podRange, serviceRange, vip, dns, gateways, rackPodLength, rackRange, rackLayout, rackBlockLength } = c;
  if (ds.some((d) => d.severity === 'error') || !nodeRange || !podRange || !serviceRange || vip === undefined || c.slotBits === undefined || (rackLayout && !rackRange)) return { diagnostics: ds };
  const layout = rackLayout ? { rackRange, rackBlockLength } : {};
  return { diagnostics: ds, resolved: { nodeRange, podRange, serviceRange, vip, dns, gateways, rackPodLength, ...layout } };
}
