/**
 * The failover scenario: with the client polling https://[VIP]:port/healthz,
 * (a) stop the VIP holder's keepalived, (b) unplug the (new) holder's link,
 * (c) stop the holder's API server, (d) restore everything. Faults accumulate
 * until (d). Measured per fault: the time until the VIP answers again and how
 * many requests failed; throughout: which node holds the VIP.
 */
import type { ClusterPlan } from '../plan/plan.js';
import type { TemplateSet } from '../render/templates.js';
import { LabError, type Log } from '../runtime/exec.js';
import { now, pause, waitFor } from '../runtime/flow.js';
import { missingRequirements } from '../runtime/preflight.js';
import { interruptible } from '../runtime/signals.js';
import { FailoverLab, HA_REQUIREMENTS, sweepStaleFailoverRuns, type BackendState, type VipEvent, type VipSample } from './lab.js';
import type { Probe } from './probes.js';

export type FaultKey = 'a' | 'b' | 'c' | 'd';

export interface FaultResult {
  key: FaultKey;
  title: string;
  /** node the fault was applied to ((d): every node restored) */
  target: string;
  /** ms since the scenario's start */
  at: number;
  /** requests that completed in this fault's window */
  sent: number;
  failed: number;
  /** ms from the fault until the first answer after the last failed request; 0 when none failed */
  recoveryMs: number;
  holderBefore?: string;
  holderAfter?: string;
  /** ms from the fault until another node held the VIP, when it moved */
  vipMovedMs?: number;
  /** longest time a successful request took in this window (a stalled connect shows here) */
  slowestOkMs: number;
  /** errors of the failed requests, counted */
  errors: Record<string, number>;
  /** which API servers answered, counted */
  answeredBy: Record<string, number>;
}

/** A stretch of time when not exactly one node held the VIP. */
export interface HolderAnomaly {
  from: number;
  to: number;
  ms: number;
  holders: string[];
  /** the fault whose window it fell in */
  during?: FaultKey;
}

export interface FailoverReport {
  stack: string;
  vip: string;
  port: number;
  apiServerPort: number;
  nodes: Array<{ name: string; address: string; namespace: string }>;
  pollIntervalMs: number;
  requestTimeoutMs: number;
  checkIntervalMs: number;
  /** ms from starting keepalived until the VIP answered and every backend was UP */
  setupMs: number;
  initialHolder: string;
  faults: FaultResult[];
  /** holder changes as seen by `ip monitor` (ms since start) */
  timeline: Array<{ at: number; node: string; held: boolean }>;
  anomalies: HolderAnomaly[];
  samples: { count: number; none: number; several: number; intervalMs: number };
  /** backend states in every haproxy after (d) */
  backendsAfter: Record<string, BackendState[]>;
  /** ms since the epoch when the run began: every "at" above counts from here */
  startedAt: number;
  totalMs: number;
  leftovers: string[];
  /** the acceptance criteria that failed (empty: passed) */
  problems: string[];
}

export interface ScenarioOptions {
  runId: string;
  pollIntervalMs?: number;
  requestTimeoutMs?: number;
  templates?: TemplateSet;
  log?: Log;
  /** copy the run's logs here before they are removed */
  keepLogs?: string;
}

/** Longest a failover of (a) or (b) may take. */
export const MAX_FAILOVER_MS = 5_000;
/**
 * Longest the VIP may stay silent after its holder's link dies (b): the
 * backups' master-down interval (0.3-0.4 s at advert_int 0.1), then haproxy
 * on the new holder drops the dead node's API server at its first failed
 * connect (timeout connect 100ms). Issue 11's goal.
 */
export const MAX_LINK_FAILOVER_MS = 1_000;
/** Longest the VIP may be on no node outside the failovers of (a) and (b) (two holders: never). */
export const MAX_OVERLAP_MS = 1_000;
/** Fewest requests a fault's window must have completed to show anything (at 100 ms polling a window holds 15 or more). */
export const MIN_WINDOW_REQUESTS = 5;
/** How long each fault is watched after the VIP answers again. */
const OBSERVE_MS = 1_500;

/**
 * One run of the scenario. What killed runs left is removed first; everything
 * this run starts is removed at its end, also on failure and on Ctrl-C or
 * SIGTERM (then LabInterrupted is thrown).
 */
export async function runFailover(plan: ClusterPlan, opts: ScenarioOptions): Promise<FailoverReport> {
  const problems = missingRequirements(HA_REQUIREMENTS);
  if (problems.length) throw new LabError(problems.join('\n'));
  const log = opts.log ?? (() => {});
  const swept = sweepStaleFailoverRuns();
  if (swept.length) log(`removed what failover runs whose flat6 is gone left: ${swept.join(', ')}`);
  const lab = new FailoverLab(plan, { runId: opts.runId, pollIntervalMs: opts.pollIntervalMs, requestTimeoutMs: opts.requestTimeoutMs, templates: opts.templates, log, keepLogs: opts.keepLogs });
  return interruptible('flat6 ha failover', async () => {
    try {
      return await scenario(lab, log);
    } finally {
      lab.down();
    }
  });
}

async function allBackendsUp(lab: FailoverLab): Promise<boolean> {
  for (const n of lab.nodes) {
    const b = await lab.backends(n.name).catch(() => []);
    if (b.length !== lab.nodes.length || b.some((s) => s.status !== 'UP')) return false;
  }
  return true;
}

async function scenario(lab: FailoverLab, log: Log): Promise<FailoverReport> {
  const t0 = now();
  await lab.up();
  const started = now();
  const okSince = (t: number): boolean => lab.probes.some((p) => p.ok && p.s >= t);
  await waitFor('the VIP to answer with every backend UP', async () => lab.holder() !== undefined && okSince(started + 0) && (await allBackendsUp(lab)), 20_000, 50);
  const setupMs = now() - started;
  const initialHolder = lab.holder()!;
  // keepalived disables a track script it finds unsafe and carries on without it: make sure it runs
  const scriptProblems = lab.nodes
    .filter((n) => !/VRRP_Script\(\S+\) succeeded/.test(lab.keepalivedLog(n.name)) || /Disabling track script|unsafe|insecure/i.test(lab.keepalivedLog(n.name)))
    .map((n) => `keepalived on ${n.name} does not run check_apiserver.sh (see its log)`);
  log(`setup: VIP held by ${initialHolder}, answering, all ${lab.nodes.length} backends UP after ${(setupMs / 1000).toFixed(2)} s`);
  await pause(500);

  const marks: Array<{ key: FaultKey; title: string; target: string; at: number; holderBefore?: string }> = [];
  const mark = (key: FaultKey, title: string, target: string): number => {
    const at = now();
    marks.push({ key, title, target, at, holderBefore: lab.holder() });
    log(`(${key}) ${title}`);
    return at;
  };
  /** the VIP has moved away from `from` and requests succeed again after the fault */
  const recovered = (at: number, from?: string) => (): boolean => {
    const h = lab.holder();
    if (h === undefined || h === from) return false;
    const lastFail = lastFailureAfter(lab.probes, at);
    return lab.probes.some((p) => p.ok && p.s >= at && p.s > (lastFail ?? -Infinity));
  };

  // (a) stop keepalived on the VIP holder
  const a = initialHolder;
  const atA = mark('a', `stop keepalived on ${a} (the VIP holder)`, a);
  await lab.stopKeepalived(a);
  await waitFor('the VIP to answer again after (a)', recovered(atA, a), 15_000, 50);
  await pause(OBSERVE_MS);

  // (b) take the new holder's link down
  const b = lab.holder();
  if (!b) throw new LabError('no single VIP holder after (a)');
  const atB = mark('b', `take the link of ${b} (the VIP holder) down`, b);
  await lab.setLink(b, false);
  await waitFor('the VIP to answer again after (b)', recovered(atB, b), 15_000, 50);
  await pause(OBSERVE_MS);

  // (c) stop the stand-in API server of the holder: haproxy must route around it
  const c = lab.holder();
  if (!c) throw new LabError('no single VIP holder after (b)');
  mark('c', `stop the API server on ${c} (the VIP holder)`, c);
  await lab.stopApiServer(c);
  await waitFor(`haproxy on ${c} to mark ${c} DOWN`, async () => (await lab.backends(c)).some((s) => s.name === c && s.status === 'DOWN'), 10_000, 50);
  await pause(OBSERVE_MS);

  // (d) restore everything
  mark('d', `restore: start keepalived on ${a}, link of ${b} up, API server on ${c}`, 'all');
  lab.startKeepalived(a);
  await lab.setLink(b, true);
  await lab.startApiServer(c);
  await waitFor('every backend UP in every haproxy after (d)', () => allBackendsUp(lab), 15_000, 100);
  await waitFor('one VIP holder after (d)', () => lab.holder() !== undefined, 10_000, 50);
  await pause(OBSERVE_MS + 1_000); // a preempting node takes the VIP back within ~1 s
  const backendsAfter: Record<string, BackendState[]> = {};
  for (const n of lab.nodes) backendsAfter[n.name] = await lab.backends(n.name);
  const keepalivedDown = lab.nodes.filter((n) => !lab.keepalivedRunning(n.name)).map((n) => n.name);

  const end = now();
  const pollerDown = lab.pollerDown();
  await lab.stopPoller();
  lab.stopSampler();
  const layout = lab.layout;
  const report: FailoverReport = {
    stack: lab.plan.stackName,
    vip: layout.vip,
    port: layout.port,
    apiServerPort: layout.apiServerPort,
    nodes: lab.nodes.map((n) => ({ name: n.name, address: n.address, namespace: n.ns })),
    pollIntervalMs: lab.pollIntervalMs,
    requestTimeoutMs: lab.requestTimeoutMs,
    checkIntervalMs: layout.checkIntervalMs,
    setupMs,
    initialHolder,
    faults: marks.map((m, i) => faultResult(m, marks[i + 1]?.at ?? end, lab.probes, lab.vipEvents, t0)),
    timeline: lab.vipEvents.map((e) => ({ at: e.t - t0, node: e.node, held: e.held })),
    anomalies: holderAnomalies(lab.vipEvents, started + setupMs, end, marks, t0),
    samples: sampleStats(lab.samples, started + setupMs, lab),
    backendsAfter,
    startedAt: t0,
    totalMs: 0,
    leftovers: [],
    problems: [],
  };
  if (pollerDown) report.problems.push(`the client polling the VIP was not running at the end (${pollerDown}): its windows prove nothing`);
  if (keepalivedDown.length) report.problems.push(`keepalived not running after (d) on ${keepalivedDown.join(', ')}`);
  report.problems.push(...scriptProblems);
  lab.down();
  await lab.reaped();
  report.leftovers = lab.leftovers();
  report.totalMs = now() - t0;
  report.problems.push(...evaluate(report));
  return report;
}

function lastFailureAfter(probes: Probe[], at: number): number | undefined {
  let last: number | undefined;
  for (const p of probes) if (!p.ok && p.e >= at && (last === undefined || p.s > last)) last = p.s;
  return last;
}

function faultResult(
  m: { key: FaultKey; title: string; target: string; at: number; holderBefore?: string },
  until: number,
  probes: Probe[],
  events: VipEvent[],
  t0: number,
): FaultResult {
  // A request belongs to the window in which it completed: one in flight when the fault hit counts for the fault.
  const mine = probes.filter((p) => p.e >= m.at && p.e < until);
  const failed = mine.filter((p) => !p.ok);
  const errors: Record<string, number> = {};
  for (const p of failed) errors[p.err ?? 'error'] = (errors[p.err ?? 'error'] ?? 0) + 1;
  const answeredBy: Record<string, number> = {};
  for (const p of mine) if (p.ok && p.who) answeredBy[p.who] = (answeredBy[p.who] ?? 0) + 1;
  let recoveryMs = 0;
  if (failed.length > 0) {
    const lastStart = Math.max(...failed.map((p) => p.s));
    const firstOk = mine.filter((p) => p.ok && p.s > lastStart).sort((x, y) => x.e - y.e)[0];
    recoveryMs = firstOk ? firstOk.e - m.at : until - m.at;
  }
  const holders = new Set<string>();
  let moved: number | undefined;
  for (const e of events) {
    if (e.t >= until) break;
    if (e.held) holders.add(e.node);
    else holders.delete(e.node);
    if (e.t >= m.at && e.held && e.node !== m.holderBefore && moved === undefined) moved = e.t - m.at;
  }
  return {
    key: m.key,
    title: m.title,
    target: m.target,
    at: m.at - t0,
    sent: mine.length,
    failed: failed.length,
    recoveryMs,
    holderBefore: m.holderBefore,
    holderAfter: holders.size === 1 ? [...holders][0] : undefined,
    vipMovedMs: moved,
    slowestOkMs: Math.max(0, ...mine.filter((p) => p.ok).map((p) => p.e - p.s)),
    errors,
    answeredBy,
  };
}

/** Stretches after setup when the monitors saw no holder or several. */
export function holderAnomalies(events: VipEvent[], from: number, to: number, marks: Array<{ key: FaultKey; at: number }>, t0: number): HolderAnomaly[] {
  const holders = new Set<string>();
  const out: HolderAnomaly[] = [];
  let open: { from: number; holders: string[] } | undefined;
  const close = (t: number): void => {
    if (!open) return;
    const start = Math.max(open.from, from);
    if (t > from) {
      const during = [...marks].reverse().find((m) => m.at <= start)?.key;
      out.push({ from: start - t0, to: t - t0, ms: t - start, holders: open.holders, during });
    }
    open = undefined;
  };
  const consider = (t: number): void => {
    if (holders.size === 1) close(t);
    else if (!open || open.holders.length !== holders.size) {
      close(t);
      open = { from: t, holders: [...holders].sort() };
    }
  };
  for (const e of events) {
    if (e.t > to) break;
    if (e.held) holders.add(e.node);
    else holders.delete(e.node);
    consider(e.t);
  }
  close(to);
  return out.filter((a) => a.to > a.from || a.ms > 0);
}

function sampleStats(samples: VipSample[], from: number, lab: FailoverLab): FailoverReport['samples'] {
  const after = samples.filter((s) => s.t >= from);
  return { count: after.length, none: after.filter((s) => s.holders.length === 0).length, several: after.filter((s) => s.holders.length > 1).length, intervalMs: lab.sampleIntervalMs };
}

/** The acceptance criteria of the scenario; returns what failed. */
export function evaluate(r: FailoverReport): string[] {
  const out: string[] = [];
  const fault = (k: FaultKey): FaultResult | undefined => r.faults.find((f) => f.key === k);
  for (const f of r.faults) {
    if (f.sent < MIN_WINDOW_REQUESTS) out.push(`(${f.key}) only ${f.sent} request(s) completed in its window, fewer than ${MIN_WINDOW_REQUESTS}: a window without requests proves nothing`);
  }
  for (const k of ['a', 'b'] as const) {
    const f = fault(k);
    if (!f) out.push(`fault (${k}) did not run`);
    else {
      const limit = k === 'b' ? MAX_LINK_FAILOVER_MS : MAX_FAILOVER_MS;
      if (f.recoveryMs > limit) out.push(`(${k}) the VIP answered again only after ${(f.recoveryMs / 1000).toFixed(2)} s (limit ${limit / 1000} s)`);
      if (f.holderAfter === undefined || f.holderAfter === f.holderBefore) out.push(`(${k}) the VIP did not move away from ${f.holderBefore}`);
    }
  }
  const c = fault('c');
  const allowed = Math.ceil(r.checkIntervalMs / r.pollIntervalMs);
  if (!c) out.push('fault (c) did not run');
  else if (c.failed > allowed) out.push(`(c) ${c.failed} requests failed after the API server stopped; one health-check interval (${r.checkIntervalMs} ms) allows ${allowed}`);
  const d = fault('d');
  if (!d) out.push('restore (d) did not run');
  for (const [lb, states] of Object.entries(r.backendsAfter)) {
    const bad = states.filter((s) => s.status !== 'UP');
    if (states.length !== r.nodes.length || bad.length) out.push(`after (d) haproxy on ${lb} sees ${states.map((s) => `${s.name} ${s.status}`).join(', ')}`);
  }
  // Never two holders at once. A handover may leave the VIP on no node for a
  // moment (< MAX_OVERLAP_MS); longer only while a failed holder's backups wait
  // out the VRRP master-down interval after (a) or (b).
  for (const an of r.anomalies) {
    if (an.holders.length > 1) {
      out.push(`${an.holders.join(' and ')} both held the VIP for ${an.ms.toFixed(0)} ms${an.during ? ` during (${an.during})` : ''}`);
      continue;
    }
    if (an.ms <= MAX_OVERLAP_MS) continue;
    else if (an.during !== 'a' && an.during !== 'b') out.push(`no node held the VIP for ${(an.ms / 1000).toFixed(2)} s during (${an.during ?? 'setup'})`);
    else if (an.ms > MAX_FAILOVER_MS) out.push(`no node held the VIP for ${(an.ms / 1000).toFixed(2)} s after (${an.during})`);
  }
  if (r.samples.several > 0) out.push(`${r.samples.several} of ${r.samples.count} address samples showed the VIP on more than one node`);
  if (r.samples.count === 0) out.push('no address samples were taken');
  if (r.leftovers.length) out.push(`left behind: ${r.leftovers.join('; ')}`);
  return out;
}
