/**
 * The failover lab: the control-plane segment of a stack rebuilt in network
 * namespaces, running the rendered keepalived and haproxy files unchanged.
 *
 *   <prefix>-sw   a bridge: the L2 segment
 *   <prefix>-cpN  one namespace per control-plane node: its uplink (named as
 *                 in the stack) with the node address, a stand-in API server on
 *                 [node]:apiServerPort, haproxy and keepalived
 *   <prefix>-cl   the client, at the segment's gateway address, polling
 *                 https://[VIP]:port/healthz
 *
 * The rendered files reach their real paths through iproute2's per-namespace
 * /etc: `ip netns exec NS` bind-mounts /etc/netns/NS/keepalived over
 * /etc/keepalived (and the same for haproxy). Only what must differ between
 * several instances on one machine is given on the command line: pid files
 * and haproxy's master socket. `down()` is synchronous and idempotent, so it
 * can run from finally blocks, signal handlers and process exit alike.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAddress } from '../core/ip.js';
import type { ClusterPlan } from '../plan/plan.js';
import type { FileEntry } from '../render/files.js';
import { CHECK_SCRIPT, HAPROXY_CFG, haEnabled, haRenderer, KEEPALIVED_CONF } from '../render/ha.js';
import { generateSecrets } from '../render/secrets.js';
import { TemplateSet } from '../render/templates.js';
import { Daemon, groupMembers, isAlive, LabError, run, sleep, sleepSync, tryRun } from './proc.js';
import { POLLER_SOURCE, STAND_IN_SOURCE, type PollerConfig, type Probe, type StandInConfig } from './scripts.js';

export const NS_PREFIX = 'f6ha';
/** temporary directories: <tmpdir>/flat6-ha-<pid>-XXXXXX */
const TMP_PREFIX = 'flat6-ha-';
const ETC_NETNS = '/etc/netns';

export interface LabNode {
  name: string;
  /** position among the control-plane nodes */
  index: number;
  ns: string;
  /** uplink name inside the node namespace (from keepalived.conf) */
  iface: string;
  /** the bridge port of this node in the switch namespace */
  port: string;
  address: string;
  files: FileEntry[];
}

/** What the rendered files say, read back so the lab runs exactly them. */
export interface HaLayout {
  vip: string;
  port: number;
  apiServerPort: number;
  /** haproxy health-check interval in ms (default-server inter) */
  checkIntervalMs: number;
  prefixLength: number;
  clientAddress: string;
}

export interface VipEvent {
  t: number;
  node: string;
  held: boolean;
}

export interface VipSample {
  t: number;
  holders: string[];
}

export interface BackendState {
  name: string;
  status: string;
}

export interface LabOptions {
  /** unique per run: part of every namespace name */
  runId: string;
  pollIntervalMs?: number;
  requestTimeoutMs?: number;
  sampleIntervalMs?: number;
  templates?: TemplateSet;
  /** progress lines */
  log?: (line: string) => void;
  /** copy the logs of every process here when the lab comes down */
  keepLogs?: string;
}

export const now = (): number => performance.timeOrigin + performance.now();

/** Reads the HA values back from one node's rendered files. */
export function parseHaFiles(files: FileEntry[]): { iface: string; address?: string; vip: string; port: number; backends: Array<{ name: string; address: string; port: number }>; checkIntervalMs: number } {
  const ka = files.find((f) => f.path === KEEPALIVED_CONF)?.content;
  const hp = files.find((f) => f.path === HAPROXY_CFG)?.content;
  if (!ka || !hp) throw new LabError('the HA renderer produced no keepalived.conf or haproxy.cfg');
  const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
  const kl = lines(ka);
  const iface = /^interface (\S+)$/.exec(kl.find((l) => l.startsWith('interface ')) ?? '')?.[1];
  const address = /^unicast_src_ip (\S+)$/.exec(kl.find((l) => l.startsWith('unicast_src_ip ')) ?? '')?.[1];
  const vipAt = kl.indexOf('virtual_ipaddress {');
  const vip = vipAt >= 0 ? /^([0-9a-fA-F:]+)\/\d+/.exec(kl[vipAt + 1] ?? '')?.[1] : undefined;
  const hl = lines(hp);
  const port = Number(/^bind :::(\d+)$/.exec(hl.find((l) => l.startsWith('bind ')) ?? '')?.[1]);
  const backends = hl.flatMap((l) => {
    const m = /^server (\S+) \[([0-9a-fA-F:]+)\]:(\d+)/.exec(l);
    return m ? [{ name: m[1]!, address: m[2]!, port: Number(m[3]) }] : [];
  });
  const inter = /\binter (\d+)(ms|s)?\b/.exec(hl.find((l) => l.startsWith('default-server ')) ?? '');
  const checkIntervalMs = inter ? Number(inter[1]) * (inter[2] === 'ms' ? 1 : 1000) : 2000;
  if (!iface || !vip || !port || backends.length === 0) throw new LabError('cannot read interface, VIP, frontend port or backends back from the rendered keepalived.conf/haproxy.cfg');
  return { iface, address, vip, port, backends, checkIntervalMs };
}

/** Things the lab needs from the machine; each missing one is named with its fix. */
export function labPrerequisites(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('the failover lab creates network namespaces and must run as root (sudo flat6 ha failover ...)');
  for (const [cmd, pkg] of [
    ['ip', 'iproute2'],
    ['keepalived', 'keepalived'],
    ['haproxy', 'haproxy'],
    ['openssl', 'openssl'],
    ['setpriv', 'util-linux'],
    ['bash', 'bash'],
  ] as const) {
    if (!tryRun('sh', ['-c', `command -v ${cmd} || PATH="$PATH:/usr/sbin:/sbin" command -v ${cmd}`])) problems.push(`${cmd} is not installed (Debian package ${pkg}; scripts/install-test-deps.sh installs it)`);
  }
  for (const dir of ['/etc/keepalived', '/etc/haproxy']) {
    if (!existsSync(dir)) problems.push(`${dir} does not exist: the lab mounts each namespace's copy over it (install the keepalived and haproxy packages)`);
  }
  return problems;
}

/** Namespaces left by a lab whose flat6 process is gone (killed before it could clean up). */
export function staleNamespaces(): string[] {
  const out = run('ip', ['netns', 'list']).stdout;
  return out
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => {
      const m = new RegExp(`^${NS_PREFIX}-(\\d+)-`).exec(n);
      return m !== null && !isAlive(Number(m[1]));
    });
}

/** Temporary directories and /etc/netns/<namespace> copies left by a lab whose flat6 process is gone. */
export function staleDirectories(): string[] {
  const base = tmpdir();
  const tmp = readdirSync(base)
    .filter((f) => {
      const m = new RegExp(`^${TMP_PREFIX}(\\d+)-`).exec(f);
      return m !== null && !isAlive(Number(m[1]));
    })
    .map((f) => join(base, f));
  const etc = existsSync(ETC_NETNS)
    ? readdirSync(ETC_NETNS)
        .filter((f) => {
          const m = new RegExp(`^${NS_PREFIX}-(\\d+)-`).exec(f);
          return m !== null && !isAlive(Number(m[1]));
        })
        .map((f) => join(ETC_NETNS, f))
    : [];
  return [...tmp, ...etc];
}

/** Remove a namespace: end the processes inside it (all started by a lab), then delete it and its /etc/netns copy. */
export function removeNamespace(ns: string): void {
  const pids = tryRunOut('ip', ['netns', 'pids', ns]);
  for (const pid of pids.split('\n').map(Number).filter((p) => p > 0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  tryRun('ip', ['netns', 'del', ns]);
  rmSync(join(ETC_NETNS, ns), { recursive: true, force: true });
}

/** /etc/netns, when a lab created it and nothing else lives there now. */
export function removeEmptyEtcNetns(): void {
  try {
    if (readdirSync(ETC_NETNS).length === 0) rmdirSync(ETC_NETNS);
  } catch {
    // absent, or in use
  }
}

function tryRunOut(cmd: string, args: string[]): string {
  try {
    return run(cmd, args, { timeoutMs: 5_000 }).stdout;
  } catch {
    return '';
  }
}

export class FailoverLab {
  readonly plan: ClusterPlan;
  readonly prefix: string;
  readonly nodes: LabNode[];
  readonly layout: HaLayout;
  readonly switchNs: string;
  readonly clientNs: string;
  readonly pollIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly sampleIntervalMs: number;

  /** every request of the client, in completion order */
  readonly probes: Probe[] = [];
  /** VIP additions and removals, from `ip monitor address` in every node namespace */
  readonly vipEvents: VipEvent[] = [];
  /** periodic `ip -6 addr show` of every node namespace */
  readonly samples: VipSample[] = [];
  /** current holders according to the monitors */
  readonly holders = new Set<string>();

  private dir?: string;
  private readonly created: string[] = [];
  private createdEtcNetns = false;
  private readonly daemons = new Map<string, Daemon>();
  /** resolves the pending start of a node's stand-in API server */
  private readonly listening = new Map<string, () => void>();
  private sampler?: NodeJS.Timeout;
  private sampling = false;
  private readonly log: (line: string) => void;
  private torn = false;
  private readonly keepLogs?: string;

  constructor(plan: ClusterPlan, opts: LabOptions) {
    if (!haEnabled(plan)) throw new LabError(`stack ${plan.stackName} sets controlPlane.loadBalancer: none; there are no keepalived/haproxy files to test`);
    if (plan.controlPlanes.length < 3) throw new LabError(`stack ${plan.stackName} has ${plan.controlPlanes.length} control-plane node(s); the failover scenario needs at least three`);
    this.plan = plan;
    this.prefix = `${NS_PREFIX}-${process.pid}-${opts.runId}`;
    this.switchNs = `${this.prefix}-sw`;
    this.clientNs = `${this.prefix}-cl`;
    this.pollIntervalMs = opts.pollIntervalMs ?? 100;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 1000;
    this.sampleIntervalMs = opts.sampleIntervalMs ?? 100;
    this.log = opts.log ?? (() => {});
    this.keepLogs = opts.keepLogs;
    const ctx = { plan, templates: opts.templates ?? new TemplateSet(), secrets: generateSecrets() };
    let first: ReturnType<typeof parseHaFiles> | undefined;
    this.nodes = plan.controlPlanes.map((n, i) => {
      const files = haRenderer.render(ctx, n);
      const parsed = parseHaFiles(files);
      first ??= parsed;
      if (parsed.address !== undefined && parsed.address !== formatAddress(n.address)) {
        throw new LabError(`keepalived.conf of ${n.name} sends from ${parsed.address}, but the plan gives ${n.name} ${formatAddress(n.address)}`);
      }
      return { name: n.name, index: i, ns: `${this.prefix}-cp${i + 1}`, iface: parsed.iface, port: `p${i + 1}`, address: formatAddress(n.address), files };
    });
    const backendPorts = new Set(first!.backends.map((b) => b.port));
    if (backendPorts.size !== 1) throw new LabError('haproxy.cfg backends use different ports');
    this.layout = {
      vip: first!.vip,
      port: first!.port,
      apiServerPort: [...backendPorts][0]!,
      checkIntervalMs: first!.checkIntervalMs,
      prefixLength: plan.controlPlaneRack.subnet.length,
      clientAddress: formatAddress(plan.controlPlaneRack.gateway),
    };
    for (const n of this.nodes) {
      if (!first!.backends.some((b) => b.address === n.address)) throw new LabError(`haproxy.cfg has no backend for ${n.name} (${n.address})`);
    }
  }

  node(name: string): LabNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new LabError(`no control-plane node ${name} in the lab`);
    return n;
  }

  /** The one node holding the VIP, or undefined when none or several do. */
  holder(): string | undefined {
    return this.holders.size === 1 ? [...this.holders][0] : undefined;
  }

  /** Build the segment and start everything; the VIP may not answer yet when this returns. */
  async up(): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), `${TMP_PREFIX}${process.pid}-`));
    this.dir = dir;
    this.log(`lab ${this.prefix}: ${this.nodes.length} control-plane namespaces + switch + client, files in ${dir}`);
    this.buildNetwork();
    this.installFiles();
    this.makeCertificate();
    for (const n of this.nodes) this.startVipMonitor(n);
    await Promise.all(this.nodes.map((n) => this.startApiServer(n.name)));
    await Promise.all(this.nodes.map((n) => this.startHaproxy(n)));
    for (const n of this.nodes) this.startKeepalived(n.name);
    this.startSampler();
    this.startPoller();
  }

  private buildNetwork(): void {
    const ip = (...args: string[]): void => void run('ip', args);
    const addNs = (ns: string): void => {
      ip('netns', 'add', ns);
      this.created.push(ns);
      // DAD would hold new addresses tentative for a second; the lab's addresses are unique by construction.
      run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    };
    addNs(this.switchNs);
    ip('-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
    ip('-n', this.switchNs, 'link', 'set', 'br0', 'up');
    const attach = (ns: string, port: string, iface: string, address: string): void => {
      addNs(ns);
      ip('-n', this.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', iface, 'netns', ns);
      ip('-n', this.switchNs, 'link', 'set', port, 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `${address}/${this.layout.prefixLength}`, 'dev', iface, 'nodad');
      ip('-n', ns, 'link', 'set', iface, 'up');
    };
    for (const n of this.nodes) attach(n.ns, n.port, n.iface, n.address);
    attach(this.clientNs, 'pcl', 'eth0', this.layout.clientAddress);
  }

  /** /etc/netns/<ns>/{keepalived,haproxy}/...: the rendered files at the paths they name. */
  private installFiles(): void {
    if (!existsSync(ETC_NETNS)) {
      mkdirSync(ETC_NETNS, { mode: 0o755 });
      this.createdEtcNetns = true;
    }
    for (const n of this.nodes) {
      for (const f of n.files) {
        const [top] = f.path.split('/', 2);
        if (top !== 'etc') throw new LabError(`unexpected HA file path ${f.path}`);
        const target = join(ETC_NETNS, n.ns, f.path.slice('etc/'.length));
        const parent = target.slice(0, target.lastIndexOf('/'));
        mkdirSync(parent, { recursive: true, mode: 0o755 });
        chmodSync(join(ETC_NETNS, n.ns), 0o755);
        chmodSync(parent, 0o755); // keepalived's script security: no part of the path writable by others
        writeFileSync(target, f.content, { mode: f.mode });
        chmodSync(target, f.mode);
      }
    }
  }

  private makeCertificate(): void {
    const sans = [this.layout.vip, ...this.nodes.map((n) => n.address)].map((a) => `IP:${a}`).join(',');
    run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=flat6-ha-lab', '-addext', `subjectAltName=${sans}`,
      '-keyout', this.path('api.key'), '-out', this.path('api.crt'),
    ]);
    chmodSync(this.path('api.key'), 0o600);
  }

  path(name: string): string {
    if (!this.dir) throw new LabError('lab is not up');
    return join(this.dir, name);
  }

  private daemon(key: string, argv: string[], opts: ConstructorParameters<typeof Daemon>[3] = {}): Daemon {
    let d = this.daemons.get(key);
    if (!d) {
      d = new Daemon(key, argv, this.path(`${key}.log`), opts);
      this.daemons.set(key, d);
    }
    return d;
  }

  private startVipMonitor(n: LabNode): void {
    const vipText = `inet6 ${this.layout.vip}/`;
    const d = this.daemon(`monitor-${n.name}`, ['ip', '-o', '-n', n.ns, 'monitor', 'address'], {
      onLine: (line) => {
        if (!line.includes(vipText)) return;
        const held = !line.startsWith('Deleted');
        if (held === this.holders.has(n.name)) return;
        if (held) this.holders.add(n.name);
        else this.holders.delete(n.name);
        this.vipEvents.push({ t: now(), node: n.name, held });
      },
    });
    d.start();
  }

  /** Start (or restart) the stand-in API server of a node; resolves once it listens. */
  async startApiServer(name: string): Promise<void> {
    const n = this.node(name);
    const cfg: StandInConfig = { name: n.name, host: n.address, port: this.layout.apiServerPort, key: this.path('api.key'), cert: this.path('api.crt') };
    const ready = new Promise<void>((r) => this.listening.set(n.name, r));
    const d = this.daemon(`apiserver-${n.name}`, ['ip', 'netns', 'exec', n.ns, process.execPath, '-e', STAND_IN_SOURCE, JSON.stringify(cfg)], {
      onLine: (line) => {
        if (line.startsWith('listening')) this.listening.get(n.name)?.();
      },
    });
    d.start();
    await this.until(ready, d, 10_000, `stand-in API server of ${n.name} on [${n.address}]:${this.layout.apiServerPort}`);
  }

  async stopApiServer(name: string): Promise<void> {
    await this.daemons.get(`apiserver-${name}`)?.stop();
  }

  private async startHaproxy(n: LabNode): Promise<void> {
    const sock = this.path(`haproxy-${n.name}.sock`);
    const d = this.daemon(`haproxy-${n.name}`, ['ip', 'netns', 'exec', n.ns, 'haproxy', '-W', '-db', '-f', '/etc/haproxy/haproxy.cfg', '-p', this.path(`haproxy-${n.name}.pid`), '-S', sock], { deathSignal: 'TERM' });
    d.start();
    const deadline = now() + 10_000;
    while (!(await this.haproxyAnswers(n.name))) {
      if (!d.running) throw new LabError(`haproxy of ${n.name} ${d.exit}; see ${this.path(`haproxy-${n.name}.log`)}`);
      if (now() > deadline) throw new LabError(`haproxy of ${n.name} did not open its master socket within 10 s`);
      await sleep(50);
    }
  }

  private async haproxyAnswers(name: string): Promise<boolean> {
    try {
      await this.haproxyCommand(name, 'show proc');
      return true;
    } catch {
      return false;
    }
  }

  /** A command for haproxy's worker, through the master CLI socket. */
  haproxyCommand(name: string, command: string): Promise<string> {
    const sock = this.path(`haproxy-${name}.sock`);
    return new Promise((resolve, reject) => {
      const c = connect(sock);
      let out = '';
      const timer = setTimeout(() => c.destroy(new Error('timeout')), 2_000);
      c.setEncoding('utf8');
      c.on('connect', () => c.write(`${command.startsWith('show proc') ? '' : '@1 '}${command}; quit\n`));
      c.on('data', (d: string) => (out += d));
      c.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      c.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
  }

  /** Backend servers as the haproxy of `name` sees them (UP, DOWN, "UP 1/2", ...). */
  async backends(name: string): Promise<BackendState[]> {
    const csv = await this.haproxyCommand(name, 'show stat');
    const lines = csv.split('\n');
    const header = (lines.find((l) => l.startsWith('# ')) ?? '').slice(2).split(',');
    const px = header.indexOf('pxname');
    const sv = header.indexOf('svname');
    const st = header.indexOf('status');
    if (px < 0 || sv < 0 || st < 0) throw new LabError(`unexpected "show stat" answer from haproxy of ${name}`);
    return lines
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(','))
      .filter((f) => f[px] === 'apiserver' && f[sv] !== 'FRONTEND' && f[sv] !== 'BACKEND')
      .map((f) => ({ name: f[sv]!, status: f[st]! }));
  }

  startKeepalived(name: string): void {
    const n = this.node(name);
    const pid = (what: string): string => this.path(`keepalived-${n.name}${what}.pid`);
    this.daemon(`keepalived-${n.name}`, [
      'ip', 'netns', 'exec', n.ns,
      'keepalived', '--dont-fork', '--log-console', '--log-detail', '--no-syslog', '--vrrp',
      '-f', '/etc/keepalived/keepalived.conf', '-p', pid(''), '-r', pid('-vrrp'), '-c', pid('-checkers'),
    ], { deathSignal: 'TERM' }).start();
  }

  /** Graceful stop, as systemctl stop: keepalived sends a priority-0 advert and releases the VIP. */
  async stopKeepalived(name: string): Promise<void> {
    await this.daemons.get(`keepalived-${name}`)?.stop(5_000);
  }

  /** What keepalived of `name` has logged so far. */
  keepalivedLog(name: string): string {
    return readText(this.path(`keepalived-${name}.log`));
  }

  keepalivedRunning(name: string): boolean {
    return this.daemons.get(`keepalived-${name}`)?.running ?? false;
  }

  /** Unplug or replug a node: its switch port goes down, so the node sees carrier loss. */
  setLink(name: string, up: boolean): void {
    run('ip', ['-n', this.switchNs, 'link', 'set', this.node(name).port, up ? 'up' : 'down']);
  }

  private startPoller(): void {
    const cfg: PollerConfig = { host: this.layout.vip, port: this.layout.port, path: '/healthz', ca: this.path('api.crt'), intervalMs: this.pollIntervalMs, timeoutMs: this.requestTimeoutMs };
    this.daemon('client', ['ip', 'netns', 'exec', this.clientNs, process.execPath, '-e', POLLER_SOURCE, JSON.stringify(cfg)], {
      onLine: (line, stream) => {
        if (stream !== 'stdout') return;
        try {
          this.probes.push(JSON.parse(line) as Probe);
        } catch {
          // not a probe line
        }
      },
    }).start();
  }

  /** Why the client polling the VIP is not running (undefined while it runs). */
  pollerDown(): string | undefined {
    const d = this.daemons.get('client');
    if (!d) return 'never started';
    return d.running ? undefined : (d.exit ?? 'exited');
  }

  async stopPoller(): Promise<void> {
    await this.daemons.get('client')?.stop();
  }

  private startSampler(): void {
    const sampleOne = (n: LabNode): Promise<boolean> =>
      new Promise((resolve) => {
        execFile('ip', ['-n', n.ns, '-6', '-o', 'addr', 'show', 'dev', n.iface], { timeout: 2_000 }, (err, stdout) => {
          resolve(!err && stdout.includes(`inet6 ${this.layout.vip}/`));
        });
      });
    this.sampler = setInterval(() => {
      if (this.sampling) return; // the previous round is still running
      this.sampling = true;
      const t = now();
      void Promise.all(this.nodes.map(sampleOne)).then((held) => {
        this.sampling = false;
        if (this.torn) return;
        this.samples.push({ t, holders: this.nodes.filter((_, i) => held[i]).map((n) => n.name) });
      });
    }, this.sampleIntervalMs);
  }

  stopSampler(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = undefined;
  }

  /** Wait for `p`, failing early if the daemon exits and late after `ms`. */
  private async until(p: Promise<void>, d: Daemon, ms: number, what: string): Promise<void> {
    let settled = false;
    void p.then(() => (settled = true));
    const deadline = now() + ms;
    while (!settled) {
      if (!d.running) throw new LabError(`${what} ${d.exit}; see ${this.path(`${d.name}.log`)}`);
      if (now() > deadline) throw new LabError(`${what} did not start within ${ms / 1000} s; see ${this.path(`${d.name}.log`)}`);
      await sleep(20);
    }
  }

  /** Log files of the run, for a failure report: name -> path. */
  logs(): Array<[string, string]> {
    if (!this.dir || !existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.log'))
      .sort()
      .map((f) => [f.replace(/\.log$/, ''), join(this.dir!, f)]);
  }

  /** Copy the run's logs to `dest` (created). */
  saveLogs(dest: string): void {
    mkdirSync(dest, { recursive: true });
    for (const [, p] of this.logs()) writeFileSync(join(dest, p.slice(p.lastIndexOf('/') + 1)), readText(p));
  }

  /**
   * Tear everything down: processes (graceful, then their whole group), the
   * namespaces, the /etc/netns copies and the temporary directory. Synchronous,
   * idempotent, never throws.
   */
  down(): void {
    if (this.torn) return;
    this.torn = true;
    this.stopSampler();
    // keepalived first, so it releases the VIP while haproxy and the network still exist
    const order = [...this.daemons.values()].sort((a, b) => rank(a.name) - rank(b.name));
    for (const d of order) d.terminate();
    for (let waited = 0; waited < 2_000 && !order.every((d) => d.ended()); waited += 20) sleepSync(20);
    for (const d of order) d.killGroup();
    for (const d of order) d.close();
    if (this.keepLogs) {
      try {
        this.saveLogs(this.keepLogs);
      } catch (e) {
        this.log(`could not keep the logs in ${this.keepLogs}: ${(e as Error).message}`);
      }
    }
    for (const ns of [...this.created].reverse()) removeNamespace(ns);
    if (this.createdEtcNetns) {
      try {
        rmdirSync(ETC_NETNS);
      } catch {
        // another tool put something there meanwhile
      }
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** After down(): lets the event loop reap the ended processes (at most `ms`). */
  async reaped(ms = 2_000): Promise<void> {
    await Promise.all([...this.daemons.values()].map((d) => d.waitExit(ms)));
  }

  /** What of this lab still exists (expected: nothing, after down()). */
  leftovers(): string[] {
    const out: string[] = [];
    const list = tryRunOut('ip', ['netns', 'list']);
    for (const l of list.split('\n')) {
      const ns = l.split(' ')[0]!;
      if (ns.startsWith(this.prefix + '-')) out.push(`network namespace ${ns}`);
    }
    for (const d of this.daemons.values()) {
      if (d.pid === undefined) continue;
      const members = groupMembers(d.pid);
      if (isAlive(d.pid) || members.length) out.push(`processes of ${d.name}: ${[...new Set([d.pid, ...members])].filter(isAlive).join(' ')}`);
    }
    for (const n of this.nodes) if (existsSync(join(ETC_NETNS, n.ns))) out.push(`${join(ETC_NETNS, n.ns)}`);
    if (this.dir && existsSync(this.dir)) out.push(`directory ${this.dir}`);
    return out;
  }
}

function rank(name: string): number {
  return ['keepalived', 'client', 'haproxy', 'apiserver', 'monitor'].findIndex((p) => name.startsWith(p));
}


function readText(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
