/**
 * What every check reads and where it reports: the stack, its parsed ranges,
 * the layout facts derived from them, and the add/warn reporter. Built once by
 * checkStack (src/plan/checks.ts); each check is a function of it.
 */
import type { CheckCode, Diagnostic } from '../../core/diagnostics.js';
import { addressAt, log2Exact, size, subnet, subnetCount, type Prefix } from '../../core/ip.js';
import type { ClusterSpec, LoadedStack } from '../../spec/load.js';
import { maxRackIndexOf, rackCountOf } from '../racks.js';

export type AddDiagnostic = (code: CheckCode, path: string, message: string, fix: string, extra?: Partial<Diagnostic>) => void;
export type WarnDiagnostic = (code: CheckCode, path: string, message: string, fix: string) => void;

/** Collects diagnostics, each located in the stack file by its dotted path. */
export interface Reporter {
  readonly diagnostics: Diagnostic[];
  /** an error: the stack is not planned */
  add: AddDiagnostic;
  /** a warning: reported, the stack is still planned */
  warn: WarnDiagnostic;
  /** "see also" place of a diagnostic */
  related(path: string, message: string): Partial<Diagnostic>;
}

export function createReporter(stack: LoadedStack): Reporter {
  const diagnostics: Diagnostic[] = [];
  return {
    diagnostics,
    add: (code, path, message, fix, extra = {}) => {
      diagnostics.push({ code, severity: 'error', message, path, location: stack.locate(path), fix, ...extra });
    },
    warn: (code, path, message, fix) => {
      diagnostics.push({ code, severity: 'warning', message, path, location: stack.locate(path), fix });
    },
    related: (path, message) => ({ related: [{ path, location: stack.locate(path), message }] }),
  };
}

/** Parsers that report what they cannot parse and skip paths already reported as IPv4 literals. */
export interface AddressParsers {
  prefix(path: string, text: string, what: string): Prefix | undefined;
  address(path: string, text: string, what: string): bigint | undefined;
  /** true when the value at `path` was reported as an IPv4 literal */
  isIPv4(path: string): boolean;
}

/** [dotted path, name in messages, parsed prefix] of one of the cluster's ranges. */
export type NamedRange = [path: string, name: string, prefix: Prefix | undefined];

/** The cluster's addresses as parsed (undefined where a value did not parse). */
export interface ParsedNetwork {
  nodeRange: Prefix | undefined;
  podRange: Prefix | undefined;
  serviceRange: Prefix | undefined;
  /** network.racks (the opt-in rack layout), undefined when unset or unparsable */
  rackRange: Prefix | undefined;
  vip: bigint | undefined;
  dns: bigint[];
  /** node, pod and service ranges, in that order (rack layout: rack and service ranges) */
  ranges: NamedRange[];
}

export interface CheckContext extends Reporter, AddressParsers, ParsedNetwork {
  readonly stack: LoadedStack;
  readonly spec: ClusterSpec;
  /** log2(slotsPerRack), undefined when it is not a power of two */
  readonly slotBits: number | undefined;
  /** length of each rack's pod aggregate */
  readonly rackPodLength: number;
  /** true when network.racks is set: each rack's subnet and pod block lie in one rack block */
  readonly rackLayout: boolean;
  /** length of each rack block (rack layout only; otherwise 0) */
  readonly rackBlockLength: number;
  readonly rackCount: number;
  /** highest rack index in use (generated: count - 1) */
  readonly maxRackIndex: number;
  /** rack gateway overrides by rack index, filled by the rack checks */
  readonly gateways: Map<number, bigint>;
  /** node subnet of rack `index`, undefined when the node range cannot hold it */
  rackSubnet(index: number): Prefix | undefined;
  /** address of `slot` in a rack subnet, undefined when past its end */
  nodeAddress(sn: Prefix, slot: number): bigint | undefined;
  /** gateway of rack `index` (override, else subnet + gatewayOffset), undefined when past the subnet's end */
  gatewayOf(index: number, sn: Prefix): bigint | undefined;
}

/** The context the checks share, from what the earlier steps parsed. O(racks listed). */
export function createContext(stack: LoadedStack, reporter: Reporter, parsers: AddressParsers, network: ParsedNetwork): CheckContext {
  const { spec } = stack;
  const { hostOffset, gatewayOffset } = spec.layout;
  const rsl = spec.network.rackSubnetLength;
  const { nodeRange, rackRange } = network;
  const slotBits = log2Exact(spec.layout.slotsPerRack);
  const gateways = new Map<number, bigint>();
  const rackPodLength = spec.network.podPrefixLength - (slotBits ?? 0);
  const rackLayout = spec.network.racks !== undefined;
  const rackBlockLength = rackLayout ? defaultRackBlockLength(spec.network.rackBlockLength, rsl, rackPodLength) : 0;
  return {
    ...reporter,
    ...parsers,
    ...network,
    stack,
    spec,
    slotBits,
    rackPodLength,
    rackLayout,
    rackBlockLength,
    rackCount: rackCountOf(stack),
    maxRackIndex: maxRackIndexOf(stack),
    gateways,
    rackSubnet: (index) => {
      if (rackLayout) {
        if (!rackRange || rackBlockLength < rackRange.length || rackBlockLength >= rsl || BigInt(index) >= subnetCount(rackRange, rackBlockLength)) return undefined;
        return subnet(subnet(rackRange, rackBlockLength, index), rsl, 0);
      }
      if (!nodeRange || rsl < nodeRange.length || BigInt(index) >= subnetCount(nodeRange, rsl)) return undefined;
      return subnet(nodeRange, rsl, index);
    },
    nodeAddress: (sn, slot) => {
      const off = BigInt(hostOffset) + BigInt(slot);
      return off < size(sn) ? addressAt(sn, off) : undefined;
    },
    gatewayOf: (index, sn) => gateways.get(index) ?? (BigInt(gatewayOffset) < size(sn) ? addressAt(sn, gatewayOffset) : undefined),
  };
}

/** Rack block length: network.rackBlockLength, else the longest block that holds a rack subnet and a rack pod block side by side. */
export function defaultRackBlockLength(declared: number | undefined, rackSubnetLength: number, rackPodLength: number): number {
  return declared ?? Math.min(rackSubnetLength, rackPodLength) - 1;
}
