/**
 * The routing section: the fabric link prefix (one /127 per rack index) and,
 * in bgp mode, the AS number plan: spine, ToR of rack i = tor + i, node at
 * (r, s) = node + r * slotsPerRack + s, all inside RFC 6996's private 4-byte
 * range; and the BGP timers. O(1): the highest rack index stands for all racks.
 */
import type { Diagnostic } from '../../core/diagnostics.js';
import { containsPrefix, formatPrefix, netmask, overlaps, parsePrefix, subnetCount, type Prefix } from '../../core/ip.js';
import { PRIVATE_ASN_MAX, PRIVATE_ASN_MIN, ROUTING_DEFAULTS } from '../../spec/schema.js';
import { SPINE_BITS } from '../routing.js';
import type { CheckContext } from './context.js';

/** 2001:db8::/32 (RFC 3849): the documentation prefix the default fabric prefix comes from. */
const DOCUMENTATION_PREFIX: Prefix = parsePrefix('2001:db8::/32');

/** The fabric prefix overlaps no cluster range and holds one /127 per rack index (per spine); the spines suit the mode. */
export function checkFabric(c: CheckContext): void {
  const { routing } = c.spec;
  checkSpines(c);
  const fabric = c.prefix('routing.fabric', routing.fabric, 'fabric link prefix');
  if (!fabric) return;
  const setIt = routing.fabricDefaulted ? 'set routing.fabric to a prefix of its own' : 'move routing.fabric';
  for (const [path, what, r] of c.ranges) {
    if (r && overlaps(fabric, r)) {
      c.add(
        'RANGE_OVERLAP',
        'routing.fabric',
        `fabric link prefix ${formatPrefix(fabric)}${routing.fabricDefaulted ? ' (the default)' : ''} overlaps ${what} ${formatPrefix(r)}`,
        `${setIt}, e.g. a /64 outside the node, pod and service ranges`,
        c.related(path, `${what} ${formatPrefix(r)}`),
      );
    }
  }
  // With several spines, spine s takes its links from the s-th 1/16 of the prefix.
  const spineBits = routing.spines > 1 ? SPINE_BITS : 0;
  const links = fabric.length + spineBits > 127 ? 0n : subnetCount({ base: fabric.base, length: fabric.length + spineBits }, 127);
  if (fabric.length + spineBits > 127 || BigInt(c.maxRackIndex) >= links) {
    const need = 127 - Math.ceil(Math.log2(c.maxRackIndex + 1)) - spineBits;
    c.add(
      'FABRIC_PREFIX',
      'routing.fabric',
      `fabric link prefix ${formatPrefix(fabric)} holds ${links} ToR-spine link(s) of /127${spineBits ? ` per spine (each of the ${routing.spines} spines takes a 1/16 of it)` : ''}; the stack needs ${c.maxRackIndex + 1} (one per rack index 0..${c.maxRackIndex})`,
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

/** bgp mode: every tier's AS numbers stay private, and no two tiers share one. */
export function checkAsnPlan(c: CheckContext): void {
  const { routing, layout } = c.spec;
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
  const other = (path: string): Partial<Diagnostic> => c.related(path, 'the other range');
  if (inRange(spine, tor, torLast)) c.add('ASN_OVERLAP', 'routing.asn.spine', `spine AS ${spine} is also a ToR AS number (${tiers})`, fix, other('routing.asn.tor'));
  if (inRange(spine, node, nodeLast)) c.add('ASN_OVERLAP', 'routing.asn.spine', `spine AS ${spine} is also a node AS number (${tiers})`, fix, other('routing.asn.node'));
  if (tor <= nodeLast && node <= torLast) c.add('ASN_OVERLAP', 'routing.asn.tor', `ToR AS numbers overlap node AS numbers (${tiers})`, fix, other('routing.asn.node'));
}

/** bgp mode: keepalives come well within the hold time; the error wait grows, never shrinks. */
export function checkBgpTimers(c: CheckContext): void {
  const { routing } = c.spec;
  if (routing.mode !== 'bgp') return;
  const { holdTime, keepaliveTime, errorWaitTime, errorWaitMaxTime } = routing.bgp;
  if (keepaliveTime >= holdTime) {
    c.add('BGP_TIMERS', 'routing.bgp.keepaliveTime', `BGP keepaliveTime ${keepaliveTime}s is not below holdTime ${holdTime}s: sessions would expire between keepalives`, `use keepaliveTime: ${Math.max(1, Math.floor(holdTime / 3))} (a third of holdTime)`);
  }
  if (errorWaitMaxTime < errorWaitTime) {
    c.add('BGP_TIMERS', 'routing.bgp.errorWaitMaxTime', `BGP errorWaitMaxTime ${errorWaitMaxTime}s is below errorWaitTime ${errorWaitTime}s (BIRD doubles the wait from errorWaitTime up to errorWaitMaxTime)`, `use errorWaitMaxTime: ${errorWaitTime} or more`);
  }
}

/** More than one spine needs bgp: static routes (netplan) cannot spread a default route over spines or leave a dead one. */
export function checkSpines(c: CheckContext): void {
  const { routing } = c.spec;
  if (routing.mode === 'static' && routing.spines > 1) {
    c.add('LAYOUT', 'routing.spines', `routing.spines is ${routing.spines} in static mode: netplan's static routes can neither spread the ToRs' default route over several spines nor withdraw it from a dead one`, 'use routing.mode: bgp, or routing.spines: 1');
  }
}
