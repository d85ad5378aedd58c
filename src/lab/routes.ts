/**
 * Reading a namespace's IPv6 routing table and comparing it with what the
 * plan says the router should hold.
 */
import type { ExpectedRoute } from '../plan/routing.js';
import { ipJson, must } from '../runtime/exec.js';
import { canonicalDestination } from './networkd.js';

export interface KernelRoute {
  dst: string;
  /** the next hop; the first of `gateways` for a multipath route */
  gateway?: string;
  /** every next hop of a multipath (ECMP) route, sorted */
  gateways?: string[];
  dev?: string;
  protocol?: string;
  type: string;
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  type?: string;
  nexthops?: Array<{ gateway?: string; dev?: string }>;
}

export async function readRoutes(ns: string): Promise<KernelRoute[]> {
  const rs = await ipJson<IpRoute[]>(ns, ['-6', 'route', 'show', 'table', 'main']);
  return rs.map((r) => {
    const gateways = r.nexthops?.map((h) => h.gateway ?? '').sort();
    return { dst: canonicalDestination(r.dst), gateway: r.gateway ?? gateways?.[0], ...(gateways ? { gateways } : {}), dev: r.dev, protocol: r.protocol, type: r.type ?? 'unicast' };
  });
}

/** Whether a kernel route goes exactly where an expected one says (one next hop, or the same set of them). */
export function sameNextHops(e: ExpectedRoute, a: KernelRoute): boolean {
  if (e.vias) return a.gateways !== undefined && a.gateways.join(' ') === e.vias.join(' ');
  return a.gateways === undefined && (e.via === undefined || a.gateway === e.via);
}

/** `ip -6 route show` as text, for before/after comparisons. */
export async function routeTable(ns: string): Promise<string> {
  return must('ip', ['-n', ns, '-6', 'route', 'show', 'table', 'main']);
}

/**
 * Routing state, as src/plan/summary.ts counts it: everything but connected
 * routes (protocol kernel: interface prefixes, link-local) and, on a node,
 * the /128 host routes of its own pods' veths.
 */
export function routingState(routes: KernelRoute[], podDevices: ReadonlySet<string> = new Set()): KernelRoute[] {
  return routes.filter((r) => r.protocol !== 'kernel' && !(r.dev && podDevices.has(r.dev)));
}

export interface RouteDiff {
  missing: ExpectedRoute[];
  extra: KernelRoute[];
  /** present, but with another next hop or type */
  wrong: Array<{ expected: ExpectedRoute; actual: KernelRoute }>;
}

export function compareRoutes(expected: ExpectedRoute[], actual: KernelRoute[]): RouteDiff {
  const byDst = new Map(actual.map((r) => [r.dst, r]));
  const missing: ExpectedRoute[] = [];
  const wrong: RouteDiff['wrong'] = [];
  for (const e of expected) {
    const a = byDst.get(e.to);
    if (!a) missing.push(e);
    else if (a.type !== e.type || !sameNextHops(e, a)) wrong.push({ expected: e, actual: a });
  }
  const want = new Set(expected.map((e) => e.to));
  return { missing, wrong, extra: actual.filter((r) => !want.has(r.dst)) };
}

export function describeRoute(r: KernelRoute): string {
  const via = r.gateways ? ` via ${r.gateways.join(' and ')}` : r.gateway ? ` via ${r.gateway}` : '';
  return `${r.type === 'unicast' ? '' : `${r.type} `}${r.dst}${via}${r.protocol ? ` (${r.protocol})` : ''}`;
}

export function describeDiff(d: RouteDiff): string {
  const parts: string[] = [];
  if (d.missing.length) parts.push(`missing ${d.missing.map((m) => `${m.to} (${m.why})`).join(', ')}`);
  if (d.wrong.length) parts.push(`wrong ${d.wrong.map((w) => `${describeRoute(w.actual)}, expected ${w.expected.type === 'unicast' ? '' : `${w.expected.type} `}${w.expected.to}${w.expected.vias ? ` via ${w.expected.vias.join(' and ')}` : w.expected.via ? ` via ${w.expected.via}` : ''}`).join(', ')}`);
  if (d.extra.length) parts.push(`unexpected ${d.extra.map(describeRoute).join(', ')}`);
  return parts.join('; ');
}
