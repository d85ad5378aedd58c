/**
 * The fabric of several spines: link addressing per (rack, spine), the ECMP
 * default route each ToR must hold, and the ping-stream parser the link-flap
 * and spine-loss checks measure with. (Pure; the namespace runs are in
 * test/lab.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { containsPrefix, formatAddress, formatPrefix, overlaps, parsePrefix, subnet } from '../src/core/ip.js';
import { parsePing } from '../src/lab/ping-stream.js';
import { compareRoutes, type KernelRoute } from '../src/lab/routes.js';
import { expectedTorRoutes, fabricLink, spineIndexes, spineName, torDefaultVias, torUplink } from '../src/plan/routing.js';
import { planBundled, planText, stackText } from './helpers.js';

describe('spines', () => {
  it('defaults: two spines for a multi-rack bgp stack, one for a single rack or static mode', () => {
    expect(planBundled('multirack').spec.routing.spines).toBe(2);
    expect(planBundled('scale').spec.routing.spines).toBe(2);
    expect(planBundled('metal').spec.routing.spines).toBe(1);
    const st = stackText('multirack').replace('\n    racks:', '\n    routing: { mode: static }\n    racks:');
    expect(planText(st).spec.routing.spines).toBe(1);
    expect([0, 1, 2].map(spineName)).toEqual(['spine', 'spine1', 'spine2']);
    expect([0, 1, 2].map(torUplink)).toEqual(['spine', 'spine1', 'spine2']);
  });

  it('property (scale stack): every (rack, spine) link is a distinct /127 inside routing.fabric; spine 0 keeps the single-spine links', () => {
    const s = planBundled('scale');
    const fabric = parsePrefix(s.spec.routing.fabric);
    const link = fc.record({ rack: fc.integer({ min: 0, max: 16383 }), spine: fc.integer({ min: 0, max: 15 }) });
    fc.assert(
      fc.property(link, link, (a, b) => {
        const la = fabricLink(s, a.rack, a.spine);
        const lb = fabricLink(s, b.rack, b.spine);
        expect(la.prefix.length).toBe(127);
        expect(containsPrefix(fabric, la.prefix)).toBe(true);
        expect(la.tor).toBe(la.spine + 1n);
        expect(overlaps(la.prefix, lb.prefix)).toBe(a.rack === b.rack && a.spine === b.spine);
        // spine 0: the rack-index-th /127 of the whole prefix, as with one spine
        if (a.spine === 0) expect(formatPrefix(la.prefix)).toBe(formatPrefix(subnet(fabric, 127, a.rack)));
      }),
    );
    expect(formatAddress(fabricLink(s, 3, 1).tor)).toBe('2001:db8:ffff:0:1000::7');
  });

  it('a ToR expects one multipath default over every spine, sorted; with a spine lost, over the others', () => {
    const m = planBundled('multirack');
    const rack = m.rackAt(2);
    expect(spineIndexes(m)).toEqual([0, 1]);
    const def = expectedTorRoutes(m, rack).find((r) => r.to === '::/0')!;
    expect(def.vias).toEqual(['2001:db8:ffff:0:1000::4', '2001:db8:ffff::4']);
    expect(torDefaultVias(m, rack, [1])).toEqual(['2001:db8:ffff:0:1000::4']);
    expect(expectedTorRoutes(m, rack, [], [1]).find((r) => r.to === '::/0')!.vias).toBeUndefined();
    // compared with what the kernel holds: the same next hops, in any order, and nothing less
    const kernel = (gateways?: string[], gateway?: string): KernelRoute[] => [{ dst: '::/0', type: 'unicast', protocol: 'bird', gateway: gateway ?? gateways?.[0], gateways }];
    const want = [def];
    expect(compareRoutes(want, kernel(['2001:db8:ffff:0:1000::4', '2001:db8:ffff::4'])).wrong).toEqual([]);
    expect(compareRoutes(want, kernel(undefined, '2001:db8:ffff::4')).wrong).toHaveLength(1);
    expect(compareRoutes(expectedTorRoutes(m, rack, [], [0]).slice(0, 1), kernel(['2001:db8:ffff:0:1000::4', '2001:db8:ffff::4'])).wrong).toHaveLength(1);
  });
});

describe('ping stream', () => {
  it('parses replies, ICMPv6 errors and the summary; gaps are measured between replies', () => {
    const out = [
      'PING 2001:db8:4200:c1::4 (2001:db8:4200:c1::4) 56 data bytes',
      '[1700000000.000000] 64 bytes from 2001:db8:4200:c1::4: icmp_seq=1 ttl=61 time=0.100 ms',
      '[1700000000.050000] 64 bytes from 2001:db8:4200:c1::4: icmp_seq=2 ttl=61 time=0.100 ms',
      '[1700000000.150000] no answer yet for icmp_seq=3',
      '[1700000000.200000] From 2001:db8:ffff::7 icmp_seq=4 Destination unreachable: No route',
      '[1700000000.250000] From 2001:db8:ffff::7 icmp_seq=5 Destination unreachable: No route',
      '[1700000000.400000] 64 bytes from 2001:db8:4200:c1::4: icmp_seq=9 ttl=61 time=0.100 ms',
      '[1700000000.450000] 64 bytes from 2001:db8:4200:c1::4: icmp_seq=10 ttl=61 time=0.100 ms',
      '',
      '--- 2001:db8:4200:c1::4 ping statistics ---',
      '10 packets transmitted, 4 received, +2 errors, 60% packet loss, time 450ms',
    ].join('\n');
    const s = parsePing(out, 50);
    expect(s.sent).toBe(10);
    expect(s.replies).toBe(4);
    expect(s.gaps).toEqual([{ ms: 350, lost: 6, from: 1700000000050, to: 1700000000400 }]);
    expect([...s.errors]).toEqual([['Destination unreachable: No route', 2]]);
    // one echo lost within 3 intervals is no gap
    const one = ['[1700000000.000000] 64 bytes from x: icmp_seq=1 ttl=61', '[1700000000.100000] 64 bytes from x: icmp_seq=3 ttl=61'].join('\n');
    expect(parsePing(one, 50).gaps).toEqual([]);
    expect(parsePing(one, 20).gaps).toEqual([{ ms: 100, lost: 1, from: 1700000000000, to: 1700000000100 }]);
  });
});
