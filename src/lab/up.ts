/**
 * `flat6 lab up`: the stack's network on this machine, built from the
 * rendered files. A spine, one ToR per rack (the rack switch is a bridge in
 * the ToR's namespace), the nodes, a few pods per node. Each node and router
 * gets its addresses and routes from its rendered netplan (through `netplan
 * generate` and the networkd units it writes), its kernel settings from its
 * rendered sysctl file, and, in bgp mode, runs BIRD with its rendered
 * bird.conf. Pods are attached by the real CNI plugins with the rendered
 * conflist. Nothing is configured from the in-memory plan.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { UsageError } from '../core/diagnostics.js';
import { formatPrefix } from '../core/ip.js';
import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import { expectedSpineRoutes, expectedTorRoutes, spineIndexes, spineName, spinePort, TOR_DOWNLINK, torName, torUplink, type ExpectedRoute } from '../plan/routing.js';
import { CNI_CONFLIST_PATH } from '../render/cni.js';
import { BIRD_CONF, ROUTER_SYSCTL } from '../render/routing.js';
import type { LoadedStack } from '../spec/load.js';
import { ipBatch, ipJson, LabError, must, mustInNs, run, which, type Log } from '../runtime/exec.js';
import { limiter, pool, sleep } from '../runtime/flow.js';
import { addNamespace as createNamespace } from '../runtime/netns.js';
import { preflight, type Requirements } from '../runtime/preflight.js';
import { checkInterrupted, interruptible } from '../runtime/signals.js';
import { startBird } from './bird.js';
import { describeSummary, readAttach, recordAttach, summarize, tentativeAfterAdd } from './check-attach.js';
import { attachmentOf, cniAdd, CNI_PATH, readConflist, type Attachment } from './cni.js';
import { sweepStaleRuns, teardown } from './down.js';
import { applyUnits, netplanUnits, type Units } from './networkd.js';
import { compareRoutes, describeDiff, readRoutes, routingState } from './routes.js';
import { newRunId, nsName, readState, runDirOf, saveState, type BirdRecord, type LabBuildOptions, type LabState, type NodeRecord, type PodRecord } from './state.js';
import { hostRoot, LAB_BGP_TIMERS, labCluster, planCluster, renderPlan, routerRoot } from './topology.js';

/**
 * What applies a node's sysctl.d file at boot (systemd-sysctl.service), and
 * what udev runs for each network interface as it appears (99-systemd.rules):
 * unlike procps sysctl 4.0 it skips a "-" line whose key is missing.
 */
export const SYSTEMD_SYSCTL = '/usr/lib/systemd/systemd-sysctl';

/** Root and the Debian packages the lab runs (scripts/install-test-deps.sh installs them). */
export const LAB_REQUIREMENTS: Requirements = {
  name: 'the lab',
  needsRoot: 'creates network namespaces, veth pairs and routes',
  sudo: 'sudo flat6 lab ...',
  tools: [
    ['ip', 'iproute2'],
    ['sysctl', 'procps'],
    ['netplan', 'netplan.io'],
    ['bird', 'bird2'],
    ['birdc', 'bird2'],
    ['ping', 'iputils-ping'],
    ['setpriv', 'util-linux'],
  ],
  paths: [
    [join(CNI_PATH, 'loopback'), 'containernetworking-plugins'],
    [join(CNI_PATH, 'tuning'), 'containernetworking-plugins'],
    [join(CNI_PATH, 'ptp'), 'containernetworking-plugins'],
    [join(CNI_PATH, 'host-local'), 'containernetworking-plugins'],
    [SYSTEMD_SYSCTL, 'systemd'],
  ],
};

/** Root and the real tools, or a UsageError saying what to do. */
export const labPreflight = (): void => preflight(LAB_REQUIREMENTS);

export interface UpOptions extends LabBuildOptions {
  templates?: string;
  /** keep the stack's BGP timers instead of the lab's short ones */
  keepTimers?: boolean;
}

const LAB_STACK = (stack: string): string => `Pulumi.${stack}-lab.yaml`;
export const labStackPath = (dir: string, stack: string): string => join(dir, LAB_STACK(stack));

/**
 * Build the lab. Runs a killed `lab up` left half built are removed first. On
 * any failure, Ctrl-C or SIGTERM included, everything made so far is removed
 * (once) and the error rethrown.
 */
export async function labUp(stack: LoadedStack, env: NodeJS.ProcessEnv, opts: UpOptions, log: Log): Promise<LabState> {
  labPreflight();
  const t0 = performance.now();
  const cluster = labCluster(stack, { ...opts, bgpTimers: opts.keepTimers ? undefined : LAB_BGP_TIMERS });
  const { plan, text } = planCluster(LAB_STACK(stack.stackName), cluster, `flat6 lab: a subset of ${stack.file} (racks: ${opts.racks ?? 'all'}, nodes per rack: ${opts.nodesPerRack ?? 'all'}${opts.mode ? `, routing mode ${opts.mode}` : ''}${opts.keepTimers ? '' : ', lab BGP timers'})`);
  for (const b of opts.break) {
    if (!plan.findNode(b)) throw new UsageError(`--break ${b}: no node "${b}" in the lab (its nodes: ${[...plan.nodes()].map((n) => n.name).join(', ')})`);
  }
  sweepStaleRuns(env, log);
  const dir = runDirOf(env, stack.stackName);
  if (existsSync(dir)) throw alreadyThere(dir, stack.stackName);
  mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`another "flat6 lab up --stack ${stack.stackName}" is starting (${dir} appeared meanwhile)`);
    throw e;
  }
  const runId = newRunId();
  const state: LabState = {
    version: 1,
    stack: stack.stackName,
    stackFile: stack.file,
    labStackFile: labStackPath(dir, stack.stackName),
    runId,
    prefix: `f6-${runId}-`,
    dir,
    mode: plan.spec.routing.mode,
    startedAt: new Date().toISOString(),
    phase: 'building',
    owner: process.pid,
    options: { racks: opts.racks, nodesPerRack: opts.nodesPerRack, podsPerNode: opts.podsPerNode, mode: opts.mode, break: opts.break, timeoutSec: opts.timeoutSec },
    namespaces: [],
    birds: [],
    routers: [],
    nodes: [],
    pods: [],
    timings: {},
    generation: 0,
  };
  saveState(state);
  return interruptible('flat6 lab up', async () => {
    try {
      writeFileSync(state.labStackFile, text, { mode: 0o600 });
      const render = join(dir, 'render');
      renderPlan(plan, render, opts.templates);
      state.timings['render'] = ms(t0);
      log(`lab ${stack.stackName} (${state.mode} mode), run ${runId}: ${plan.rackCount} rack(s), ${plan.nodeCount} node(s), ${opts.podsPerNode} pod(s) per node; files rendered to ${render}`);
      await build(state, plan, render, opts, log, t0);
      checkInterrupted();
      state.phase = 'up';
      state.owner = undefined;
      state.timings['up'] = ms(t0);
      saveState(state);
      log(`lab up in ${(state.timings['up']! / 1000).toFixed(2)} s: ${state.namespaces.length} namespaces (prefix ${state.prefix}), ${state.birds.length} BIRD daemon(s); state in ${dir}`);
      return state;
    } catch (e) {
      const r = teardown(state);
      const left = r.left.length ? ` (could not remove: ${r.left.join(', ')})` : '';
      log(`lab up failed; removed ${r.namespaces} namespace(s) and ${r.processes} process(es)${left}`);
      throw e;
    }
  });
}

/** Why `up` cannot start: a run of the stack is up or being built, or its directory holds something else. */
function alreadyThere(dir: string, stack: string): UsageError {
  const st = readState(dir);
  if (!st) return new UsageError(`${dir} exists but holds no lab state; remove it (rm -r ${dir}) or run "flat6 lab down --stack ${stack}"`);
  const what = st.phase === 'building' ? `is being built (run ${st.runId}, by pid ${st.owner ?? '?'} since ${st.startedAt})` : `is already up (run ${st.runId}, since ${st.startedAt})`;
  return new UsageError(`a lab of stack ${stack} ${what}: check it with "flat6 lab check --stack ${stack}" or remove it with "flat6 lab down --stack ${stack}"`);
}

const ms = (t0: number): number => Math.round(performance.now() - t0);

/** Record, then create a namespace with its loopback up. */
export async function addNamespace(state: LabState, ns: string): Promise<void> {
  checkInterrupted();
  if (!state.namespaces.includes(ns)) state.namespaces.push(ns);
  saveState(state);
  await createNamespace(ns);
}

/** Kernel modules the rendered modules-load.d file names, loaded if absent (systemd-modules-load does this at boot). */
async function ensureModules(file: string, log: Log): Promise<void> {
  if (!existsSync(file)) return;
  const mods = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/[#;].*$/, '').trim())
    .filter(Boolean);
  const loaded: string[] = [];
  const unknown: string[] = [];
  for (const m of mods) {
    if (existsSync(`/sys/module/${m}`)) continue;
    const r = which('modprobe') ? await run('modprobe', [m]) : undefined;
    if (r?.code === 0) loaded.push(m);
    else unknown.push(m);
  }
  if (loaded.length) log(`  loaded kernel module(s) ${loaded.join(', ')} (${file})`);
  // A module built into the kernel has no /sys/module entry and cannot be modprobed;
  // if it is really missing, sysctl -p of the rendered file fails next and says which key.
  if (unknown.length) log(`  kernel module(s) ${unknown.join(', ')} (etc/modules-load.d/flat6.conf) not loadable here, so taken as built in; sysctl -p of the rendered files shows whether their settings exist`);
}

export interface NodeBuild {
  record: NodeRecord;
  plan: NodePlan;
}

/** The name a node's uplink has before netplan renames it (when netplan matches it by MAC). */
const BOOT_NAME = 'f6boot0';

/**
 * A NIC needs a MAC; a node the stack gives none gets a locally administered
 * one from its position, so a node taken out and put back answers from the
 * MAC its ToR still has in its neighbour cache, as the same machine would.
 */
function mac(bytes: number[]): string {
  return bytes.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** The MAC of the routed port of rack `index`'s switch: 02:f7:00:00:<rack>. */
export function rackSwitchMac(index: number): string {
  return mac([0x02, 0xf7, 0, 0, (index >> 8) & 255, index & 255]);
}

export function labMac(node: NodePlan): string {
  const r = node.rack.index;
  const s = node.slot;
  return mac([0x02, 0xf6, (r >> 8) & 255, r & 255, (s >> 8) & 255, s & 255]);
}

/**
 * A node's machine: namespace, its NIC cabled to a port of its rack switch,
 * then kernel settings from its rendered sysctl file (by systemd-sysctl, as
 * at boot; the NIC is there first, as when its driver loads before
 * systemd-sysctl runs, so it keeps the kernel's DAD default whatever name it
 * has). A node with a MAC gets it on the NIC, under a boot-time name that its
 * netplan must rename.
 */
export async function createNode(state: LabState, plan: ClusterPlan, node: NodePlan, render: string): Promise<NodeBuild> {
  const ns = nsName.node(state.prefix, node.rack.index, node.slot);
  const torNs = nsName.tor(state.prefix, node.rack.index);
  await addNamespace(state, ns);
  const port = `p${node.slot}`;
  const nic = node.mac ? BOOT_NAME : node.interface;
  await must('ip', ['link', 'add', 'name', nic, 'netns', ns, 'address', node.mac ?? labMac(node), 'type', 'veth', 'peer', 'name', port, 'netns', torNs]);
  await mustInNs(ns, SYSTEMD_SYSCTL, [join(hostRoot(render, node.name), 'etc/sysctl.d/99-flat6.conf')]);
  await must('ip', ['netns', 'exec', torNs, 'sysctl', '-q', '-w', `net.ipv6.conf.${port}.disable_ipv6=1`]);
  await ipBatch(torNs, [`link set dev ${port} mtu ${plan.spec.network.mtu}`, `link set dev ${port} master ${TOR_DOWNLINK}`, `link set dev ${port} up`]);
  return { record: { name: node.name, rackIndex: node.rack.index, slot: node.slot, ns, uplink: node.interface, port }, plan: node };
}

/** Apply a node's networkd units (from its rendered netplan) and make sure they configured its uplink. */
export async function configureNode(b: NodeBuild, units: Units): Promise<void> {
  const applied = await applyUnits(b.record.ns, units);
  if (!applied.interfaces.has(b.plan.interface)) {
    throw new LabError(`${b.plan.name}: the rendered netplan configured ${[...applied.interfaces.keys()].join(', ') || 'no interface'}, not the uplink ${b.plan.interface}`);
  }
}

export function nodeUnits(state: LabState, render: string, name: string): Promise<Units> {
  return netplanUnits(hostRoot(render, name), join(state.dir, 'roots', name));
}

/** createNode + netplan + configureNode. */
export async function buildNode(state: LabState, plan: ClusterPlan, node: NodePlan, render: string): Promise<NodeBuild> {
  const units = await nodeUnits(state, render, node.name);
  const b = await createNode(state, plan, node, render);
  await configureNode(b, units);
  return b;
}

/**
 * CNI ADDs run one at a time: every lab node shares this machine's CPUs, so
 * ADDs of several nodes at once would measure their queueing for the CPUs,
 * not what a node's runtime sees. Without DAD an ADD takes tens of ms.
 */
const cniSlot = limiter(1);

/** Attach pod k of a node with the node's rendered conflist (CNI ADD), timed and recorded (check-attach.ts); `made`: its namespace is there already. */
export async function addPod(state: LabState, render: string, node: NodeRecord, k: number, made = false): Promise<PodRecord> {
  const ns = podNamespace(state, node, k);
  if (!made) await addNamespace(state, ns);
  const containerId = `flat6-lab-${state.runId}-${state.generation++}`;
  const list = readConflist(join(hostRoot(render, node.name), CNI_CONFLIST_PATH));
  const a = attachment(state, node, ns, containerId);
  const { result, ms: took } = await cniSlot(async () => {
    const t = performance.now();
    const r = await cniAdd(list, a);
    return { result: r, ms: Math.round(performance.now() - t) };
  });
  const { address, hostVeth } = attachmentOf(result, a.ifname);
  const pod: PodRecord = { name: `${node.name}-p${k}`, node: node.name, ns, containerId, address, hostVeth };
  recordAttach(state, { pod: pod.name, node: node.name, ms: took, tentative: await tentativeAfterAdd(ns, a.ifname, node.ns, hostVeth) });
  state.pods.push(pod);
  saveState(state);
  return pod;
}

const podNamespace = (state: LabState, node: NodeRecord, k: number): string => nsName.pod(state.prefix, node.rackIndex, node.slot, k);

export function attachment(state: LabState, node: NodeRecord, podNs: string, containerId: string): Attachment {
  const base = join(state.dir, 'cni', node.name);
  return { nodeNs: node.ns, podNs, containerId, ifname: 'eth0', ipamDataDir: join(base, 'ipam'), cacheFile: join(base, 'results', `${containerId}.json`) };
}

interface IpAddrIf {
  ifname: string;
  addr_info?: Array<{ local?: string; family?: string }>;
}

/** Wait until no IPv6 address in these namespaces is tentative (DAD done); a failed DAD is a duplicate address. */
export async function settleDad(namespaces: string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = namespaces;
  while (pending.length) {
    const still: string[] = [];
    await pool(pending, 16, async (ns) => {
      const failed = await ipJson<IpAddrIf[]>(ns, ['-6', 'addr', 'show', 'dadfailed']);
      const dup = failed.flatMap((i) => (i.addr_info ?? []).map((a) => `${a.local} on ${i.ifname}`));
      if (dup.length) throw new LabError(`duplicate address detected in ${ns}: ${dup.join(', ')}`);
      const tentative = await ipJson<IpAddrIf[]>(ns, ['-6', 'addr', 'show', 'tentative']);
      if (tentative.some((i) => (i.addr_info ?? []).length > 0)) still.push(ns);
    });
    pending = still;
    if (!pending.length) break;
    checkInterrupted();
    if (Date.now() > deadline) throw new LabError(`IPv6 duplicate address detection did not finish in ${timeoutMs / 1000} s in ${pending.join(', ')}`);
    await sleep(50);
  }
}

/**
 * Where each router's routing state should end up (a broken node's prefix is
 * not expected at its ToR; `spinesUp`: the spines the ToRs' default routes
 * should go through, all by default).
 */
export function expectations(state: LabState, plan: ClusterPlan, broken: ReadonlySet<string> = new Set(state.options.break), spinesUp: readonly number[] = spineIndexes(plan)): Map<string, ExpectedRoute[]> {
  const m = new Map<string, ExpectedRoute[]>();
  const lab = new Set(state.nodes.map((n) => n.name));
  for (const r of state.routers) {
    if (r.kind === 'spine') m.set(r.ns, expectedSpineRoutes(plan, plan.racks(), r.spineIndex ?? 0));
    else {
      const rack = plan.rackAt(r.rackIndex!);
      m.set(r.ns, expectedTorRoutes(plan, rack, [...plan.nodesOfRack(rack)].filter((n) => lab.has(n.name) && !broken.has(n.name)), spinesUp));
    }
  }
  return m;
}

/** Poll the routers until their routing state equals `expected`; throw with the differences on timeout. */
export async function waitConverged(expected: Map<string, ExpectedRoute[]>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const diffs: string[] = [];
    await pool([...expected.entries()], 16, async ([ns, want]) => {
      const d = compareRoutes(want, routingState(await readRoutes(ns)));
      if (d.missing.length || d.extra.length || d.wrong.length) diffs.push(`${ns}: ${describeDiff(d)}`);
    });
    if (!diffs.length) return ms(t0);
    checkInterrupted();
    if (Date.now() > deadline) throw new LabError(`routes did not converge in ${timeoutMs / 1000} s:\n  ${diffs.sort().join('\n  ')}`);
    await sleep(100);
  }
}

async function build(state: LabState, plan: ClusterPlan, render: string, opts: UpOptions, log: Log, t0: number): Promise<void> {
  const racks = [...plan.racks()];
  const nodes = [...plan.nodes()];
  const broken = new Set(opts.break);
  const spines = spineIndexes(plan);
  const mtu = plan.spec.network.mtu;

  checkInterrupted();
  await ensureModules(join(hostRoot(render, nodes[0]!.name), 'etc/modules-load.d/flat6.conf'), log);
  state.routers = [...spines.map((s) => ({ name: spineName(s), kind: 'spine' as const, ns: nsName.spine(state.prefix, s), spineIndex: s })), ...racks.map((r) => ({ name: torName(r), kind: 'tor' as const, ns: nsName.tor(state.prefix, r.index), rackIndex: r.index }))];

  // netplan generate is CPU-bound (one Python process per host): it runs beside the
  // plumbing, routers first, and each node goes on as soon as its own units are there.
  const limit = limiter(Math.max(2, cpus().length));
  const units = new Map<string, Promise<Units>>();
  for (const r of state.routers) units.set(r.name, limit(() => netplanUnits(routerRoot(render, r.name), join(state.dir, 'roots', r.name))));
  for (const n of nodes) units.set(n.name, limit(() => nodeUnits(state, render, n.name)));
  for (const u of units.values()) u.catch(() => undefined);

  // Fabric routers: namespaces, kernel settings, fabric links, rack switches.
  for (const r of state.routers) await addNamespace(state, r.ns);
  checkInterrupted();
  await pool(state.routers, 16, (r) => mustInNs(r.ns, 'sysctl', ['-p', join(routerRoot(render, r.name), ROUTER_SYSCTL)]));
  await pool(racks, 16, async (rack) => {
    checkInterrupted();
    const torNs = nsName.tor(state.prefix, rack.index);
    for (const s of spines) await must('ip', ['link', 'add', 'name', spinePort(rack.index), 'netns', nsName.spine(state.prefix, s), 'type', 'veth', 'peer', 'name', torUplink(s), 'netns', torNs]);
    // The rack switch: a plain L2 bridge; the ToR's downlink interface is its routed port.
    // Its MAC is fixed: a bridge left to itself takes its lowest port MAC, so adding a
    // node would change the gateway's MAC under every node's neighbour cache.
    await ipBatch(torNs, [`link add name ${TOR_DOWNLINK} address ${rackSwitchMac(rack.index)} type bridge mcast_snooping 0`, `link set dev ${TOR_DOWNLINK} mtu ${mtu}`]);
  });
  // Nodes: namespaces, kernel settings, cabling.
  const built = await pool(nodes, 16, (n) => createNode(state, plan, n, render));
  state.nodes = built.map((b) => b.record);
  saveState(state);
  state.timings['machines'] = ms(t0);

  // Router interfaces and routes (static mode: a broken node's route is left out at its ToR).
  await pool(state.routers, 16, async (r) => {
    checkInterrupted();
    const skip = new Set<string>();
    if (state.mode === 'static' && r.kind === 'tor') for (const b of built) if (broken.has(b.plan.name) && b.plan.rack.index === r.rackIndex) skip.add(formatPrefix(b.plan.podPrefix));
    const applied = await applyUnits(r.ns, await units.get(r.name)!, { skipRoutes: skip });
    if (applied.skipped.length) log(`  --break: left out ${applied.skipped.join(', ')} at ${r.name}`);
  });
  // Each node: its netplan; then the pods, once every node's netplan generate
  // (CPU-bound) is done, so an ADD's time is the attach, not a wait for a CPU.
  const tPods = performance.now();
  await pool(built, 16, async (b) => {
    checkInterrupted();
    await configureNode(b, await units.get(b.plan.name)!);
  });
  // Pod namespaces first (as a runtime has the sandbox's before it runs CNI), then the ADDs.
  const pods = built.flatMap((b) => Array.from({ length: opts.podsPerNode }, (_, k) => ({ node: b.record, k })));
  for (const { node, k } of pods) await addNamespace(state, podNamespace(state, node, k));
  await pool(pods, 16, ({ node, k }) => {
    checkInterrupted();
    return addPod(state, render, node, k, true);
  });
  state.pods.sort((a, b) => state.namespaces.indexOf(a.ns) - state.namespaces.indexOf(b.ns));
  saveState(state);
  state.timings['pods'] = ms(t0);
  log(`  ${state.nodes.length} node(s) configured from their netplan and ${state.pods.length} pod(s) attached by the CNI plugins in ${ms(tPods)} ms`);
  const attach = summarize(readAttach(state));
  const waiting = attach.waiting.length ? `; ${attach.waiting.length} pod(s) had tentative addresses when ADD returned (DAD on the start path)` : '; no address tentative when ADD returned';
  log(`  pod attach: ${describeSummary(attach)}${waiting}`);

  await settleDad(state.namespaces);
  state.timings['dad'] = ms(t0);

  // Routing daemons.
  if (state.mode === 'bgp') {
    mkdirSync(join(state.dir, 'bird'), { mode: 0o700 });
    const birds: BirdRecord[] = [
      ...state.routers.map((r) => birdRecord(state, r.name, r.ns, join(routerRoot(render, r.name), BIRD_CONF))),
      ...state.nodes.filter((n) => !broken.has(n.name)).map((n) => birdRecord(state, n.name, n.ns, join(hostRoot(render, n.name), BIRD_CONF))),
    ];
    for (const n of state.nodes) if (broken.has(n.name)) log(`  --break: BIRD not started on ${n.name}`);
    state.birds.push(...birds);
    saveState(state);
    await pool(birds, 16, async (b) => {
      checkInterrupted();
      await startBird(b);
    });
  }
  state.timings['daemons'] = ms(t0);
  const took = await waitConverged(expectations(state, plan), opts.timeoutSec * 1000);
  state.timings['converged'] = ms(t0);
  log(`  routes converged ${took} ms after ${state.mode === 'bgp' ? 'BIRD started' : 'the static routes were applied'} (${(state.timings['converged']! / 1000).toFixed(2)} s after lab up began)`);
}

export function birdRecord(state: LabState, name: string, ns: string, config: string): BirdRecord {
  return { name, ns, config, ctl: join(state.dir, 'bird', `${name}.ctl`), pidFile: join(state.dir, 'bird', `${name}.pid`) };
}
