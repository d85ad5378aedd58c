/**
 * Semantic checks on a structurally valid stack. Every problem is collected;
 * nothing here does I/O. The cost is O(racks listed + nodes listed), never
 * O(nodes in the cluster), so a 1,000,000-node generated stack checks instantly.
 */
import type { Diagnostic, CheckCode } from '../core/diagnostics.js';
import {
  addressAt,
  containsAddress,
  containsPrefix,
  netmask,
  forbiddenRangeOfAddress,
  forbiddenRangeOfPrefix,
  formatAddress,
  formatPrefix,
  isIPv4Literal,
  IpError,
  log2Exact,
  overlaps,
  parseAddress,
  parsePrefix,
  reservedAnycastTop,
  size,
  subnet,
  subnetCount,
  type Prefix,
} from '../core/ip.js';
import { defaultApiServerPort, type ListedNodeSpec, type LoadedStack, type RackSpec } from '../spec/load.js';
import { PRIVATE_ASN_MAX, PRIVATE_ASN_MIN, ROUTING_DEFAULTS } from '../spec/schema.js';

/** kubeadm v1beta4 arrived with Kubernetes v1.31 (v1beta3 is deprecated). */
export const MIN_K8S_MINOR = 31;
/** Newest minor this release of flat6 knows kubeadm v1beta4 to serve. */
export const MAX_K8S_MINOR = 36;

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
}

export interface CheckResult {
  diagnostics: Diagnostic[];
  resolved?: Resolved;
}

/** The Subnet-Router anycast address (RFC 4291 2.6.1) or a reserved subnet anycast address (RFC 2526). */
export function isReservedInSubnet(subnetPrefix: Prefix, a: bigint): boolean {
  if (a === subnetPrefix.base) return true;
  return a - subnetPrefix.base >= size(subnetPrefix) - reservedAnycastTop(subnetPrefix);
}

/** `<rack>-n<slot>`: count-sized racks name their nodes by slot, unpadded so growth never renames. */
export function generatedNodeName(rackName: string, slot: number): string {
  return `${rackName}-n${slot}`;
}

/** Inverse of generatedNodeName: the rack name and slot a name of that form stands for. */
export function parseGeneratedNodeName(name: string): { rackName: string; slot: number } | undefined {
  const m = /^(.+)-n(0|[1-9]\d*)$/.exec(name);
  return m ? { rackName: m[1]!, slot: Number(m[2]) } : undefined;
}

/** Index of the generated rack named `<namePrefix><index>` (no zero padding), or undefined. */
export function generatedRackIndex(namePrefix: string, rackName: string): number | undefined {
  if (!rackName.startsWith(namePrefix)) return undefined;
  const m = /^(0|[1-9]\d*)$/.exec(rackName.slice(namePrefix.length));
  return m ? Number(m[1]) : undefined;
}

/**
 * Slots of the control plane in its rack, ascending: the nodes marked
 * role: control-plane, else the `count` lowest occupied slots. `declared`
 * tells which rule chose them.
 */
export function controlPlaneSlots(nodes: number | ListedNodeSpec[], count: number): { slots: number[]; declared: boolean } {
  if (typeof nodes === 'number') return { slots: Array.from({ length: Math.min(nodes, count) }, (_, i) => i), declared: false };
  const marked = nodes.filter((n) => n.role === 'control-plane');
  const chosen = marked.length > 0 ? marked : [...nodes].sort((a, b) => a.slot - b.slot).slice(0, count);
  return { slots: chosen.map((n) => n.slot).sort((a, b) => a - b), declared: marked.length > 0 };
}

export function rackCountOf(stack: LoadedStack): number {
  const r = stack.spec.racks;
  return r.kind === 'generated' ? r.count : r.items.length;
}

export function checkStack(stack: LoadedStack): CheckResult {
  const { spec } = stack;
  const ds: Diagnostic[] = [];
  const add = (code: CheckCode, path: string, message: string, fix: string, extra: Partial<Diagnostic> = {}): void => {
    ds.push({ code, severity: 'error', message, path, location: stack.locate(path), fix, ...extra });
  };
  const warn = (code: CheckCode, path: string, message: string, fix: string): void => {
    ds.push({ code, severity: 'warning', message, path, location: stack.locate(path), fix });
  };

  // 1. Any IPv4 literal anywhere in the cluster section.
  walkStrings(stack.raw, '', (value, path) => {
    if (isIPv4Literal(value)) {
      add('IPV4_LITERAL', path, `IPv4 literal "${value}" in an IPv6-only stack`, 'use an IPv6 address or prefix (documentation range: 2001:db8::/32)');
    }
  });
  const ipv4Paths = new Set(ds.map((d) => d.path));

  // 2. Parse every address and prefix.
  const prefix = (path: string, text: string, what: string): Prefix | undefined => {
    if (ipv4Paths.has(path)) return undefined;
    try {
      const p = parsePrefix(text);
      const bad = forbiddenRangeOfPrefix(p);
      if (bad) {
        add('RESERVED_RANGE', path, `${what} ${formatPrefix(p)} overlaps ${bad.name} (${formatPrefix(bad.prefix)})`, 'use a global unicast prefix (2000::/3) or a unique local one (fd00::/8)');
        return undefined;
      }
      return p;
    } catch (e) {
      add('ADDRESS_SYNTAX', path, `${what}: ${(e as IpError).message}`, 'write an IPv6 prefix as address/length, e.g. 2001:db8:42::/48');
      return undefined;
    }
  };
  const address = (path: string, text: string, what: string): bigint | undefined => {
    if (ipv4Paths.has(path)) return undefined;
    try {
      const a = parseAddress(text);
      const bad = forbiddenRangeOfAddress(a);
      if (bad) {
        add('RESERVED_RANGE', path, `${what} ${formatAddress(a)} is in ${bad.name} (${formatPrefix(bad.prefix)})`, 'use a global unicast (2000::/3) or unique local (fd00::/8) address');
        return undefined;
      }
      return a;
    } catch (e) {
      add('ADDRESS_SYNTAX', path, `${what}: ${(e as IpError).message}`, 'write a bare IPv6 address, e.g. 2001:db8:1::100');
      return undefined;
    }
  };

  const nodeRange = prefix('network.nodes', spec.network.nodes, 'node range');
  const podRange = prefix('network.pods', spec.network.pods, 'pod range');
  const serviceRange = prefix('network.services', spec.network.services, 'service range');
  const vip = address('controlPlane.vip', spec.controlPlane.vip, 'API VIP');
  const dns: bigint[] = [];
  spec.network.dns.forEach((text, i) => {
    const path = `network.dns.${i}`;
    if (ipv4Paths.has(path)) {
      // Re-code the IPv4 literal as a DNS problem too: it is the more specific fix.
      add('DNS_NOT_IPV6', path, `DNS server "${text}" is IPv4; IPv6-only hosts cannot reach it`, 'use an IPv6 resolver, e.g. 2001:4860:4860::8888 or your site resolver (NAT64/DNS64 if upstream is IPv4-only)');
      return;
    }
    let a: bigint;
    try {
      a = parseAddress(text);
    } catch {
      add('DNS_NOT_IPV6', path, `DNS server "${text}" is not an IPv6 address`, 'list resolvers by IPv6 address, e.g. 2606:4700:4700::1111 (names need a resolver to resolve them)');
      return;
    }
    const bad = forbiddenRangeOfAddress(a);
    if (bad) {
      add('RESERVED_RANGE', path, `DNS server ${formatAddress(a)} is in ${bad.name}`, 'use a routable IPv6 resolver address');
      return;
    }
    dns.push(a);
  });

  // 3. Kubernetes version.
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(spec.kubernetesVersion);
  if (m) {
    const major = Number(m[1]);
    const minor = Number(m[2]);
    if (major !== 1 || minor < MIN_K8S_MINOR || minor > MAX_K8S_MINOR) {
      add(
        'K8S_VERSION',
        'kubernetesVersion',
        `Kubernetes ${spec.kubernetesVersion} is not served by kubeadm's v1beta4 config API as flat6 renders it (supported: v1.${MIN_K8S_MINOR}.0 to v1.${MAX_K8S_MINOR}.x)`,
        `set kubernetesVersion to a v1.${MIN_K8S_MINOR}-v1.${MAX_K8S_MINOR} release, e.g. v1.${MAX_K8S_MINOR - 1}.0`,
      );
    }
  }

  // 4. Ranges: overlaps and sizes.
  const ranges: Array<[string, string, Prefix | undefined]> = [
    ['network.nodes', 'node range', nodeRange],
    ['network.pods', 'pod range', podRange],
    ['network.services', 'service range', serviceRange],
  ];
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [pa, na, a] = ranges[i]!;
      const [pb, nb, b] = ranges[j]!;
      if (a && b && overlaps(a, b)) {
        add('RANGE_OVERLAP', pa, `${na} ${formatPrefix(a)} overlaps ${nb} ${formatPrefix(b)}`, `give each range its own space, e.g. carve node, pod and service ranges from different /48s of your allocation`, {
          related: [{ path: pb, location: stack.locate(pb), message: `${nb} ${formatPrefix(b)}` }],
        });
      }
    }
  }
  if (serviceRange && serviceRange.length < 108) {
    add(
      'SERVICE_MASK',
      'network.services',
      `service range ${formatPrefix(serviceRange)} is too large: kubeadm requires an IPv6 service subnet mask of /108 or longer`,
      `use a /108 to /120, e.g. ${formatPrefix({ base: serviceRange.base, length: 112 })}`,
    );
  } else if (serviceRange && serviceRange.length > 124) {
    add('SERVICE_MASK', 'network.services', `service range ${formatPrefix(serviceRange)} is too small to hold the API and DNS Service addresses`, `use a /112, e.g. ${formatPrefix({ base: serviceRange.base, length: 112 })}`);
  }

  // 5. Layout and capacity.
  const { slotsPerRack, hostOffset, gatewayOffset } = spec.layout;
  const slotBits = log2Exact(slotsPerRack);
  if (slotBits === undefined) {
    add('LAYOUT', 'layout.slotsPerRack', `slotsPerRack ${slotsPerRack} is not a power of two`, `use a power of two such as ${2 ** Math.ceil(Math.log2(slotsPerRack))}`);
  }
  const ppl = spec.network.podPrefixLength;
  if (ppl > 120) {
    add('POD_PREFIX_LENGTH', 'network.podPrefixLength', `per-node pod prefix /${ppl} leaves ${2 ** (128 - ppl)} addresses, too few for a node's pods (kubelet maxPods defaults to 110)`, 'use /64 (bare metal) or /80 (AWS prefix delegation); /120 at the very least');
  }
  if (podRange && ppl < podRange.length) {
    add('POD_PREFIX_LENGTH', 'network.podPrefixLength', `per-node pod prefix /${ppl} is shorter than the pod range ${formatPrefix(podRange)}`, `use a per-node prefix longer than /${podRange.length}, e.g. /64`);
  }
  const rackCount = rackCountOf(stack);
  const maxRackIndex = spec.racks.kind === 'generated' ? rackCount - 1 : Math.max(...spec.racks.items.map((r) => r.index));
  const rackPodLength = ppl - (slotBits ?? 0);
  if (podRange && slotBits !== undefined && ppl >= podRange.length) {
    if (rackPodLength < podRange.length) {
      add('POD_CAPACITY', 'layout.slotsPerRack', `one rack of ${slotsPerRack} slots needs a /${rackPodLength} of /${ppl} pod prefixes, larger than the pod range ${formatPrefix(podRange)}`, `widen network.pods to a /${rackPodLength - Math.ceil(Math.log2(Math.max(rackCount, 1)))} or fewer slotsPerRack`);
    } else {
      const racksFit = subnetCount(podRange, rackPodLength);
      if (BigInt(maxRackIndex) >= racksFit) {
        const need = rackPodLength - Math.ceil(Math.log2(maxRackIndex + 1));
        add(
          'POD_CAPACITY',
          'network.pods',
          `pod range ${formatPrefix(podRange)} holds ${racksFit} rack blocks of /${rackPodLength} (${slotsPerRack} x /${ppl}); the stack needs ${maxRackIndex + 1} racks (${BigInt(maxRackIndex + 1) * BigInt(slotsPerRack)} node prefixes)`,
          `widen network.pods to a /${need} (e.g. ${formatPrefix({ base: podRange.base & ~((1n << BigInt(128 - need)) - 1n), length: need })}), use fewer slotsPerRack, or a longer podPrefixLength`,
        );
      }
    }
  }
  const rsl = spec.network.rackSubnetLength;
  if (nodeRange) {
    if (rsl < nodeRange.length) {
      add('NODE_CAPACITY', 'network.rackSubnetLength', `rack subnet /${rsl} is larger than the node range ${formatPrefix(nodeRange)}`, `set rackSubnetLength to /${nodeRange.length} or longer`);
    } else if (BigInt(maxRackIndex) >= subnetCount(nodeRange, rsl)) {
      const need = rsl - Math.ceil(Math.log2(maxRackIndex + 1));
      add('NODE_CAPACITY', 'network.nodes', `node range ${formatPrefix(nodeRange)} holds ${subnetCount(nodeRange, rsl)} rack subnets of /${rsl}; the stack needs ${maxRackIndex + 1}`, `widen network.nodes to a /${need} or use longer rack subnets`);
    }
  }
  if (rsl <= 127) {
    const subnetSize = 1n << BigInt(128 - rsl);
    const reservedTop = reservedAnycastTop({ base: 0n, length: rsl });
    if (BigInt(hostOffset) + BigInt(slotsPerRack) > subnetSize - reservedTop) {
      add('NODE_CAPACITY', 'layout.hostOffset', `a rack subnet /${rsl} has ${subnetSize} addresses; hostOffset ${hostOffset} + ${slotsPerRack} slots does not fit`, 'use shorter rack subnets (e.g. /64), a smaller hostOffset or fewer slotsPerRack');
    }
    if (BigInt(gatewayOffset) >= subnetSize) {
      add('LAYOUT', 'layout.gatewayOffset', `gatewayOffset ${gatewayOffset} is outside a /${rsl} rack subnet`, 'use a small offset such as 1');
    }
  }

  // 6. Racks and nodes: duplicates, slots, MACs, gateways.
  const gateways = new Map<number, bigint>();
  const rackSubnet = (index: number): Prefix | undefined => {
    if (!nodeRange || rsl < nodeRange.length || BigInt(index) >= subnetCount(nodeRange, rsl)) return undefined;
    return subnet(nodeRange, rsl, index);
  };
  const nodeAddr = (sn: Prefix, slot: number): bigint | undefined => {
    const off = BigInt(hostOffset) + BigInt(slot);
    return off < size(sn) ? addressAt(sn, off) : undefined;
  };
  const gatewayOf = (index: number, sn: Prefix): bigint | undefined => gateways.get(index) ?? (BigInt(gatewayOffset) < size(sn) ? addressAt(sn, gatewayOffset) : undefined);

  // Count-sized racks occupy slots 0..n-1, i.e. offsets hostOffset..hostOffset+n-1.
  const countedRackOverlap = (path: string, n: number, override?: { gateway: bigint; subnet: Prefix | undefined; path: string; rack: string }): void => {
    if (hostOffset === 0 && n > 0) {
      add('NODE_RESERVED', path, `slot 0 would get offset 0 of the rack subnet, the Subnet-Router anycast address`, 'set layout.hostOffset above the gateway offset (e.g. 16), or list nodes with explicit slots');
    } else if (override === undefined && gatewayOffset >= hostOffset && gatewayOffset < hostOffset + n) {
      add('NODE_RESERVED', path, `slot ${gatewayOffset - hostOffset} would get the gateway address (gatewayOffset ${gatewayOffset}, hostOffset ${hostOffset})`, 'keep layout.gatewayOffset below layout.hostOffset, e.g. gatewayOffset: 1 with hostOffset: 16');
    } else if (override?.subnet && containsAddress(override.subnet, override.gateway)) {
      const slot = override.gateway - override.subnet.base - BigInt(hostOffset);
      if (slot >= 0n && slot < BigInt(n)) {
        const free = freeSegmentAddress(override.subnet, hostOffset, slotsPerRack, []);
        add(
          'NODE_RESERVED',
          override.path,
          `gateway ${formatAddress(override.gateway)} of rack ${override.rack} is the address of its node ${generatedNodeName(override.rack, Number(slot))} (slot ${slot}: rack subnet + hostOffset ${hostOffset} + slot)`,
          `move the gateway off the node slots, below layout.hostOffset${free === undefined ? '' : `, e.g. ${formatAddress(free)}`}`,
        );
      }
    }
  };
  if (spec.racks.kind === 'generated') {
    countedRackOverlap('racks.nodes', spec.racks.nodes);
    if (spec.racks.nodes > slotsPerRack) {
      add('SLOT_RANGE', 'racks.nodes', `${spec.racks.nodes} nodes per rack exceed layout.slotsPerRack ${slotsPerRack}`, `raise slotsPerRack to ${2 ** Math.ceil(Math.log2(spec.racks.nodes))} (before the cluster is built) or use fewer nodes per rack`);
    }
  } else {
    const rackNames = new Map<string, string>();
    const rackIndexes = new Map<number, string>();
    const nodeNames = new Map<string, string>();
    const macs = new Map<string, string>();
    const countedRacks = new Map<string, number>();
    for (const rack of spec.racks.items) if (typeof rack.nodes === 'number') countedRacks.set(rack.name, rack.nodes);
    const several = spec.racks.items.length > 1;
    for (const rack of spec.racks.items) {
      dupNamed(rackNames, rack.name, rack.path + '.name', 'DUPLICATE_NAME', `rack name "${rack.name}"`);
      if (several && rack.indexDefaulted) {
        warn(
          'LAYOUT',
          rack.path,
          `rack ${rack.name} has no index, so it takes its list position ${rack.index}: inserting or removing a rack before it would renumber its subnet, pod block and every node address in it`,
          `set index: ${rack.index} on rack ${rack.name} (and an index on every rack), then add racks with new indexes in any order`,
        );
      }
      // Located at the index: field when written (locate falls back to the rack when the index is implicit).
      dupNamed(rackIndexes, rack.index, rack.path + '.index', 'DUPLICATE_RACK_INDEX', `rack index ${rack.index}`);
      const sn = rackSubnet(rack.index);
      if (rack.gateway !== undefined) {
        const g = address(rack.path + '.gateway', rack.gateway, `rack ${rack.name} gateway`);
        if (g !== undefined) {
          gateways.set(rack.index, g);
          if (sn && !containsAddress(sn, g)) {
            add('GATEWAY_OUTSIDE', rack.path + '.gateway', `gateway ${formatAddress(g)} of rack ${rack.name} is outside its subnet ${formatPrefix(sn)}`, `use an address inside ${formatPrefix(sn)}, e.g. ${formatAddress(sn.base + 1n)}`);
          } else if (sn && isReservedInSubnet(sn, g)) {
            add('NODE_RESERVED', rack.path + '.gateway', `gateway ${formatAddress(g)} is a reserved anycast address of ${formatPrefix(sn)}`, `use e.g. ${formatAddress(sn.base + 1n)}`);
          }
        }
      }
      if (typeof rack.nodes === 'number') {
        const g = gateways.get(rack.index);
        countedRackOverlap(rack.path + '.nodes', rack.nodes, g === undefined ? undefined : { gateway: g, subnet: sn, path: rack.path + '.gateway', rack: rack.name });
        if (rack.nodes > slotsPerRack) {
          add('SLOT_RANGE', rack.path + '.nodes', `rack ${rack.name} has ${rack.nodes} nodes but layout.slotsPerRack is ${slotsPerRack}`, `use at most ${slotsPerRack} nodes per rack, or raise slotsPerRack before the cluster is built`);
        }
        continue;
      }
      const slots = new Map<number, string>();
      for (const n of rack.nodes) {
        dupNamed(nodeNames, n.name, n.path + '.name', 'DUPLICATE_NAME', `node name "${n.name}"`);
        const gen = parseGeneratedNodeName(n.name);
        const taken = gen && countedRacks.get(gen.rackName);
        if (gen && taken !== undefined && gen.slot < taken) {
          add('DUPLICATE_NAME', n.path + '.name', `node name "${n.name}" is also the generated name of slot ${gen.slot} of rack ${gen.rackName} (${taken} nodes, named ${generatedNodeName(gen.rackName, 0)} .. ${generatedNodeName(gen.rackName, taken - 1)})`, `rename node ${n.name}; names of the form <rack>-n<slot> belong to count-sized racks`);
        }
        dupNamed(slots, n.slot, n.path + '.slot', 'DUPLICATE_SLOT', `slot ${n.slot} in rack ${rack.name}`);
        if (n.mac) dupNamed(macs, n.mac, n.path + '.mac', 'DUPLICATE_MAC', `MAC ${n.mac}`);
        if (n.slot >= slotsPerRack) {
          add('SLOT_RANGE', n.path + '.slot', `slot ${n.slot} of node ${n.name} is outside 0..${slotsPerRack - 1} (layout.slotsPerRack ${slotsPerRack})`, `pick a free slot below ${slotsPerRack}`);
          continue;
        }
        if (sn) {
          const a = nodeAddr(sn, n.slot);
          const g = gatewayOf(rack.index, sn);
          if (a === undefined) continue;
          if (isReservedInSubnet(sn, a)) {
            add('NODE_RESERVED', n.path + '.slot', `node ${n.name} at slot ${n.slot} would get ${formatAddress(a)}, a reserved anycast address of ${formatPrefix(sn)}`, 'choose another slot or raise layout.hostOffset');
          } else if (g !== undefined && a === g) {
            add('NODE_RESERVED', n.path + '.slot', `node ${n.name} at slot ${n.slot} would get ${formatAddress(a)}, the rack gateway`, 'choose another slot, or move the gateway');
          }
        }
      }
    }
    // Duplicate detection: the first occurrence's place goes into the diagnostic.
    function dupNamed<K>(seen: Map<K, string>, key: K, path: string, code: CheckCode, what: string): void {
      const first = seen.get(key);
      if (first !== undefined) {
        add(code, path, `${what} is used twice`, DUPLICATE_FIX[code] ?? 'names must be unique in the cluster', {
          related: [{ path: first, location: stack.locate(first), message: 'first used here' }],
        });
      } else {
        seen.set(key, path);
      }
    }
  }

  // 7. Control plane: its rack, its nodes, and the VIP.
  const cpRackPath = 'controlPlane.rack';
  let cpRack: { name: string; index: number; nodes: number | RackSpec['nodes'] } | undefined;
  if (spec.racks.kind === 'generated') {
    if (spec.controlPlane.rack !== undefined) {
      const index = generatedRackIndex(spec.racks.namePrefix, spec.controlPlane.rack);
      if (index === undefined || index >= spec.racks.count) {
        add('CONTROL_PLANE', cpRackPath, `no rack named "${spec.controlPlane.rack}"`, `name one of ${spec.racks.namePrefix}0 .. ${spec.racks.namePrefix}${spec.racks.count - 1}`);
      } else cpRack = { name: spec.controlPlane.rack, index, nodes: spec.racks.nodes };
    } else cpRack = { name: `${spec.racks.namePrefix}0`, index: 0, nodes: spec.racks.nodes };
  } else {
    const items = spec.racks.items;
    const r = spec.controlPlane.rack === undefined ? items[0] : items.find((x) => x.name === spec.controlPlane.rack);
    if (!r) add('CONTROL_PLANE', cpRackPath, `no rack named "${spec.controlPlane.rack}"`, `name one of: ${items.map((x) => x.name).join(', ')}`);
    else cpRack = r;
    // Control-plane nodes declared outside the control-plane rack cannot share its VRRP segment.
    for (const rack of items) {
      if (typeof rack.nodes === 'number' || rack === r) continue;
      for (const n of rack.nodes) {
        if (n.role === 'control-plane') {
          add('CONTROL_PLANE', n.path + '.role', `control-plane node ${n.name} is in rack ${rack.name}, but the control plane (and its VRRP VIP) lives in rack ${r?.name}`, 'put every control-plane node in one rack (controlPlane.rack), since the VIP moves by VRRP on one L2 segment');
        }
      }
    }
  }
  const cpCount = spec.controlPlane.count;
  if (cpRack) {
    const choice = controlPlaneSlots(cpRack.nodes, cpCount);
    let found = choice.slots.length;
    if (typeof cpRack.nodes !== 'number') {
      const declared = choice.declared ? choice.slots.length : 0;
      if (declared > 0 && declared !== cpCount) {
        add('CONTROL_PLANE', 'controlPlane.count', `controlPlane.count is ${cpCount} but rack ${cpRack.name} declares ${declared} node(s) with role: control-plane`, `set controlPlane.count: ${declared} or mark ${cpCount} nodes role: control-plane`);
        found = cpCount;
      }
      if (declared === 0 && cpRack.nodes.length > 0) {
        // Without declared roles the control plane is the lowest slots: a node listed later at a
        // lower slot would silently turn a control-plane node into a worker.
        const bySlot = new Map(cpRack.nodes.map((n) => [n.slot, n.name]));
        const chosen = choice.slots.map((slot) => bySlot.get(slot)!);
        warn(
          'CONTROL_PLANE',
          `${(cpRack as Partial<RackSpec>).path ?? 'racks.0'}.nodes`,
          `rack ${cpRack.name} marks no node role: control-plane, so the control plane is its lowest slot(s): ${chosen.join(', ')}; a node added later at a lower slot would take over a control-plane role`,
          `mark ${chosen.join(', ')} with role: control-plane`,
        );
      }
    }
    if (found < cpCount) {
      add('CONTROL_PLANE', 'controlPlane.count', `controlPlane.count is ${cpCount} but rack ${cpRack.name} has only ${found} node(s)`, `add nodes to rack ${cpRack.name} or lower controlPlane.count`);
    }
    if (cpCount % 2 === 0) {
      warn('CONTROL_PLANE', 'controlPlane.count', `${cpCount} control-plane nodes: an even etcd membership tolerates no more failures than ${cpCount - 1}`, `use an odd count such as ${cpCount + 1} or ${cpCount - 1}`);
    }
    const sn = rackSubnet(cpRack.index);
    if (vip !== undefined && sn) {
      if (!containsAddress(sn, vip)) {
        // An external load balancer (loadBalancer: none) may put the VIP anywhere; VRRP may not.
        if (spec.controlPlane.loadBalancer === 'keepalived-haproxy') {
          add('VIP_OUTSIDE_SEGMENT', 'controlPlane.vip', `API VIP ${formatAddress(vip)} is outside the control-plane segment ${formatPrefix(sn)} (rack ${cpRack.name})`, `VRRP moves the VIP on one L2 segment: ${freeVipHint(sn, hostOffset, slotsPerRack, gatewayOf(cpRack.index, sn), `pick a free address in ${formatPrefix(sn)}`)}, or set controlPlane.loadBalancer: none if a load balancer outside the cluster serves the VIP`);
        }
      } else {
        const g = gatewayOf(cpRack.index, sn);
        const off = vip - sn.base;
        const nodeSlot = off - BigInt(hostOffset);
        let clash: string | undefined;
        if (isReservedInSubnet(sn, vip)) clash = `a reserved anycast address of ${formatPrefix(sn)}`;
        else if (g !== undefined && vip === g) clash = `the gateway of rack ${cpRack.name}`;
        else if (nodeSlot >= 0n && nodeSlot < BigInt(slotsPerRack)) {
          const slot = Number(nodeSlot);
          const occupied = typeof cpRack.nodes === 'number' ? slot < cpRack.nodes : cpRack.nodes.find((n) => n.slot === slot);
          if (occupied) clash = `the address of node ${typeof occupied === 'object' ? occupied.name : `${cpRack.name}-n${slot}`} (slot ${slot})`;
          else warn('VIP_CONFLICT', 'controlPlane.vip', `API VIP ${formatAddress(vip)} sits on free node slot ${slot}; a node added there later would collide with it`, freeVipHint(sn, hostOffset, slotsPerRack, g, 'move the VIP'));
        }
        if (clash) {
          add('VIP_CONFLICT', 'controlPlane.vip', `API VIP ${formatAddress(vip)} is ${clash}`, `it must be neither a node slot nor the gateway: ${freeVipHint(sn, hostOffset, slotsPerRack, g, `choose a free address of ${formatPrefix(sn)}`)}`);
        }
      }
    }
  }
  if (vip !== undefined && serviceRange && containsAddress(serviceRange, vip)) {
    add('VIP_CONFLICT', 'controlPlane.vip', `API VIP ${formatAddress(vip)} lies inside the service range ${formatPrefix(serviceRange)}`, 'the VIP must be a node-segment address');
  }
  if (vip !== undefined && podRange && containsAddress(podRange, vip)) {
    add('VIP_CONFLICT', 'controlPlane.vip', `API VIP ${formatAddress(vip)} lies inside the pod range ${formatPrefix(podRange)}`, 'the VIP must be a node-segment address');
  }
  checkPortLayout(stack, add);
  checkRouting(stack, { add, warn, prefix, ranges, maxRackIndex, nodeRange });
  const errors = ds.some((d) => d.severity === 'error');
  if (errors || !nodeRange || !podRange || !serviceRange || vip === undefined || slotBits === undefined) return { diagnostics: ds };
  return { diagnostics: ds, resolved: { nodeRange, podRange, serviceRange, vip, dns, gateways, rackPodLength } };
}

/** Ports a kubeadm control-plane node already listens on (etcd, kubelet, kube-proxy, controller-manager, scheduler). */
export const CONTROL_PLANE_HOST_PORTS: ReadonlyMap<number, string> = new Map([
  [2379, 'etcd client'],
  [2380, 'etcd peer'],
  [2381, 'etcd metrics'],
  [10248, 'kubelet healthz'],
  [10249, 'kube-proxy metrics'],
  [10250, 'kubelet API'],
  [10256, 'kube-proxy healthz'],
  [10257, 'kube-controller-manager'],
  [10259, 'kube-scheduler'],
]);

/** Highest control-plane count whose VRRP priorities (200, 199, ...) stay in keepalived's 1..254. */
export const MAX_VRRP_NODES = 200;

/**
 * Port layout of the API endpoint. With keepalived-haproxy, haproxy listens on
 * :::port and kube-apiserver on ::apiServerPort on the same host: Linux refuses
 * two listeners on one port, so they must differ. Neither may take a port the
 * control-plane components already use.
 */
function checkPortLayout(stack: LoadedStack, add: (code: CheckCode, path: string, message: string, fix: string) => void): void {
  const cp = stack.spec.controlPlane;
  const ha = cp.loadBalancer === 'keepalived-haproxy';
  const spare = defaultApiServerPort('keepalived-haproxy', cp.port);
  if (ha && cp.port === cp.apiServerPort) {
    add(
      'PORT_CONFLICT',
      'controlPlane.apiServerPort',
      `controlPlane.apiServerPort ${cp.apiServerPort} equals controlPlane.port: haproxy listens on :::${cp.port} on every control-plane node, so kube-apiserver cannot bind the same port there`,
      `give kube-apiserver its own port, e.g. apiServerPort: ${spare} (controlPlaneEndpoint stays [vip]:${cp.port}), or set loadBalancer: none if a load balancer outside the cluster serves the VIP`,
    );
  }
  const ports: Array<[string, number, boolean]> = [
    ['controlPlane.port', cp.port, ha],
    ['controlPlane.apiServerPort', cp.apiServerPort, true],
  ];
  for (const [path, port, onHost] of ports) {
    const user = CONTROL_PLANE_HOST_PORTS.get(port);
    if (onHost && user) {
      add('PORT_CONFLICT', path, `${path.split('.')[1]} ${port} is the ${user} port of every control-plane node`, `pick a free port, e.g. ${path.endsWith('apiServerPort') ? (ha ? spare : 6443) : 6443}`);
    }
  }
  if (ha && cp.count > MAX_VRRP_NODES) {
    add('CONTROL_PLANE', 'controlPlane.count', `${cp.count} control-plane nodes exceed the ${MAX_VRRP_NODES} distinct VRRP priorities flat6 assigns (200 down to 1)`, 'use 3, 5 or 7 control-plane nodes');
  }
}

/** 2001:db8::/32 (RFC 3849): the documentation prefix the default fabric prefix comes from. */
const DOCUMENTATION_PREFIX: Prefix = parsePrefix('2001:db8::/32');

interface RoutingCheckContext {
  add: (code: CheckCode, path: string, message: string, fix: string, extra?: Partial<Diagnostic>) => void;
  warn: (code: CheckCode, path: string, message: string, fix: string) => void;
  prefix: (path: string, text: string, what: string) => Prefix | undefined;
  /** [path, name, parsed] of the node, pod and service ranges */
  ranges: Array<[string, string, Prefix | undefined]>;
  maxRackIndex: number;
  nodeRange: Prefix | undefined;
}

/**
 * The routing section: the fabric link prefix (one /127 per rack index) and,
 * in bgp mode, the AS number plan: spine, ToR of rack i = tor + i, node at
 * (r, s) = node + r * slotsPerRack + s, all inside RFC 6996's private 4-byte range.
 */
function checkRouting(stack: LoadedStack, c: RoutingCheckContext): void {
  const { routing, layout } = stack.spec;
  const fabric = c.prefix('routing.fabric', routing.fabric, 'fabric link prefix');
  if (fabric) {
    const setIt = routing.fabricDefaulted ? 'set routing.fabric to a prefix of its own' : 'move routing.fabric';
    for (const [path, what, r] of c.ranges) {
      if (r && overlaps(fabric, r)) {
        c.add('RANGE_OVERLAP', 'routing.fabric', `fabric link prefix ${formatPrefix(fabric)}${routing.fabricDefaulted ? ' (the default)' : ''} overlaps ${what} ${formatPrefix(r)}`, `${setIt}, e.g. a /64 outside the node, pod and service ranges`, {
          related: [{ path, location: stack.locate(path), message: `${what} ${formatPrefix(r)}` }],
        });
      }
    }
    const links = subnetCount(fabric, 127);
    if (fabric.length > 127 || BigInt(c.maxRackIndex) >= links) {
      const need = 127 - Math.ceil(Math.log2(c.maxRackIndex + 1));
      c.add(
        'FABRIC_PREFIX',
        'routing.fabric',
        `fabric link prefix ${formatPrefix(fabric)} holds ${links} ToR-spine link(s) of /127; the stack needs ${c.maxRackIndex + 1} (one per rack index 0..${c.maxRackIndex})`,
        `use a /${need} or shorter, e.g. ${formatPrefix({ base: fabric.base & netmask(need), length: need })}`,
      );
    }
    if (routing.fabricDefaulted && c.nodeRange && !containsPrefix(DOCUMENTATION_PREFIX, c.nodeRange)) {
      c.warn(
        'FABRIC_PREFIX',
        'routing',
        `routing.fabric is not set, so the ToR-spine links use the documentation prefix ${formatPrefix(fabric)} (RFC 3849) while the node range ${formatPrefix(c.nodeRange)} is real address space`,
        'set routing.fabric to a /64 of your own that no node, pod or service range uses',
      );
    }
  }
  if (routing.mode !== 'bgp') return;

  const { spine, tor, node } = routing.asn;
  const racks = c.maxRackIndex + 1;
  const torLast = tor + c.maxRackIndex;
  const nodeLast = node + racks * layout.slotsPerRack - 1;
  const span = (a: number, b: number): string => (a === b ? `${a}` : `${a}-${b}`);
  if (torLast > PRIVATE_ASN_MAX) {
    c.add(
      'ASN_RANGE',
      'routing.asn.tor',
      `ToR AS numbers ${span(tor, torLast)} (tor + rack index, racks 0..${c.maxRackIndex}) run past ${PRIVATE_ASN_MAX}, the last private 4-byte AS number (RFC 6996)`,
      `set routing.asn.tor to at most ${PRIVATE_ASN_MAX - c.maxRackIndex}`,
    );
  }
  if (nodeLast > PRIVATE_ASN_MAX) {
    const highest = PRIVATE_ASN_MAX - racks * layout.slotsPerRack + 1;
    c.add(
      'ASN_RANGE',
      'routing.asn.node',
      `node AS numbers ${span(node, nodeLast)} (node + rack index x ${layout.slotsPerRack} slots + slot, ${racks} rack indexes) run past ${PRIVATE_ASN_MAX}, the last private 4-byte AS number (RFC 6996)`,
      highest >= PRIVATE_ASN_MIN ? `set routing.asn.node to at most ${highest} (and keep the ToR and spine numbers out of its range)` : `${racks} x ${layout.slotsPerRack} node positions do not fit the ${PRIVATE_ASN_MAX - PRIVATE_ASN_MIN + 1} private AS numbers: use fewer slotsPerRack or racks`,
    );
  }
  const inRange = (x: number, a: number, b: number): boolean => x >= a && x <= b;
  const tiers = `spine ${spine}, ToRs ${span(tor, torLast)}, nodes ${span(node, nodeLast)}`;
  const fix = `give each tier its own numbers, e.g. the defaults spine ${ROUTING_DEFAULTS.asn.spine}, tor ${ROUTING_DEFAULTS.asn.tor}, node ${ROUTING_DEFAULTS.asn.node}`;
  const related = (path: string): Partial<Diagnostic> => ({ related: [{ path, location: stack.locate(path), message: 'the other range' }] });
  if (inRange(spine, tor, torLast)) c.add('ASN_OVERLAP', 'routing.asn.spine', `spine AS ${spine} is also a ToR AS number (${tiers})`, fix, related('routing.asn.tor'));
  if (inRange(spine, node, nodeLast)) c.add('ASN_OVERLAP', 'routing.asn.spine', `spine AS ${spine} is also a node AS number (${tiers})`, fix, related('routing.asn.node'));
  if (tor <= nodeLast && node <= torLast) c.add('ASN_OVERLAP', 'routing.asn.tor', `ToR AS numbers overlap node AS numbers (${tiers})`, fix, related('routing.asn.node'));

  const { holdTime, keepaliveTime } = routing.bgp;
  if (keepaliveTime >= holdTime) {
    c.add('BGP_TIMERS', 'routing.bgp.keepaliveTime', `BGP keepaliveTime ${keepaliveTime}s is not below holdTime ${holdTime}s: sessions would expire between keepalives`, `use keepaliveTime: ${Math.max(1, Math.floor(holdTime / 3))} (a third of holdTime)`);
  }
}

/**
 * An address of a rack segment that no node slot will ever take and that is
 * none of `avoid` (e.g. the gateway): below hostOffset (highest first, never
 * the Subnet-Router anycast offset 0), else just past the last slot. Undefined
 * when neither has room.
 */
export function freeSegmentAddress(sn: Prefix, hostOffset: number, slotsPerRack: number, avoid: Array<bigint | undefined>): bigint | undefined {
  const taken = new Set(avoid.filter((a): a is bigint => a !== undefined));
  const top = BigInt(hostOffset) < size(sn) ? BigInt(hostOffset) : size(sn);
  for (let off = top - 1n; off >= 1n; off--) {
    const a = sn.base + off;
    if (!taken.has(a)) return a;
  }
  const usable = size(sn) - reservedAnycastTop(sn);
  for (let off = BigInt(hostOffset) + BigInt(slotsPerRack); off < usable && off < BigInt(hostOffset) + BigInt(slotsPerRack) + 4n; off++) {
    const a = sn.base + off;
    if (!taken.has(a)) return a;
  }
  return undefined;
}

/** "<lead>, e.g. <address neither a slot nor the gateway>" (with where it lies), or how to make room. */
function freeVipHint(sn: Prefix, hostOffset: number, slotsPerRack: number, gateway: bigint | undefined, lead: string): string {
  const a = freeSegmentAddress(sn, hostOffset, slotsPerRack, [gateway]);
  if (a === undefined) return `${lead}: raise layout.hostOffset (before the cluster is built) to leave room for the VIP below the first slot`;
  const where = a - sn.base < BigInt(hostOffset) ? `below layout.hostOffset (${hostOffset})` : `past the last slot (hostOffset ${hostOffset} + slotsPerRack ${slotsPerRack})`;
  return `${lead} ${where}, e.g. ${formatAddress(a)}`;
}

const DUPLICATE_FIX: Partial<Record<CheckCode, string>> = {
  DUPLICATE_MAC: 'each node needs the MAC of its own uplink',
  DUPLICATE_SLOT: 'give each node of a rack its own slot',
  DUPLICATE_RACK_INDEX: 'give each rack its own index (racks default to their list position)',
};

function walkStrings(v: unknown, path: string, fn: (value: string, path: string) => void): void {
  if (typeof v === 'string') fn(v, path);
  else if (Array.isArray(v)) v.forEach((x, i) => walkStrings(x, path ? `${path}.${i}` : String(i), fn));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walkStrings(x, path ? `${path}.${k}` : k, fn);
}
