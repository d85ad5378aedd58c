/**
 * Every rendered netplan file goes through the real `netplan generate
 * --root-dir` (Debian netplan.io): each host's etc/netplan/ is copied, modes
 * kept, into a fresh root, netplan must exit 0 without warnings, and the
 * systemd-networkd units it writes must carry the node's address, gateway,
 * DNS servers and MAC match taken from the plan. Covers every host of every
 * bundled stack, a few hosts of the scale stack (render --host), and any
 * other rendered root with an etc/netplan/ (fabric routers): netplan must
 * accept those too.
 * Budget: about 35 netplan runs (0.15 s of CPU each), a few at a time: ~3 s on 2 CPUs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { formatAddress } from '../src/core/ip.js';
import type { ClusterPlan } from '../src/plan/plan.js';
import { cleanupTempDirs, hostsOf, planBundled, readTree, renderAllForTools, rootsWith, tempDir, tool, type ToolTarget } from './helpers.js';

const run = promisify(execFile);
afterAll(cleanupTempDirs);

interface HostCase {
  stack: string;
  /** hosts/<host>, fabric/<router>, ... */
  root: string;
  /** set for hosts/<host> roots */
  host?: string;
  netplanDir: string;
}

let cases: HostCase[] = [];
let targets: ToolTarget[] = [];
const plans = new Map<string, ClusterPlan>();
let NETPLAN = '';

beforeAll(async () => {
  NETPLAN = tool('netplan');
  targets = await renderAllForTools();
  for (const { stack, out } of targets) {
    if (!plans.has(stack)) plans.set(stack, planBundled(stack));
    const tree = readTree(out);
    const roots = rootsWith(tree, 'netplan');
    for (const host of hostsOf(tree)) expect(roots, `${stack}: host ${host} has no netplan file`).toContain(`hosts/${host}`);
    for (const root of roots) {
      if (cases.some((c) => c.stack === stack && c.root === root)) continue; // fabric routers recur in --host renders
      const host = /^hosts\/([^/]+)$/.exec(root)?.[1];
      cases.push({ stack, root, host, netplanDir: join(out, root, 'etc', 'netplan') });
    }
  }
  cases = cases.sort((a, b) => (a.stack + a.root < b.stack + b.root ? -1 : 1));
});

/** Copy a host's netplan files into a fresh root (modes kept) and run netplan generate there. */
async function generate(netplanDir: string): Promise<{ root: string; code: number; stderr: string }> {
  const root = tempDir('netplan');
  mkdirSync(join(root, 'etc', 'netplan'), { recursive: true });
  for (const f of readdirSync(netplanDir)) {
    const dst = join(root, 'etc', 'netplan', f);
    copyFileSync(join(netplanDir, f), dst);
    chmodSync(dst, statSync(join(netplanDir, f)).mode & 0o7777);
  }
  try {
    const r = await run(NETPLAN, ['generate', '--root-dir', root], { timeout: 30_000 });
    return { root, code: 0, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { root, code: typeof err.code === 'number' ? err.code : -1, stderr: err.stderr ?? String(e) };
  }
}

function networkdUnits(root: string): Map<string, string> {
  const dir = join(root, 'run', 'systemd', 'network');
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) out.set(f, readFileSync(join(dir, f), 'utf8'));
  return out;
}

describe('netplan generate --root-dir on every rendered netplan file', () => {
  it('covers every host of every bundled stack (a few hosts of scale)', () => {
    expect(targets.map((t) => t.stack)).toEqual(expect.arrayContaining(['metal', 'multirack', 'scale']));
    for (const t of targets) for (const h of t.hosts) expect(cases.some((c) => c.stack === t.stack && c.host === h), `${t.stack}/${h}`).toBe(true);
    expect(cases.filter((c) => c.stack === 'scale' && c.host).length).toBe(5);
    for (const c of cases) expect(readdirSync(c.netplanDir).length, `${c.stack}/${c.root}`).toBeGreaterThan(0);
  });

  it('accepts every host and writes the planned networkd configuration', async () => {
    // A small pool: netplan is a Python program, and dozens at once only thrash a small CI machine.
    const results: Array<{ c: HostCase; r: Awaited<ReturnType<typeof generate>> }> = [];
    const queue = [...cases];
    const worker = async (): Promise<void> => {
      for (let c = queue.shift(); c; c = queue.shift()) results.push({ c, r: await generate(c.netplanDir) });
    };
    await Promise.all(Array.from({ length: Math.max(2, cpus().length * 2) }, worker));
    expect(results.length).toBe(cases.length);
    const failures: string[] = [];
    for (const { c, r } of results) {
      const where = `${c.stack}/${c.root}`;
      if (r.code !== 0) {
        failures.push(`${where}: netplan generate exited ${r.code}: ${r.stderr.trim()}`);
        continue;
      }
      if (/warning|error/i.test(r.stderr)) failures.push(`${where}: netplan generate complained: ${r.stderr.trim()}`);
      if (!c.host) continue; // a fabric router: accepted by netplan is what is asked here
      const node = plans.get(c.stack)!.findNode(c.host)!;
      const units = networkdUnits(r.root);
      const uplink = units.get(`10-netplan-${node.interface}.network`);
      if (!uplink) {
        failures.push(`${where}: no networkd unit for ${node.interface} (got ${[...units.keys()].join(', ')})`);
        continue;
      }
      const want = [
        `Address=${formatAddress(node.address)}/${node.rack.subnet.length}`,
        'Destination=::/0',
        `Gateway=${formatAddress(node.rack.gateway)}`,
        'IPv6AcceptRA=no',
        `MTUBytes=${plans.get(c.stack)!.spec.network.mtu}`,
        ...plans.get(c.stack)!.dns.map((d) => `DNS=${formatAddress(d)}`),
        ...(node.mac ? [`PermanentMACAddress=${node.mac}`] : [`Name=${node.interface}`]),
      ];
      for (const line of want) if (!uplink.split('\n').includes(line)) failures.push(`${where}: ${node.interface}.network lacks "${line}"`);
      if (/^DHCP=(yes|ipv4|ipv6)/m.test(uplink)) failures.push(`${where}: DHCP enabled`);
      if (/^Address=\d+\.\d+\.\d+\.\d+/m.test(uplink)) failures.push(`${where}: IPv4 address configured`);
      if (node.mac) {
        const link = units.get(`10-netplan-${node.interface}.link`) ?? '';
        if (!link.includes(`Name=${node.interface}`)) failures.push(`${where}: .link does not name the interface ${node.interface}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the harness notices a broken file and a world-readable file (control)', async () => {
    const dir = tempDir('netplan-bad');
    const src = cases.find((c) => c.stack === 'metal' && c.host === 'cp1')!;
    const text = readFileSync(join(src.netplanDir, '60-flat6.yaml'), 'utf8');
    writeFileSync(join(dir, '60-flat6.yaml'), text.replace('dhcp4: false', 'dhcp4: flase'), { mode: 0o600 });
    const bad = await generate(dir);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('invalid boolean');

    const open = tempDir('netplan-open');
    writeFileSync(join(open, '60-flat6.yaml'), text, { mode: 0o644 });
    chmodSync(join(open, '60-flat6.yaml'), 0o644);
    const loose = await generate(open);
    expect(loose.stderr).toMatch(/too open/);
  });
});
