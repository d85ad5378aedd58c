/**
 * The control plane: its rack, its nodes, how many there are, and the API
 * VIP on the control-plane segment. O(racks listed + nodes listed): nothing
 * here is sized by controlPlane.count or a rack's node count.
 */
import { containsAddress, formatAddress, formatPrefix } from '../../core/ip.js';
import type { RackSpec } from '../../spec/load.js';
import { controlPlaneRack, controlPlaneSlots, generatedNodeName, listedNodesOf, MAX_CONTROL_PLANE_NODES, rackNodeCount, type ControlPlaneRack } from '../racks.js';
import type { CheckContext } from './context.js';
import { freeVipHint, isReservedInSubnet } from './segment.js';

/** Highest control-plane count whose VRRP priorities (200, 199, ...) stay in keepalived's 1..254. */
export const MAX_VRRP_NODES = 200;

/** The control-plane rack exists, holds the control-plane nodes, and the VIP sits on its segment. */
export function checkControlPlane(c: CheckContext): void {
  const cpRack = controlPlaneRack(c.spec);
  if (!cpRack) reportUnknownRack(c);
  if (c.spec.racks.kind === 'list') checkRolesElsewhere(c, c.spec.racks.items, cpRack);
  if (!cpRack) return;
  checkControlPlaneNodes(c, cpRack);
  checkVipOnSegment(c, cpRack);
}

function reportUnknownRack(c: CheckContext): void {
  const { racks, controlPlane } = c.spec;
  const fix = racks.kind === 'generated' ? `name one of ${racks.namePrefix}0 .. ${racks.namePrefix}${racks.count - 1}` : `name one of: ${racks.items.map((x) => x.name).join(', ')}`;
  c.add('CONTROL_PLANE', 'controlPlane.rack', `no rack named "${controlPlane.rack}"`, fix);
}

/** Control-plane nodes declared outside the control-plane rack cannot share its VRRP segment. */
function checkRolesElsewhere(c: CheckContext, items: RackSpec[], cpRack: ControlPlaneRack | undefined): void {
  for (const rack of items) {
    const listed = listedNodesOf(rack);
    if (!listed || rack.path === cpRack?.path) continue;
    for (const n of listed) {
      if (n.role === 'control-plane') {
        c.add('CONTROL_PLANE', n.path + '.role', `control-plane node ${n.name} is in rack ${rack.name}, but the control plane (and its VRRP VIP) lives in rack ${cpRack?.name}`, 'put every control-plane node in one rack (controlPlane.rack), since the VIP moves by VRRP on one L2 segment');
      }
    }
  }
}

/** The rack holds controlPlane.count nodes (declared by role, or its lowest slots), an odd number. */
function checkControlPlaneNodes(c: CheckContext, cpRack: ControlPlaneRack): void {
  const cpCount = c.spec.controlPlane.count;
  const listed = listedNodesOf(cpRack);
  // A count-sized rack's control plane is its min(nodes, count) lowest slots: counted, never listed.
  let found = Math.min(rackNodeCount(cpRack), cpCount);
  if (listed) {
    const choice = controlPlaneSlots(listed, cpCount);
    found = choice.slots.length;
    const declared = choice.declared ? choice.slots.length : 0;
    if (declared > 0 && declared !== cpCount) {
      c.add('CONTROL_PLANE', 'controlPlane.count', `controlPlane.count is ${cpCount} but rack ${cpRack.name} declares ${declared} node(s) with role: control-plane`, `set controlPlane.count: ${declared} or mark ${cpCount} nodes role: control-plane`);
      found = cpCount;
    }
    if (declared === 0 && listed.length > 0) {
      // Without declared roles the control plane is the lowest slots: a node listed later at a
      // lower slot would silently turn a control-plane node into a worker.
      const bySlot = new Map(listed.map((n) => [n.slot, n.name]));
      const chosen = choice.slots.map((slot) => bySlot.get(slot)!);
      c.warn(
        'CONTROL_PLANE',
        `${cpRack.path ?? 'racks.0'}.nodes`,
        `rack ${cpRack.name} marks no node role: control-plane, so the control plane is its lowest slot(s): ${chosen.join(', ')}; a node added later at a lower slot would take over a control-plane role`,
        `mark ${chosen.join(', ')} with role: control-plane`,
      );
    }
  }
  if (found < cpCount) {
    c.add('CONTROL_PLANE', 'controlPlane.count', `controlPlane.count is ${cpCount} but rack ${cpRack.name} has only ${found} node(s)`, `add nodes to rack ${cpRack.name} or lower controlPlane.count`);
  }
  if (cpCount % 2 === 0) {
    c.warn('CONTROL_PLANE', 'controlPlane.count', `${cpCount} control-plane nodes: an even etcd membership tolerates no more failures than ${cpCount - 1}`, `use an odd count such as ${cpCount + 1} or ${cpCount - 1}`);
  }
}

/** With VRRP the VIP is an address of the control-plane segment that no node slot, gateway or anycast address takes. */
function checkVipOnSegment(c: CheckContext, cpRack: ControlPlaneRack): void {
  const { vip } = c;
  const { hostOffset, slotsPerRack } = c.spec.layout;
  const sn = c.rackSubnet(cpRack.index);
  if (vip === undefined || !sn) return;
  if (!containsAddress(sn, vip)) {
    // An external load balancer (loadBalancer: none) may put the VIP anywhere; VRRP may not.
    if (c.spec.controlPlane.loadBalancer === 'keepalived-haproxy') {
      c.add('VIP_OUTSIDE_SEGMENT', 'controlPlane.vip', `API VIP ${formatAddress(vip)} is outside the control-plane segment ${formatPrefix(sn)} (rack ${cpRack.name})`, `VRRP moves the VIP on one L2 segment: ${freeVipHint(sn, hostOffset, slotsPerRack, c.gatewayOf(cpRack.index, sn), `pick a free address in ${formatPrefix(sn)}`)}, or set controlPlane.loadBalancer: none if a load balancer outside the cluster serves the VIP`);
    }
    return;
  }
  const g = c.gatewayOf(cpRack.index, sn);
  const nodeSlot = vip - sn.base - BigInt(hostOffset);
  let clash: string | undefined;
  if (isReservedInSubnet(sn, vip)) clash = `a reserved anycast address of ${formatPrefix(sn)}`;
  else if (g !== undefined && vip === g) clash = `the gateway of rack ${cpRack.name}`;
  else if (nodeSlot >= 0n && nodeSlot < BigInt(slotsPerRack)) {
    const slot = Number(nodeSlot);
    const listed = listedNodesOf(cpRack);
    const occupant = listed ? listed.find((n) => n.slot === slot)?.name : slot < rackNodeCount(cpRack) ? generatedNodeName(cpRack.name, slot) : undefined;
    if (occupant !== undefined) clash = `the address of node ${occupant} (slot ${slot})`;
    else c.warn('VIP_CONFLICT', 'controlPlane.vip', `API VIP ${formatAddress(vip)} sits on free node slot ${slot}; a node added there later would collide with it`, freeVipHint(sn, hostOffset, slotsPerRack, g, 'move the VIP'));
  }
  if (clash) {
    c.add('VIP_CONFLICT', 'controlPlane.vip', `API VIP ${formatAddress(vip)} is ${clash}`, `it must be neither a node slot nor the gateway: ${freeVipHint(sn, hostOffset, slotsPerRack, g, `choose a free address of ${formatPrefix(sn)}`)}`);
  }
}

/** The VIP is a node-segment address, in neither the service nor the pod range. */
export function checkVipOutsideRanges(c: CheckContext): void {
  const { vip, serviceRange, podRange } = c;
  if (vip !== undefined && serviceRange && containsAddress(serviceRange, vip)) {
    c.add('VIP_CONFLICT', 'controlPlane.vip', `API VIP ${formatAddress(vip)} lies inside the service range ${formatPrefix(serviceRange)}`, 'the VIP must be a node-segment address');
  }
  // With the rack layout the pod range also holds the node subnets; the VIP is checked against the control-plane rack subnet instead.
  if (!c.rackLayout && vip !== undefined && podRange && containsAddress(podRange, vip)) {
    c.add('VIP_CONFLICT', 'controlPlane.vip', `API VIP ${formatAddress(vip)} lies inside the pod range ${formatPrefix(podRange)}`, 'the VIP must be a node-segment address');
  }
}

/**
 * At most MAX_VRRP_NODES control-plane nodes with keepalived-haproxy (one VRRP
 * priority each), at most MAX_CONTROL_PLANE_NODES whatever serves the VIP (the
 * plan holds every control-plane node).
 */
export function checkControlPlaneSize(c: CheckContext): void {
  const cp = c.spec.controlPlane;
  if (cp.loadBalancer === 'keepalived-haproxy' && cp.count > MAX_VRRP_NODES) {
    c.add('CONTROL_PLANE', 'controlPlane.count', `${cp.count} control-plane nodes exceed the ${MAX_VRRP_NODES} distinct VRRP priorities flat6 assigns (200 down to 1)`, 'use 3, 5 or 7 control-plane nodes');
  } else if (cp.count > MAX_CONTROL_PLANE_NODES) {
    c.add('CONTROL_PLANE', 'controlPlane.count', `${cp.count} control-plane nodes exceed the ${MAX_CONTROL_PLANE_NODES} flat6 plans (each one is an etcd member, and etcd is sized 3, 5 or 7)`, 'use 3, 5 or 7 control-plane nodes');
  }
}
