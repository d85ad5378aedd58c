/**
 * The HA endpoint files (keepalived.conf, check_apiserver.sh, haproxy.cfg):
 * the real tools accept every rendered file of every bundled stack, and the
 * files say what docs/ha.md promises. (Their bytes are pinned by the golden
 * trees of test/render.test.ts.)
 *
 * - `haproxy -c -f` on every haproxy.cfg.
 * - `keepalived -t -f` on every keepalived.conf, inside a scratch network
 *   namespace that has the interface the file names (keepalived rejects a
 *   missing one). keepalived 2.2's config test reports problems only on stderr
 *   and ends itself with SIGTERM either way, so "valid" means: no stderr and
 *   status 0 or 143. A deliberately broken file must fail the same check.
 * - check_apiserver.sh run for real: fails with nothing on [::1]:port,
 *   passes with a listener there.
 * The keepalived and check-script parts need root (network namespaces), as in
 * CI. Takes about 3 s (one keepalived/haproxy process per rendered file).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ADVERT_INT, CHECK_SCRIPT, HAPROXY_CFG, KEEPALIVED_CONF, masterDownMs, TOP_PRIORITY, vrrpIdOf, vrrpPriority } from '../src/render/ha.js';
import { checkStack } from '../src/plan/checks.js';
import { formatAddress } from '../src/core/ip.js';
import { evaluate, MIN_WINDOW_REQUESTS, type FailoverReport, type FaultResult } from '../src/ha/scenario.js';
import { cleanupTempDirs, cli, loadText, planBundled, planText, readTree, renderAllForTools, renderStack, stackText, tempDir, tool, writeStack, type ToolTarget } from './helpers.js';

afterAll(cleanupTempDirs);

const IS_ROOT = process.getuid?.() === 0;

/** Run a command; never throws. */
function sh(cmd: string, args: string[], input?: string): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 20_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** A new network namespace, unnamed and gone when the command ends (root only). */
function inScratchNet(script: string, ...args: string[]): ReturnType<typeof sh> {
  return sh(tool('unshare'), ['--net', 'bash', '-c', script, 'scratch', ...args]);
}

/** Needs a network namespace: root (as in CI). keepalived's config test in a user namespace sees root's files as unowned and refuses them. */
const itRoot = it.skipIf(!IS_ROOT);

/** keepalived's config test as described above; returns the problem text, '' when valid. */
function keepalivedTest(conf: string, iface: string): string {
  const r = inScratchNet('ip link add "$1" type veth peer name flat6peer0 && exec "$2" -t -f "$3"', iface, tool('keepalived'), conf);
  const ok = (r.status === 0 || r.signal === 'SIGTERM' || r.status === 143) && r.stderr.trim() === '';
  return ok ? '' : `status ${r.status ?? r.signal}: ${r.stderr.trim() || r.stdout.trim()}`;
}

function haproxyTest(cfg: string): string {
  const r = sh(tool('haproxy'), ['-c', '-q', '-f', cfg]);
  return r.status === 0 ? '' : `status ${r.status}: ${r.stderr.trim() || r.stdout.trim()}`;
}

interface HaFiles {
  stack: string;
  host: string;
  dir: string;
  keepalived: string;
  haproxy: string;
  check: string;
  kubeadm: string;
}

let targets: ToolTarget[] = [];
let files: HaFiles[] = [];

beforeAll(async () => {
  targets = await renderAllForTools();
  files = [];
  for (const t of targets) {
    const tree = readTree(t.out);
    for (const host of t.hosts) {
      const dir = join(t.out, 'hosts', host);
      if (!tree.has(`hosts/${host}/${KEEPALIVED_CONF}`)) continue;
      const read = (p: string): string => readFileSync(join(dir, p), 'utf8');
      files.push({ stack: t.stack, host, dir, keepalived: read(KEEPALIVED_CONF), haproxy: read(HAPROXY_CFG), check: read(CHECK_SCRIPT), kubeadm: read('etc/flat6/kubeadm.yaml') });
    }
  }
}, 120_000);

/** Lines of a config without comments and blank lines. */
const body = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
const value = (text: string, key: string): string | undefined => body(text).find((l) => l.startsWith(`${key} `))?.slice(key.length + 1);

describe('rendered HA files pass the real tools', () => {
  it('covers the control-plane nodes of every bundled stack, and only them', () => {
    const byStack = new Map<string, string[]>();
    for (const f of files) byStack.set(f.stack, [...(byStack.get(f.stack) ?? []), f.host]);
    const haStacks = targets.map((t) => t.stack).filter((s, i, all) => all.indexOf(s) === i && planBundled(s).spec.controlPlane.loadBalancer === 'keepalived-haproxy');
    expect(haStacks).toEqual(expect.arrayContaining(['metal', 'multirack', 'scale']));
    expect([...byStack.keys()].sort()).toEqual(haStacks.sort());
    expect(byStack.get('metal')).toEqual(['cp1', 'cp2', 'cp3']);
    expect(byStack.get('multirack')).toEqual(['r0-n0', 'r0-n1', 'r0-n2']);
    // every control plane that was rendered has the three files; no worker has any
    for (const t of targets) {
      const plan = planBundled(t.stack);
      const tree = readTree(t.out);
      for (const host of t.hosts) {
        const cp = plan.findNode(host)!.role === 'control-plane' && plan.spec.controlPlane.loadBalancer === 'keepalived-haproxy';
        for (const p of [KEEPALIVED_CONF, CHECK_SCRIPT, HAPROXY_CFG]) expect(tree.has(`hosts/${host}/${p}`), `${t.stack} ${host} ${p}`).toBe(cp);
      }
    }
  });

  it('haproxy -c accepts every haproxy.cfg', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) expect(haproxyTest(join(f.dir, HAPROXY_CFG)), `${f.stack} ${f.host}`).toBe('');
  });

  it('haproxy -c rejects a broken haproxy.cfg (the check can fail)', () => {
    const bad = join(tempDir('ha'), 'haproxy.cfg');
    writeFileSync(bad, files[0]!.haproxy.replace(/^(\s*server \S+ )\[([0-9a-f:]+)\]:(\d+)/m, '$1[$2]:notaport'));
    expect(haproxyTest(bad)).not.toBe('');
  });

  itRoot('keepalived -t accepts every keepalived.conf', () => {
    for (const f of files) expect(keepalivedTest(join(f.dir, KEEPALIVED_CONF), value(f.keepalived, 'interface')!), `${f.stack} ${f.host}`).toBe('');
  });

  itRoot('keepalived -t rejects broken keepalived.conf files (the check can fail)', () => {
    const dir = tempDir('ha');
    const f = files[0]!;
    const iface = value(f.keepalived, 'interface')!;
    const variants = {
      'unknown keyword': f.keepalived.replace(`advert_int ${ADVERT_INT}`, `advert_intervall ${ADVERT_INT}`),
      'priority out of range': f.keepalived.replace(/priority \d+/, 'priority 900'),
      'wrong interface': f.keepalived.replace(/interface \S+/, 'interface nosuch0'),
    };
    for (const [what, text] of Object.entries(variants)) {
      const p = join(dir, 'keepalived.conf');
      writeFileSync(p, text);
      expect(keepalivedTest(p, iface), what).not.toBe('');
    }
  });

  itRoot('check_apiserver.sh fails without a listener on [::1]:port and passes with one', () => {
    for (const f of files.filter((x) => x.stack === 'metal')) {
      const script = join(f.dir, CHECK_SCRIPT);
      const port = /\/dev\/tcp\/::1\/(\d+)/.exec(f.check)![1]!;
      const listener = `require('net').createServer().listen(${port}, '::1', () => console.log('up'))`;
      const r = inScratchNet(
        'ip link set lo up; bash "$1" 2>/dev/null && exit 10; "$2" -e "$3" > "$4" & for i in $(seq 50); do grep -q up "$4" && break; sleep 0.1; done; bash "$1"; rc=$?; kill %1; exit $rc',
        script,
        process.execPath,
        listener,
        join(tempDir('ha'), 'listener.out'),
      );
      expect(r.status, `${f.host}: ${r.stderr}`).toBe(0);
    }
  });
});

describe('what the HA files say', () => {
  it('VRRPv3 without an authentication block, one VIP as /128 that is never a source address', () => {
    for (const f of files) {
      const plan = planBundled(f.stack);
      const vip = formatAddress(plan.vip);
      const lines = body(f.keepalived);
      expect(lines, f.host).toContain('vrrp_version 3');
      expect(lines.filter((l) => /^(authentication|auth_type|auth_pass)\b/.test(l)), f.host).toEqual([]);
      const at = lines.indexOf('virtual_ipaddress {');
      expect(lines[at + 1]).toBe(`${vip}/128 dev ${value(f.keepalived, 'interface')} preferred_lft 0`);
      expect(lines[at + 2]).toBe('}');
      expect(lines.filter((l) => l.startsWith('vrrp_instance '))).toHaveLength(1);
      expect(value(f.keepalived, 'state')).toBe('BACKUP');
      expect(value(f.keepalived, 'interface')).toBe(plan.findNode(f.host)!.interface);
    }
  });

  it('priorities descend in control-plane order; one virtual_router_id; unicast peers are the other control planes', () => {
    for (const stack of ['metal', 'multirack']) {
      const plan = planBundled(stack);
      const mine = plan.controlPlanes.map((n) => files.find((f) => f.stack === stack && f.host === n.name)!);
      const prios = mine.map((f) => Number(value(f.keepalived, 'priority')));
      expect(prios).toEqual(plan.controlPlanes.map((_, i) => vrrpPriority(i, plan.controlPlanes.length)));
      for (let i = 1; i < prios.length; i++) expect(prios[i]!).toBeLessThan(prios[i - 1]!);
      expect(prios[0]).toBe(TOP_PRIORITY);
      const ids = new Set(mine.map((f) => value(f.keepalived, 'virtual_router_id')));
      expect([...ids]).toEqual([String(vrrpIdOf(plan))]);
      mine.forEach((f, i) => {
        const node = plan.controlPlanes[i]!;
        expect(value(f.keepalived, 'unicast_src_ip')).toBe(formatAddress(node.address));
        const lines = body(f.keepalived);
        const at = lines.indexOf('unicast_peer {');
        const peers = lines.slice(at + 1, lines.indexOf('}', at));
        expect(peers).toEqual(plan.controlPlanes.filter((n) => n !== node).map((n) => formatAddress(n.address)));
        expect(lines).toContain('check_unicast_src');
        expect(lines).toContain('nopreempt'); // both stacks keep the default preempt: false
      });
    }
  });

  it('sub-second VRRP: advert_int 0.1 everywhere; priorities spread so the backups\' master-down timers differ by tens of ms', () => {
    for (const f of files) expect(value(f.keepalived, 'advert_int')).toBe(String(ADVERT_INT));
    expect([0, 1, 2].map((i) => vrrpPriority(i, 3))).toEqual([250, 150, 50]);
    expect(masterDownMs(150)).toBe(341);
    expect(masterDownMs(50)).toBe(380);
    expect(masterDownMs(50) - masterDownMs(150)).toBeGreaterThanOrEqual(30);
    // every count keeps 1..254 (255 is the address owner's) and never rises
    for (const count of [1, 2, 3, 5, 7, 201, 300]) {
      const p = Array.from({ length: count }, (_, i) => vrrpPriority(i, count));
      for (let i = 0; i < count; i++) {
        expect(p[i]).toBeGreaterThanOrEqual(1);
        expect(p[i]).toBeLessThanOrEqual(254);
        if (i) expect(p[i]!).toBeLessThanOrEqual(p[i - 1]!);
      }
    }
  });

  it('haproxy listens on :::port and balances over every control plane at [address]:apiServerPort, health-checked', () => {
    for (const f of files) {
      const plan = planBundled(f.stack);
      const lines = body(f.haproxy);
      expect(lines.filter((l) => l.startsWith('bind '))).toEqual([`bind :::${plan.apiPort}`]);
      expect(value(f.haproxy, 'mode')).toBe('tcp');
      const servers = lines.filter((l) => l.startsWith('server '));
      expect(servers).toEqual(plan.controlPlanes.map((n) => `server ${n.name} [${formatAddress(n.address)}]:${plan.apiServerPort}`));
      const defaults = value(f.haproxy, 'default-server')!.split(' ');
      for (const w of ['check', 'check-ssl']) expect(defaults, f.host).toContain(w);
      expect(lines).toContain('option httpchk');
      expect(lines).toContain('http-check send meth GET uri /readyz');
      expect(lines).toContain('http-check expect status 200');
    }
  });

  it('the port layout agrees with the kubeadm configs: endpoint [VIP]:port is haproxy, bindPort is the backend port', () => {
    for (const f of files) {
      const plan = planBundled(f.stack);
      expect(plan.apiPort).not.toBe(plan.apiServerPort);
      const docs = parseAllDocuments(f.kubeadm).map((d) => d.toJS() as Record<string, any>);
      const endpoint: string = docs.find((d) => d['kind'] === 'ClusterConfiguration')?.['controlPlaneEndpoint'] ?? docs.find((d) => d['kind'] === 'JoinConfiguration')!['discovery']['bootstrapToken']['apiServerEndpoint'];
      const bindPort: number = docs.find((d) => d['kind'] === 'InitConfiguration')?.['localAPIEndpoint']['bindPort'] ?? docs.find((d) => d['kind'] === 'JoinConfiguration')!['controlPlane']['localAPIEndpoint']['bindPort'];
      expect(endpoint).toBe(`[${formatAddress(plan.vip)}]:${/bind :::(\d+)/.exec(f.haproxy)![1]}`);
      expect(f.haproxy).toContain(`]:${bindPort}`);
      expect(f.check).toContain(`/dev/tcp/::1/${plan.apiPort}`);
    }
    // the acceptance values of the metal stack
    const metal = files.find((f) => f.stack === 'metal' && f.host === 'cp1')!;
    expect(metal.kubeadm).toContain('controlPlaneEndpoint: "[2001:db8:1::100]:6443"');
    expect(metal.kubeadm).toMatch(/bindPort: 6444/);
    expect(metal.haproxy).toContain('server cp2 [2001:db8:1::20]:6444');
  });

  it('modes: the check script is executable, the configs are 0644', () => {
    const t = targets.find((x) => x.stack === 'metal')!;
    const tree = readTree(t.out);
    expect(tree.get(`hosts/cp1/${CHECK_SCRIPT}`)!.mode).toBe(0o755);
    expect(tree.get(`hosts/cp1/${KEEPALIVED_CONF}`)!.mode).toBe(0o644);
    expect(tree.get(`hosts/cp1/${HAPROXY_CFG}`)!.mode).toBe(0o644);
    expect(files.find((f) => f.host === 'cp1')!.check.startsWith('#!/bin/bash\n')).toBe(true);
  });
});

describe('stack options', () => {
  const metal = stackText('metal');
  const withCp = (extra: string): string => metal.replace('      preempt: false       # nopreempt: a recovered node does not take the VIP back\n', extra);

  itRoot('preempt: true drops nopreempt; vrrpId overrides the derived id', async () => {
    const p = writeStack('hapre', withCp('      preempt: true\n      vrrpId: 42\n'));
    const out = await renderStack(p);
    for (const h of ['cp1', 'cp2', 'cp3']) {
      const ka = readFileSync(join(out, 'hosts', h, KEEPALIVED_CONF), 'utf8');
      expect(body(ka)).not.toContain('nopreempt');
      expect(value(ka, 'virtual_router_id')).toBe('42');
      expect(value(ka, 'state')).toBe('BACKUP');
      expect(keepalivedTest(join(out, 'hosts', h, KEEPALIVED_CONF), 'eth0')).toBe('');
    }
  });

  it('the derived virtual_router_id is a pure function of cluster name and VIP, within 1..255', () => {
    const a = planBundled('metal');
    expect(vrrpIdOf(a)).toBe(221); // known answer: FNV-1a("metal/2001:db8:1::100") % 255 + 1
    expect(vrrpIdOf(planText(metal.replace('vip: "2001:db8:1::100"', 'vip: "2001:0db8:0001::0100"')))).toBe(221); // canonical form
    expect(vrrpIdOf(planText(metal.replace('name: metal', 'name: metal2')))).not.toBe(221);
    for (const stack of ['metal', 'multirack', 'scale']) {
      const id = vrrpIdOf(planBundled(stack));
      expect(id).toBeGreaterThanOrEqual(1);
      expect(id).toBeLessThanOrEqual(255);
    }
  });

  it('loadBalancer: none renders no HA files, keeps apiServerPort = port by default, and allows a VIP outside the segment', async () => {
    const text = withCp('      loadBalancer: none\n').replace('      apiServerPort: 6444  # kube-apiserver itself (haproxy backends); see docs/ha.md\n', '').replace('      loadBalancer: keepalived-haproxy\n', '');
    const plan = planText(text);
    expect(plan.apiServerPort).toBe(6443);
    const out = await renderStack(writeStack('hanone', text));
    const tree = readTree(out);
    expect([...tree.keys()].filter((p) => /etc\/(keepalived|haproxy)\//.test(p))).toEqual([]);
    const outside = text.replace('vip: "2001:db8:1::100"', 'vip: "2001:db8:7::100"');
    expect(checkStack(loadText(outside)).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(checkStack(loadText(metal.replace('vip: "2001:db8:1::100"', 'vip: "2001:db8:7::100"'))).diagnostics.map((d) => d.code)).toContain('VIP_OUTSIDE_SEGMENT');
  });

  it('apiServerPort defaults to port + 1 with keepalived-haproxy', () => {
    const text = metal.replace('      apiServerPort: 6444  # kube-apiserver itself (haproxy backends); see docs/ha.md\n', '').replace('port: 6443 ', 'port: 8443 ');
    const plan = planText(text);
    expect([plan.apiPort, plan.apiServerPort]).toEqual([8443, 8444]);
  });

  it('rejects port == apiServerPort with keepalived-haproxy, located, with a fix, writing nothing', async () => {
    const text = metal.replace('apiServerPort: 6444 ', 'apiServerPort: 6443 ');
    const file = writeStack('haport', text);
    const out = join(tempDir('ha'), 'out');
    const r = await cli(['render', '--stack', file, '--out', out]);
    expect(r.code).toBe(1);
    const line = text.split('\n').findIndex((l) => l.includes('apiServerPort: 6443')) + 1;
    expect(r.stderr).toContain(`Pulumi.haport.yaml:${line}:22: error PORT_CONFLICT`);
    expect(r.stderr).toMatch(/fix: give kube-apiserver its own port, e\.g\. apiServerPort: 6444/);
    expect(() => readFileSync(join(out, 'plan.json'))).toThrow();
  });

  it('rejects an unknown loadBalancer value as a schema error', () => {
    const r = () => loadText(metal.replace('loadBalancer: keepalived-haproxy', 'loadBalancer: nginx'));
    expect(r).toThrow(/not one of "keepalived-haproxy", "none"/);
  });

  itRoot('a single control-plane node gets a peerless keepalived.conf that keepalived accepts', async () => {
    const single = [
      'config:',
      '  flat6:cluster:',
      '    name: solo',
      '    kubernetesVersion: v1.33.4',
      '    network: { nodes: "2001:db8:1::/64", pods: "2001:db8:42::/48", services: "2001:db8:43::/112", dns: ["2001:db8:53::53"] }',
      '    controlPlane: { count: 1, vip: "2001:db8:1::2" }',
      '    racks: [{ name: r0, nodes: 2 }]',
      '',
    ].join('\n');
    const out = await renderStack(writeStack('solo', single));
    const conf = join(out, 'hosts', 'r0-n0', KEEPALIVED_CONF);
    const text = readFileSync(conf, 'utf8');
    expect(body(text).some((l) => l.startsWith('unicast_'))).toBe(false);
    expect(keepalivedTest(conf, 'eth0')).toBe('');
    expect(haproxyTest(join(out, 'hosts', 'r0-n0', HAPROXY_CFG))).toBe('');
  });
});

describe('failover verdict (evaluate)', () => {
  const fault = (key: 'a' | 'b' | 'c' | 'd', sent: number, extra: Partial<FaultResult> = {}): FaultResult => ({
    key, title: key, target: 'cp1', at: 0, sent, failed: 0, recoveryMs: 0, holderBefore: 'cp1', holderAfter: key === 'a' || key === 'b' ? 'cp2' : 'cp1', slowestOkMs: 5, errors: {}, answeredBy: {}, ...extra,
  });
  const report = (faults: FaultResult[]): FailoverReport => ({
    stack: 'metal', vip: '2001:db8:1::100', port: 6443, apiServerPort: 6444, nodes: [], pollIntervalMs: 100, requestTimeoutMs: 1000, checkIntervalMs: 1000,
    setupMs: 1, initialHolder: 'cp1', faults, timeline: [], anomalies: [], samples: { count: 10, none: 0, several: 0, intervalMs: 50 }, backendsAfter: {},
    startedAt: 0, totalMs: 1, leftovers: [], problems: [],
  });

  it('passes windows that each completed enough requests', () => {
    expect(evaluate(report([fault('a', 30), fault('b', 40), fault('c', 20), fault('d', 30)]))).toEqual([]);
  });

  it('fails (b) when the VIP stayed silent for a second or more, and any moment with two holders', () => {
    const r = report([fault('a', 30), fault('b', 40, { recoveryMs: 1200 }), fault('c', 20), fault('d', 30)]);
    r.anomalies = [{ from: 1, to: 1.02, ms: 20, holders: ['cp1', 'cp2'], during: 'a' }];
    expect(evaluate(r)).toEqual(['(b) the VIP answered again only after 1.20 s (limit 1 s)', 'cp1 and cp2 both held the VIP for 20 ms during (a)']);
    expect(evaluate(report([fault('a', 30), fault('b', 40, { recoveryMs: 990 }), fault('c', 20), fault('d', 30)]))).toEqual([]);
  });

  it('fails a fault window with fewer than the minimum of requests, however clean it looks', () => {
    const out = evaluate(report([fault('a', 30), fault('b', MIN_WINDOW_REQUESTS - 1), fault('c', 0), fault('d', 30)]));
    expect(out).toEqual([
      `(b) only ${MIN_WINDOW_REQUESTS - 1} request(s) completed in its window, fewer than ${MIN_WINDOW_REQUESTS}: a window without requests proves nothing`,
      `(c) only 0 request(s) completed in its window, fewer than ${MIN_WINDOW_REQUESTS}: a window without requests proves nothing`,
    ]);
  });
});
