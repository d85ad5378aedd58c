/**
 * Layout and capacity: slotsPerRack, the per-node pod prefix, and whether the
 * pod and node ranges hold every rack index in use. O(1): the highest rack
 * index stands for all racks.
 */
import { containsPrefix, formatPrefix, netmask, reservedAnycastTop, subnetCount } from '../../core/ip.js';
import type { CheckContext } from './context.js';

/** slotsPerRack is a power of two (the rack pod block is podPrefixLength - log2(slotsPerRack)). */
export function checkSlotsPerRack(c: CheckContext): void {
  const { slotsPerRack } = c.spec.layout;
  if (c.slotBits === undefined) {
    c.add('LAYOUT', 'layout.slotsPerRack', `slotsPerRack ${slotsPerRack} is not a power of two`, `use a power of two such as ${2 ** Math.ceil(Math.log2(slotsPerRack))}`);
  }
}

/** The per-node pod prefix leaves room for a node's pods and fits in the pod range. */
export function checkPodPrefixLength(c: CheckContext): void {
  const ppl = c.spec.network.podPrefixLength;
  const { podRange } = c;
  if (ppl > 120) {
    c.add('POD_PREFIX_LENGTH', 'network.podPrefixLength', `per-node pod prefix /${ppl} leaves ${2 ** (128 - ppl)} addresses, too few for a node's pods (kubelet maxPods defaults to 110)`, 'use /64 (bare metal) or /80 (AWS prefix delegation); /120 at the very least');
  }
  if (podRange && ppl < podRange.length) {
    c.add('POD_PREFIX_LENGTH', 'network.podPrefixLength', `per-node pod prefix /${ppl} is shorter than the pod range ${formatPrefix(podRange)}`, `use a per-node prefix longer than /${podRange.length}, e.g. /64`);
  }
}

/** The pod range holds one rack pod block per rack index in use. */
export function checkPodCapacity(c: CheckContext): void {
  const { podRange, slotBits, rackPodLength, rackCount, maxRackIndex } = c;
  const { slotsPerRack } = c.spec.layout;
  const ppl = c.spec.network.podPrefixLength;
  if (c.rackLayout || !podRange || slotBits === undefined || ppl < podRange.length) return;
  if (rackPodLength < podRange.length) {
    c.add('POD_CAPACITY', 'layout.slotsPerRack', `one rack of ${slotsPerRack} slots needs a /${rackPodLength} of /${ppl} pod prefixes, larger than the pod range ${formatPrefix(podRange)}`, `widen network.pods to a /${rackPodLength - Math.ceil(Math.log2(Math.max(rackCount, 1)))} or fewer slotsPerRack`);
    return;
  }
  const racksFit = subnetCount(podRange, rackPodLength);
  if (BigInt(maxRackIndex) >= racksFit) {
    const need = rackPodLength - Math.ceil(Math.log2(maxRackIndex + 1));
    c.add(
      'POD_CAPACITY',
      'network.pods',
      `pod range ${formatPrefix(podRange)} holds ${racksFit} rack blocks of /${rackPodLength} (${slotsPerRack} x /${ppl}); the stack needs ${maxRackIndex + 1} racks (${BigInt(maxRackIndex + 1) * BigInt(slotsPerRack)} node prefixes)`,
      `widen network.pods to a /${need} (e.g. ${formatPrefix({ base: podRange.base & netmask(need), length: need })}), use fewer slotsPerRack, or a longer podPrefixLength`,
    );
  }
}

/** The node range holds one rack subnet per rack index in use. */
export function checkNodeCapacity(c: CheckContext): void {
  const { nodeRange, maxRackIndex } = c;
  const rsl = c.spec.network.rackSubnetLength;
  if (c.rackLayout || !nodeRange) return;
  if (rsl < nodeRange.length) {
    c.add('NODE_CAPACITY', 'network.rackSubnetLength', `rack subnet /${rsl} is larger than the node range ${formatPrefix(nodeRange)}`, `set rackSubnetLength to /${nodeRange.length} or longer`);
  } else if (BigInt(maxRackIndex) >= subnetCount(nodeRange, rsl)) {
    const need = rsl - Math.ceil(Math.log2(maxRackIndex + 1));
    c.add('NODE_CAPACITY', 'network.nodes', `node range ${formatPrefix(nodeRange)} holds ${subnetCount(nodeRange, rsl)} rack subnets of /${rsl}; the stack needs ${maxRackIndex + 1}`, `widen network.nodes to a /${need} or use longer rack subnets`);
  }
}

/** A rack subnet holds hostOffset + slotsPerRack addresses below its reserved anycast top, and the gateway offset. */
export function checkRackSubnetRoom(c: CheckContext): void {
  const { slotsPerRack, hostOffset, gatewayOffset } = c.spec.layout;
  const rsl = c.spec.network.rackSubnetLength;
  if (rsl > 127) return;
  const subnetSize = 1n << BigInt(128 - rsl);
  const reservedTop = reservedAnycastTop({ base: 0n, length: rsl });
  if (BigInt(hostOffset) + BigInt(slotsPerRack) > subnetSize - reservedTop) {
    c.add('NODE_CAPACITY', 'layout.hostOffset', `a rack subnet /${rsl} has ${subnetSize} addresses; hostOffset ${hostOffset} + ${slotsPerRack} slots does not fit`, 'use shorter rack subnets (e.g. /64), a smaller hostOffset or fewer slotsPerRack');
  }
  if (BigInt(gatewayOffset) >= subnetSize) {
    c.add('LAYOUT', 'layout.gatewayOffset', `gatewayOffset ${gatewayOffset} is outside a /${rsl} rack subnet`, 'use a small offset such as 1');
  }
}

/**
 * The rack layout (network.racks): each rack block holds its node subnet (the
 * block's first /rackSubnetLength) and its pod block (the block's last
 * /rackPodLength) without overlap, the rack range holds a block per rack index
 * in use, and the node and pod ranges each contain the rack range.
 */
export function checkRackLayout(c: CheckContext): void {
  if (!c.rackLayout) return;
  const { rackRange, rackBlockLength: L, rackPodLength, maxRackIndex, nodeRange, podRange } = c;
  const rsl = c.spec.network.rackSubnetLength;
  const declared = c.spec.network.rackBlockLength !== undefined;
  const where = declared ? 'network.rackBlockLength' : 'network.racks';
  if (L >= rsl || L >= rackPodLength) {
    c.add(
      'RACK_LAYOUT',
      where,
      `a rack block /${L} cannot hold the rack subnet /${rsl} and the rack pod block /${rackPodLength} side by side`,
      `use a rack block of /${Math.min(rsl, rackPodLength) - 1} or shorter (leave network.rackBlockLength unset for that default)`,
    );
    return;
  }
  if (!rackRange) return;
  if (L < rackRange.length) {
    c.add('RACK_LAYOUT', where, `a rack block /${L} is larger than the rack range ${formatPrefix(rackRange)}`, `use a rack range shorter than /${L}`);
    return;
  }
  const fit = subnetCount(rackRange, L);
  if (BigInt(maxRackIndex) >= fit) {
    const need = L - Math.ceil(Math.log2(maxRackIndex + 1));
    c.add(
      'RACK_LAYOUT',
      'network.racks',
      `rack range ${formatPrefix(rackRange)} holds ${fit} rack blocks of /${L}; the stack needs ${maxRackIndex + 1} racks`,
      `widen network.racks to a /${need} (e.g. ${formatPrefix({ base: rackRange.base & netmask(need), length: need })})`,
    );
  }
  for (const [path, name, range] of [
    ['network.nodes', 'node range', nodeRange],
    ['network.pods', 'pod range', podRange],
  ] as const) {
    if (range && !containsPrefix(range, rackRange)) {
      c.add(
        'RACK_LAYOUT',
        path,
        `${name} ${formatPrefix(range)} does not contain the rack range ${formatPrefix(rackRange)}: with network.racks every node subnet and pod block lies in the rack range`,
        `set ${path} to ${formatPrefix(rackRange)}`,
        c.related('network.racks', `rack range ${formatPrefix(rackRange)}`),
      );
    }
  }
}
