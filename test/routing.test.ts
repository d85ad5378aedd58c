/**
 * Routing: the AS and router-ID scheme, fabric links, the rendered BIRD
 * configs (every one through `bird -p`), the fabric and pod-prefix netplan
 * files (through `netplan generate`), static mode, growth without change,
 * the routing checks and the plan's routing statements. (~10 s)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { containsPrefix, formatPrefix, overlaps, parsePrefix } from '../src/core/ip.js';
import { netplanUnits } from '../src/lab/networkd.js';
import type { ClusterPlan } from '../src/plan/plan.js';
import { churnOf, spineRoutes, tierSummary, torRoutes } from '../src/plan/summary.js';
import type { RenderContext } from '../src/render/context.js';
import {
  expectedSpineRoutes,
  expectedTorRoutes,
  fabricLink,
  formatRouterId,
  nodeAsn,
  nodeRouterId,
  routerId,
  spineAsn,
  spineRouterId,
  torAsn,
  torRouterId,
} from '../src/plan/routing.js';
import { fabricRenderer } from '../src/render/routing.js';
import { TemplateSet } from '../src/render/templates.js';
import { PRIVATE_ASN_MAX, PRIVATE_ASN_MIN } from '../src/spec/schema.js';
import { cleanupTempDirs, cli, hashTree, planBundled, planText, readTree, renderStack, SCALE_HOSTS, stackText, tempDir, TEST_SECRETS, tool, writeStack } from './helpers.js';

afterAll(cleanupTempDirs);

const BIRD = (() => {
  try {
    return tool('bird');
  } catch {
    return undefined;
  }
})();

/** Insert `block` (indented for flat6:cluster) before the racks: line of a bundled stack. */
function withRouting(stack: string, block: string): string {
  const text = stackText(stack);
  const i = text.indexOf('\n    racks:');
  return `${text.slice(0, i)}\n${block.replace(/^/gm, '    ').trimEnd()}${text.slice(i)}`;
}

const ctxOf = (plan: ClusterPlan): RenderContext => ({
  plan,
  templates: new TemplateSet(),
  secrets: { bootstrapToken: TEST_SECRETS.bootstrapToken, certificateKey: TEST_SECRETS.certificateKey, caCertHashes: [] },
});

function birdParse(file: string): { ok: boolean; out: string } {
  const r = spawnSync(BIRD!, ['-p', '-c', file], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe('AS numbers, router IDs and fabric links', () => {
  it('known answers on the multirack and scale stacks', () => {
    const m = planBundled('multirack');
    const gpu1 = m.findNode('gpu1')!;
    expect(spineAsn(m)).toBe(4200000000);
    expect(torAsn(m, 3)).toBe(4200100003);
    expect(nodeAsn(m, m.findNode('r0-n0')!)).toBe(4210000000);
    expect(nodeAsn(m, m.findNode('r1-n2')!)).toBe(4210000066);
    expect(nodeAsn(m, gpu1)).toBe(4210000192);
    expect(spineRouterId()).toBe('48.0.0.1');
    expect(torRouterId(m.rackAt(0))).toBe('32.0.0.1');
    expect(torRouterId(m.rackAt(3))).toBe('32.0.0.4');
    expect(nodeRouterId(m, m.findNode('r0-n0')!)).toBe('16.0.0.1');
    expect(nodeRouterId(m, gpu1)).toBe('16.0.0.193');
    const l0 = fabricLink(m, 0);
    const l3 = fabricLink(m, 3);
    expect([formatPrefix(l0.prefix), l0.spine, l0.tor]).toEqual(['2001:db8:ffff::/127', parsePrefix('2001:db8:ffff::/128').base, parsePrefix('2001:db8:ffff::1/128').base]);
    expect(formatPrefix(l3.prefix)).toBe('2001:db8:ffff::6/127');
    const s = planBundled('scale');
    const lastNode = s.findNode('rack16383-n63')!;
    expect(nodeAsn(s, lastNode)).toBe(4211048575);
    expect(nodeRouterId(s, lastNode)).toBe('16.16.0.0');
    expect(torAsn(s, 16383)).toBe(4200116383);
    expect(formatPrefix(fabricLink(s, 16383).prefix)).toBe('2001:db8:ffff::7ffe/127');
  });

  it('router IDs: never 0, never in 224.0.0.0/4, one per position and tier', () => {
    fc.assert(
      fc.property(fc.constantFrom('node', 'tor', 'spine') as fc.Arbitrary<'node' | 'tor' | 'spine'>, fc.integer({ min: 0, max: 2 ** 28 - 2 }), (tier, pos) => {
        const id = routerId(tier, pos);
        expect(id).toBeGreaterThan(0);
        expect(id).toBeLessThan(2 ** 32);
        expect(id >>> 28).not.toBe(0xe);
        const text = formatRouterId(id);
        expect(text).toMatch(/^\d{1,3}(\.\d{1,3}){3}$/);
        expect(text.split('.').reduce((a, o) => a * 256 + Number(o), 0)).toBe(id);
      }),
    );
    expect(() => routerId('node', 2 ** 28 - 1)).toThrow(RangeError);
    // Every position the AS plan allows (94,967,295 private AS numbers) has a router ID.
    expect(PRIVATE_ASN_MAX - PRIVATE_ASN_MIN + 1).toBeLessThan(2 ** 28 - 1);
  });

  it('property (scale stack): distinct nodes get distinct AS numbers and router IDs; tiers never share one', () => {
    const s = planBundled('scale');
    const node = fc.record({ rack: fc.integer({ min: 0, max: 16383 }), slot: fc.integer({ min: 0, max: 63 }) });
    fc.assert(
      fc.property(node, node, fc.integer({ min: 0, max: 16383 }), (a, b, r) => {
        const na = s.nodeAt(a.rack, a.slot)!;
        const nb = s.nodeAt(b.rack, b.slot)!;
        const same = a.rack === b.rack && a.slot === b.slot;
        expect(nodeAsn(s, na) === nodeAsn(s, nb)).toBe(same);
        expect(nodeRouterId(s, na) === nodeRouterId(s, nb)).toBe(same);
        for (const asn of [nodeAsn(s, na), torAsn(s, r), spineAsn(s)]) {
          expect(asn).toBeGreaterThanOrEqual(PRIVATE_ASN_MIN);
          expect(asn).toBeLessThanOrEqual(PRIVATE_ASN_MAX);
        }
        expect(new Set([nodeAsn(s, na), torAsn(s, r), spineAsn(s)]).size).toBe(3);
        expect(new Set([nodeRouterId(s, na), torRouterId(s.rackAt(r)), spineRouterId()]).size).toBe(3);
        const la = fabricLink(s, a.rack).prefix;
        const lb = fabricLink(s, b.rack).prefix;
        expect(containsPrefix(parsePrefix(s.spec.routing.fabric), la)).toBe(true);
        expect(overlaps(la, lb)).toBe(a.rack === b.rack);
      }),
      { numRuns: 300 },
    );
  });
});

describe('rendered BIRD configs pass bird -p', () => {
  it.runIf(BIRD)('every bird.conf of metal and multirack (nodes, ToRs, spine)', async () => {
    let n = 0;
    for (const stack of ['metal', 'multirack']) {
      const out = await renderStack(stack);
      const tree = readTree(out);
      const confs = [...tree.keys()].filter((p) => p.endsWith('etc/bird/bird.conf'));
      const plan = planBundled(stack);
      expect(confs.length).toBe(plan.nodeCount + plan.rackCount + plan.spec.routing.spines);
      for (const c of confs) {
        const r = birdParse(join(out, c));
        expect(r.ok, `${stack} ${c}: ${r.out}`).toBe(true);
        n++;
      }
    }
    // metal: 6 nodes, 1 ToR, 1 spine; multirack: 14 nodes, 4 ToRs, 2 spines
    expect(n).toBe(6 + 2 + 14 + 4 + 2);
  });

  it.runIf(BIRD)('scale: each sampled host and its ToR (render --host)', async () => {
    for (const host of SCALE_HOSTS) {
      const out = await renderStack('scale', ['--host', host]);
      const rack = host.replace(/-n\d+$/, '');
      for (const c of [`hosts/${host}/etc/bird/bird.conf`, `fabric/tor-${rack}/etc/bird/bird.conf`]) {
        const r = birdParse(join(out, c));
        expect(r.ok, `${c}: ${r.out}`).toBe(true);
      }
    }
  });

  it.runIf(BIRD)('a spine with 300 ToR sessions', () => {
    const plan = planText(`config:
  flat6:cluster:
    name: wide
    kubernetesVersion: v1.33.4
    network: { nodes: "2001:db8:1000::/48", pods: "2001:db8:4000::/40", services: "2001:db8:43::/112", dns: ["2001:db8:53::53"] }
    layout: { slotsPerRack: 64 }
    controlPlane: { count: 1, vip: "2001:db8:1000::2" }
    racks: { count: 300, nodes: 2 }
`);
    const dir = tempDir('wide');
    for (const f of fabricRenderer.render(ctxOf(plan))) {
      if (!f.path.endsWith('bird.conf') || !/fabric\/(spine|tor-rack(0|299))\//.test(f.path)) continue;
      const p = join(dir, f.path);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, f.content);
      const r = birdParse(p);
      expect(r.ok, `${f.path}: ${r.out}`).toBe(true);
      if (f.path.startsWith('fabric/spine/')) expect(f.content.match(/^protocol bgp tor\d+ from timers/gm)).toHaveLength(300);
    }
  });

  it.runIf(BIRD)('bird -p rejects a broken config (the check can fail)', () => {
    const p = join(tempDir('broken'), 'bird.conf');
    writeFileSync(p, 'router id 16.0.0.1;\nprotocol bgp x { local as 4210000000; neighbor 2001:db8::1 as; }\n');
    expect(birdParse(p).ok).toBe(false);
  });

  it('what each config says: node exports only its pod prefix, ToR imports exactly each node prefix, spine exactly two per rack', async () => {
    const tree = readTree(await renderStack('multirack'));
    const text = (p: string): string => tree.get(p)!.content.toString('utf8');
    const node = text('hosts/r1-n2/etc/bird/bird.conf');
    expect(node).toContain('router id 16.0.0.67;');
    expect(node).toContain('route 2001:db8:4200:42::/64 unreachable;');
    expect(node).toContain('local 2001:db8:100:1::12 as 4210000066;');
    expect(node).toContain('neighbor 2001:db8:100:1::1 as 4200100001;');
    expect(node).toMatch(/import none;\s+export where proto = "pods";/);
    expect(node).not.toContain('protocol kernel');
    const tor = text('fabric/tor-r1/etc/bird/bird.conf');
    expect(tor.match(/^protocol bgp node_s\d+ from timers/gm)).toHaveLength(4);
    expect(tor).toMatch(/neighbor 2001:db8:100:1::12 as 4210000066;\s+ipv6 \{\s+import where net = 2001:db8:4200:42::\/64;\s+export none;/);
    expect(tor).toMatch(/local 2001:db8:ffff::3 as 4200100001;\s+neighbor 2001:db8:ffff::2 as 4200000000;\s+ipv6 \{\s+import where net = ::\/0;\s+export where proto = "rack_prefixes";/);
    expect(tor).toContain('route 2001:db8:4200:40::/58 unreachable;');
    expect(tor).toContain('route 2001:db8:100:1::/64 unreachable;');
    const spine = text('fabric/spine/etc/bird/bird.conf');
    expect(spine.match(/^protocol bgp tor\d+ from timers/gm)).toHaveLength(4);
    expect(spine).toContain('import where net ~ [ 2001:db8:4200:c0::/58, 2001:db8:100:3::/64 ];');
    expect(spine).toContain('route ::/0 unreachable;');
    for (const t of [node, tor, spine]) {
      expect(t).toContain('hold time 9;');
      expect(t).toContain('keepalive time 3;');
      expect(t).toContain('connect retry time 5;');
      expect(t).toContain('error wait time 1, 5;');
      expect(t).toContain('bfd on;');
      expect(t).toContain('graceful restart on;');
      expect(t).toMatch(/protocol bfd \{\s+interface "[^"]+"(, "[^"]+")* \{\s+min rx interval 100 ms;\s+min tx interval 100 ms;\s+multiplier 3;/);
    }
    expect(node).toContain('interface "eth0" {');
    expect(tor).toContain('interface "rack", "spine*" {');
    expect(spine).toContain('interface "tor*" {');
    // two spines: the ToR has a session with each and merges their default routes (ECMP)
    expect(tor).toMatch(/protocol bgp spine1 from timers \{[^}]*local 2001:db8:ffff:0:1000::3 as 4200100001;\s+neighbor 2001:db8:ffff:0:1000::2 as 4200000000;\s+ipv6 \{\s+import where net = ::\/0;/);
    expect(tor).toMatch(/protocol kernel \{[^}]*\};\s+merge paths on;\s+\}/);
    const spine1 = text('fabric/spine1/etc/bird/bird.conf');
    expect(spine1).toContain('router id 48.0.0.2;');
    expect(spine1).toMatch(/local 2001:db8:ffff:0:1000::6 as 4200000000;\s+neighbor 2001:db8:ffff:0:1000::7 as 4200100003;/);
    expect(spine1.replace(/2001:db8:ffff:0:1000::/g, 'L').replace(/48\.0\.0\.2/, 'ID').replace(/on spine1,/, 'on S,')).toBe(spine.replace(/2001:db8:ffff::/g, 'L').replace(/48\.0\.0\.1/, 'ID').replace(/on spine,/, 'on S,'));
  });

  it('the metal stack (one rack) has one spine; the ToR neither merges paths nor names a second spine', async () => {
    const tree = readTree(await renderStack('metal'));
    const tor = tree.get('fabric/tor-seg1/etc/bird/bird.conf')!.content.toString('utf8');
    expect(tor).not.toContain('merge paths');
    expect(tor).not.toContain('spine1');
    expect([...tree.keys()].filter((p) => p.startsWith('fabric/spine')).length).toBe(3);
  });

  it('bfd.enabled: false renders no BFD', () => {
    const plan = planText(withRouting('multirack', 'routing:\n  bfd: { enabled: false }\n'));
    for (const f of fabricRenderer.render(ctxOf(plan))) {
      if (f.path.endsWith('bird.conf')) {
        expect(f.content).not.toContain('bfd');
        expect(f.content).toContain('error wait time 1, 5;');
      }
    }
  });
});

describe('netplan files of the routing layer pass netplan generate', () => {
  const hasNetplan = (() => {
    try {
      tool('netplan');
      return true;
    } catch {
      return false;
    }
  })();

  for (const mode of ['bgp', 'static'] as const) {
    it.runIf(hasNetplan)(`${mode}: fabric routers and a node's pod-prefix discard route`, async () => {
      const stack = writeStack(`multirack-${mode}`, withRouting('multirack', `routing:\n  mode: ${mode}\n`));
      const out = await renderStack(stack);
      const plan = planText(withRouting('multirack', `routing:\n  mode: ${mode}\n`));
      const tmp = tempDir(`np-${mode}`);
      // node: 60-flat6.yaml and 61-flat6-pods.yaml merge into one .network
      const gpu = await netplanUnits(join(out, 'hosts', 'gpu1'), join(tmp, 'gpu1'));
      expect(gpu.networks).toHaveLength(1);
      expect(gpu.networks[0]!.matchMac).toBe('02:00:5e:10:00:01');
      expect(gpu.networks[0]!.routes).toEqual([
        { destination: '::/0', gateway: '2001:db8:100:3::1', type: 'unicast' },
        { destination: '2001:db8:4200:c0::/64', type: 'unreachable' },
      ]);
      // ToR: rack segment (gateway) + uplink; static mode adds a route per node and the default
      const tor = await netplanUnits(join(out, 'fabric', 'tor-r1'), join(tmp, 'tor-r1'));
      const byName = new Map(tor.networks.map((n) => [n.matchName, n]));
      // bgp: a link to each of the two spines; static mode has one spine
      expect([...byName.keys()].sort()).toEqual(mode === 'bgp' ? ['rack', 'spine', 'spine1'] : ['rack', 'spine']);
      expect(byName.get('rack')!.addresses).toEqual(['2001:db8:100:1::1/64']);
      expect(byName.get('spine')!.addresses).toEqual(['2001:db8:ffff::3/127']);
      if (mode === 'bgp') expect(byName.get('spine1')!.addresses).toEqual(['2001:db8:ffff:0:1000::3/127']);
      const torRoutesRendered = [...byName.get('rack')!.routes, ...byName.get('spine')!.routes].map((r) => `${r.type} ${r.destination} ${r.gateway ?? ''}`.trim());
      const expected = expectedTorRoutes(plan, plan.rackAt(1))
        .filter((e) => mode === 'static' || e.type === 'unreachable')
        .map((e) => `${e.type} ${e.to} ${e.via ?? ''}`.trim());
      expect(torRoutesRendered.sort()).toEqual(expected.sort());
      expect(torRoutesRendered.length).toBe(mode === 'static' ? torRoutes(4) : 1);
      // spine: one /127 per rack; static mode: pod block + subnet per rack
      const spine = await netplanUnits(join(out, 'fabric', 'spine'), join(tmp, 'spine'));
      expect(spine.networks.map((n) => n.matchName).sort()).toEqual(['tor0', 'tor1', 'tor2', 'tor3']);
      const spineRendered = spine.networks.flatMap((n) => n.routes.map((r) => `${r.destination} ${r.gateway}`));
      if (mode === 'static') {
        expect(spineRendered.sort()).toEqual(expectedSpineRoutes(plan).map((e) => `${e.to} ${e.via}`).sort());
        expect(spineRendered.length).toBe(spineRoutes(4));
      } else {
        expect(spineRendered).toEqual([]);
      }
      // static mode runs no routing daemon
      const birds = [...readTree(out).keys()].filter((p) => p.endsWith('bird.conf'));
      expect(birds.length).toBe(mode === 'bgp' ? 14 + 4 + 2 : 0);
    });
  }
});

describe('growth changes only what it must', () => {
  it('a node added to rack r0 changes tor-r0 and nothing else of the fabric; the spine files stay byte-identical', async () => {
    const before = readTree(await renderStack('multirack'));
    const grown = stackText('multirack').replace('- { name: r0, index: 0, nodes: 4 }', '- { name: r0, index: 0, nodes: 5 }');
    const after = readTree(await renderStack(writeStack('multirack', grown)));
    for (const [p, f] of before) {
      if (p === 'plan.json' || p.startsWith('hosts/') || p.startsWith('fabric/tor-r0/')) continue;
      expect(after.get(p)?.content.equals(f.content), p).toBe(true);
    }
    expect(after.get('fabric/tor-r0/etc/bird/bird.conf')!.content.equals(before.get('fabric/tor-r0/etc/bird/bird.conf')!.content)).toBe(false);
    expect(after.get('fabric/tor-r0/etc/bird/bird.conf')!.content.toString()).toContain('protocol bgp node_s4 from timers');
  });

  it('a rack added leaves every existing ToR file byte-identical', async () => {
    const before = readTree(await renderStack('multirack'));
    const grown = stackText('multirack').replace(/\n(\s+)- name: r3\n/, '\n$1- { name: r4, index: 4, nodes: 2 }\n$1- name: r3\n');
    const after = readTree(await renderStack(writeStack('multirack', grown)));
    const tors = [...before.keys()].filter((p) => p.startsWith('fabric/tor-'));
    expect(tors.length).toBe(12);
    for (const p of tors) expect(after.get(p)?.content.equals(before.get(p)!.content), p).toBe(true);
    expect([...after.keys()].filter((p) => p.startsWith('fabric/tor-r4/')).length).toBe(3);
    expect(after.get('fabric/spine/etc/bird/bird.conf')!.content.toString()).toContain('protocol bgp tor4 from timers');
    expect(after.get('fabric/spine1/etc/bird/bird.conf')!.content.toString()).toContain('protocol bgp tor4 from timers');
  });

  it('a spine added changes no existing spine link or ToR session (spine 0 keeps its links)', async () => {
    const two = readTree(await renderStack('multirack'));
    const three = readTree(await renderStack(writeStack('multirack', withRouting('multirack', 'routing:\n  spines: 3\n'))));
    for (const p of [...two.keys()].filter((k) => /^fabric\/spine1?\/etc\/(bird|netplan)\//.test(k))) {
      const a = two.get(p)!.content.toString();
      const b = three.get(p)!.content.toString();
      expect(b, p).toBe(a);
    }
    const tor = three.get('fabric/tor-r2/etc/bird/bird.conf')!.content.toString();
    expect(tor.match(/^protocol bgp spine\d* from timers/gm)).toEqual(['protocol bgp spine from timers', 'protocol bgp spine1 from timers', 'protocol bgp spine2 from timers']);
    expect(tor).toContain('neighbor 2001:db8:ffff:0:2000::4 as 4200000000;');
  });

  it('render --host writes only the ToR of its rack (O(rack), not O(cluster))', async () => {
    const tree = readTree(await renderStack('scale', ['--host', 'rack8191-n17']));
    const fabric = [...tree.keys()].filter((p) => p.startsWith('fabric/'));
    expect(fabric.sort()).toEqual(['fabric/tor-rack8191/etc/bird/bird.conf', 'fabric/tor-rack8191/etc/netplan/60-flat6-fabric.yaml', 'fabric/tor-rack8191/etc/sysctl.d/99-flat6-router.conf']);
    expect(tree.get('fabric/tor-rack8191/etc/bird/bird.conf')!.content.toString().match(/^protocol bgp node_s\d+/gm)).toHaveLength(64);
  });

  it('the router sysctl file is accepted by a real kernel (sysctl -p in a fresh namespace)', async () => {
    if (process.getuid?.() !== 0) return;
    const out = await renderStack('multirack');
    const ns = `f6-test-${process.pid}-sysctl`;
    const ip = tool('ip');
    expect(spawnSync(ip, ['netns', 'add', ns]).status).toBe(0);
    try {
      const r = spawnSync(ip, ['netns', 'exec', ns, tool('sysctl'), '-p', join(out, 'fabric/tor-r0/etc/sysctl.d/99-flat6-router.conf')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('net.ipv6.conf.all.forwarding = 1');
    } finally {
      spawnSync(ip, ['netns', 'delete', ns]);
    }
  });
});

describe('routing checks', () => {
  /** `line`: text on the line the diagnostic must point at (the first such line inside routing:). */
  const cases: Array<{ name: string; block: string; code: string; line: string; status: 1 | 2 }> = [
    { name: 'fabric too small', block: 'routing:\n  fabric: "2001:db8:ffff::/126"', code: 'FABRIC_PREFIX', line: 'fabric:', status: 1 },
    { name: 'fabric inside the pod range', block: 'routing:\n  fabric: "2001:db8:4200:ff::/64"', code: 'RANGE_OVERLAP', line: 'fabric:', status: 1 },
    { name: 'ToR AS numbers overflow', block: 'routing:\n  asn: { tor: 4294967292 }', code: 'ASN_RANGE', line: 'asn:', status: 1 },
    { name: 'spine AS inside the node range', block: 'routing:\n  asn:\n    spine: 4210000005', code: 'ASN_OVERLAP', line: 'spine:', status: 1 },
    { name: 'keepalive not below hold', block: 'routing:\n  bgp: { holdTime: 6, keepaliveTime: 6 }', code: 'BGP_TIMERS', line: 'bgp:', status: 1 },
    { name: 'error wait shrinking', block: 'routing:\n  bgp: { errorWaitTime: 10, errorWaitMaxTime: 5 }', code: 'BGP_TIMERS', line: 'bgp:', status: 1 },
    { name: 'two spines in static mode', block: 'routing:\n  mode: static\n  spines: 2', code: 'LAYOUT', line: 'spines:', status: 1 },
    { name: 'fabric holds 32 links, 2 per spine with 2 spines', block: 'routing:\n  fabric: "2001:db8:ffff::/122"', code: 'FABRIC_PREFIX', line: 'fabric:', status: 1 },
    { name: 'seventeen spines', block: 'routing:\n  spines: 17', code: 'SCHEMA_VALUE', line: 'spines:', status: 2 },
    { name: 'a 2-byte AS number', block: 'routing:\n  asn: { node: 65000 }', code: 'SCHEMA_VALUE', line: 'asn:', status: 2 },
    { name: 'a misspelt field', block: 'routing:\n  mod: static', code: 'SCHEMA_UNKNOWN_FIELD', line: 'mod:', status: 2 },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.code}, located, exit ${c.status}, nothing rendered`, async () => {
      const text = withRouting('multirack', c.block);
      const file = writeStack('routing-bad', text);
      const v = await cli(['validate', '--stack', file]);
      expect(v.code).toBe(c.status);
      expect(v.stderr).toContain(c.code);
      const lines = text.split('\n');
      const routingLine = lines.findIndex((l) => l.trim().startsWith('routing:')) + 1;
      const line = lines.findIndex((l, i) => i >= routingLine - 1 && l.includes(c.line)) + 1;
      const at = new RegExp(`Pulumi\\.routing-bad\\.yaml:(\\d+):\\d+: error ${c.code}`).exec(v.stderr);
      expect(at, v.stderr).not.toBeNull();
      expect(Number(at![1])).toBe(line);
      if (c.status === 1) expect(v.stderr).toContain('fix:');
      const out = join(tempDir('bad-out'), 'out');
      const r = await cli(['render', '--stack', file, '--out', out]);
      expect(r.code).toBe(c.status);
      expect(hashTree(out)).toBe('absent');
    });
  }

  it('AS numbers are not checked in static mode (no BGP runs)', async () => {
    const v = await cli(['validate', '--stack', writeStack('static-asn', withRouting('multirack', 'routing:\n  mode: static\n  asn:\n    spine: 4210000005'))]);
    expect(v.code, v.stderr).toBe(0);
  });

  it('a real-address stack without routing.fabric gets a warning naming the documentation prefix', async () => {
    const text = stackText('multirack').replace(/2001:db8:/g, '2a01:4f8:');
    const v = await cli(['validate', '--stack', writeStack('real', text)]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toContain('warning FABRIC_PREFIX');
    expect(v.stderr).toContain('2001:db8:ffff::/64');
    const quiet = await cli(['validate', '--stack', writeStack('real2', withRouting('multirack', 'routing:\n  fabric: "2a01:4f8:ffff::/64"').replace(/2001:db8:/g, '2a01:4f8:'))]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('FABRIC_PREFIX');
  });
});

describe('the plan states the routing state per tier and what churn changes', () => {
  it('bgp (default) and static mode', async () => {
    const bgp = await cli(['plan', '--stack', 'multirack']);
    expect(bgp.code).toBe(0);
    expect(bgp.stdout).toContain('routing state per tier (bgp mode');
    expect(bgp.stdout).toMatch(/node {3}2 routes: default via its rack gateway \+ its own pod prefix/);
    expect(bgp.stdout).toMatch(/ToR {4}1 route per node \(its pod prefix, learned by BGP\) \+ default toward the spines \(one multipath route over all 2: ECMP\) \+ the rack pod block \(discard\): at most 6/);
    expect(bgp.stdout).toMatch(/spine {2}2 routes per rack \(pod block \+ rack subnet, learned by BGP\): 8 in all at each of 2 spines/);
    expect(bgp.stdout).toContain('recovery: BFD 100 ms x 3 on every session; a failed session retries after 1 s (doubling up to 5 s); graceful restart 120 s');
    expect(bgp.stdout).toContain(`node add: ${churnOf('bgp').nodeAdd}`);
    expect(bgp.stdout).toContain('AS numbers: spine 4200000000, ToR 4200100000 + rack index, node 4210000000 + rack index x 64 + slot');
    const st = await cli(['plan', '--stack', writeStack('multirack', withRouting('multirack', 'routing:\n  mode: static'))]);
    expect(st.stdout).toContain('routing state per tier (static mode');
    expect(st.stdout).toContain('node add: one static route at its ToR');
    expect(st.stdout).toContain('rack add: two static routes at the spine');
    expect(st.stdout).not.toContain('AS numbers');
    expect(st.stdout).toMatch(/default toward the spine \+ the rack pod block/);
    expect(st.stdout).toContain(': 8 in all (one spine)');
    const json = JSON.parse((await cli(['plan', '--stack', 'multirack', '--json'])).stdout) as { routes: Record<string, unknown>; routing: Record<string, unknown> };
    expect(json.routes).toEqual({ mode: 'bgp', node: 2, torPerNode: 1, torFixed: 2, torMax: 6, spinePerRack: 2, spine: 8, spines: 2 });
    expect(json.routing).toEqual({ mode: 'bgp', fabric: '2001:db8:ffff::/64', spines: 2, asn: { spine: 4200000000, tor: 4200100000, node: 4210000000 } });
  });

  it('the predicted counts are the sizes of the expected route sets', () => {
    const plan = planBundled('multirack');
    const t = tierSummary(plan);
    for (const r of plan.racks()) expect(expectedTorRoutes(plan, r).length).toBe(torRoutes(r.nodeCount));
    expect(expectedSpineRoutes(plan).length).toBe(t.spine);
    expect(t.torMax).toBe(torRoutes(4));
    // scale uses the rack layout: one route per rack at each spine; the ToR also discards its rack block
    const scalePlan = planBundled('scale');
    const scale = tierSummary(scalePlan);
    expect(scale.spine).toBe(16384);
    expect(scale.spine).toBe(scalePlan.rackCount);
    expect(scale.spinePerRack).toBe(1);
    expect(scale.torMax).toBe(67);
    expect(expectedTorRoutes(scalePlan, scalePlan.rackAt(16383)).length).toBe(scale.torMax);
    expect(expectedSpineRoutes(scalePlan, [scalePlan.rackAt(0), scalePlan.rackAt(16383)]).map((r) => r.to)).toEqual(['2001:db8:4000::/57', '2001:db8:401f:ff80::/57']);
    expect(existsSync(join('templates', 'routing'))).toBe(true);
  });
});
