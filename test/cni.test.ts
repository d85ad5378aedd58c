/**
 * CNI configuration: one conflist per node, host-local over exactly the
 * node's pod prefix, no masquerade, no tunnel; checked for every node of the
 * bundled stacks, as a property over random stacks, and against the real
 * host-local plugin. (~2 s)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { containsAddress, formatAddress, formatPrefix, last, overlaps, parseAddress, parsePrefix } from '../src/core/ip.js';
import type { ClusterPlan } from '../src/plan/plan.js';
import { CNI_CONFLIST_PATH, cniRenderer } from '../src/render/cni.js';
import type { RenderContext } from '../src/render/context.js';
import { TemplateSet } from '../src/render/templates.js';
import { cleanupTempDirs, hostsOf, planBundled, planText, readTree, renderStack, SCALE_HOSTS, tempDir, TEST_SECRETS } from './helpers.js';

afterAll(cleanupTempDirs);

interface Conflist {
  cniVersion: string;
  name: string;
  plugins: Array<{
    type: string;
    sysctl?: Record<string, string>;
    ipMasq?: boolean;
    mtu?: number;
    ipam?: { type: string; ranges: Array<Array<{ subnet: string; rangeStart: string; rangeEnd: string; gateway: string }>>; routes: Array<{ dst: string }> };
  }>;
}

const templates = new TemplateSet();
const ctxOf = (plan: ClusterPlan): RenderContext => ({
  plan,
  templates,
  secrets: { bootstrapToken: TEST_SECRETS.bootstrapToken, certificateKey: TEST_SECRETS.certificateKey, caCertHashes: [] },
});

function conflistOf(plan: ClusterPlan, rack: number, slot: number): Conflist {
  const node = plan.nodeAt(rack, slot)!;
  const files = cniRenderer.render(ctxOf(plan), node);
  expect(files.map((f) => f.path)).toEqual([CNI_CONFLIST_PATH]);
  expect(files[0].mode).toBe(0o644);
  return JSON.parse(files[0].content) as Conflist;
}

/** Everything a conflist must say about the node's pod prefix. */
function expectConflistFor(c: Conflist, podPrefix: string, mtu: number): void {
  expect(c.cniVersion).toBe('1.0.0');
  expect(c.name).toBe('flat6');
  // loopback gives tuning the previous result it requires; tuning switches
  // DAD off in the pod's namespace before ptp makes eth0 (docs/pods.md)
  expect(c.plugins.map((p) => p.type)).toEqual(['loopback', 'tuning', 'ptp']);
  expect(c.plugins[0]).toEqual({ type: 'loopback' });
  expect(c.plugins[1]).toEqual({ type: 'tuning', sysctl: { 'net.ipv6.conf.all.accept_dad': '0', 'net.ipv6.conf.default.accept_dad': '0' } });
  const ptp = c.plugins[2];
  expect(ptp.ipMasq).toBe(false);
  expect(ptp.mtu).toBe(mtu);
  expect(ptp.ipam!.type).toBe('host-local');
  expect(ptp.ipam!.ranges).toHaveLength(1);
  expect(ptp.ipam!.ranges[0]).toHaveLength(1);
  const r = ptp.ipam!.ranges[0][0];
  expect(r.subnet).toBe(podPrefix);
  const p = parsePrefix(r.subnet);
  for (const a of [r.rangeStart, r.rangeEnd, r.gateway]) {
    expect(formatAddress(parseAddress(a))).toBe(a);
    expect(containsAddress(p, parseAddress(a))).toBe(true);
  }
  expect(parseAddress(r.gateway)).toBe(p.base + 1n);
  expect(parseAddress(r.rangeStart)).toBe(p.base + 2n);
  // /64: the top 128 interface identifiers are reserved subnet anycast (RFC 2526)
  expect(parseAddress(r.rangeEnd)).toBe(p.length === 64 ? last(p) - 128n : last(p));
  expect(ptp.ipam!.routes).toEqual([{ dst: '::/0' }]);
}

describe('CNI conflist of every node of the bundled stacks', () => {
  for (const stack of ['metal', 'multirack'] as const) {
    it(`${stack}: etc/cni/net.d/10-flat6.conflist parses and its range is the node's pod prefix`, async () => {
      const plan = planBundled(stack);
      const tree = readTree(await renderStack(stack));
      const hosts = hostsOf(tree);
      expect(hosts.length).toBe(plan.nodeCount);
      for (const node of plan.nodes()) {
        const f = tree.get(`hosts/${node.name}/${CNI_CONFLIST_PATH}`);
        expect(f, node.name).toBeDefined();
        expect(f!.mode).toBe(0o644);
        expectConflistFor(JSON.parse(f!.content.toString('utf8')) as Conflist, formatPrefix(node.podPrefix), plan.spec.network.mtu);
      }
    });
  }

  it('scale: the sampled hosts (render --host) carry their own prefix', async () => {
    const plan = planBundled('scale');
    for (const host of SCALE_HOSTS) {
      const node = plan.findNode(host)!;
      const tree = readTree(await renderStack('scale', ['--host', host]));
      const f = tree.get(`hosts/${host}/${CNI_CONFLIST_PATH}`)!;
      expectConflistFor(JSON.parse(f.content.toString('utf8')) as Conflist, formatPrefix(node.podPrefix), 1500);
    }
  });

  it('known answers: multirack gpu1 (rack 3, slot 0) and r1-n2', () => {
    const plan = planBundled('multirack');
    expect(conflistOf(plan, 3, 0).plugins[2].ipam!.ranges[0][0]).toEqual({
      subnet: '2001:db8:4200:c0::/64',
      rangeStart: '2001:db8:4200:c0::2',
      rangeEnd: '2001:db8:4200:c0:ffff:ffff:ffff:ff7f',
      gateway: '2001:db8:4200:c0::1',
    });
    expect(conflistOf(plan, 1, 2).plugins[2].ipam!.ranges[0][0].subnet).toBe('2001:db8:4200:42::/64');
  });
});

/** A generated stack: R racks of N nodes, S slots per rack, node prefixes /L out of a /40 pod range. */
function randomStack(R: number, N: number, slotBits: number, L: number, mtu: number): string {
  return `config:
  flat6:cluster:
    name: prop
    kubernetesVersion: v1.33.4
    network:
      nodes: "2001:db8:1000::/48"
      pods: "2001:db8:4000::/40"
      podPrefixLength: ${L}
      services: "2001:db8:43::/112"
      mtu: ${mtu}
      dns: ["2001:db8:53::53"]
    layout: { slotsPerRack: ${2 ** slotBits}, hostOffset: 16 }
    controlPlane: { count: 1, vip: "2001:db8:1000::2" }
    racks: { count: ${R}, nodes: ${N} }
`;
}

describe('CNI conflist: property over random stacks and nodes', () => {
  it('the range equals the node pod prefix, and two nodes never share addresses', () => {
    const arb = fc
      .record({ slotBits: fc.integer({ min: 0, max: 8 }), L: fc.constantFrom(64, 72, 80, 96, 112, 120), mtu: fc.constantFrom(1280, 1500, 9000) })
      .chain(({ slotBits, L, mtu }) => {
        // rack blocks are /(L - slotBits) inside the /40: room for 2^(L - slotBits - 40) racks
        const maxRacks = Math.min(500, 2 ** Math.min(20, L - slotBits - 40));
        return fc.record({
          slotBits: fc.constant(slotBits),
          L: fc.constant(L),
          mtu: fc.constant(mtu),
          R: fc.integer({ min: 1, max: maxRacks }),
          N: fc.integer({ min: 1, max: 2 ** slotBits }),
        });
      })
      .chain((s) =>
        fc.record({
          s: fc.constant(s),
          a: fc.record({ rack: fc.integer({ min: 0, max: s.R - 1 }), slot: fc.integer({ min: 0, max: s.N - 1 }) }),
          b: fc.record({ rack: fc.integer({ min: 0, max: s.R - 1 }), slot: fc.integer({ min: 0, max: s.N - 1 }) }),
        }),
      );
    fc.assert(
      fc.property(arb, ({ s, a, b }) => {
        const plan = planText(randomStack(s.R, s.N, s.slotBits, s.L, s.mtu));
        const ca = conflistOf(plan, a.rack, a.slot);
        const na = plan.nodeAt(a.rack, a.slot)!;
        expectConflistFor(ca, formatPrefix(na.podPrefix), s.mtu);
        expect(containsAddress(plan.podRange, na.podPrefix.base)).toBe(true);
        const sb = parsePrefix(conflistOf(plan, b.rack, b.slot).plugins[2].ipam!.ranges[0][0].subnet);
        const sa = parsePrefix(ca.plugins[2].ipam!.ranges[0][0].subnet);
        expect(overlaps(sa, sb)).toBe(a.rack === b.rack && a.slot === b.slot);
      }),
      { numRuns: 150 },
    );
  });
});

describe('the real host-local IPAM plugin with a rendered range', () => {
  const plugin = '/usr/lib/cni/host-local';
  it.runIf(existsSync(plugin))('hands out rangeStart, then the next address, all inside the pod prefix', () => {
    const plan = planBundled('multirack');
    const c = conflistOf(plan, 2, 3);
    const dataDir = tempDir('ipam');
    const conf = { cniVersion: c.cniVersion, name: c.name, ipam: { ...c.plugins[2].ipam!, dataDir } };
    const add = (id: string): string => {
      const r = spawnSync(plugin, [], {
        input: JSON.stringify(conf),
        env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: '/nonexistent', CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' },
        encoding: 'utf8',
      });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { ips: Array<{ address: string; gateway: string }>; routes: Array<{ dst: string }> };
      expect(out.ips[0].gateway).toBe('2001:db8:4200:83::1');
      expect(out.routes).toEqual([{ dst: '::/0' }]);
      return out.ips[0].address;
    };
    expect(add('one')).toBe('2001:db8:4200:83::2/64');
    expect(add('two')).toBe('2001:db8:4200:83::3/64');
    // leases are files named by address in dataDir/<network name>
    expect(readFileSync(join(dataDir, 'flat6', '2001:db8:4200:83::2'), 'utf8')).toContain('one');
  });
});
