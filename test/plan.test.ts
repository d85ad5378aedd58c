/**
 * The planner (src/plan/plan.ts): known answers for the bundled stacks, and
 * fast-check properties over random valid stacks built in memory with
 * parseStack — prefixes never overlap, stay inside their parents, the plan is
 * deterministic, and growing a stack (racks, nodes) renumbers nothing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { containsAddress, containsPrefix, formatAddress, formatPrefix, last, overlaps, parsePrefix, subnet, type Prefix } from '../src/core/ip.js';
import { Flat6Error, formatDiagnostics } from '../src/core/diagnostics.js';
import { createPlan, nodeSummary, type ClusterPlan, type NodePlan, type RackPlan } from '../src/plan/plan.js';
import { controlPlaneSlots, MAX_CONTROL_PLANE_NODES } from '../src/plan/racks.js';
import { expectedSpineRoutes } from '../src/plan/routing.js';
import { tierSummary } from '../src/plan/summary.js';
import { nodeByAddress } from '../src/serve/address.js';
import { parseStack, type LoadedStack } from '../src/spec/load.js';
import { planBundled, SCALE_LAST, stackText } from './helpers.js';

// ---------------------------------------------------------------------------
// Known answers
// ---------------------------------------------------------------------------

function brief(n: NodePlan | undefined): Record<string, unknown> | undefined {
  return n && {
    name: n.name,
    role: n.role,
    address: formatAddress(n.address),
    podPrefix: formatPrefix(n.podPrefix),
    subnet: formatPrefix(n.rack.subnet),
    gateway: formatAddress(n.rack.gateway),
    rackPodBlock: formatPrefix(n.rack.podBlock),
  };
}

describe('known answers: metal', () => {
  const plan = planBundled('metal');
  it('cluster-wide values', () => {
    expect(plan.controlPlaneEndpoint).toBe('[2001:db8:1::100]:6443');
    expect(formatAddress(plan.vip)).toBe('2001:db8:1::100');
    expect(formatAddress(plan.apiServiceIP)).toBe('2001:db8:43::1');
    expect(formatAddress(plan.dnsServiceIP)).toBe('2001:db8:43::a');
    expect(formatPrefix(plan.podRange)).toBe('2001:db8:42::/48');
    expect(formatPrefix(plan.serviceRange)).toBe('2001:db8:43::/112');
    expect(plan.dns.map(formatAddress)).toEqual(['2001:4860:4860::8888', '2606:4700:4700::1111']);
    expect(plan.rackCount).toBe(1);
    expect(plan.nodeCount).toBe(6);
    expect(plan.controlPlanes.map((n) => [n.name, n.controlPlaneIndex, formatAddress(n.address)])).toEqual([
      ['cp1', 0, '2001:db8:1::10'],
      ['cp2', 1, '2001:db8:1::20'],
      ['cp3', 2, '2001:db8:1::30'],
    ]);
  });
  it.each([
    ['cp1', 'control-plane', '2001:db8:1::10', '2001:db8:42:10::/64'],
    ['cp2', 'control-plane', '2001:db8:1::20', '2001:db8:42:20::/64'],
    ['cp3', 'control-plane', '2001:db8:1::30', '2001:db8:42:30::/64'],
    ['worker1', 'worker', '2001:db8:1::40', '2001:db8:42:40::/64'],
    ['worker3', 'worker', '2001:db8:1::42', '2001:db8:42:42::/64'],
  ])('%s', (name, role, address, podPrefix) => {
    expect(brief(plan.findNode(name))).toEqual({ name, role, address, podPrefix, subnet: '2001:db8:1::/64', gateway: '2001:db8:1::1', rackPodBlock: '2001:db8:42::/56' });
  });
});

describe('known answers: multirack', () => {
  const plan = planBundled('multirack');
  it.each([
    ['r0-n0', 0, 0, 'control-plane', '2001:db8:100::10', '2001:db8:4200::/64', '2001:db8:100::/64', '2001:db8:100::1', '2001:db8:4200::/58'],
    ['r0-n3', 0, 3, 'worker', '2001:db8:100::13', '2001:db8:4200:3::/64', '2001:db8:100::/64', '2001:db8:100::1', '2001:db8:4200::/58'],
    ['r1-n2', 1, 2, 'worker', '2001:db8:100:1::12', '2001:db8:4200:42::/64', '2001:db8:100:1::/64', '2001:db8:100:1::1', '2001:db8:4200:40::/58'],
    ['r2-n3', 2, 3, 'worker', '2001:db8:100:2::13', '2001:db8:4200:83::/64', '2001:db8:100:2::/64', '2001:db8:100:2::1', '2001:db8:4200:80::/58'],
    ['gpu2', 3, 1, 'worker', '2001:db8:100:3::11', '2001:db8:4200:c1::/64', '2001:db8:100:3::/64', '2001:db8:100:3::1', '2001:db8:4200:c0::/58'],
  ])('%s at (%i, %i)', (name, rack, slot, role, address, podPrefix, sn, gateway, rackPodBlock) => {
    const expected = { name, role, address, podPrefix, subnet: sn, gateway, rackPodBlock };
    expect(brief(plan.findNode(name))).toEqual(expected);
    expect(brief(plan.nodeAt(rack, slot))).toEqual(expected);
  });
  it('listed nodes keep their interface and MAC; empty slots are empty', () => {
    const gpu1 = plan.findNode('gpu1')!;
    expect([gpu1.interface, gpu1.mac]).toEqual(['uplink0', '02:00:5e:10:00:01']);
    expect(plan.findNode('r0-n0')!.interface).toBe('eth0');
    expect(plan.nodeAt(3, 2)).toBeUndefined();
    expect(plan.nodeAt(0, 4)).toBeUndefined();
    expect(plan.nodeAt(4, 0)).toBeUndefined();
    expect(plan.findNode('r3-n0')).toBeUndefined(); // r3 lists its nodes by name
    expect(plan.findNode('r0-n4')).toBeUndefined();
    expect(plan.findNode('r0-n01')).toBeUndefined();
    expect([...plan.nodes()].map((n) => n.name)).toEqual([
      'r0-n0', 'r0-n1', 'r0-n2', 'r0-n3', 'r1-n0', 'r1-n1', 'r1-n2', 'r1-n3', 'r2-n0', 'r2-n1', 'r2-n2', 'r2-n3', 'gpu1', 'gpu2',
    ]);
  });
});

describe('known answers: scale (1,048,576 nodes) — nodeAt and findNode never materialise the cluster', () => {
  const plan = planBundled('scale');
  const lastNode = {
    name: SCALE_LAST,
    role: 'worker',
    // rack layout: rack 16383 = 0b11111_111111111 is the /57 2001:db8:401f:ff80::/57 of the /43
    address: '2001:db8:401f:ff80::4f', // first /64 of the rack block, offset 16 + 63 = 0x4f
    podPrefix: '2001:db8:401f:ffff::/64', // slot 63 of the last /58 of the rack block
    subnet: '2001:db8:401f:ff80::/64',
    gateway: '2001:db8:401f:ff80::1',
    rackPodBlock: '2001:db8:401f:ffc0::/58',
  };
  it('sizes', () => {
    expect(plan.rackCount).toBe(16384);
    expect(plan.nodeCount).toBe(1_048_576);
    expect(plan.rackPodLength).toBe(58);
  });
  it('the last node of the last rack', () => {
    expect(brief(plan.nodeAt(16383, 63))).toEqual(lastNode);
    expect(brief(plan.findNode(SCALE_LAST))).toEqual(lastNode);
    expect(plan.findNode(SCALE_LAST)!.rack.index).toBe(16383);
  });
  it('first nodes and the control plane', () => {
    expect(brief(plan.findNode('rack0-n0'))).toMatchObject({ role: 'control-plane', address: '2001:db8:4000::10', podPrefix: '2001:db8:4000:40::/64' });
    expect(brief(plan.findNode('rack1-n0'))).toMatchObject({ role: 'worker', address: '2001:db8:4000:80::10', podPrefix: '2001:db8:4000:c0::/64' });
    expect(formatPrefix(plan.rackAt(1).aggregate!)).toBe('2001:db8:4000:80::/57');
    expect(plan.controlPlanes.map((n) => n.name)).toEqual(['rack0-n0', 'rack0-n1', 'rack0-n2']);
  });
  it('positions outside the cluster', () => {
    expect(plan.nodeAt(16384, 0)).toBeUndefined();
    expect(plan.nodeAt(16383, 64)).toBeUndefined();
    expect(plan.nodeAt(-1, 0)).toBeUndefined();
    expect(() => plan.rackAt(16384)).toThrow(RangeError);
    for (const name of ['rack16384-n0', 'rack0-n64', 'rack00-n0', 'rack0-n00', 'rack-n0', 'r0-n0', 'rack0-x1']) expect(plan.findNode(name)).toBeUndefined();
  });
  it('nodes() and racks() are lazy generators', () => {
    const it = plan.nodes();
    expect([it.next().value?.name, it.next().value?.name]).toEqual(['rack0-n0', 'rack0-n1']);
    const r = plan.racks();
    r.next();
    expect(r.next().value?.name).toBe('rack1');
  });
});

// ---------------------------------------------------------------------------
// Random valid stacks
// ---------------------------------------------------------------------------

interface RackDef {
  name: string;
  index: number;
  /** a count or listed slots (sorted, distinct) */
  nodes: number | number[];
}

interface StackDef {
  form: 'list' | 'generated';
  nodeRange: Prefix;
  rackSubnetLength: number;
  podRange: Prefix;
  podPrefixLength: number;
  serviceRange: Prefix;
  slotBits: number;
  cpCount: number;
  /** list form */
  racks: RackDef[];
  /** generated form */
  gen: { count: number; nodes: number };
  /** room left for racks (list: largest usable index + 1) */
  rackCapacity: number;
  /** slots of the first rack declared role: control-plane (listed racks) */
  cpSlots: number[];
}

const HOST_OFFSET = 16;
const NODE_SPACE = parsePrefix('2001:db8::/34');
const POD_SPACE = parsePrefix('2001:db8:4000::/34');
const SERVICE_SPACE = parsePrefix('2001:db8:c000::/34');

/** Largest rack subnet length whose subnet still holds hostOffset + slots (and the reserved top 128 of a /64). */
function maxRackSubnetLength(slots: number): number {
  let l = 64;
  while (l + 1 <= 127) {
    const sizeNext = 2 ** (128 - (l + 1));
    if (sizeNext < HOST_OFFSET + slots) break;
    l++;
  }
  return l;
}

function nodeName(rack: number, slot: number): string {
  return `h${rack}s${slot}`;
}

function macOf(rack: number, slot: number): string {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `02:00:${hex(rack >> 8)}:${hex(rack & 0xff)}:00:${hex(slot)}`;
}

/** The stack file text for a definition. */
function stackYaml(d: StackDef): string {
  const cpRackIndex = d.form === 'list' ? d.racks[0].index : 0;
  const vip = subnet(d.nodeRange, d.rackSubnetLength, cpRackIndex).base + 2n;
  const racks =
    d.form === 'generated'
      ? { count: d.gen.count, nodes: d.gen.nodes, namePrefix: 'rk' }
      : d.racks.map((r, i) => ({
          name: r.name,
          index: r.index,
          nodes:
            typeof r.nodes === 'number'
              ? r.nodes
              : r.nodes.map((slot) => ({
                  name: nodeName(r.index, slot),
                  slot,
                  ...(i === 0 && d.cpSlots.includes(slot) ? { role: 'control-plane' } : {}),
                  ...(slot % 2 === 1 ? { mac: macOf(r.index, slot), interface: 'up0' } : {}),
                })),
        }));
  return stringify({
    config: {
      'flat6:cluster': {
        name: 'prop',
        kubernetesVersion: 'v1.33.4',
        network: {
          nodes: formatPrefix(d.nodeRange),
          rackSubnetLength: d.rackSubnetLength,
          pods: formatPrefix(d.podRange),
          podPrefixLength: d.podPrefixLength,
          services: formatPrefix(d.serviceRange),
          dns: ['2001:db8:53::53'],
        },
        layout: { slotsPerRack: 2 ** d.slotBits, hostOffset: HOST_OFFSET, gatewayOffset: 1 },
        controlPlane: { count: d.cpCount, vip: formatAddress(vip) },
        racks,
      },
    },
  });
}

function planOf(d: StackDef): ClusterPlan {
  const text = stackYaml(d);
  try {
    return createPlan(parseStack('Pulumi.prop.yaml', text));
  } catch (e) {
    if (e instanceof Flat6Error) throw new Error(`a valid random stack was rejected:\n${formatDiagnostics(e.diagnostics)}\n${text}`);
    throw e;
  }
}

const distinctSlots = (slots: number, min: number, max: number): fc.Arbitrary<number[]> =>
  fc.uniqueArray(fc.integer({ min: 0, max: slots - 1 }), { minLength: Math.min(min, slots), maxLength: Math.min(max, slots) }).map((a) => [...a].sort((x, y) => x - y));

const stackDef: fc.Arbitrary<StackDef> = fc
  .record({
    form: fc.constantFrom('list' as const, 'generated' as const),
    slotBits: fc.integer({ min: 2, max: 8 }),
    rackBits: fc.integer({ min: 0, max: 14 }),
    podPrefixLength: fc.integer({ min: 64, max: 120 }),
    podSlack: fc.integer({ min: 0, max: 4 }),
    nodeSlack: fc.integer({ min: 0, max: 4 }),
    rslPick: fc.nat(),
    podIndex: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
    nodeIndex: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
    serviceLength: fc.integer({ min: 108, max: 124 }),
    serviceIndex: fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
    cpCount: fc.constantFrom(1, 3),
  })
  .chain((p) => {
    const slots = 2 ** p.slotBits;
    const rackBits = p.form === 'list' ? Math.min(p.rackBits, 5) : p.rackBits;
    const rackPodLength = p.podPrefixLength - p.slotBits;
    const podLen = Math.max(POD_SPACE.length, rackPodLength - rackBits - p.podSlack);
    const maxRsl = maxRackSubnetLength(slots);
    const rsl = 64 + (p.rslPick % (maxRsl - 64 + 1));
    const nodeLen = Math.max(NODE_SPACE.length, rsl - rackBits - p.nodeSlack);
    const pick = (space: Prefix, len: number, i: bigint): Prefix => subnet(space, len, i % (1n << BigInt(len - space.length)));
    const nodeRange = pick(NODE_SPACE, nodeLen, p.nodeIndex);
    const podRange = pick(POD_SPACE, podLen, p.podIndex);
    const serviceRange = pick(SERVICE_SPACE, p.serviceLength, p.serviceIndex);
    const rackCapacity = Math.min(2 ** (rsl - nodeLen), 2 ** (rackPodLength - podLen), p.form === 'list' ? 64 : 2 ** 20);
    const base = { form: p.form, nodeRange, rackSubnetLength: rsl, podRange, podPrefixLength: p.podPrefixLength, serviceRange, slotBits: p.slotBits, cpCount: p.cpCount, rackCapacity };
    if (p.form === 'generated') {
      return fc
        .record({ count: fc.integer({ min: 1, max: rackCapacity }), nodes: fc.integer({ min: p.cpCount, max: slots }) })
        .map((gen): StackDef => ({ ...base, racks: [], gen, cpSlots: [] }));
    }
    const rackDef = (listed: boolean, minNodes: number): fc.Arbitrary<number | number[]> =>
      listed ? distinctSlots(slots, minNodes, 12) : fc.integer({ min: minNodes, max: slots });
    return fc
      .record({
        indexes: fc.uniqueArray(fc.integer({ min: 0, max: rackCapacity - 1 }), { minLength: 1, maxLength: Math.min(6, rackCapacity) }),
        listed: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
      })
      .chain(({ indexes, listed }) =>
        fc.tuple(...indexes.map((_, i) => rackDef(listed[i], i === 0 ? p.cpCount : 0))).map(
          (nodes): StackDef => ({
            ...base,
            racks: indexes.map((index, i) => ({ name: `rack-${index}`, index, nodes: nodes[i] })),
            gen: { count: 0, nodes: 0 },
            cpSlots: Array.isArray(nodes[0]) ? nodes[0].slice(0, p.cpCount) : [],
          }),
        ),
      );
  });

/** A definition and an extension of it: more racks and more nodes, nothing moved or removed. */
const grownPair: fc.Arbitrary<[StackDef, StackDef]> = stackDef.chain((d) => {
  const slots = 2 ** d.slotBits;
  if (d.form === 'generated') {
    return fc
      .record({ count: fc.integer({ min: d.gen.count, max: d.rackCapacity }), nodes: fc.integer({ min: d.gen.nodes, max: slots }) })
      .map((gen): [StackDef, StackDef] => [d, { ...d, gen }]);
  }
  const used = new Set(d.racks.map((r) => r.index));
  const free = Array.from({ length: d.rackCapacity }, (_, i) => i).filter((i) => !used.has(i));
  return fc
    .record({
      newRacks: fc.uniqueArray(fc.constantFrom(...(free.length ? free : [-1])), { maxLength: Math.min(3, free.length) }),
      more: fc.array(fc.nat(), { minLength: d.racks.length, maxLength: d.racks.length }),
    })
    .map(({ newRacks, more }): [StackDef, StackDef] => {
      const grown: RackDef[] = d.racks.map((r, i) => {
        if (typeof r.nodes === 'number') return { ...r, nodes: r.nodes + (more[i] % (slots - r.nodes + 1)) };
        const have = new Set(r.nodes);
        const freeSlots = Array.from({ length: slots }, (_, s) => s).filter((s) => !have.has(s));
        const add = freeSlots.filter((_, k) => (more[i] >> k) & 1).slice(0, 4);
        return { ...r, nodes: [...r.nodes, ...add].sort((a, b) => a - b) };
      });
      const appended = newRacks.filter((i) => i >= 0).map((index): RackDef => ({ name: `rack-${index}`, index, nodes: 1 + (index % slots) }));
      return [d, { ...d, racks: [...grown, ...appended] }];
    });
});

/** Every node for small plans; else a deterministic sample spread over the cluster. */
function someNodes(plan: ClusterPlan, picks: number[]): NodePlan[] {
  if (plan.nodeCount <= 400) return [...plan.nodes()];
  const out: NodePlan[] = [];
  if (plan.spec.racks.kind === 'generated') {
    const g = plan.spec.racks;
    for (const p of picks) out.push(plan.nodeAt(p % g.count, Math.floor(p / g.count) % g.nodes)!);
    out.push(plan.nodeAt(g.count - 1, g.nodes - 1)!, plan.nodeAt(0, 0)!);
  } else {
    const racks = [...plan.racks()];
    for (const p of picks) {
      const rack = racks[p % racks.length];
      const nodes = [...plan.nodesOfRack(rack)];
      if (nodes.length) out.push(nodes[Math.floor(p / racks.length) % nodes.length]);
    }
  }
  const seen = new Set<string>();
  return out.filter((n) => {
    if (seen.has(n.name)) return false;
    seen.add(n.name);
    return true;
  });
}

function sortedDisjoint(prefixes: Prefix[]): void {
  const s = [...prefixes].sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  for (let i = 1; i < s.length; i++) {
    if (last(s[i - 1]) >= s[i].base) throw new Error(`${formatPrefix(s[i - 1])} overlaps ${formatPrefix(s[i])}`);
  }
}

const picks = fc.array(fc.nat({ max: 2 ** 30 }), { minLength: 24, maxLength: 24 });

describe('planner properties', () => {
  it('node addresses, pod prefixes, rack subnets and rack pod blocks never overlap and stay inside their parents', () => {
    fc.assert(
      fc.property(stackDef, picks, (d, pk) => {
        const plan = planOf(d);
        const nodes = someNodes(plan, pk);
        const racks = new Map<number, RackPlan>();
        for (const n of nodes) racks.set(n.rack.index, n.rack);
        for (const n of nodes) {
          const fail = (what: string): never => {
            throw new Error(`node ${n.name} (rack ${n.rack.index}, slot ${n.slot}): ${what}`);
          };
          if (!containsPrefix(plan.nodeRange, n.rack.subnet)) fail('rack subnet outside the node range');
          if (!containsAddress(n.rack.subnet, n.address)) fail('address outside its rack subnet');
          if (!containsPrefix(plan.podRange, n.rack.podBlock)) fail('rack pod block outside the pod range');
          if (!containsPrefix(n.rack.podBlock, n.podPrefix)) fail('pod prefix outside its rack pod block');
          if (n.podPrefix.length !== d.podPrefixLength) fail('pod prefix length');
          if (n.rack.podBlock.length !== d.podPrefixLength - d.slotBits) fail('rack pod block length');
          if (n.rack.subnet.length !== d.rackSubnetLength) fail('rack subnet length');
          if (!containsAddress(n.rack.subnet, n.rack.gateway)) fail('gateway outside the rack subnet');
          if (n.address === n.rack.gateway) fail('address is the gateway');
          if (n.address === n.rack.subnet.base) fail('address is the Subnet-Router anycast address');
          if (n.address === plan.vip) fail('address is the VIP');
          if (overlaps(n.podPrefix, plan.serviceRange)) fail('pod prefix overlaps the service range');
          if (containsAddress(plan.podRange, n.address)) fail('node address inside the pod range');
        }
        // Pairwise, via sorting: O(n log n) instead of O(n^2).
        sortedDisjoint(nodes.map((n) => ({ base: n.address, length: 128 })));
        sortedDisjoint(nodes.map((n) => n.podPrefix));
        sortedDisjoint([...racks.values()].map((r) => r.subnet));
        sortedDisjoint([...racks.values()].map((r) => r.podBlock));
        expect(new Set(nodes.map((n) => n.name)).size).toBe(nodes.length);
      }),
      { numRuns: 150 },
    );
  });

  it('rack pod blocks and node pod prefixes never overlap across random (rack, slot) pairs', () => {
    fc.assert(
      fc.property(stackDef, fc.nat(), fc.nat(), fc.nat(), fc.nat(), (d, r1, s1, r2, s2) => {
        const plan = planOf(d);
        const at = (r: number, s: number): NodePlan | undefined => {
          const racks = [...(plan.spec.racks.kind === 'list' ? plan.racks() : [plan.rackAt(r % plan.rackCount)])];
          const rack = racks[r % racks.length];
          const nodes = plan.spec.racks.kind === 'list' ? [...plan.nodesOfRack(rack)] : undefined;
          return nodes ? nodes[s % Math.max(nodes.length, 1)] : plan.nodeAt(rack.index, s % rack.nodeCount);
        };
        const a = at(r1, s1);
        const b = at(r2, s2);
        fc.pre(a !== undefined && b !== undefined);
        const same = a.rack.index === b.rack.index && a.slot === b.slot;
        expect(overlaps(a.podPrefix, b.podPrefix)).toBe(same);
        expect(a.address === b.address).toBe(same);
        expect(overlaps(a.rack.podBlock, b.rack.podBlock)).toBe(a.rack.index === b.rack.index);
        expect(overlaps(a.rack.subnet, b.rack.subnet)).toBe(a.rack.index === b.rack.index);
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same text gives the same plan', () => {
    fc.assert(
      fc.property(stackDef, picks, (d, pk) => {
        const a = planOf(d);
        const b = planOf(d);
        expect(a.controlPlanes.map(nodeSummary)).toEqual(b.controlPlanes.map(nodeSummary));
        expect(someNodes(a, pk).map(nodeSummary)).toEqual(someNodes(b, pk).map(nodeSummary));
        expect(JSON.stringify(someNodes(a, pk).map(nodeSummary))).toBe(JSON.stringify(someNodes(b, pk).map(nodeSummary)));
      }),
      { numRuns: 100 },
    );
  });

  it('adding racks or nodes changes no existing node (nodeAt before == nodeAt after)', () => {
    fc.assert(
      fc.property(grownPair, picks, ([small, big], pk) => {
        const before = planOf(small);
        const after = planOf(big);
        expect(after.nodeCount).toBeGreaterThanOrEqual(before.nodeCount);
        for (const n of someNodes(before, pk)) {
          const m = after.nodeAt(n.rack.index, n.slot);
          expect(m, `node ${n.name} vanished`).toBeDefined();
          // nodeSummary holds every allocation: name, rack, slot, role, addresses, prefixes, interface, MAC.
          expect(nodeSummary(m!)).toEqual(nodeSummary(n));
          expect(after.findNode(n.name) && nodeSummary(after.findNode(n.name)!)).toEqual(nodeSummary(n));
        }
        expect(after.controlPlanes.map(nodeSummary)).toEqual(before.controlPlanes.map(nodeSummary));
        expect(after.controlPlaneEndpoint).toBe(before.controlPlaneEndpoint);
      }),
      { numRuns: 150 },
    );
  });
});

describe('growth of the bundled stacks', () => {
  it('appending a rack to multirack and a node to a rack keeps every existing node', () => {
    const base = planBundled('multirack');
    const text = stackText('multirack')
      .replace('      - { name: r1, index: 1, nodes: 4 }', '      - { name: r1, index: 1, nodes: 5 }')
      .replace('          - { name: gpu2,', '          - { name: gpu0, slot: 7 }\n          - { name: gpu2,')
      .concat('      - { name: r4, index: 4, nodes: 2 }\n');
    const grown = createPlan(parseStack('Pulumi.multirack.yaml', text));
    expect(grown.warnings).toEqual([]);
    expect(grown.nodeCount).toBe(base.nodeCount + 4);
    for (const n of base.nodes()) expect(nodeSummary(grown.nodeAt(n.rack.index, n.slot)!)).toEqual(nodeSummary(n));
    expect(brief(grown.findNode('r4-n1'))).toMatchObject({ address: '2001:db8:100:4::11', podPrefix: '2001:db8:4200:101::/64' });
  });
});

describe('control-plane roles of a listed rack', () => {
  const stack = (nodes: string, count = 1): string => `config:
  flat6:cluster:
    name: roles
    kubernetesVersion: v1.33.4
    network:
      nodes: "2001:db8:1::/64"
      pods: "2001:db8:42::/48"
      services: "2001:db8:43::/112"
      dns: ["2001:db8:53::53"]
    controlPlane:
      count: ${count}
      vip: "2001:db8:1::2"
    racks:
      - name: r0
        nodes:
${nodes}`;

  it('without role: control-plane the lowest slots are chosen, with a warning that names them', () => {
    const plan = createPlan(parseStack('Pulumi.roles.yaml', stack('          - { name: a, slot: 5 }\n          - { name: b, slot: 9 }\n')));
    expect(plan.controlPlanes.map((n) => n.name)).toEqual(['a']);
    const w = plan.warnings.find((d) => d.code === 'CONTROL_PLANE');
    expect(w?.message).toContain('lowest slot(s): a;');
    expect(w?.fix).toBe('mark a with role: control-plane');
    expect(w?.location?.line).toBe(16);
  });

  it('with declared roles, a node added at a lower slot takes no role and changes no node', () => {
    const before = createPlan(parseStack('Pulumi.roles.yaml', stack('          - { name: a, slot: 5, role: control-plane }\n          - { name: b, slot: 9 }\n')));
    const after = createPlan(parseStack('Pulumi.roles.yaml', stack('          - { name: z, slot: 0 }\n          - { name: a, slot: 5, role: control-plane }\n          - { name: b, slot: 9 }\n')));
    expect(before.warnings).toEqual([]);
    expect(after.controlPlanes.map(nodeSummary)).toEqual(before.controlPlanes.map(nodeSummary));
    for (const n of before.nodes()) expect(nodeSummary(after.findNode(n.name)!)).toEqual(nodeSummary(n));
    expect(after.findNode('z')!.role).toBe('worker');
  });
});

describe('planning costs what the stack lists, never a number it writes (issue 8)', () => {
  // A valid base with room for 2^24 racks; the racks are then written into the parsed
  // spec, so the planner is tried past whatever the schema allows.
  const base = (): LoadedStack =>
    parseStack(
      'Pulumi.big.yaml',
      `config:
  flat6:cluster:
    name: big
    kubernetesVersion: v1.33.4
    network:
      nodes: "2001:db8:100::/40"
      pods: "2001:db8:4000::/48"
      podPrefixLength: 80
      services: "2001:db8:43::/112"
      dns: ["2001:db8:53::53"]
    controlPlane:
      count: 3
      vip: "2001:db8:100::2"
    routing:
      mode: static
      fabric: "2001:db8:200::/64"
    racks:
      - { name: r0, index: 0, nodes: 3 }
`,
    );

  it('200,000 listed racks check and plan (no Math.max over a spread of them)', () => {
    const stack = base();
    stack.spec.racks = { kind: 'list', items: Array.from({ length: 200_000 }, (_, i) => ({ name: `r${i}`, index: i, indexDefaulted: false, nodes: i === 0 ? 3 : 1, path: `racks.${i}` })) };
    const plan = createPlan(stack);
    expect([plan.rackCount, plan.nodeCount]).toEqual([200_000, 200_002]);
    expect(brief(plan.findNode('r199999-n0'))).toMatchObject({ address: '2001:db8:103:d3f::10', subnet: '2001:db8:103:d3f::/64' });
    expect(plan.controlPlanes.map((n) => n.name)).toEqual(['r0-n0', 'r0-n1', 'r0-n2']);
    expect(tierSummary(plan).spine).toBe(400_000);
  });

  it('2^24 generated racks of 256 nodes plan without listing a rack; the last node is O(1)', () => {
    const stack = base();
    stack.spec.racks = { kind: 'generated', count: 2 ** 24, nodes: 256, namePrefix: 'rack' };
    const plan = createPlan(stack);
    expect(plan.nodeCount).toBe(2 ** 32);
    const last = plan.nodeAt(2 ** 24 - 1, 255);
    expect(brief(last)).toMatchObject({ name: 'rack16777215-n255', address: '2001:db8:1ff:ffff::10f', podPrefix: '2001:db8:4000:ffff:ffff::/80' });
    expect(plan.findNode('rack16777215-n255')?.address).toBe(last?.address);
  });

  it('controlPlaneSlots lists a count-sized rack only within the checked limit', () => {
    expect(controlPlaneSlots(1e9, 3)).toEqual({ slots: [0, 1, 2], declared: false });
    expect(controlPlaneSlots(2, 1e9).slots).toEqual([0, 1]);
    expect(() => controlPlaneSlots(1e9, 1e9)).toThrow(RangeError);
    expect(controlPlaneSlots(MAX_CONTROL_PLANE_NODES, 1e9).slots).toHaveLength(MAX_CONTROL_PLANE_NODES);
  });
});

/** A random stack in the rack layout (network.racks), generated racks. */
const rackLayoutDef = fc
  .record({
    slotBits: fc.integer({ min: 0, max: 6 }),
    ppl: fc.integer({ min: 64, max: 112 }),
    rslExtra: fc.integer({ min: 0, max: 3 }),
    blockExtra: fc.integer({ min: 0, max: 3 }),
    rangeExtra: fc.integer({ min: 0, max: 2 }),
    count: fc.integer({ min: 1, max: 24 }),
    nodesPick: fc.nat(),
    rangePick: fc.nat(),
    explicitBlock: fc.boolean(),
  })
  .map((r) => {
    const slots = 2 ** r.slotBits;
    const rsl = Math.min(64 + r.rslExtra, maxRackSubnetLength(slots));
    const rackPodLength = r.ppl - r.slotBits;
    const block = Math.min(rsl, rackPodLength) - 1 - (r.explicitBlock ? r.blockExtra : 0);
    const rangeLength = block - Math.ceil(Math.log2(r.count)) - r.rangeExtra;
    // The rack range lies in 2001:db8::/33; services and the default fabric (2001:db8:ffff::/64) in the other half.
    const space = parsePrefix('2001:db8::/33');
    const racks = subnet(space, rangeLength, BigInt(r.rangePick) % (1n << BigInt(rangeLength - space.length)));
    return { ...r, slots, rsl, block, racks, nodes: 1 + (r.nodesPick % slots) };
  });

function rackLayoutYaml(d: typeof rackLayoutDef extends fc.Arbitrary<infer T> ? T : never): string {
  const vip = subnet(subnet(d.racks, d.block, 0), d.rsl, 0).base + 2n;
  return stringify({
    config: {
      'flat6:cluster': {
        name: 'prop',
        kubernetesVersion: 'v1.33.4',
        network: {
          racks: formatPrefix(d.racks),
          ...(d.explicitBlock ? { rackBlockLength: d.block } : {}),
          nodes: formatPrefix(d.racks),
          rackSubnetLength: d.rsl,
          pods: formatPrefix(d.racks),
          podPrefixLength: d.ppl,
          services: '2001:db8:c000::/112',
          dns: ['2001:db8:53::53'],
        },
        layout: { slotsPerRack: d.slots, hostOffset: HOST_OFFSET },
        controlPlane: { count: 1, vip: formatAddress(vip) },
        racks: { count: d.count, nodes: d.nodes, namePrefix: 'rk' },
      },
    },
  });
}

describe('rack layout properties (network.racks)', () => {
  it('spine routes = racks; every node prefix and node address lies in exactly one rack block; blocks never overlap', () => {
    fc.assert(
      fc.property(rackLayoutDef, (d) => {
        const text = rackLayoutYaml(d);
        let plan: ClusterPlan;
        try {
          plan = createPlan(parseStack('Pulumi.prop.yaml', text));
        } catch (e) {
          if (e instanceof Flat6Error) throw new Error(`a valid rack-layout stack was rejected:\n${formatDiagnostics(e.diagnostics)}\n${text}`);
          throw e;
        }
        const racks = [...plan.racks()];
        expect(racks).toHaveLength(d.count);
        expect(tierSummary(plan).spine).toBe(d.count);
        expect(expectedSpineRoutes(plan).length).toBe(d.count);
        for (const s of [0, plan.spec.routing.spines - 1]) expect(expectedSpineRoutes(plan, racks, s).map((r) => r.to)).toEqual(racks.map((r) => formatPrefix(r.aggregate!)));
        const blocks = racks.map((r) => r.aggregate!);
        sortedDisjoint(blocks);
        for (const r of racks) {
          const a = r.aggregate!;
          expect(a.length).toBe(d.block);
          expect(containsPrefix(d.racks, a)).toBe(true);
          // fixed positions: the subnet is the block's first /rsl, the pod block its last
          expect(r.subnet).toEqual(subnet(a, d.rsl, 0));
          expect(last(r.podBlock)).toBe(last(a));
          expect(containsPrefix(a, r.podBlock)).toBe(true);
          expect(overlaps(r.subnet, r.podBlock)).toBe(false);
        }
        for (const n of plan.nodes()) {
          const holding = (covers: (b: Prefix) => boolean): number => blocks.filter(covers).length;
          expect(holding((b) => containsPrefix(b, n.podPrefix)), `${n.name} pod prefix`).toBe(1);
          expect(holding((b) => containsAddress(b, n.address)), `${n.name} address`).toBe(1);
          expect(containsPrefix(n.rack.aggregate!, n.podPrefix) && containsAddress(n.rack.aggregate!, n.address)).toBe(true);
          expect(nodeByAddress(plan, n.address)?.name).toBe(n.name);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a rack block too small, a rack range too small and a pod range without the rack range are RACK_LAYOUT errors', () => {
    const codes = (text: string): string[] => {
      try {
        createPlan(parseStack('Pulumi.t.yaml', text));
        return [];
      } catch (e) {
        if (e instanceof Flat6Error) return e.diagnostics.filter((x) => x.severity === 'error').map((x) => `${x.code} ${x.path}`);
        throw e;
      }
    };
    const base = (network: string, count = 2): string => `config:
  flat6:cluster:
    name: t
    kubernetesVersion: v1.33.4
    network:
${network}      services: "2001:db8:c000::/112"
      dns: ["2001:db8:53::53"]
    layout: { slotsPerRack: 64 }
    controlPlane: { count: 1, vip: "2001:db8:1::2" }
    racks: { count: ${count}, nodes: 2 }
`;
    const net = (racks: string, extra = '', pods = racks): string => `      racks: "${racks}"\n${extra}      nodes: "${racks}"\n      pods: "${pods}"\n`;
    expect(codes(base(net('2001:db8:1::/48')))).toEqual([]);
    expect(codes(base(net('2001:db8:1::/48', '      rackBlockLength: 58\n')))).toEqual(['RACK_LAYOUT network.rackBlockLength']);
    expect(codes(base(net('2001:db8:1::/57'), 3))).toEqual(['RACK_LAYOUT network.racks']);
    expect(codes(base(net('2001:db8:1::/48', '', '2001:db8:2::/48')))).toEqual(['RACK_LAYOUT network.pods']);
  });
});
