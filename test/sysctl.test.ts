/**
 * Every rendered sysctl.d file is applied for real with `sysctl -p FILE`
 * inside a fresh network namespace this test creates (and always deletes),
 * so a key the kernel does not know fails the test without touching the host.
 * Each value is read back from the namespace afterwards. Covers every host of
 * every bundled stack, a few hosts of the scale stack, and any other rendered
 * root with an etc/sysctl.d/ (fabric routers). A "-" line for an interface
 * (the node's uplink) gets that interface in the namespace first, as on the
 * host the file is for; systemd-sysctl, which applies the files at boot, must
 * also take a host file while the uplink is not there yet.
 * Needs root (ip netns). Budget: ~30 namespaces, about a second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, hostsOf, readTree, renderAllForTools, rootsWith, tempDir, tool, type ToolTarget } from './helpers.js';

const PREFIX = `flat6-sysctl-${process.pid}-`;
let IP = '';
let SYSCTL = '';
const SYSTEMD_SYSCTL = '/usr/lib/systemd/systemd-sysctl';
let serial = 0;

interface SysctlCase {
  label: string;
  file: string;
  /** the host's modules-load.d files (systemd-modules-load runs them before systemd-sysctl) */
  modules: string[];
}
const cases: SysctlCase[] = [];
let targets: ToolTarget[] = [];

function ourNamespaces(): string[] {
  const r = spawnSync(IP, ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(PREFIX));
}

function deleteOurNamespaces(): void {
  for (const ns of ourNamespaces()) spawnSync(IP, ['netns', 'delete', ns]);
}

/** Run `fn` with a fresh namespace that is deleted afterwards, whatever happens. */
function withNamespace<T>(fn: (ns: string) => T): T {
  const ns = `${PREFIX}${serial++}`;
  execFileSync(IP, ['netns', 'add', ns]);
  try {
    return fn(ns);
  } finally {
    spawnSync(IP, ['netns', 'delete', ns]);
  }
}

function inNs(ns: string, argv: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(IP, ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** key = value lines of a sysctl.d file. */
function settings(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith(';'))
    .map((l) => {
      const m = /^-?([^=\s]+)\s*=\s*(.*)$/.exec(l);
      if (!m) throw new Error(`not a sysctl line: ${l}`);
      return [m[1], m[2].trim()];
    });
}

/**
 * Interfaces a file sets on "-" lines (the node's uplink: systemd-sysctl skips
 * such a line while the interface is missing; procps sysctl 4.0 fails on it).
 */
function optionalDevices(text: string): string[] {
  const devs = new Set<string>();
  for (const l of text.split('\n').map((x) => x.trim())) {
    const m = /^-net[./]ipv6[./]conf[./]([^=\s]+?)[./][a-z_]+\s*=/.exec(l);
    if (m && m[1] !== 'all' && m[1] !== 'default') devs.add(m[1]);
  }
  return [...devs];
}

/** The machine's NICs the file names, as veths in the namespace (the file is for a host that has them). */
function addDevices(ns: string, devs: string[]): void {
  devs.forEach((d, i) => execFileSync(IP, ['-n', ns, 'link', 'add', 'name', d, 'type', 'veth', 'peer', 'name', `f6sysctl${i}`]));
}

/** Load the modules a host's modules-load.d asks for, when the kernel lacks what the sysctl file needs. */
function loadModules(files: string[]): void {
  if (existsSync('/proc/sys/net/bridge')) return;
  for (const f of files) {
    for (const mod of readFileSync(f, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
      const r = spawnSync(tool('modprobe'), [mod], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`modprobe ${mod} failed (${r.stderr.trim()}): the sysctl files need it`);
    }
  }
}

beforeAll(async () => {
  IP = tool('ip');
  SYSCTL = tool('sysctl');
  if (process.getuid?.() !== 0) throw new Error('test/sysctl.test.ts creates network namespaces and must run as root');
  targets = await renderAllForTools();
  for (const { stack, out } of targets) {
    const tree = readTree(out);
    const roots = rootsWith(tree, 'sysctl.d');
    for (const host of hostsOf(tree)) expect(roots, `${stack}: host ${host} has no sysctl file`).toContain(`hosts/${host}`);
    for (const root of roots) {
      const etc = join(out, root, 'etc');
      const dir = join(etc, 'sysctl.d');
      const modDir = join(etc, 'modules-load.d');
      const modules = existsSync(modDir) ? readdirSync(modDir).map((f) => join(modDir, f)) : [];
      for (const f of readdirSync(dir).sort()) {
        const label = `${stack}/${root}/${f}`;
        if (!cases.some((c) => c.label === label)) cases.push({ label, file: join(dir, f), modules });
      }
    }
  }
});

afterAll(() => {
  deleteOurNamespaces();
  cleanupTempDirs();
});

describe('sysctl -p in a fresh network namespace', () => {
  it('covers every host of every bundled stack (a few hosts of scale)', () => {
    expect(targets.map((t) => t.stack)).toEqual(expect.arrayContaining(['metal', 'multirack', 'scale']));
    for (const t of targets) for (const h of t.hosts) expect(cases.some((c) => c.label.startsWith(`${t.stack}/hosts/${h}/`)), `${t.stack}/${h}`).toBe(true);
  });

  it('applies every rendered file without an error, and the kernel holds every value afterwards', () => {
    const hostForwarding = readFileSync('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8');
    const failures: string[] = [];
    for (const c of cases) {
      loadModules(c.modules);
      const want = settings(readFileSync(c.file, 'utf8'));
      expect(want.length, c.label).toBeGreaterThan(0);
      withNamespace((ns) => {
        addDevices(ns, optionalDevices(readFileSync(c.file, 'utf8')));
        const r = inNs(ns, [SYSCTL, '-p', c.file]);
        if (r.code !== 0 || r.stderr.trim() !== '') {
          failures.push(`${c.label}: sysctl -p exited ${r.code}: ${r.stderr.trim()}`);
          return;
        }
        const back = inNs(ns, [SYSCTL, '-n', ...want.map(([k]) => k)]);
        const values = back.stdout.trimEnd().split('\n');
        want.forEach(([k, v], i) => {
          if (values[i]?.trim() !== v) failures.push(`${c.label}: ${k} reads back ${JSON.stringify(values[i])}, file says ${v}`);
        });
      });
    }
    expect(failures).toEqual([]);
    expect(readFileSync('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8')).toBe(hostForwarding);
    expect(ourNamespaces()).toEqual([]);
  });

  it('systemd-sysctl (as at boot) applies every host file before the uplink exists: only the uplink line waits for it', () => {
    const failures: string[] = [];
    const hostFiles = cases.filter((x) => x.label.includes('/hosts/') && x.file.endsWith('99-flat6.conf'));
    expect(hostFiles.length).toBeGreaterThan(0);
    for (const c of hostFiles) {
      const text = readFileSync(c.file, 'utf8');
      expect(optionalDevices(text), c.label).toHaveLength(1);
      const want = settings(text.split('\n').filter((l) => !l.trim().startsWith('-')).join('\n'));
      withNamespace((ns) => {
        const r = inNs(ns, [SYSTEMD_SYSCTL, c.file]);
        if (r.code !== 0) failures.push(`${c.label}: systemd-sysctl exited ${r.code}: ${r.stderr.trim()}`);
        const values = inNs(ns, [SYSCTL, '-n', ...want.map(([k]) => k)]).stdout.trimEnd().split('\n');
        want.forEach(([k, v], i) => {
          if (values[i]?.trim() !== v) failures.push(`${c.label}: ${k} reads back ${JSON.stringify(values[i])}, file says ${v}`);
        });
      });
    }
    expect(failures).toEqual([]);
    expect(ourNamespaces()).toEqual([]);
  });

  it('the harness fails on a key the kernel does not have (control: the invented disable_ipv4)', () => {
    const f = join(tempDir('sysctl'), 'bad.conf');
    writeFileSync(f, 'net.ipv6.conf.all.forwarding = 1\nnet.ipv4.conf.all.disable_ipv4 = 1\n');
    const r = withNamespace((ns) => inNs(ns, [SYSCTL, '-p', f]));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/disable_ipv4/);
    expect(ourNamespaces()).toEqual([]);
  });

  it('the IPv6 essentials are set on every host: forwarding, IPv6 enabled, bridged traffic through ip6tables', () => {
    for (const c of cases.filter((x) => x.label.includes('/hosts/') && x.file.endsWith('99-flat6.conf'))) {
      const s = new Map(settings(readFileSync(c.file, 'utf8')));
      expect(s.get('net.ipv6.conf.all.forwarding'), c.label).toBe('1');
      expect(s.get('net.ipv6.conf.all.disable_ipv6'), c.label).toBe('0');
      expect(s.get('net.ipv6.conf.default.disable_ipv6'), c.label).toBe('0');
      expect(s.get('net.bridge.bridge-nf-call-ip6tables'), c.label).toBe('1');
    }
  });
});
