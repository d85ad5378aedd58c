/**
 * Pod attach latency: how long each CNI ADD of the lab took (every plugin of
 * the rendered conflist, as a container runtime runs them), and whether the
 * pod's addresses were usable when it returned, i.e. neither the pod's eth0
 * nor the gateway on the node's side of its veth was still tentative (waiting
 * for IPv6 duplicate address detection). `lab up` prints the figures for the
 * pods it attaches; `lab check` for the pods it attaches (churn, node add).
 * Every ADD of a run is one JSON line in <run dir>/cni/attach.jsonl.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ipJson } from '../runtime/exec.js';
import type { CheckContext } from './check-context.js';
import type { LabState } from './state.js';

export interface AttachRecord {
  pod: string;
  node: string;
  /** wall time of the CNI ADD (all plugins), ms */
  ms: number;
  /** addresses still tentative (DAD running) right after ADD returned: "<addr> on <dev> (pod|node)" */
  tentative: string[];
}

export const attachLogPath = (state: LabState): string => join(state.dir, 'cni', 'attach.jsonl');

export function recordAttach(state: LabState, r: AttachRecord): void {
  const p = attachLogPath(state);
  mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
  appendFileSync(p, JSON.stringify(r) + '\n', { mode: 0o600 });
}

/** Every ADD of the run so far, in the order they finished. */
export function readAttach(state: LabState): AttachRecord[] {
  const p = attachLogPath(state);
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AttachRecord);
}

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1]!;
}

export interface AttachSummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** records with an address still tentative after ADD */
  waiting: AttachRecord[];
}

export function summarize(records: readonly AttachRecord[]): AttachSummary {
  const ms = records.map((r) => r.ms);
  return {
    count: records.length,
    p50: ms.length ? percentile(ms, 50) : 0,
    p99: ms.length ? percentile(ms, 99) : 0,
    max: ms.length ? Math.max(...ms) : 0,
    waiting: records.filter((r) => r.tentative.length > 0),
  };
}

export function describeSummary(s: AttachSummary): string {
  return `CNI ADD p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms over ${s.count} pod(s)`;
}

interface IpAddrIf {
  ifname: string;
  addr_info?: Array<{ local?: string; family?: string }>;
}

/** Tentative IPv6 addresses on the pod's interface and on the node's end of its veth. */
export async function tentativeAfterAdd(podNs: string, ifname: string, nodeNs: string, hostVeth: string): Promise<string[]> {
  const [pod, node] = await Promise.all([ipJson<IpAddrIf[]>(podNs, ['-6', 'addr', 'show', 'dev', ifname, 'tentative']), ipJson<IpAddrIf[]>(nodeNs, ['-6', 'addr', 'show', 'dev', hostVeth, 'tentative'])]);
  const list = (ifs: IpAddrIf[], side: string): string[] => ifs.flatMap((i) => (i.addr_info ?? []).map((a) => `${a.local} on ${i.ifname} (${side})`));
  return [...list(pod, 'pod'), ...list(node, 'node')];
}

/**
 * The pods `lab check` attached (records from index `from` on): PASS when no
 * address of theirs was tentative when ADD returned, with p50/p99 of the ADDs.
 */
export function checkPodAttach(ctx: CheckContext, from: number): void {
  const all = readAttach(ctx.state);
  const mine = all.slice(from);
  if (mine.length === 0) {
    ctx.report('SKIP', 'pod attach without DAD', 'no pod was attached during this check');
    return;
  }
  const s = summarize(mine);
  const run = summarize(all);
  const waiting = s.waiting.map((r) => `${r.pod}: ${r.tentative.join(', ')}`);
  ctx.report(
    waiting.length ? 'FAIL' : 'PASS',
    'pod attach without DAD',
    `${describeSummary(s)} attached during this check; ${
      waiting.length ? `${waiting.length} pod(s) still had tentative addresses (duplicate address detection on the start path) when ADD returned: ${waiting.slice(0, 5).join('; ')}${waiting.length > 5 ? '; ...' : ''}` : 'no address of a new pod or of its gateway was tentative when ADD returned'
    }; whole run: ${describeSummary(run)}`,
  );
}
