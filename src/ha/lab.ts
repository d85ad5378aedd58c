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
 * The prefix is f6ha-<pid>-<run>: a later run removes what a killed one left.
 * The rendered files reach their real paths through iproute2's per-namespace
 * /etc: `ip netns exec NS` bind-mounts /etc/netns/NS/keepalived over
 * /etc/keepalived (and the same for haproxy). Only what must differ between
 * several instances on one machine is given on the command line: pid files
 * and haproxy's master socket. `down()` is synchronous and idempotent, so it
 * can run from finally blocks and process exit alike.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAddress } from '../core/ip.js';
import type { ClusterPlan } from '../plan/plan.js';
import type { FileEntry } from '../render/files.js';
import { haEnabled, haRenderer } from '../render/ha.js';
import { generateSecrets } from '../render/secrets.js';
import { TemplateSet } from '../render/templates.js';
import { Daemon, type DaemonOptions } from '../runtime/daemon.js';
import { ipBatch, LabError, must, run, type Log } from '../runtime/exec.js';
import { now, sleepSync, waitFor } from '../runtime/flow.js';
import { addNamespace, ETC_NETNS, listNamespaces, removeEmptyEtcNetns, removeNamespaces } from '../runtime/netns.js';
import type { Requirements } from '../runtime/preflight.js';
import { probeArgv } from '../runtime/probes.js';
import { sweepAbandoned } from '../runtime/stale.js';
import { installEtcFiles, parseHaFiles, type HaFiles } from './files.js';
import { haproxyAnswers, haproxyCommand, parseBackends, type BackendState } from './haproxy.js';
import type { PollerConfig, Probe, StandInConfig } from './probes.js';

export type { BackendState };

export const NS_PREFIX = 'f6ha';
/** temporary directories: <tmpdir>/flat6-ha-<pid>-XXXXXX */
const TMP_PREFIX = 'flat6-ha-';

/** Root and the Debian packages the failover lab runs (scripts/install-test-deps.sh installs them). */
export const HA_REQUIREMENTS: Requirements = {
  name: 'the failover lab',
  needsRoot: 'creates network namespaces',
  sudo: 'sudo flat6 ha failover ...',
  tools: [
    ['ip', 'iproute2'],
    ['keepalived', 'keepalived'],
    ['haproxy', 'haproxy'],
    ['openssl', 'openssl'],
    ['setpriv', 'util-linux'],
    ['bash', 'bash'],
  ],
  // the lab mounts each namespace's copy of these over them
  paths: [
    ['/etc/keepalived', 'keepalived'],
    ['/etc/haproxy', 'haproxy'],
  ],
};

/** Remove what failover runs whose flat6 process is gone left: namespaces, /etc/netns copies, temporary directories. */
export function sweepStaleFailoverRuns(): string[] {
  return sweepAbandoned({ namePrefix: `${NS_PREFIX}-`, dirs: [{ parent: tmpdir(), entryPrefix: TMP_PREFIX }] });
}

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

export interface FailoverLabOptions {
  /** unique per run: part of every namespace name */
  runId: string;
  pollIntervalMs?: number;
  requestTimeoutMs?: number;
  sampleIntervalMs?: number;
  templates?: TemplateSet;
  log?: Log;
  /** copy the logs of every process here when the lab comes down */
  keepLogs?: string;
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
  private sampler?: NodeJS.Timeout;
  private sampling = false;
  private readonly log: Log;
  private torn = false;
  private readonly keepLogs?: string;
  /** an uncaught error or process.exit while the lab is up still removes it */
  private readonly onExit = (): void => this.down();

  constructor(plan: ClusterPlan, opts: FailoverLabOptions) {
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
    let first: HaFiles | undefined;
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
    process.on('exit', this.onExit);
    const dir = mkdtempSync(join(tmpdir(), `${TMP_PREFIX}${process.pid}-`));
    this.dir = dir;
    this.log(`lab ${this.prefix}: ${this.nodes.length} control-plane namespaces + switch + client, files in ${dir}`);
    await this.buildNetwork();
    if (!existsSync(ETC_NETNS)) {
      mkdirSync(ETC_NETNS, { mode: 0o755 });
      this.createdEtcNetns = true;
    }
    for (const n of this.nodes) installEtcFiles(n.ns, n.files);
    await this.makeCertificate();
    for (const n of this.nodes) this.startVipMonitor(n);
    await Promise.all(this.nodes.map((n) => this.startApiServer(n.name)));
    await Promise.all(this.nodes.map((n) => this.startHaproxy(n)));
    for (const n of this.nodes) this.startKeepalived(n.name);
    this.startSampler();
    this.startPoller();
  }

  /** The switch, and each node and the client cabled to it. DAD is off: the lab's addresses are unique by construction. */
  private async buildNetwork(): Promise<void> {
    const addNs = async (ns: string): Promise<void> => {
      this.created.push(ns);
      await addNamespace(ns, { dad: false });
    };
    await addNs(this.switchNs);
    await ipBatch(this.switchNs, ['link add br0 type bridge mcast_snooping 0', 'link set br0 up']);
    const attach = async (ns: string, port: string, iface: string, address: string): Promise<void> => {
      await addNs(ns);
      await ipBatch(this.switchNs, [`link add ${port} type veth peer name ${iface} netns ${ns}`, `link set ${port} master br0 up`]);
      await ipBatch(ns, [`addr add ${address}/${this.layout.prefixLength} dev ${iface} nodad`, `link set ${iface} up`]);
    };
    for (const n of this.nodes) await attach(n.ns, n.port, n.iface, n.address);
    await attach(this.clientNs, 'pcl', 'eth0', this.layout.clientAddress);
  }

  private async makeCertificate(): Promise<void> {
    const sans = [this.layout.vip, ...this.nodes.map((n) => n.address)].map((a) => `IP:${a}`).join(',');
    await must('openssl', [
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

  /** The daemon `key` (logging to <dir>/<key>.log), created on first use. */
  private daemon(key: string, argv: string[], opts: DaemonOptions = {}): Daemon {
    let d = this.daemons.get(key);
    if (!d) {
      d = new Daemon(key, argv, { ...opts, logFile: this.path(`${key}.log`) });
      this.daemons.set(key, d);
    }
    return d;
  }

  private startVipMonitor(n: LabNode): void {
    const vipText = `inet6 ${this.layout.vip}/`;
    this.daemon(`monitor-${n.name}`, ['ip', '-o', '-n', n.ns, 'monitor', 'address'], {
      onLine: (line) => {
        if (!line.includes(vipText)) return;
        const held = !line.startsWith('Deleted');
        if (held === this.holders.has(n.name)) return;
        if (held) this.holders.add(n.name);
        else this.holders.delete(n.name);
        this.vipEvents.push({ t: now(), node: n.name, held });
      },
    }).start();
  }

  /** Start (or restart) the stand-in API server of a node; resolves once it listens. */
  async startApiServer(name: string): Promise<void> {
    const n = this.node(name);
    const cfg: StandInConfig = { name: n.name, host: n.address, port: this.layout.apiServerPort, key: this.path('api.key'), cert: this.path('api.crt') };
    const d = this.daemon(`apiserver-${n.name}`, probeArgv(n.ns, 'https-stand-in', [JSON.stringify(cfg)]));
    d.start();
    await d.waitLine(/^listening/, 10_000, `stand-in API server of ${n.name} on [${n.address}]:${this.layout.apiServerPort}`);
  }

  async stopApiServer(name: string): Promise<void> {
    await this.daemons.get(`apiserver-${name}`)?.stop();
  }

  private async startHaproxy(n: LabNode): Promise<void> {
    const sock = this.path(`haproxy-${n.name}.sock`);
    const d = this.daemon(`haproxy-${n.name}`, ['ip', 'netns', 'exec', n.ns, 'haproxy', '-W', '-db', '-f', '/etc/haproxy/haproxy.cfg', '-p', this.path(`haproxy-${n.name}.pid`), '-S', sock], { deathSignal: 'TERM' });
    d.start();
    await waitFor(
      `haproxy of ${n.name} to open its master socket`,
      async () => {
        if (!d.running) throw new LabError(`haproxy of ${n.name} ${d.exit}; see ${this.path(`haproxy-${n.name}.log`)}`);
        return haproxyAnswers(sock);
      },
      10_000,
      50,
    );
  }

  /** A command for haproxy's worker on node `name`, through its master CLI socket. */
  haproxyCommand(name: string, command: string): Promise<string> {
    return haproxyCommand(this.path(`haproxy-${name}.sock`), command);
  }

  /** Backend servers as the haproxy of `name` sees them (UP, DOWN, "UP 1/2", ...). */
  async backends(name: string): Promise<BackendState[]> {
    return parseBackends(await this.haproxyCommand(name, 'show stat'), 'apiserver', name);
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
  async setLink(name: string, up: boolean): Promise<void> {
    await must('ip', ['-n', this.switchNs, 'link', 'set', this.node(name).port, up ? 'up' : 'down']);
  }

  private startPoller(): void {
    const cfg: PollerConfig = { host: this.layout.vip, port: this.layout.port, path: '/healthz', ca: this.path('api.crt'), intervalMs: this.pollIntervalMs, timeoutMs: this.requestTimeoutMs };
    this.daemon('client', probeArgv(this.clientNs, 'https-poller', [JSON.stringify(cfg)]), {
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
    const sampleOne = async (n: LabNode): Promise<boolean> => {
      const r = await run('ip', ['-n', n.ns, '-6', '-o', 'addr', 'show', 'dev', n.iface], { timeoutMs: 2_000 });
      return r.code === 0 && r.stdout.includes(`inet6 ${this.layout.vip}/`);
    };
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
   * namespaces with their /etc/netns copies, and the temporary directory.
   * Synchronous, idempotent, never throws.
   */
  down(): void {
    if (this.torn) return;
    this.torn = true;
    process.removeListener('exit', this.onExit);
    this.stopSampler();
    // keepalived first, so it releases the VIP while haproxy and the network still exist
    const order = [...this.daemons.values()].sort((a, b) => rank(a.name) - rank(b.name));
    for (const d of order) d.terminate();
    for (const end = Date.now() + 2_000; Date.now() < end && !order.every((d) => d.ended()); ) sleepSync(20);
    for (const d of order) d.killGroup();
    for (const d of order) d.close();
    if (this.keepLogs) {
      try {
        this.saveLogs(this.keepLogs);
      } catch (e) {
        this.log(`could not keep the logs in ${this.keepLogs}: ${(e as Error).message}`);
      }
    }
    removeNamespaces(this.created, { graceMs: 0 });
    if (this.createdEtcNetns) removeEmptyEtcNetns();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** After down(): lets the event loop reap the ended processes (at most `ms`). */
  async reaped(ms = 2_000): Promise<void> {
    await Promise.all([...this.daemons.values()].map((d) => d.waitExit(ms)));
  }

  /** What of this lab still exists (expected: nothing, after down()). */
  leftovers(): string[] {
    const out = listNamespaces()
      .filter((ns) => ns.startsWith(`${this.prefix}-`))
      .map((ns) => `network namespace ${ns}`);
    for (const d of this.daemons.values()) {
      const left = d.remaining();
      if (left.length) out.push(`processes of ${d.name}: ${left.join(' ')}`);
    }
    for (const n of this.nodes) if (existsSync(join(ETC_NETNS, n.ns))) out.push(join(ETC_NETNS, n.ns));
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
