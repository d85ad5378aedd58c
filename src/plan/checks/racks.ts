/**
 * Racks and nodes: unique names, indexes, slots and MACs; slots inside the
 * rack; no node on the gateway or a reserved anycast address; rack gateway
 * overrides inside their subnets. O(racks listed + nodes listed).
 */
import type { CheckCode } from '../../core/diagnostics.js';
import { containsAddress, formatAddress, formatPrefix, type Prefix } from '../../core/ip.js';
import type { ListedNodeSpec, RackSpec } from '../../spec/load.js';
import { generatedNodeName, listedNodesOf, parseGeneratedNodeName, rackNodeCount } from '../racks.js';
import type { CheckContext } from './context.js';
import { freeSegmentAddress, isReservedInSubnet } from './segment.js';

export function checkRacks(c: CheckContext): void {
  const { racks } = c.spec;
  if (racks.kind === 'generated') checkGeneratedRacks(c, racks.nodes);
  else checkListedRacks(c, racks.items);
}

function checkGeneratedRacks(c: CheckContext, nodes: number): void {
  const { slotsPerRack } = c.spec.layout;
  checkCountedSlots(c, 'racks.nodes', nodes);
  if (nodes > slotsPerRack) {
    c.add('SLOT_RANGE', 'racks.nodes', `${nodes} nodes per rack exceed layout.slotsPerRack ${slotsPerRack}`, `raise slotsPerRack to ${2 ** Math.ceil(Math.log2(nodes))} (before the cluster is built) or use fewer nodes per rack`);
  }
}

/** A gateway override of a count-sized rack, to check against its node slots. */
interface GatewayOverride {
  gateway: bigint;
  subnet: Prefix | undefined;
  path: string;
  rack: string;
}

/** Count-sized racks occupy slots 0..n-1, i.e. offsets hostOffset..hostOffset+n-1: none may be offset 0 or the gateway. */
function checkCountedSlots(c: CheckContext, path: string, n: number, override?: GatewayOverride): void {
  const { hostOffset, gatewayOffset, slotsPerRack } = c.spec.layout;
  if (hostOffset === 0 && n > 0) {
    c.add('NODE_RESERVED', path, `slot 0 would get offset 0 of the rack subnet, the Subnet-Router anycast address`, 'set layout.hostOffset above the gateway offset (e.g. 16), or list nodes with explicit slots');
  } else if (override === undefined && gatewayOffset >= hostOffset && gatewayOffset < hostOffset + n) {
    c.add('NODE_RESERVED', path, `slot ${gatewayOffset - hostOffset} would get the gateway address (gatewayOffset ${gatewayOffset}, hostOffset ${hostOffset})`, 'keep layout.gatewayOffset below layout.hostOffset, e.g. gatewayOffset: 1 with hostOffset: 16');
  } else if (override?.subnet && containsAddress(override.subnet, override.gateway)) {
    const slot = override.gateway - override.subnet.base - BigInt(hostOffset);
    if (slot >= 0n && slot < BigInt(n)) {
      const free = freeSegmentAddress(override.subnet, hostOffset, slotsPerRack, []);
      c.add(
        'NODE_RESERVED',
        override.path,
        `gateway ${formatAddress(override.gateway)} of rack ${override.rack} is the address of its node ${generatedNodeName(override.rack, Number(slot))} (slot ${slot}: rack subnet + hostOffset ${hostOffset} + slot)`,
        `move the gateway off the node slots, below layout.hostOffset${free === undefined ? '' : `, e.g. ${formatAddress(free)}`}`,
      );
    }
  }
}

const DUPLICATE_FIX: Partial<Record<CheckCode, string>> = {
  DUPLICATE_MAC: 'each node needs the MAC of its own uplink',
  DUPLICATE_SLOT: 'give each node of a rack its own slot',
  DUPLICATE_RACK_INDEX: 'give each rack its own index (racks default to their list position)',
};

/** Values seen so far across the racks listed, each with the path of its first use. */
interface Seen {
  rackNames: Map<string, string>;
  rackIndexes: Map<number, string>;
  nodeNames: Map<string, string>;
  macs: Map<string, string>;
  /** node count of each count-sized rack, by rack name */
  countedRacks: Map<string, number>;
}

/** Duplicate detection: the first occurrence's place goes into the diagnostic. */
function dupNamed<K>(c: CheckContext, seen: Map<K, string>, key: K, path: string, code: CheckCode, what: string): void {
  const first = seen.get(key);
  if (first !== undefined) {
    c.add(code, path, `${what} is used twice`, DUPLICATE_FIX[code] ?? 'names must be unique in the cluster', c.related(first, 'first used here'));
  } else {
    seen.set(key, path);
  }
}

function checkListedRacks(c: CheckContext, items: RackSpec[]): void {
  const seen: Seen = { rackNames: new Map(), rackIndexes: new Map(), nodeNames: new Map(), macs: new Map(), countedRacks: new Map() };
  for (const rack of items) if (!listedNodesOf(rack)) seen.countedRacks.set(rack.name, rackNodeCount(rack));
  const several = items.length > 1;
  for (const rack of items) {
    const sn = checkRackItem(c, seen, rack, several);
    const listed = listedNodesOf(rack);
    if (listed) checkListedNodes(c, seen, rack, listed, sn);
    else checkCountedRack(c, rack, rackNodeCount(rack), sn);
  }
}

/** The rack's own fields: a unique name and index (written, when racks are several), a gateway inside its subnet. */
function checkRackItem(c: CheckContext, seen: Seen, rack: RackSpec, several: boolean): Prefix | undefined {
  dupNamed(c, seen.rackNames, rack.name, rack.path + '.name', 'DUPLICATE_NAME', `rack name "${rack.name}"`);
  if (several && rack.indexDefaulted) {
    c.warn(
      'LAYOUT',
      rack.path,
      `rack ${rack.name} has no index, so it takes its list position ${rack.index}: inserting or removing a rack before it would renumber its subnet, pod block and every node address in it`,
      `set index: ${rack.index} on rack ${rack.name} (and an index on every rack), then add racks with new indexes in any order`,
    );
  }
  // Located at the index: field when written (locate falls back to the rack when the index is implicit).
  dupNamed(c, seen.rackIndexes, rack.index, rack.path + '.index', 'DUPLICATE_RACK_INDEX', `rack index ${rack.index}`);
  const sn = c.rackSubnet(rack.index);
  if (rack.gateway !== undefined) {
    const g = c.address(rack.path + '.gateway', rack.gateway, `rack ${rack.name} gateway`);
    if (g !== undefined) {
      c.gateways.set(rack.index, g);
      if (sn && !containsAddress(sn, g)) {
        c.add('GATEWAY_OUTSIDE', rack.path + '.gateway', `gateway ${formatAddress(g)} of rack ${rack.name} is outside its subnet ${formatPrefix(sn)}`, `use an address inside ${formatPrefix(sn)}, e.g. ${formatAddress(sn.base + 1n)}`);
      } else if (sn && isReservedInSubnet(sn, g)) {
        c.add('NODE_RESERVED', rack.path + '.gateway', `gateway ${formatAddress(g)} is a reserved anycast address of ${formatPrefix(sn)}`, `use e.g. ${formatAddress(sn.base + 1n)}`);
      }
    }
  }
  return sn;
}

function checkCountedRack(c: CheckContext, rack: RackSpec, nodes: number, sn: Prefix | undefined): void {
  const { slotsPerRack } = c.spec.layout;
  const g = c.gateways.get(rack.index);
  checkCountedSlots(c, rack.path + '.nodes', nodes, g === undefined ? undefined : { gateway: g, subnet: sn, path: rack.path + '.gateway', rack: rack.name });
  if (nodes > slotsPerRack) {
    c.add('SLOT_RANGE', rack.path + '.nodes', `rack ${rack.name} has ${nodes} nodes but layout.slotsPerRack is ${slotsPerRack}`, `use at most ${slotsPerRack} nodes per rack, or raise slotsPerRack before the cluster is built`);
  }
}

function checkListedNodes(c: CheckContext, seen: Seen, rack: RackSpec, nodes: ListedNodeSpec[], sn: Prefix | undefined): void {
  const { slotsPerRack } = c.spec.layout;
  const slots = new Map<number, string>();
  for (const n of nodes) {
    dupNamed(c, seen.nodeNames, n.name, n.path + '.name', 'DUPLICATE_NAME', `node name "${n.name}"`);
    checkGeneratedNameClash(c, seen, n);
    dupNamed(c, slots, n.slot, n.path + '.slot', 'DUPLICATE_SLOT', `slot ${n.slot} in rack ${rack.name}`);
    if (n.mac) dupNamed(c, seen.macs, n.mac, n.path + '.mac', 'DUPLICATE_MAC', `MAC ${n.mac}`);
    if (n.slot >= slotsPerRack) {
      c.add('SLOT_RANGE', n.path + '.slot', `slot ${n.slot} of node ${n.name} is outside 0..${slotsPerRack - 1} (layout.slotsPerRack ${slotsPerRack})`, `pick a free slot below ${slotsPerRack}`);
      continue;
    }
    if (sn) checkNodeAddress(c, rack, n, sn);
  }
}

/** A listed node may not take the generated name <rack>-n<slot> of a node of a count-sized rack. */
function checkGeneratedNameClash(c: CheckContext, seen: Seen, n: ListedNodeSpec): void {
  const gen = parseGeneratedNodeName(n.name);
  const taken = gen && seen.countedRacks.get(gen.rackName);
  if (gen && taken !== undefined && gen.slot < taken) {
    c.add(
      'DUPLICATE_NAME',
      n.path + '.name',
      `node name "${n.name}" is also the generated name of slot ${gen.slot} of rack ${gen.rackName} (${taken} nodes, named ${generatedNodeName(gen.rackName, 0)} .. ${generatedNodeName(gen.rackName, taken - 1)})`,
      `rename node ${n.name}; names of the form <rack>-n<slot> belong to count-sized racks`,
    );
  }
}

/** A listed node's address is neither a reserved anycast address nor the rack gateway. */
function checkNodeAddress(c: CheckContext, rack: RackSpec, n: ListedNodeSpec, sn: Prefix): void {
  const a = c.nodeAddress(sn, n.slot);
  const g = c.gatewayOf(rack.index, sn);
  if (a === undefined) return;
  if (isReservedInSubnet(sn, a)) {
    c.add('NODE_RESERVED', n.path + '.slot', `node ${n.name} at slot ${n.slot} would get ${formatAddress(a)}, a reserved anycast address of ${formatPrefix(sn)}`, 'choose another slot or raise layout.hostOffset');
  } else if (g !== undefined && a === g) {
    c.add('NODE_RESERVED', n.path + '.slot', `node ${n.name} at slot ${n.slot} would get ${formatAddress(a)}, the rack gateway`, 'choose another slot, or move the gateway');
  }
}
