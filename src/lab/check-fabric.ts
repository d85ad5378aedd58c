/**
 * Checks of how the fabric survives failure, measured with traffic flowing:
 *
 *   link flap   a node's uplink drops twice (its rack switch port goes down,
 *               the node sees carrier loss) and comes back; measured: how
 *               long the ToR keeps the node's pod prefix (BFD withdrawal),
 *               and how long after each restore a pod on the node answers a
 *               pod in another rack again.
 *   spine loss  one spine loses all its links (its ports go down, each ToR
 *               sees carrier loss on its link to it) while pods in different racks
 *               ping each other every 10 ms; measured: the gap in each flow,
 *               the time until every ToR's ECMP default route holds only the
 *               surviving spines, and the time until everything is back when
 *               the links return.
 */
import { formatAddress, formatPrefix } from '../core/ip.js';
import { join } from 'node:path';
import { fabricLink, spineCount, spinePort, TOR_DOWNLINK } from '../plan/routing.js';
import { ipBatch, LabError, must } from '../runtime/exec.js';
import { now, sleep } from '../runtime/flow.js';
import { nodePlanOf, podText, type CheckContext } from './check-context.js';
import { PingStream, type PingGap } from './ping-stream.js';
import { readRoutes, routingState } from './routes.js';
import { applyUnits, netplanUnits } from './networkd.js';
import type { NodeRecord, PodRecord, RouterRecord } from './state.js';
import { routerRoot } from './topology.js';
import { expectations, waitConverged } from './up.js';

/** Goals (issue 11): pods answer again within 5 s of a restore; BFD withdraws a dead node's prefix within 1 s. */
export const FLAP_RECOVERY_GOAL_MS = 5000;
export const BFD_WITHDRAWAL_GOAL_MS = 1000;
/** How long a flapped link stays down: longer than BFD detection, shorter than a BGP hold time. */
const FLAP_DOWN_MS = 2000;
/** A spine-loss gap longer than this fails the check. */
export const SPINE_LOSS_GOAL_MS = 1000;
const SPINE_DOWN_MS = 3000;

const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function hasRoute(ns: string, dst: string): Promise<boolean> {
  return routingState(await readRoutes(ns)).some((r) => r.dst === dst);
}

/** Poll until `cond` holds; the wall-clock ms it first held, or undefined after `timeoutMs`. */
async function until(cond: () => Promise<boolean>, timeoutMs: number, stepMs = 20): Promise<number | undefined> {
  const deadline = now() + timeoutMs;
  for (;;) {
    if (await cond()) return now();
    if (now() > deadline) return undefined;
    await sleep(stepMs);
  }
}

function torOf(ctx: CheckContext, n: NodeRecord): RouterRecord {
  const t = ctx.state.routers.find((r) => r.kind === 'tor' && r.rackIndex === n.rackIndex);
  if (!t) throw new LabError(`no ToR of rack ${n.rackIndex} in the lab`);
  return t;
}

/** A node in another rack than `source`'s, with a pod: the last such node of the lab. */
function flapTarget(ctx: CheckContext, source: PodRecord): { node: NodeRecord; pod: PodRecord } | undefined {
  const { state } = ctx;
  const from = state.nodes.find((n) => n.name === source.node)!;
  for (const n of [...state.nodes].reverse()) {
    if (n.rackIndex === from.rackIndex) continue;
    const pod = state.pods.find((p) => p.node === n.name);
    if (pod) return { node: n, pod };
  }
  return undefined;
}

interface Flap {
  withdrawMs?: number;
  recoverMs?: number;
  routeBackMs?: number;
  lost: number;
  errors: string;
}

async function flapOnce(ctx: CheckContext, source: PodRecord, node: NodeRecord, pod: PodRecord, tor: RouterRecord, prefix: string): Promise<Flap> {
  const stream = new PingStream(source.ns, pod.address, 50);
  try {
    if ((await stream.replyAfter(0, 5000)) === undefined) throw new LabError(`${podText(pod)} does not answer ${podText(source)} before the flap`);
    const down = now();
    await must('ip', ['-n', tor.ns, 'link', 'set', 'dev', node.port, 'down']);
    const withdrawn = await until(async () => !(await hasRoute(tor.ns, prefix)), FLAP_DOWN_MS);
    await sleep(Math.max(0, down + FLAP_DOWN_MS - now()));
    const up = now();
    await must('ip', ['-n', tor.ns, 'link', 'set', 'dev', node.port, 'up']);
    const answered = await stream.replyAfter(up, 30_000);
    const routeBack = await until(() => hasRoute(tor.ns, prefix), 30_000, 50);
    await sleep(200);
    const s = await stream.stop();
    return {
      withdrawMs: withdrawn === undefined ? undefined : withdrawn - down,
      recoverMs: answered === undefined ? undefined : answered - up,
      routeBackMs: routeBack === undefined ? undefined : routeBack - up,
      lost: s.sent - s.replies,
      errors: [...s.errors.entries()].map(([t, n]) => `${n} x ${t}`).join(', '),
    };
  } finally {
    await stream.stop();
  }
}

/** Drop a node's uplink twice and restore it; measure withdrawal at the ToR and recovery of its pods from another rack. */
export async function checkLinkFlap(ctx: CheckContext, source: PodRecord): Promise<void> {
  const { state, plan } = ctx;
  const name = 'link flap';
  if (state.mode !== 'bgp') {
    ctx.report('SKIP', name, 'static mode: no session to lose or recover (the ToR keeps its static route through a flap)');
    return;
  }
  const t = flapTarget(ctx, source);
  if (!t) {
    ctx.report('SKIP', name, 'needs a pod in a second rack');
    return;
  }
  const tor = torOf(ctx, t.node);
  const prefix = formatPrefix(nodePlanOf(ctx, t.node).podPrefix);
  const { bfd, bgp } = plan.spec.routing;
  const flaps: Flap[] = [];
  for (let i = 0; i < 2; i++) flaps.push(await flapOnce(ctx, source, t.node, t.pod, tor, prefix));
  // Everything the plan predicts is back (each flap waited only for its own route).
  await waitConverged(expectations(state, plan), 30_000);
  const withdrawGoal = bfd.enabled ? BFD_WITHDRAWAL_GOAL_MS : bgp.holdTime * 1000 + 1000;
  const ok = flaps.every((f) => f.recoverMs !== undefined && f.recoverMs < FLAP_RECOVERY_GOAL_MS && f.withdrawMs !== undefined && f.withdrawMs < withdrawGoal);
  const text = flaps
    .map(
      (f, i) =>
        `flap ${i + 1}: ${tor.name} withdrew ${prefix} ${f.withdrawMs === undefined ? `NOT within ${secs(FLAP_DOWN_MS)}` : `after ${secs(f.withdrawMs)}`}; ` +
        `after the restore ${t.pod.name} answered ${f.recoverMs === undefined ? 'NEVER (30 s)' : `in ${secs(f.recoverMs)}`} (route back at ${tor.name} in ${f.routeBackMs === undefined ? '-' : secs(f.routeBackMs)}); ` +
        `${f.lost} of the 50 ms echoes lost${f.errors ? ` (${f.errors})` : ''}`,
    )
    .join('; ');
  ctx.report(
    ok ? 'PASS' : 'FAIL',
    name,
    `${t.node.name}'s uplink (${tor.name} port ${t.node.port}) down ${secs(FLAP_DOWN_MS)}, twice; pings from ${podText(source)} to ${podText(t.pod)}: ${text}; goals: answered within ${secs(FLAP_RECOVERY_GOAL_MS)}, withdrawn within ${secs(withdrawGoal)} (${bfd.enabled ? `BFD ${bfd.intervalMs} ms x ${bfd.multiplier}` : `no BFD: hold time ${bgp.holdTime} s`}); error wait ${bgp.errorWaitTime}-${bgp.errorWaitMaxTime} s`,
  );
}

/** Which spine the ToR of `source`'s rack sends a packet for `dst` to (ECMP picks one per flow). */
async function spineOfFlow(ctx: CheckContext, source: PodRecord, dst: PodRecord): Promise<number | undefined> {
  const { state, plan } = ctx;
  const node = state.nodes.find((n) => n.name === source.node)!;
  const out = await must('ip', ['-n', torOf(ctx, node).ns, '-6', 'route', 'get', dst.address, 'from', source.address, 'iif', TOR_DOWNLINK]).catch(() => '');
  const via = /via (\S+)/.exec(out)?.[1];
  for (let s = 0; s < spineCount(plan); s++) if (formatAddress(fabricLink(plan, node.rackIndex, s).spine) === via) return s;
  return undefined;
}

/** One spine loses every link while pods ping across racks; the others carry the traffic; routes return with the links. */
export async function checkSpineLoss(ctx: CheckContext, source: PodRecord): Promise<void> {
  const { state, plan } = ctx;
  const name = 'spine loss';
  const spines = state.routers.filter((r) => r.kind === 'spine');
  if (spines.length < 2) {
    ctx.report('SKIP', name, `${spines.length} spine: nothing carries the traffic when it is lost (routing.spines: 2 or more, bgp mode)`);
    return;
  }
  const from = state.nodes.find((n) => n.name === source.node)!;
  const targets: PodRecord[] = [];
  for (const r of state.routers.filter((x) => x.kind === 'tor' && x.rackIndex !== from.rackIndex)) {
    const pod = state.pods.find((p) => state.nodes.find((n) => n.name === p.node)?.rackIndex === r.rackIndex);
    if (pod) targets.push(pod);
  }
  if (!targets.length) {
    ctx.report('SKIP', name, 'needs pods in a second rack');
    return;
  }
  const carried = await spineOfFlow(ctx, source, targets[0]!);
  const lost = spines.find((s) => (s.spineIndex ?? 0) === carried) ?? spines[spines.length - 1]!;
  const lostIndex = lost.spineIndex ?? 0;
  const survivors = spines.map((s) => s.spineIndex ?? 0).filter((s) => s !== lostIndex);
  const ports = state.routers.filter((r) => r.kind === 'tor').map((r) => spinePort(r.rackIndex!));
  // An interface set down loses its IPv6 addresses; when it comes back, systemd-networkd
  // configures it again from the rendered netplan, and so does the lab.
  const units = await netplanUnits(routerRoot(ctx.render, lost.name), join(state.dir, 'roots-spine-loss', lost.name));
  const cut = (how: 'down' | 'up'): Promise<void> => ipBatch(lost.ns, ports.map((p) => `link set dev ${p} ${how}`));
  const streams = targets.map((p) => new PingStream(source.ns, p.address, 10));
  let detail: string;
  let ok: boolean;
  try {
    for (const s of streams) if ((await s.replyAfter(0, 5000)) === undefined) throw new LabError(`${s.to} does not answer ${podText(source)} before the spine loss`);
    await sleep(300);
    const fail = now();
    await cut('down');
    const degraded = expectations(state, plan, undefined, survivors);
    degraded.delete(lost.ns);
    const convergedMs = await waitConverged(degraded, 15_000);
    await sleep(Math.max(0, fail + SPINE_DOWN_MS - now()));
    const restore = now();
    await cut('up');
    await applyUnits(lost.ns, units);
    const backMs = await waitConverged(expectations(state, plan), 30_000);
    await sleep(1000);
    const results = await Promise.all(streams.map((s) => s.stop()));
    const inWindow = (g: PingGap, a: number, b: number): boolean => g.to > a && g.from < b;
    const failGaps = results.map((r) => r.gaps.filter((g) => inWindow(g, fail, restore)));
    const backGaps = results.map((r) => r.gaps.filter((g) => g.to > restore));
    const worst = (gs: PingGap[][]): number => Math.max(0, ...gs.flat().map((g) => g.ms));
    const lostOf = (gs: PingGap[][]): number => gs.flat().reduce((a, g) => a + g.lost, 0);
    const resumed = results.every((r) => [...r.replyAt.values()].some((t) => t > restore + backMs));
    ok = resumed && worst(failGaps) < SPINE_LOSS_GOAL_MS && worst(backGaps) < SPINE_LOSS_GOAL_MS;
    const flows = results
      .map((r, i) => `${targets[i]!.name}: ${r.sent} sent, ${r.replies} answered, gap ${failGaps[i]!.length ? failGaps[i]!.map((g) => `${g.ms} ms (${g.lost} lost)`).join(' + ') : 'none'} at the loss, ${backGaps[i]!.length ? backGaps[i]!.map((g) => `${g.ms} ms (${g.lost} lost)`).join(' + ') : 'none'} at the return`)
      .join('; ');
    detail =
      `${lost.name} (carrying ${source.name} -> ${targets[0]!.name}) lost its ${ports.length} links (its ports down, carrier loss at every ToR) for ${secs(SPINE_DOWN_MS)} while ${podText(source)} pinged a pod in each other rack every 10 ms: ` +
      `every ToR's default route went to ${survivors.length === 1 ? 'the other spine' : `the other ${survivors.length} spines`} alone in ${convergedMs} ms; ` +
      `longest gap ${worst(failGaps)} ms at the loss (${lostOf(failGaps)} echoes lost), ${worst(backGaps)} ms when the links returned (${lostOf(backGaps)} lost); ` +
      `every route back as planned ${backMs} ms after the links returned; flows: ${flows}; goal: every gap under ${SPINE_LOSS_GOAL_MS} ms`;
  } finally {
    await Promise.all(streams.map((s) => s.stop()));
    // Links up and configured again whatever happened (idempotent).
    await cut('up').catch(() => undefined);
    await applyUnits(lost.ns, units).catch(() => undefined);
  }
  ctx.report(ok ? 'PASS' : 'FAIL', name, detail);
}
