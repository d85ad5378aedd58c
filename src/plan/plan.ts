/**
 * The address plan: pure and deterministic. A node's whole plan is a function
 * of (rack index, slot) — `nodeAt` is O(1) and never looks at other nodes, so
 * adding racks or nodes cannot renumber an existing one. Whole-cluster work
 * goes through generators, so memory stays flat at 1,000,000 nodes.
 */
import { Flat6Error, type Diagnostic } from '../core/diagnostics.js';
import { addressAt, formatAddress, formatPrefix, hostPort, subnet, type Prefix } from '../core/ip.js';
import type { ClusterSpec, ListedNodeSpec, LoadedStack, RackSpec, Role } from '../spec/load.js';
import { checkStack, type Resolved } from './checks.js';
import {
  controlPlaneRack,
  controlPlaneSlots,
  generatedNodeName,
  generatedRackIndex,
  listedNodesOf,
  nodeCountOf,
  parseGeneratedNodeName,
  rackCountOf,
  rackNodeCount,
} from './racks.js';

export { generatedNodeName };

export interface RackPlan {
  index: number;
  name: string;
  /** the rack's node segment (its L3 boundary is the ToR) */
  subnet: Prefix;
  gateway: bigint;
  /** aggregate of every pod prefix in the rack: the one route the spine needs for pods */
  podBlock: Prefix;
  /**
   * Rack layout only (network.racks): the rack block holding both the node
   * subnet (its first /rackSubnetLength) and the pod block (its last
   * /rackPodLength): the one route the spine holds for the rack.
   */
  aggregate?: Prefix;
  /** number of nodes currently in the rack */
  nodeCount: number;
  /** dotted path of the rack in the stack file (list form only) */
  path?: string;
}

export interface NodePlan {
  name: string;
  rack: RackPlan;
  slot: number;
  role: Role;
  /** 0-based position among control-plane nodes (0 runs kubeadm init) */
  controlPlaneIndex?: number;
  address: bigint;
  podPrefix: Prefix;
  interface: string;
  mac?: string;
  path?: string;
}

/** The address plan of a cluster: what the class below computes, read-only to everyone else. */
export type ClusterPlan = Plan;

/** Run the checks, then build the plan; throws Flat6Error (exit 1) when any check fails. */
export function createPlan(stack: LoadedStack): ClusterPlan {
  const { diagnostics, resolved } = checkStack(stack);
  if (!resolved || diagnostics.some((d) => d.severity === 'error')) {
    throw new Flat6Error(diagnostics, 1);
  }
  return new Plan(stack, resolved, diagnostics);
}

class Plan {
  readonly spec: ClusterSpec;
  readonly stackName: string;
  readonly name: string;
  readonly kubernetesVersion: string;
  readonly nodeRange: Prefix;
  readonly podRange: Prefix;
  readonly serviceRange: Prefix;
  readonly podPrefixLength: number;
  readonly rackSubnetLength: number;
  readonly rackPodLength: number;
  /** rack layout only: network.racks and the length of each rack block */
  readonly rackRange?: Prefix;
  readonly rackBlockLength?: number;
  readonly dns: bigint[];
  /** first Service address: the kubernetes.default Service */
  readonly apiServiceIP: bigint;
  /** tenth Service address: kube-dns (kubeadm's GetDNSIP) */
  readonly dnsServiceIP: bigint;
  readonly vip: bigint;
  readonly apiPort: number;
  readonly apiServerPort: number;
  /** "[vip]:port" */
  readonly controlPlaneEndpoint: string;
  readonly rackCount: number;
  readonly nodeCount: number;
  readonly controlPlaneRack: RackPlan;
  readonly controlPlanes: NodePlan[];
  /** warnings from the checks (errors would have thrown) */
  readonly warnings: Diagnostic[];

  private readonly resolved: Resolved;
  private readonly listedRacks = new Map<number, RackSpec>();
  private readonly racksByName = new Map<string, number>();
  private readonly listedNodes = new Map<string, { rack: number; node: ListedNodeSpec }>();
  private readonly listedSlots = new Map<number, Map<number, ListedNodeSpec>>();
  /** control-plane index by slot, in the control-plane rack (cpRackIndex) */
  private readonly cpSlots: Map<number, number>;
  private readonly cpRackIndex: number;

  constructor(stack: LoadedStack, r: Resolved, diagnostics: Diagnostic[]) {
    const spec = stack.spec;
    this.spec = spec;
    this.stackName = stack.stackName;
    this.resolved = r;
    this.warnings = diagnostics.filter((d) => d.severity === 'warning');
    this.name = spec.name;
    this.kubernetesVersion = spec.kubernetesVersion.startsWith('v') ? spec.kubernetesVersion : `v${spec.kubernetesVersion}`;
    this.nodeRange = r.nodeRange;
    this.podRange = r.podRange;
    this.serviceRange = r.serviceRange;
    this.podPrefixLength = spec.network.podPrefixLength;
    this.rackSubnetLength = spec.network.rackSubnetLength;
    this.rackPodLength = r.rackPodLength;
    this.rackRange = r.rackRange;
    this.rackBlockLength = r.rackBlockLength;
    this.dns = r.dns;
    this.apiServiceIP = addressAt(r.serviceRange, 1);
    this.dnsServiceIP = addressAt(r.serviceRange, 10);
    this.vip = r.vip;
    this.apiPort = spec.controlPlane.port;
    this.apiServerPort = spec.controlPlane.apiServerPort;
    this.controlPlaneEndpoint = hostPort(r.vip, spec.controlPlane.port);
    this.rackCount = rackCountOf(stack);

    this.nodeCount = nodeCountOf(stack);
    if (spec.racks.kind === 'list') {
      for (const rack of spec.racks.items) {
        this.listedRacks.set(rack.index, rack);
        this.racksByName.set(rack.name, rack.index);
        const listed = listedNodesOf(rack);
        if (!listed) continue;
        const slots = new Map<number, ListedNodeSpec>();
        for (const n of listed) {
          slots.set(n.slot, n);
          this.listedNodes.set(n.name, { rack: rack.index, node: n });
        }
        this.listedSlots.set(rack.index, slots);
      }
    }

    // Control plane: nodes marked role: control-plane in the control-plane rack,
    // else the first `count` occupied slots of that rack. Ordered by slot.
    // The checks passed, so the rack exists and count is within bounds.
    const cpRack = controlPlaneRack(spec)!;
    this.controlPlaneRack = this.rackAt(cpRack.index);
    const cpSlots = controlPlaneSlots(cpRack.nodes, spec.controlPlane.count).slots;
    this.cpSlots = new Map(cpSlots.map((s, i) => [s, i]));
    this.cpRackIndex = cpRack.index;
    this.controlPlanes = cpSlots.map((s) => this.nodeAt(cpRack.index, s)!);
  }

  /** The rack rackAt made last: nodes are visited rack by rack, so nodeAt mostly finds its rack here. */
  private lastRack?: RackPlan;

  rackAt(index: number): RackPlan {
    const cached = this.lastRack;
    if (cached !== undefined && cached.index === index) return cached;
    const rack = this.makeRack(index);
    this.lastRack = rack;
    return rack;
  }

  private makeRack(index: number): RackPlan {
    const r = this.resolved;
    const listed = this.listedRacks.get(index);
    if (this.spec.racks.kind === 'list' && !listed) throw new RangeError(`no rack at index ${index}`);
    if (this.spec.racks.kind === 'generated' && (index < 0 || index >= this.spec.racks.count)) throw new RangeError(`no rack at index ${index}`);
    const aggregate = r.rackRange && r.rackBlockLength !== undefined ? subnet(r.rackRange, r.rackBlockLength, index) : undefined;
    const sn = aggregate ? subnet(aggregate, this.rackSubnetLength, 0) : subnet(r.nodeRange, this.rackSubnetLength, index);
    const podBlock = aggregate ? subnet(aggregate, r.rackPodLength, (1n << BigInt(r.rackPodLength - aggregate.length)) - 1n) : subnet(r.podRange, r.rackPodLength, index);
    const name = listed ? listed.name : `${(this.spec.racks as { namePrefix: string }).namePrefix}${index}`;
    const nodeCount = listed ? rackNodeCount(listed) : (this.spec.racks as { nodes: number }).nodes;
    return {
      index,
      name,
      subnet: sn,
      gateway: r.gateways.get(index) ?? addressAt(sn, this.spec.layout.gatewayOffset),
      podBlock,
      ...(aggregate ? { aggregate } : {}),
      nodeCount,
      path: listed?.path,
    };
  }

  /** O(1): the plan of the node at (rack index, slot), or undefined if the slot is empty */
  nodeAt(rackIndex: number, slot: number): NodePlan | undefined {
    const listed = this.listedRacks.get(rackIndex);
    let node: ListedNodeSpec | undefined;
    if (this.spec.racks.kind === 'generated') {
      if (rackIndex < 0 || rackIndex >= this.spec.racks.count || slot < 0 || slot >= this.spec.racks.nodes) return undefined;
    } else {
      if (!listed) return undefined;
      const slots = this.listedSlots.get(rackIndex);
      if (slots) {
        node = slots.get(slot);
        if (!node) return undefined;
      } else if (slot < 0 || slot >= rackNodeCount(listed)) return undefined;
    }
    const rack = this.rackAt(rackIndex);
    const cpIndex = rackIndex === this.cpRackIndex ? this.cpSlots.get(slot) : undefined;
    return {
      name: node?.name ?? generatedNodeName(rack.name, slot),
      rack,
      slot,
      role: cpIndex !== undefined ? 'control-plane' : 'worker',
      controlPlaneIndex: cpIndex,
      address: addressAt(rack.subnet, BigInt(this.spec.layout.hostOffset) + BigInt(slot)),
      podPrefix: subnet(rack.podBlock, this.podPrefixLength, slot),
      interface: node?.interface ?? this.spec.defaults.interface,
      mac: node?.mac,
      path: node?.path,
    };
  }

  /** O(1) for generated names, O(1) map lookup for listed ones */
  findNode(name: string): NodePlan | undefined {
    const listed = this.listedNodes.get(name);
    if (listed) return this.nodeAt(listed.rack, listed.node.slot);
    const gen = parseGeneratedNodeName(name);
    if (!gen) return undefined;
    const { rackName, slot } = gen;
    let rackIndex: number | undefined;
    if (this.spec.racks.kind === 'generated') {
      rackIndex = generatedRackIndex(this.spec.racks.namePrefix, rackName);
    } else {
      rackIndex = this.racksByName.get(rackName);
      // Generated names belong to count-sized racks only.
      if (rackIndex !== undefined && this.listedSlots.has(rackIndex)) return undefined;
    }
    if (rackIndex === undefined) return undefined;
    const n = this.nodeAt(rackIndex, slot);
    return n && n.name === name ? n : undefined;
  }

  *racks(): Generator<RackPlan> {
    if (this.spec.racks.kind === 'generated') {
      for (let i = 0; i < this.spec.racks.count; i++) yield this.rackAt(i);
    } else {
      const indexes = [...this.listedRacks.keys()].sort((a, b) => a - b);
      for (const i of indexes) yield this.rackAt(i);
    }
  }

  *nodesOfRack(rack: RackPlan): Generator<NodePlan> {
    const slots = this.listedSlots.get(rack.index);
    if (slots) {
      for (const s of [...slots.keys()].sort((a, b) => a - b)) yield this.nodeAt(rack.index, s)!;
    } else {
      for (let s = 0; s < rack.nodeCount; s++) yield this.nodeAt(rack.index, s)!;
    }
  }

  *nodes(): Generator<NodePlan> {
    for (const rack of this.racks()) yield* this.nodesOfRack(rack);
  }
}

/** JSON-friendly view of one node (addresses as canonical text). */
/** The rack nodeSummary last wrote, with its prefixes as text: nodes come rack by rack, so each rack's are formatted once. */
let summaryRack: { rack: RackPlan; subnet: string; gateway: string; podBlock: string; block: string | undefined } | undefined;

export function nodeSummary(n: NodePlan): Record<string, unknown> {
  const rack = n.rack;
  if (summaryRack?.rack !== rack) {
    summaryRack = {
      rack,
      subnet: formatPrefix(rack.subnet),
      gateway: formatAddress(rack.gateway),
      podBlock: formatPrefix(rack.podBlock),
      block: rack.aggregate ? formatPrefix(rack.aggregate) : undefined,
    };
  }
  const r = summaryRack;
  // built field by field in this order (the order of plan.json's keys), without spreading optional parts
  const o: Record<string, unknown> = { name: n.name, rack: rack.name, rackIndex: rack.index, slot: n.slot, role: n.role };
  if (n.controlPlaneIndex !== undefined) o['controlPlaneIndex'] = n.controlPlaneIndex;
  o['address'] = formatAddress(n.address);
  o['subnet'] = r.subnet;
  o['gateway'] = r.gateway;
  o['podPrefix'] = formatPrefix(n.podPrefix);
  o['rackPodBlock'] = r.podBlock;
  if (r.block !== undefined) o['rackBlock'] = r.block;
  o['interface'] = n.interface;
  if (n.mac) o['mac'] = n.mac;
  return o;
}
