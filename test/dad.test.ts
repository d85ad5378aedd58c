/**
 * IPv6 duplicate address detection (DAD) with the rendered files
 * (docs/pods.md): off the pod start path, on for the node's uplink.
 *
 * - A pod attached with a node's rendered conflist and sysctl file (the real
 *   plugins from /usr/lib/cni, flat6 lab's CNI runtime) has no tentative
 *   address, on its eth0 or on the gateway at the node's end of its veth,
 *   when ADD returns, and answers a ping across a rack at once (a two-rack
 *   lab built from the rendered files). Control: with the files as rendered
 *   before (ptp alone, no accept_dad lines) the gateway is still tentative.
 * - The uplink still performs DAD: the node's address on its uplink while a
 *   second namespace on the same link already holds it is marked dadfailed by
 *   the kernel, whether the NIC is there before systemd-sysctl runs or
 *   appears later (and is renamed) and gets its line from udev's
 *   `systemd-sysctl --prefix=/net/ipv6/conf/<name>`. Control: without that
 *   udev step the late NIC would skip DAD (default accept_dad = 0).
 *
 * Root. Namespaces f6dad-<pid>-... (and one lab run), 2001:db8::/32 only,
 * all removed. Run under `flock /tmp/flat6-lab.lock` with the lab tests.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatAddress } from '../src/core/ip.js';
import { tentativeAfterAdd } from '../src/lab/check-attach.js';
import { attachmentOf, cniAdd, cniDel, readConflist, type Attachment, type Conflist } from '../src/lab/cni.js';
import { teardown } from '../src/lab/down.js';
import { readState, runDirOf } from '../src/lab/state.js';
import { addPod, SYSTEMD_SYSCTL } from '../src/lab/up.js';
import { hostRoot } from '../src/lab/topology.js';
import { cleanupTempDirs, cli, planBundled, renderStack, tempDir, tool } from './helpers.js';

const ROOT_USER = process.getuid?.() === 0;
const PREFIX = `f6dad-${process.pid}-`;
const STACK = 'multirack';
let IP = '';
let out = '';
let serial = 0;
const made: string[] = [];

function newNs(label: string): string {
  const ns = `${PREFIX}${label}${serial++}`;
  execFileSync(IP, ['netns', 'add', ns]);
  made.push(ns);
  execFileSync(IP, ['-n', ns, 'link', 'set', 'lo', 'up']);
  return ns;
}

const inNs = (ns: string, argv: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(IP, ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
const ip = (ns: string, args: string[]): string => execFileSync(IP, ['-n', ns, ...args], { encoding: 'utf8' });
const sysctlOf = (ns: string, key: string): string => inNs(ns, [tool('sysctl'), '-n', key]).stdout.trim();

/** Flags of an address ("tentative", "dadfailed", ...) as `ip -6 addr` shows them. */
function addrLine(ns: string, dev: string, addr: string): string {
  return ip(ns, ['-6', 'addr', 'show', 'dev', dev])
    .split('\n')
    .find((l) => l.includes(`inet6 ${addr}/`)) ?? '';
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out (${ms} ms) waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  if (!ROOT_USER) return;
  IP = tool('ip');
  out = await renderStack(STACK);
});

afterEach(() => {
  for (const ns of made.splice(0)) spawnSync(IP, ['netns', 'delete', ns]);
});

afterAll(() => {
  cleanupTempDirs();
});

const sysctlFile = (host: string): string => join(hostRoot(out, host), 'etc/sysctl.d/99-flat6.conf');
const conflistOf = (host: string): Conflist => readConflist(join(hostRoot(out, host), 'etc/cni/net.d/10-flat6.conflist'));

/** The files as flat6 rendered them before DAD left the pod path: ptp alone, no accept_dad lines. */
function dadOnFiles(host: string): { list: Conflist; sysctl: string } {
  const list = conflistOf(host);
  const file = join(tempDir('dad-on'), '99-flat6.conf');
  writeFileSync(file, readFileSync(sysctlFile(host), 'utf8').split('\n').filter((l) => !l.includes('accept_dad')).join('\n'));
  return { list: { ...list, plugins: list.plugins.filter((p) => p.type === 'ptp') }, sysctl: file };
}

/** A node namespace with the sysctl file applied as at boot, and one pod attached by the conflist. */
async function attachOne(list: Conflist, sysctl: string): Promise<{ node: string; pod: string; a: Attachment; address: string; hostVeth: string; tentative: string[]; gateway: string }> {
  const node = newNs('node');
  const r = inNs(node, [SYSTEMD_SYSCTL, sysctl]);
  expect(r.code, r.stderr).toBe(0);
  const pod = newNs('pod');
  const dir = tempDir('cni');
  const a: Attachment = { nodeNs: node, podNs: pod, containerId: `dad-${pod}`, ifname: 'eth0', ipamDataDir: join(dir, 'ipam'), cacheFile: join(dir, 'result.json') };
  const res = await cniAdd(list, a);
  const { address, hostVeth } = attachmentOf(res, 'eth0');
  const tentative = await tentativeAfterAdd(pod, 'eth0', node, hostVeth);
  return { node, pod, a, address, hostVeth, tentative, gateway: res.ips![0].gateway! };
}

describe.runIf(ROOT_USER)('DAD off the pod start path (rendered conflist and sysctl file)', () => {
  it('nothing is tentative when ADD returns, the pod reaches its gateway at once, and DEL cleans up', async () => {
    const host = 'r1-n0';
    const p = await attachOne(conflistOf(host), sysctlFile(host));
    expect(p.tentative).toEqual([]);
    expect(sysctlOf(p.pod, 'net.ipv6.conf.eth0.accept_dad')).toBe('0');
    expect(sysctlOf(p.node, `net.ipv6.conf.${p.hostVeth}.accept_dad`)).toBe('0');
    const ping = inNs(p.pod, [tool('ping'), '-6', '-n', '-c', '1', '-W', '1', p.gateway]);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    await cniDel(conflistOf(host), p.a);
    expect(ip(p.node, ['-o', 'link', 'show']).includes(p.hostVeth)).toBe(false);
  });

  it('control: with DAD on the pod path (the files as rendered before), the gateway is still tentative when ADD returns', async () => {
    const host = 'r1-n0';
    const on = dadOnFiles(host);
    const p = await attachOne(on.list, on.sysctl);
    expect(p.tentative.some((t) => t.startsWith(`${p.gateway} on ${p.hostVeth} (node)`)), p.tentative.join(', ')).toBe(true);
  });

  it('a pod added to a lab built from the rendered files answers a ping from another rack as soon as ADD returns', async () => {
    const env = { FLAT6_LAB_DIR: tempDir('dad-lab') };
    const lab = (args: string[]): ReturnType<typeof cli> => cli(['lab', ...args, '--stack', STACK], { env });
    try {
      const up = await lab(['up', '--racks', '2', '--nodes-per-rack', '1', '--pods-per-node', '1']);
      expect(up.code, up.stderr + up.stdout).toBe(0);
      expect(up.stdout).toMatch(/no address tentative when ADD returned/);
      const st = readState(runDirOf(env, STACK))!;
      const plan = planBundled(STACK);
      const [a, b] = st.nodes;
      expect(plan.findNode(a.name)!.rack.index).not.toBe(plan.findNode(b.name)!.rack.index);
      const from = st.pods.find((x) => x.node === a.name)!;
      // The new pod: ADD, then the first echo request from the other rack must be answered.
      const pod = await addPod(st, join(st.dir, 'render'), b, 1);
      const ping = inNs(from.ns, [tool('ping'), '-6', '-n', '-c', '1', '-W', '1', pod.address]);
      expect(ping.code, `${from.address} -> ${pod.address}: ${ping.stdout}${ping.stderr}`).toBe(0);
      const back = inNs(pod.ns, [tool('ping'), '-6', '-n', '-c', '1', '-W', '1', from.address]);
      expect(back.code, back.stdout + back.stderr).toBe(0);
      const down = await lab(['down']);
      expect(down.code, down.stderr).toBe(0);
    } finally {
      const st = readState(runDirOf(env, STACK));
      if (st) teardown(st);
    }
  }, 120_000);
});

describe.runIf(ROOT_USER)('the uplink keeps DAD: a duplicate of the node address is detected', () => {
  /**
   * The node (rendered sysctl file) and a second namespace holding the node's
   * address on the same link: the node's copy must end up dadfailed.
   */
  async function duplicate(host: string, order: 'nic-first' | 'nic-later' | 'nic-later-without-udev'): Promise<{ line: string; acceptDad: string }> {
    const n = planBundled(STACK).findNode(host)!;
    const uplink = n.interface;
    const addr = n.address;
    const a = formatAddress(addr);
    const node = newNs('node');
    const other = newNs('dup');
    const boot = n.mac ? 'f6boot0' : uplink;
    const cable = (): void => {
      ip(other, ['link', 'add', 'name', 'dup0', 'type', 'veth', 'peer', 'name', boot, 'netns', node]);
    };
    if (order === 'nic-first') cable();
    const r = inNs(node, [SYSTEMD_SYSCTL, sysctlFile(host)]);
    expect(r.code, r.stderr).toBe(0);
    if (order !== 'nic-first') cable();
    // udev: the .link rename, then (a NIC that appears after boot) 99-systemd.rules for it under its final name
    if (boot !== uplink) ip(node, ['link', 'set', 'dev', boot, 'name', uplink]);
    {
      if (order === 'nic-later') {
        const u = inNs(node, [SYSTEMD_SYSCTL, `--prefix=/net/ipv6/conf/${uplink}`, sysctlFile(host)]);
        expect(u.code, u.stderr).toBe(0);
      }
    }
    // The other machine already holds the address (no DAD of its own), then the node's netplan adds it.
    ip(other, ['addr', 'add', `${a}/64`, 'dev', 'dup0', 'nodad']);
    ip(other, ['link', 'set', 'dup0', 'up']);
    ip(node, ['link', 'set', uplink, 'up']);
    ip(node, ['addr', 'add', `${a}/64`, 'dev', uplink]);
    await until(`${a} on ${uplink} to leave tentative`, () => !/tentative/.test(addrLine(node, uplink, a)) || /dadfailed/.test(addrLine(node, uplink, a)), 5_000);
    return { line: addrLine(node, uplink, a), acceptDad: sysctlOf(node, `net.ipv6.conf.${uplink}.accept_dad`) };
  }

  for (const host of ['r0-n0', 'gpu1']) {
    it(`${host}: NIC there before systemd-sysctl runs: dadfailed`, async () => {
      const d = await duplicate(host, 'nic-first');
      expect(d.acceptDad).toBe('1');
      expect(d.line).toMatch(/dadfailed/);
    });

    it(`${host}: NIC appears after systemd-sysctl (renamed if matched by MAC), udev applies its line: dadfailed`, async () => {
      const d = await duplicate(host, 'nic-later');
      expect(d.acceptDad).toBe('1');
      expect(d.line).toMatch(/dadfailed/);
    });
  }

  it('control: a late NIC without the udev step would take default accept_dad = 0 and keep the duplicate', async () => {
    const d = await duplicate('r0-n0', 'nic-later-without-udev');
    expect(d.acceptDad).toBe('0');
    expect(d.line).not.toMatch(/dadfailed|tentative/);
  });

  it('interfaces made after boot on the node (pod veths) start without DAD; all stays 0', () => {
    const node = newNs('node');
    expect(inNs(node, [SYSTEMD_SYSCTL, sysctlFile('r0-n0')]).code).toBe(0);
    ip(node, ['link', 'add', 'name', 'vethx', 'type', 'veth', 'peer', 'name', 'vethy']);
    expect(sysctlOf(node, 'net.ipv6.conf.vethx.accept_dad')).toBe('0');
    expect(sysctlOf(node, 'net.ipv6.conf.all.accept_dad')).toBe('0');
  });
});
